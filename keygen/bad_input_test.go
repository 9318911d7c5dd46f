package keygen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// encryptedWithKDF builds an ENCRYPTED PRIVATE KEY whose KDF parameters are
// whatever the test says, the way a hostile file would.
func encryptedWithKDF(t testing.TB, kdfOID asn1.ObjectIdentifier, kdfParams any) []byte {
	t.Helper()
	kdfDER, err := asn1.Marshal(kdfParams)
	if err != nil {
		t.Fatal(err)
	}
	ivDER, _ := asn1.Marshal(make([]byte, 16))
	paramsDER, _ := asn1.Marshal(pbes2Params{
		KeyDerivationFunc: pkix.AlgorithmIdentifier{Algorithm: kdfOID, Parameters: asn1.RawValue{FullBytes: kdfDER}},
		EncryptionScheme:  pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	der, _ := asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm:     pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: paramsDER}},
		EncryptedData: make([]byte, 64),
	})
	return pem.EncodeToMemory(&pem.Block{Type: BlockEncrypted, Bytes: der})
}

func selfSignedPEM(t testing.TB) []byte {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Unix(1000, 0), NotAfter: time.Unix(100000, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestParsePEMBadInput(t *testing.T) {
	k, _ := Generate(Spec{})
	good, _ := MarshalPEM(k)
	block, _ := pem.Decode(good)
	truncated := pem.EncodeToMemory(&pem.Block{Type: BlockPKCS8, Bytes: block.Bytes[:len(block.Bytes)/2]})
	pass := func() ([]byte, error) { return []byte("x"), nil }

	tests := []struct {
		name    string
		data    []byte
		want    error
		wantMsg string
	}{
		{"empty", nil, ErrNoPEM, "no PEM data"},
		{"garbage", []byte("hello, this is not a key\n"), ErrNoPEM, "no PEM data"},
		{"bad base64", []byte("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"), ErrNoPEM, "no PEM data"},
		{"truncated DER", truncated, ErrMalformed, "malformed private key"},
		{"certificate", selfSignedPEM(t), ErrNotKey, `type "CERTIFICATE"`},
		{"public key", []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), ErrNotKey, `type "PUBLIC KEY"`},
		{"legacy encryption", []byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"), ErrLegacyEncryption, "openssl pkcs8 -topk8"},
		{"scrypt N=2^30", encryptedWithKDF(t, oidScrypt, scryptParams{Salt: []byte("salt"), N: 1 << 30, R: 8, P: 1}), ErrKDFLimit, "N=1073741824"},
		{"scrypt r huge", encryptedWithKDF(t, oidScrypt, scryptParams{Salt: []byte("salt"), N: 1 << 14, R: 1 << 20, P: 1}), ErrKDFLimit, "scrypt"},
		{"scrypt p huge", encryptedWithKDF(t, oidScrypt, scryptParams{Salt: []byte("salt"), N: 1 << 14, R: 8, P: 1 << 20}), ErrKDFLimit, "scrypt"},
		{"scrypt N not power of 2", encryptedWithKDF(t, oidScrypt, scryptParams{Salt: []byte("salt"), N: 1000, R: 8, P: 1}), ErrMalformed, "scrypt parameters"},
		{"pbkdf2 2^31 iterations", encryptedWithKDF(t, oidPBKDF2, pbkdf2Params{Salt: []byte("salt"), Iterations: 1<<31 - 1}), ErrKDFLimit, "iteration count 2147483647"},
		{"pbkdf2 zero iterations", encryptedWithKDF(t, oidPBKDF2, pbkdf2Params{Salt: []byte("salt"), Iterations: 0}), ErrKDFLimit, "iteration count 0"},
		{"unknown kdf", encryptedWithKDF(t, asn1.ObjectIdentifier{1, 2, 3}, pbkdf2Params{Salt: []byte("s"), Iterations: 1}), ErrUnsupportedEncryption, "key derivation 1.2.3"},
		{"encrypted garbage", []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"), ErrMalformed, "EncryptedPrivateKeyInfo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := ParsePEM(tt.data, pass)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error = %v; want %v containing %q", err, tt.want, tt.wantMsg)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			// Caps are checked before any derivation: hostile parameters fail fast.
			if d := time.Since(start); d > time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

func FuzzParsePEM(f *testing.F) {
	k, _ := Generate(Spec{})
	plain, _ := MarshalPEM(k)
	enc, _ := MarshalEncryptedPEM(k, []byte("pw"), EncryptOptions{Iterations: 2})
	f.Add(plain)
	f.Add(enc)
	f.Add(selfSignedPEM(f))
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParsePEM(data, func() ([]byte, error) { return []byte("pw"), nil })
		if err != nil {
			return
		}
		// Anything accepted is a usable, strong key that round-trips.
		if err := CheckStrength(d.Key.Public()); err != nil {
			t.Fatal(err)
		}
		again, err := MarshalPEM(d.Key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParsePEM(again, nil); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecrypt feeds arbitrary EncryptedPrivateKeyInfo DER and passphrases:
// no panic, and no more work than the caps allow.
func FuzzDecrypt(f *testing.F) {
	k, _ := Generate(Spec{Type: Ed25519})
	enc, _ := MarshalEncryptedPEM(k, []byte("pw"), EncryptOptions{Iterations: 2})
	block, _ := pem.Decode(enc)
	f.Add(block.Bytes, []byte("pw"))
	f.Add(block.Bytes, []byte("wrong"))
	f.Add([]byte{0x30, 0x00}, []byte(""))
	f.Fuzz(func(t *testing.T, der, pass []byte) {
		info, err := parseEncryptedInfo(der)
		if err != nil {
			return
		}
		// parseEncryptedInfo accepted it, so the caps hold: derivation is
		// bounded, and the result is a plaintext or a wrong passphrase.
		if _, err := info.decrypt(pass); err != nil && !errors.Is(err, ErrWrongPassphrase) && !strings.HasPrefix(err.Error(), "keygen:") {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
