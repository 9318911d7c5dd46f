package ca

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/keywright/keywright/keygen"
)

// A renewal signs the subject the certificate has, byte for byte, also an
// attribute pkix.Name has no field for (emailAddress).
func TestSubjectOfKeepsEveryAttribute(t *testing.T) {
	key := genKey(t, keygen.Spec{})
	email := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: testNow, NotAfter: testNow.Add(time.Hour),
		Subject: pkix.Name{Country: []string{"DE"}, Organization: []string{"R/D GmbH"}, OrganizationalUnit: []string{"ops"},
			CommonName: "web.example.test", ExtraNames: []pkix.AttributeTypeAndValue{{Type: email, Value: "ops@example.test"}}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.Subject = subjectOf(c)
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	again, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.RawSubject, c.RawSubject) {
		t.Fatalf("subject %q, want %q", again.Subject, c.Subject)
	}
}

// The old lifetime in whole days: keywright's own windows exactly, a
// lifetime shortened to a CA rounded to the nearest day, at least 1.
func TestLifetimeDays(t *testing.T) {
	for _, tt := range []struct {
		w    Window
		want int
	}{
		{windowDays(testNow, 90), 90},
		{windowDays(testNow, 1), 1},
		{Window{testNow, testNow.Add(4*24*time.Hour + 13*time.Hour)}, 5},
		{Window{testNow, testNow.Add(4*24*time.Hour + 11*time.Hour)}, 4},
		{Window{testNow, testNow.Add(time.Hour)}, 1},
	} {
		if got := lifetimeDays(&x509.Certificate{NotBefore: tt.w.NotBefore, NotAfter: tt.w.NotAfter}); got != tt.want {
			t.Errorf("%v to %v: %d days, want %d", tt.w.NotBefore, tt.w.NotAfter, got, tt.want)
		}
	}
}

// Two renewals planned from one certificate, or a renewal and a
// revocation of it, end as they would one after the other: the second
// renewal finds the certificate renewed (ErrRenewedMeanwhile), a renewal
// after the revocation finds it revoked (ErrRevokedMeanwhile); neither
// lands, so the record never holds two certificates renewing one serial, or
// a renewal of a revoked one.
func TestRenewalsMeanwhile(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	old := issueLeaf(t, st, root, "web")
	request := func() IssueRequest {
		t.Helper()
		r, err := FindRenewal(ctx, st, "web")
		if err != nil {
			t.Fatal(err)
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		req, _, err := r.Request(st, root, RenewRequest{PublicKey: key.Public(), LockTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	first, second := request(), request()
	renewed, err := root.Issue(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Issue(ctx, second); !errors.Is(err, ErrRenewedMeanwhile) {
		t.Fatalf("a second renewal of serial %s: %v, want ErrRenewedMeanwhile", first.Renews, err)
	}
	if res := root.IssueGroup(ctx, []IssueRequest{second}, time.Second); !errors.Is(res[0].Err, ErrRenewedMeanwhile) {
		t.Fatalf("a second renewal in a group: %v, want ErrRenewedMeanwhile", res[0].Err)
	}
	// Renewing the new one, planned before it is revoked.
	third := request()
	if third.Renews != renewed.Entry.Serial || third.Renews == old.Entry.Serial {
		t.Fatalf("the renewal renews %s; the certificate in place is %s", third.Renews, renewed.Entry.Serial)
	}
	if _, err := root.Revoke(ctx, RevokeRequest{Serial: renewed.Cert.SerialNumber, Reason: "key-compromise", LockTimeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Issue(ctx, third); !errors.Is(err, ErrRevokedMeanwhile) {
		t.Fatalf("a renewal of a certificate revoked meanwhile: %v, want ErrRevokedMeanwhile", err)
	}
	certs, err := ReadCerts(third.CertPath)
	if err != nil || !certs[0].Equal(renewed.Cert) {
		t.Fatalf("web.crt is not the one renewal that landed: %v", err)
	}
}

// Revoking a NAME whose file was renewed between reading its serial and
// taking the CA's lock revokes nothing and says so (ErrRenewedMeanwhile):
// revoke after that renewal would have revoked the new certificate.
func TestRevokeOfACertificateRenewedMeanwhile(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	old := issueLeaf(t, st, root, "web")
	r, err := FindRenewal(ctx, st, "web")
	if err != nil {
		t.Fatal(err)
	}
	req, _, err := r.Request(st, root, RenewRequest{PublicKey: old.Cert.PublicKey, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Issue(ctx, req); err != nil {
		t.Fatal(err)
	}
	_, err = root.Revoke(ctx, RevokeRequest{Serial: old.Cert.SerialNumber, File: req.CertPath, Reason: "key-compromise", LockTimeout: time.Second})
	if !errors.Is(err, ErrRenewedMeanwhile) {
		t.Fatalf("revoke of web after its renewal, by its old serial read from web.crt: %v, want ErrRenewedMeanwhile", err)
	}
	db, err := OpenDB(ctx, st.Dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if e, err := db.Lookup(ctx, "root", FormatSerial(old.Cert.SerialNumber)); err != nil || e == nil || e.Revoked {
		t.Fatalf("the old certificate: %+v, %v; want it recorded and not revoked", e, err)
	}
}
