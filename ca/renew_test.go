package ca

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
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
