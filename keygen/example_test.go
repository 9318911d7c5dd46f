package keygen_test

import (
	"fmt"

	"github.com/keywright/keywright/keygen"
)

func ExampleGenerate() {
	key, err := keygen.Generate(keygen.Spec{Type: keygen.ECDSA, Curve: keygen.P384})
	if err != nil {
		panic(err)
	}
	pemBytes, _ := keygen.MarshalEncryptedPEM(key, []byte("passphrase"), keygen.EncryptOptions{})
	scheme, _ := keygen.DescribeEncryption(pemBytes)
	spec, _ := keygen.SpecOf(key.Public())
	fmt.Println(spec)
	fmt.Println(scheme)
	// Output:
	// ecdsa p384
	// PBES2 PBKDF2-HMAC-SHA256 600000 iterations AES-256-CBC
}
