package ca

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

func TestLoadAndSetKey(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	testCA(t, st, "int", root, nil)
	a, err := Load(context.Background(), st, "int")
	if err != nil {
		t.Fatal(err)
	}
	if a.IsRoot() || !a.Root.Equal(root.Cert) || len(a.Issuers()) != 1 {
		t.Fatalf("int: root %v, issuers %d", a.Root.Subject, len(a.Issuers()))
	}
	if err := a.SetKey(genKey(t, keygen.Spec{})); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("SetKey with another key: %v, want ErrKeyMismatch", err)
	}
	if cas, err := CAs(context.Background(), st); err != nil || len(cas) != 2 || cas[0].Name != "int" || cas[1].Name != "root" {
		t.Fatalf("CAs: %+v", cas)
	}
}

func TestLoadRefuses(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	testCA(t, st, "int", root, nil)
	leafPath, _ := st.Path("leaf", store.Cert)
	s, err := root.Sign(leafReq(t, "", "leaf.example.test"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(leafPath, EncodeCerts(s.Cert), 0o644)
	if _, err := Load(context.Background(), st, "leaf"); !errors.Is(err, ErrNotCA) {
		t.Errorf("Load(leaf): %v, want ErrNotCA", err)
	}
	// Without its root in the store, an intermediate cannot be used.
	os.Remove(root.Paths.Cert)
	if _, err := Load(context.Background(), st, "int"); !errors.Is(err, ErrNoRoot) || !strings.Contains(err.Error(), `looked for issuer "CN=root CA,O=keywright test"`) {
		t.Errorf("Load(int) without root: %v", err)
	}
}
