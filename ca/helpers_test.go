package ca

import (
	"context"
	"crypto"
	"crypto/x509/pkix"
	"path/filepath"
	"testing"
	"time"

	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// testNow is a fixed clock for deterministic validity checks.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func genKey(t testing.TB, spec keygen.Spec) crypto.Signer {
	t.Helper()
	k, err := keygen.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testCA creates a CA NAME in st (a root when parent is nil).
func testCA(t testing.TB, st *store.Store, name string, parent *Authority, mod func(*RootRequest)) *Authority {
	t.Helper()
	p, err := PathsFor(st, name)
	if err != nil {
		t.Fatal(err)
	}
	key := genKey(t, keygen.Spec{})
	keyPEM, err := keygen.MarshalPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	rr := RootRequest{Subject: pkix.Name{CommonName: name + " CA", Organization: []string{"keywright test"}}, Key: key, PathLen: -1, Now: testNow}
	if parent != nil {
		rr.PathLen = 0
	}
	if mod != nil {
		mod(&rr)
	}
	a, err := Create(context.Background(), CreateRequest{Store: st, Paths: p, KeyPEM: keyPEM, Root: rr, Parent: parent, LockTimeout: time.Second})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return a
}

func newStore(t testing.TB) *store.Store {
	return store.New(filepath.Join(t.TempDir(), "pki"))
}

func mustSANs(t testing.TB, values ...string) csr.SANs {
	t.Helper()
	s, err := csr.ParseSANs(values)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func profile(t testing.TB, name string) Profile {
	t.Helper()
	p, err := ProfileByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testNowReal is the real clock: zlint gates lints on their effective
// date, so the certificates it checks must be made today.
func testNowReal() time.Time { return time.Now() }

// eventsOf is the CA's record, oldest first.
func eventsOf(t testing.TB, a *Authority) []Event {
	t.Helper()
	var evs []Event
	if err := a.Log(context.Background(), func(ev Event) error { evs = append(evs, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	return evs
}

// issuedOf is the issued events of the CA's record.
func issuedOf(t testing.TB, a *Authority) []Event {
	var out []Event
	for _, ev := range eventsOf(t, a) {
		if ev.Event == EventIssued {
			out = append(out, ev)
		}
	}
	return out
}
