package keygen

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
)

// BlockPublic is the PEM type of a PKIX public key.
const BlockPublic = "PUBLIC KEY"

// MarshalPublicPEM encodes a public key as a PKIX "PUBLIC KEY" block, as
// `openssl pkey -pubout` does.
func MarshalPublicPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, errorf("%w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: BlockPublic, Bytes: der}), nil
}

// Fingerprint identifies a public key: SHA-256 over its DER
// SubjectPublicKeyInfo, the value `openssl pkey -pubout -outform DER |
// sha256sum` prints.
type Fingerprint [sha256.Size]byte

// FingerprintOf computes the SPKI SHA-256 fingerprint of pub.
func FingerprintOf(pub crypto.PublicKey) (Fingerprint, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return Fingerprint{}, errorf("%w", err)
	}
	return sha256.Sum256(der), nil
}

// Hex is the fingerprint as lower-case hex, the form sha256sum prints.
func (f Fingerprint) Hex() string { return hex.EncodeToString(f[:]) }

// Base64 is the fingerprint as "SHA256:" and unpadded base64, the form
// ssh-keygen uses and the form RFC 7469 pins resemble.
func (f Fingerprint) Base64() string {
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(f[:])
}

// DescribeEncryption names the scheme of an encrypted PKCS#8 PEM key, such
// as "PBES2 PBKDF2-HMAC-SHA256 600000 iterations AES-256-CBC". It derives
// nothing, so it is cheap even for hostile parameters.
func DescribeEncryption(data []byte) (string, error) {
	block, _ := firstKeyBlock(data)
	if block == nil || block.Type != BlockEncrypted {
		return "", ErrNotKey
	}
	info, err := parseEncryptedInfo(block.Bytes)
	if err != nil {
		return "", err
	}
	return "PBES2 " + info.kdfName + " " + info.cipherName, nil
}
