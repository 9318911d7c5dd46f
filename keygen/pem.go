package keygen

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
)

// PEM block types.
const (
	BlockPKCS8     = "PRIVATE KEY"
	BlockEncrypted = "ENCRYPTED PRIVATE KEY"
	BlockPKCS1     = "RSA PRIVATE KEY"
	BlockSEC1      = "EC PRIVATE KEY"
)

// Errors callers branch on.
var (
	// ErrNoPEM: the input holds no PEM block at all.
	ErrNoPEM = newError("no PEM data found")
	// ErrNotKey: the input is PEM, but not a private key.
	ErrNotKey = newError("not a private key")
	// ErrMalformed: the PEM block is a key type, but its contents do not parse.
	ErrMalformed = newError("malformed private key")
	// ErrWrongPassphrase: decryption failed; the passphrase is wrong.
	ErrWrongPassphrase = newError("wrong passphrase")
	// ErrPassphraseRequired: the key is encrypted and no passphrase was given.
	ErrPassphraseRequired = newError("the key is encrypted and needs a passphrase")
	// ErrLegacyEncryption: an old "Proc-Type: 4,ENCRYPTED" PEM key.
	ErrLegacyEncryption = newError("legacy PEM encryption (Proc-Type: 4,ENCRYPTED) is not supported; convert it with: openssl pkcs8 -topk8 -in OLD -out NEW")
)

// PassphraseFunc supplies a passphrase when a key turns out to be encrypted.
// It is called at most once per decode.
type PassphraseFunc func() ([]byte, error)

// MarshalPEM encodes key as an unencrypted PKCS#8 "PRIVATE KEY" block.
func MarshalPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, errorf("%w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: BlockPKCS8, Bytes: der}), nil
}

// MarshalEncryptedPEM encodes key as an "ENCRYPTED PRIVATE KEY" block
// (PBES2 with the given parameters; the zero EncryptOptions are the defaults).
func MarshalEncryptedPEM(key crypto.Signer, passphrase []byte, opts EncryptOptions) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, errorf("%w", err)
	}
	enc, err := encryptPKCS8(der, passphrase, opts)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: BlockEncrypted, Bytes: enc}), nil
}

// Decoded is a private key read from PEM.
type Decoded struct {
	Key       crypto.Signer
	Format    string // "pkcs8", "pkcs8-encrypted", "pkcs1", "sec1"
	Encrypted bool
}

// IsEncrypted reports whether data's first private-key PEM block is encrypted.
func IsEncrypted(data []byte) bool {
	block, _ := firstKeyBlock(data)
	return block != nil && (block.Type == BlockEncrypted || block.Headers["Proc-Type"] != "")
}

// ParsePEM decodes the first private key in data. passphrase is called only
// when the key is encrypted; it may be nil, and then an encrypted key gives
// ErrPassphraseRequired.
func ParsePEM(data []byte, passphrase PassphraseFunc) (*Decoded, error) {
	block, other := firstKeyBlock(data)
	if block == nil {
		if other == "DSA PRIVATE KEY" {
			return nil, errorf("%w: DSA keys are refused", ErrUnsupported)
		}
		if other != "" {
			return nil, errorf("%w: found a PEM block of type %q", ErrNotKey, other)
		}
		return nil, ErrNoPEM
	}
	if block.Headers["Proc-Type"] != "" {
		return nil, ErrLegacyEncryption
	}
	switch block.Type {
	case BlockEncrypted:
		return parseEncrypted(block.Bytes, passphrase)
	case BlockPKCS8:
		return parseDER(block.Bytes, "pkcs8", ErrMalformed)
	case BlockPKCS1:
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, derError(ErrMalformed, "PKCS#1")
		}
		return checked(&Decoded{Key: k, Format: "pkcs1"})
	default: // BlockSEC1
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if rerr := refusedSEC1(block.Bytes); err != nil && rerr != nil {
			return nil, rerr
		}
		if err != nil {
			return nil, derError(ErrMalformed, "SEC 1")
		}
		return checked(&Decoded{Key: k, Format: "sec1"})
	}
}

func parseEncrypted(der []byte, passphrase PassphraseFunc) (*Decoded, error) {
	params, err := parseEncryptedInfo(der)
	if err != nil {
		return nil, err
	}
	if passphrase == nil {
		return nil, ErrPassphraseRequired
	}
	pass, err := passphrase()
	if err != nil {
		return nil, err
	}
	plain, err := params.decrypt(pass)
	if err != nil {
		return nil, err
	}
	// A wrong passphrase passes the padding check about once in 256 tries;
	// then the plaintext does not parse, which means the same thing.
	d, err := parseDER(plain, "pkcs8-encrypted", ErrWrongPassphrase)
	if err != nil {
		return nil, err
	}
	d.Encrypted = true
	return d, nil
}

func parseDER(der []byte, format string, onError error) (*Decoded, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if rerr := refusedPKCS8(der); err != nil && rerr != nil {
		return nil, rerr // parsed far enough to name it: refused, not malformed
	}
	if err != nil {
		if onError == ErrWrongPassphrase {
			return nil, ErrWrongPassphrase
		}
		return nil, derError(onError, "PKCS#8")
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, errorf("%w: a key-agreement key (such as X25519), which cannot sign", ErrUnsupported)
	}
	return checked(&Decoded{Key: signer, Format: format})
}

func checked(d *Decoded) (*Decoded, error) {
	if err := CheckStrength(d.Key.Public()); err != nil {
		return nil, err
	}
	return d, nil
}

// firstKeyBlock returns the first PEM block that holds a private key, or
// the type of the first other block seen.
func firstKeyBlock(data []byte) (*pem.Block, string) {
	other := ""
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, other
		}
		switch block.Type {
		case BlockPKCS8, BlockEncrypted, BlockPKCS1, BlockSEC1:
			return block, ""
		}
		if other == "" && !bytes.Equal([]byte(block.Type), []byte("EC PARAMETERS")) {
			other = block.Type
		}
	}
}

// derError: the DER of a key in format does not parse. The parser's own
// words name ASN.1 internals (tags, classes), so the message says what
// is wrong in a user's terms.
func derError(kind error, format string) error {
	return errorf("%w: its %s DER does not parse (truncated, damaged, or a key type or curve keywright does not read)", kind, format)
}
