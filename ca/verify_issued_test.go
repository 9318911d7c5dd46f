package ca

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keywright/keywright/keygen"
)

// verifyIssued, the check of every certificate a CA signs before it is
// written: the chain verifies now, and every CA of it is still valid on
// the certificate's last day.
func TestVerifyIssued(t *testing.T) {
	_, _, inter, _ := chainStore(t)
	sign := func(notAfter time.Time, by *Authority) *x509.Certificate {
		return handSigned(t, by, "web.example.test", notAfter)
	}
	if err := inter.verifyIssued(sign(testNow.AddDate(0, 1, 0), inter), testNow); err != nil {
		t.Fatalf("a good certificate: %v", err)
	}
	// Outlives its issuer: fine now, not on its last day.
	late := sign(inter.Cert.NotAfter.AddDate(0, 1, 0), inter)
	if err := inter.verifyIssued(late, testNow); !errors.Is(err, ErrWouldNotVerify) || !strings.Contains(err.Error(), "is valid from") {
		t.Fatalf("outliving its issuer: %v", err)
	}
	// Signed by another key under the same name: the signature fails.
	otherKey := genKey(t, keygen.Spec{})
	fake := *inter.Cert
	fake.PublicKey = otherKey.Public()
	other := *inter
	other.Cert, other.Key = &fake, otherKey
	if err := inter.verifyIssued(sign(testNow.AddDate(0, 1, 0), &other), testNow); !errors.Is(err, ErrWouldNotVerify) || !strings.Contains(err.Error(), "signature does not verify") {
		t.Fatalf("a forged signature: %v", err)
	}
}
