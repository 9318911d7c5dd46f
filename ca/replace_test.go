package ca

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// A CA's files are never replaced by a certificate, Force or not, whether
// NAME.crt says so or only the record does.
func TestIssueNeverReplacesCA(t *testing.T) {
	ctx := context.Background()
	st, root, inter, _ := chainStore(t)
	req := func(name string) IssueRequest {
		certPath, _ := st.Path(name, store.Cert)
		chainPath, _ := st.Path(name, store.Chain)
		keyPath, _ := st.Path(name, store.Key)
		return IssueRequest{Store: st, Sign: leafReq(t, "", "x.example.test"), CertPath: certPath, ChainPath: chainPath,
			Extra: []store.File{{Path: keyPath, Data: []byte("key"), Mode: 0o600}}, Force: true, LockTimeout: time.Second}
	}
	if _, err := root.Issue(ctx, req("root")); !errors.Is(err, ErrReplacesCA) {
		t.Fatalf("issue over the signing CA: %v", err)
	}
	if res := root.IssueGroup(ctx, []IssueRequest{req("int"), req("fine")}, time.Second); !errors.Is(res[0].Err, ErrReplacesCA) || res[1].Err != nil {
		t.Fatalf("group over another CA: %v, %v", res[0].Err, res[1].Err)
	}
	// The certificate file gone, the record still knows the CA (its key
	// is still there).
	if err := os.Remove(inter.Paths.Cert); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Issue(ctx, req("int")); !errors.Is(err, ErrReplacesCA) {
		t.Fatalf("issue over a recorded CA: %v", err)
	}
	if data, err := os.ReadFile(inter.Paths.Key); err != nil || string(data) == "key" {
		t.Fatalf("the CA key was replaced: %q %v", data, err)
	}
}

// CreateAndIssue: the new root and its first certificate land together, or
// nothing does.
func TestCreateAndIssue(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	create := func() CreateRequest {
		p, err := PathsFor(st, "local-ca")
		if err != nil {
			t.Fatal(err)
		}
		key := genKey(t, keygen.Spec{})
		keyPEM, err := keygen.MarshalPEM(key)
		if err != nil {
			t.Fatal(err)
		}
		return CreateRequest{Store: st, Paths: p, KeyPEM: keyPEM, LockTimeout: time.Second,
			Root: RootRequest{Subject: pkix.Name{CommonName: "local"}, Key: key, PathLen: -1, Now: testNow}}
	}
	issue := func(name string, mod func(*SignRequest)) IssueRequest {
		certPath, _ := st.Path(name, store.Cert)
		chainPath, _ := st.Path(name, store.Chain)
		r := IssueRequest{Store: st, Sign: leafReq(t, "", name+".example.test"), CertPath: certPath, ChainPath: chainPath, LockTimeout: time.Second}
		if mod != nil {
			mod(&r.Sign)
		}
		return r
	}
	// Refused: the certificate would be the CA's own files; the request
	// breaks the policy. Nothing is written, not even the store.
	if _, _, err := CreateAndIssue(ctx, create(), issue("local-ca", nil)); !errors.Is(err, ErrReplacesCA) {
		t.Fatalf("NAME local-ca: %v", err)
	}
	if _, _, err := CreateAndIssue(ctx, create(), issue("web", func(r *SignRequest) { r.Days = 900 })); !errors.Is(err, ErrValidity) {
		t.Fatalf("900 days: %v", err)
	}
	if _, err := os.Stat(st.Dir); !os.IsNotExist(err) {
		t.Fatalf("the store exists after refusals: %v", err)
	}
	a, is, err := CreateAndIssue(ctx, create(), issue("web", nil))
	if err != nil {
		t.Fatal(err)
	}
	if !a.IsRoot() || is.Entry.CA != "local-ca" {
		t.Fatalf("made %v, entry %+v", a.Cert.Subject, is.Entry)
	}
	if evs := issuedOf(t, a); len(evs) != 2 || evs[0].Profile != ProfileRoot || evs[1].File != "web.crt" {
		t.Fatalf("record: %+v", evs)
	}
	// Made meanwhile by another keywright: ErrCAExists, nothing written.
	if _, _, err := CreateAndIssue(ctx, create(), issue("two", nil)); !errors.Is(err, ErrCAExists) {
		t.Fatalf("second local-ca: %v", err)
	}
	if store.Exists(issue("two", nil).CertPath) {
		t.Fatal("two.crt written")
	}
}
