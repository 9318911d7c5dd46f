package keygen

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"hash"

	"golang.org/x/crypto/scrypt"
)

// Encrypted PKCS#8 (RFC 5958 EncryptedPrivateKeyInfo) with PBES2 (RFC 8018).
// Written: AES-256-CBC keyed by PBKDF2-HMAC-SHA256, which OpenSSL 1.1 and 3.x
// read. Read: PBKDF2 with HMAC-SHA1/224/256/384/512 or scrypt (RFC 7914),
// with AES-128/192/256-CBC or DES-EDE3-CBC: everything `openssl pkcs8
// -topk8` writes with PBES2. PBES1 (`-v1`) is refused.

// DefaultIterations is the PBKDF2-HMAC-SHA256 count keywright writes
// (OWASP's 2023 figure for that PRF).
const DefaultIterations = 600_000

// Limits on KDF parameters read from a file, checked before any work, so a
// hostile key cannot make keywright burn minutes of CPU or gigabytes of memory.
const (
	MaxPBKDF2Iterations = 10_000_000
	MaxScryptMemory     = 256 << 20 // bytes: 128·N·r
	MaxScryptWork       = 1 << 22   // N·p, so time stays in seconds
)

// ErrKDFLimit is returned when an encrypted key asks for more work than the caps allow.
var ErrKDFLimit = newError("encrypted key asks for too much key-derivation work")

// ErrUnsupportedEncryption is returned for encryption schemes keywright cannot read.
var ErrUnsupportedEncryption = newError("unsupported private key encryption")

// EncryptOptions tunes encryption. The zero value is the default.
type EncryptOptions struct {
	Iterations int // PBKDF2 iterations; 0 means DefaultIterations
}

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt      []byte
	N         int
	R         int
	P         int
	KeyLength int `asn1:"optional"`
}

// kdf derives a key of the given length from a passphrase.
type kdf func(pass []byte, keyLen int) ([]byte, error)

// encryptedInfo is a parsed EncryptedPrivateKeyInfo, checked against the caps.
type encryptedInfo struct {
	derive     kdf
	newCipher  func(key []byte) (cipher.Block, error)
	keyLen     int
	iv         []byte
	ciphertext []byte
	kdfName    string // "PBKDF2-HMAC-SHA256 600000 iterations", "scrypt N=16384 r=8 p=1"
	cipherName string // "AES-256-CBC"
}

var nullParams = asn1.RawValue{Tag: asn1.TagNull}

func encryptPKCS8(plain, pass []byte, opts EncryptOptions) ([]byte, error) {
	iter := opts.Iterations
	if iter == 0 {
		iter = DefaultIterations
	}
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	rand.Read(salt)
	rand.Read(iv)
	key, err := pbkdf2.Key(sha256.New, string(pass), salt, iter, 32)
	if err != nil {
		return nil, errorf("%w", err)
	}
	block, _ := aes.NewCipher(key)
	padded := pad(plain, aes.BlockSize)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(padded, padded)

	kdfDER, err := asn1.Marshal(pbkdf2Params{Salt: salt, Iterations: iter,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACSHA256, Parameters: nullParams}})
	if err != nil {
		return nil, errorf("%w", err)
	}
	ivDER, _ := asn1.Marshal(iv)
	paramsDER, err := asn1.Marshal(pbes2Params{
		KeyDerivationFunc: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfDER}},
		EncryptionScheme:  pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return nil, errorf("%w", err)
	}
	return asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm:     pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: paramsDER}},
		EncryptedData: padded,
	})
}

func pad(b []byte, size int) []byte {
	n := size - len(b)%size
	out := make([]byte, len(b), len(b)+n)
	copy(out, b)
	for i := 0; i < n; i++ {
		out = append(out, byte(n))
	}
	return out
}

// parseEncryptedInfo decodes the structure and checks the KDF caps; it does
// no key derivation.
func parseEncryptedInfo(der []byte) (*encryptedInfo, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errorf("%w: bad EncryptedPrivateKeyInfo", ErrMalformed)
	}
	out, err := parsePBES2(info.Algorithm)
	if err != nil {
		return nil, err
	}
	out.ciphertext = info.EncryptedData
	bs := aes.BlockSize
	if out.cipherName == "DES-EDE3-CBC" {
		bs = des.BlockSize
	}
	if len(out.ciphertext) == 0 || len(out.ciphertext)%bs != 0 {
		return nil, errorf("%w: bad IV or ciphertext length", ErrMalformed)
	}
	return out, nil
}

// parsePBES2 reads a PBES2 AlgorithmIdentifier: cipher, IV and KDF, the
// KDF checked against the caps (RFC 8018 6.2).
func parsePBES2(alg pkix.AlgorithmIdentifier) (*encryptedInfo, error) {
	if !alg.Algorithm.Equal(oidPBES2) {
		return nil, errorf("%w: scheme %s (only PBES2 is read; re-encrypt with openssl pkcs8 -topk8 -v2 aes-256-cbc)",
			ErrUnsupportedEncryption, alg.Algorithm)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &params); err != nil || len(rest) > 0 {
		return nil, errorf("%w: bad PBES2 parameters", ErrMalformed)
	}
	out := &encryptedInfo{}
	var err error
	if err = out.setCipher(params.EncryptionScheme); err != nil {
		return nil, err
	}
	out.derive, out.kdfName, err = parseKDF(params.KeyDerivationFunc, out.keyLen)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PBES2Cipher is the block cipher and IV that a PBES2 AlgorithmIdentifier
// (RFC 8018 6.2) derives from pass, with the caps of an encrypted key's
// derivation: for data other than a key that PBES2 protects (a PKCS#12
// bag) and must be decrypted and encrypted again under the same parameters.
func PBES2Cipher(alg pkix.AlgorithmIdentifier, pass []byte) (cipher.Block, []byte, error) {
	e, err := parsePBES2(alg)
	if err != nil {
		return nil, nil, err
	}
	key, err := e.derive(pass, e.keyLen)
	if err != nil {
		return nil, nil, errorf("%w", err)
	}
	block, err := e.newCipher(key)
	return block, e.iv, err
}

func (e *encryptedInfo) setCipher(alg pkix.AlgorithmIdentifier) error {
	switch {
	case alg.Algorithm.Equal(oidAES128CBC):
		e.keyLen, e.newCipher, e.cipherName = 16, aes.NewCipher, "AES-128-CBC"
	case alg.Algorithm.Equal(oidAES192CBC):
		e.keyLen, e.newCipher, e.cipherName = 24, aes.NewCipher, "AES-192-CBC"
	case alg.Algorithm.Equal(oidAES256CBC):
		e.keyLen, e.newCipher, e.cipherName = 32, aes.NewCipher, "AES-256-CBC"
	case alg.Algorithm.Equal(oidDESEDE3CBC):
		e.keyLen, e.newCipher, e.cipherName = 24, des.NewTripleDESCipher, "DES-EDE3-CBC"
	default:
		return errorf("%w: cipher %s", ErrUnsupportedEncryption, alg.Algorithm)
	}
	if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &e.iv); err != nil || len(rest) > 0 {
		return errorf("%w: bad cipher IV", ErrMalformed)
	}
	bs := aes.BlockSize
	if alg.Algorithm.Equal(oidDESEDE3CBC) {
		bs = des.BlockSize
	}
	if len(e.iv) != bs {
		return errorf("%w: bad IV or ciphertext length", ErrMalformed)
	}
	return nil
}

func parseKDF(alg pkix.AlgorithmIdentifier, keyLen int) (kdf, string, error) {
	switch {
	case alg.Algorithm.Equal(oidPBKDF2):
		return parsePBKDF2(alg.Parameters.FullBytes, keyLen)
	case alg.Algorithm.Equal(oidScrypt):
		return parseScrypt(alg.Parameters.FullBytes, keyLen)
	}
	return nil, "", errorf("%w: key derivation %s", ErrUnsupportedEncryption, alg.Algorithm)
}

func parsePBKDF2(der []byte, keyLen int) (kdf, string, error) {
	var p pbkdf2Params
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) > 0 {
		return nil, "", errorf("%w: bad PBKDF2 parameters", ErrMalformed)
	}
	if p.KeyLength != 0 && p.KeyLength != keyLen {
		return nil, "", errorf("%w: PBKDF2 key length %d does not fit the cipher", ErrMalformed, p.KeyLength)
	}
	if p.Iterations < 1 || p.Iterations > MaxPBKDF2Iterations {
		return nil, "", errorf("%w: PBKDF2 iteration count %d (limit %d)", ErrKDFLimit, p.Iterations, MaxPBKDF2Iterations)
	}
	h, hname, err := prfHash(p.PRF.Algorithm)
	if err != nil {
		return nil, "", err
	}
	name := fmt.Sprintf("PBKDF2-HMAC-%s %d iterations", hname, p.Iterations)
	return func(pass []byte, n int) ([]byte, error) {
		return pbkdf2.Key(h, string(pass), p.Salt, p.Iterations, n)
	}, name, nil
}

func prfHash(oid asn1.ObjectIdentifier) (func() hash.Hash, string, error) {
	switch {
	case len(oid) == 0 || oid.Equal(oidHMACSHA1): // DEFAULT hmacWithSHA1
		return sha1.New, "SHA1", nil
	case oid.Equal(oidHMACSHA224):
		return sha256.New224, "SHA224", nil
	case oid.Equal(oidHMACSHA256):
		return sha256.New, "SHA256", nil
	case oid.Equal(oidHMACSHA384):
		return sha512.New384, "SHA384", nil
	case oid.Equal(oidHMACSHA512):
		return sha512.New, "SHA512", nil
	}
	return nil, "", errorf("%w: PBKDF2 PRF %s", ErrUnsupportedEncryption, oid)
}

func parseScrypt(der []byte, keyLen int) (kdf, string, error) {
	var p scryptParams
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) > 0 {
		return nil, "", errorf("%w: bad scrypt parameters", ErrMalformed)
	}
	if p.KeyLength != 0 && p.KeyLength != keyLen {
		return nil, "", errorf("%w: scrypt key length %d does not fit the cipher", ErrMalformed, p.KeyLength)
	}
	if p.N < 2 || p.N&(p.N-1) != 0 || p.R < 1 || p.P < 1 {
		return nil, "", errorf("%w: scrypt parameters N=%d r=%d p=%d", ErrMalformed, p.N, p.R, p.P)
	}
	// Compare in float64-free integer steps that cannot overflow: each
	// factor is bounded before the product is taken.
	if p.N > MaxScryptMemory/128 || p.R > MaxScryptMemory/128/p.N || p.P > MaxScryptWork/p.N {
		return nil, "", errorf("%w: scrypt N=%d r=%d p=%d (limit %d MiB, N·p ≤ %d)",
			ErrKDFLimit, p.N, p.R, p.P, MaxScryptMemory>>20, MaxScryptWork)
	}
	name := fmt.Sprintf("scrypt N=%d r=%d p=%d", p.N, p.R, p.P)
	return func(pass []byte, n int) ([]byte, error) {
		return scrypt.Key(pass, p.Salt, p.N, p.R, p.P, n)
	}, name, nil
}

func (e *encryptedInfo) decrypt(pass []byte) ([]byte, error) {
	key, err := e.derive(pass, e.keyLen)
	if err != nil {
		return nil, errorf("%w", err)
	}
	block, err := e.newCipher(key)
	if err != nil {
		return nil, errorf("%w", err)
	}
	plain := make([]byte, len(e.ciphertext))
	cipher.NewCBCDecrypter(block, e.iv).CryptBlocks(plain, e.ciphertext)
	return unpad(plain, block.BlockSize())
}

func unpad(b []byte, size int) ([]byte, error) {
	n := int(b[len(b)-1])
	if n == 0 || n > size || n > len(b) {
		return nil, ErrWrongPassphrase
	}
	want := make([]byte, n)
	for i := range want {
		want[i] = byte(n)
	}
	if !hmac.Equal(b[len(b)-n:], want) {
		return nil, ErrWrongPassphrase
	}
	return b[:len(b)-n], nil
}
