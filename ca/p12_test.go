package ca

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"

	"github.com/keywright/keywright/keygen"
)

// PKCS12 then ParsePKCS12 gives back the key and certificates, in both
// encodings; a wrong password is keygen.ErrWrongPassphrase.
func TestPKCS12RoundTrip(t *testing.T) {
	a := testCA(t, newStore(t), "p12", nil, nil)
	for _, legacy := range []bool{false, true} {
		name := map[bool]string{false: "modern", true: "legacy"}[legacy]
		t.Run(name, func(t *testing.T) {
			data, err := PKCS12(a.Key, a.Cert, []*x509.Certificate{a.Cert}, []byte("pw"), legacy, "")
			if err != nil {
				t.Fatal(err)
			}
			if !IsPKCS12(data) {
				t.Fatal("IsPKCS12 = false for a PKCS#12 file")
			}
			key, cert, cas, err := ParsePKCS12(data, []byte("pw"))
			if err != nil {
				t.Fatal(err)
			}
			if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(a.Key.Public()) || !cert.Equal(a.Cert) || len(cas) != 1 {
				t.Fatalf("got back another key, certificate or %d CA certificates", len(cas))
			}
			if _, _, _, err := ParsePKCS12(data, []byte("wrong")); !errors.Is(err, keygen.ErrWrongPassphrase) {
				t.Fatalf("wrong password: got %v", err)
			}
		})
	}
}

func TestIsPKCS12Negative(t *testing.T) {
	a := testCA(t, newStore(t), "notp12", nil, nil)
	for name, data := range map[string][]byte{
		"empty":       nil,
		"garbage":     []byte("not a pfx"),
		"certificate": a.Cert.Raw,
		"trailing":    append(append([]byte{}, mustPKCS12(t, a)...), 0),
	} {
		t.Run(name, func(t *testing.T) {
			if IsPKCS12(data) {
				t.Fatal("IsPKCS12 = true")
			}
		})
	}
}

func mustPKCS12(t testing.TB, a *Authority) []byte {
	t.Helper()
	data, err := PKCS12(a.Key, a.Cert, nil, []byte("pw"), false, "")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzParsePKCS12: hostile files are refused, never a panic.
func FuzzParsePKCS12(f *testing.F) {
	a := testCA(f, newStore(f), "fuzz", nil, nil)
	modern, _ := PKCS12(a.Key, a.Cert, nil, []byte("pw"), false, "")
	legacy, _ := PKCS12(a.Key, a.Cert, nil, []byte("pw"), true, "")
	f.Add(modern)
	f.Add(legacy)
	f.Add(a.Cert.Raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		if IsPKCS12(data) {
			_, _, _, _ = ParsePKCS12(data, []byte("pw"))
		}
	})
}

// A MAC iteration count over the cap is refused before any work.
func TestParsePKCS12IterationCap(t *testing.T) {
	a := testCA(t, newStore(t), "cap", nil, nil)
	pfx, ok := parsePFXHeader(mustPKCS12(t, a))
	if !ok {
		t.Fatal("not a PFX")
	}
	pfx.MacData.Iterations = 1 << 30
	hostile, err := asn1.Marshal(*pfx)
	if err != nil {
		t.Fatal(err)
	}
	if !IsPKCS12(hostile) {
		t.Fatal("re-encoded file not recognised")
	}
	_, _, _, err = ParsePKCS12(hostile, []byte("pw"))
	if err == nil || !strings.Contains(err.Error(), "the MAC asks for 1073741824 iterations") {
		t.Fatalf("got %v", err)
	}
}

// Both encodings derive the MAC key with 2048 iterations, as openssl
// pkcs12 -export does (go-pkcs12's LegacyDES alone uses 1).
func TestPKCS12MACIterations(t *testing.T) {
	a := testCA(t, newStore(t), "p12", nil, nil)
	for _, legacy := range []bool{false, true} {
		data, err := PKCS12(a.Key, a.Cert, nil, []byte("pw"), legacy, "")
		if err != nil {
			t.Fatal(err)
		}
		pfx, ok := parsePFXHeader(data)
		if !ok || pfx.MacData.Iterations != 2048 {
			t.Errorf("legacy %v: MAC iterations %d, want 2048", legacy, pfx.MacData.Iterations)
		}
	}
}
