package keygen_test

import (
	"testing"

	"github.com/keywright/keywright/keygen"
)

// The in-process limit for `key new`: generation and encoding alone.
func BenchmarkGenerate(b *testing.B) {
	for _, s := range []keygen.Spec{{Type: keygen.ECDSA}, {Type: keygen.ECDSA, Curve: keygen.P384}, {Type: keygen.Ed25519}, {Type: keygen.RSA, Bits: 2048}, {Type: keygen.RSA, Bits: 3072}} {
		n, _ := s.Normalize()
		b.Run(n.String(), func(b *testing.B) {
			for b.Loop() {
				k, err := keygen.Generate(s)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := keygen.MarshalPEM(k); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The cost of the default encryption (PBKDF2-HMAC-SHA256, 600,000
// iterations): paid once per write and once per read of an encrypted key.
func BenchmarkEncryptDefault(b *testing.B) {
	k, _ := keygen.Generate(keygen.Spec{})
	for b.Loop() {
		if _, err := keygen.MarshalEncryptedPEM(k, []byte("pw"), keygen.EncryptOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
