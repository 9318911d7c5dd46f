// Package keygen owns private keys in memory and as PEM: generating RSA,
// ECDSA and Ed25519 keys from a Spec, encoding them as PKCS#8 (plain or
// passphrase-encrypted with PBES2), and decoding every PEM form openssl
// writes (PKCS#8, encrypted PKCS#8 with PBKDF2 or scrypt, PKCS#1, SEC1).
//
// It never touches files, terminals or flags: passphrases reach it as bytes
// or through a callback, and callers decide where the PEM goes.
package keygen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"
)

// Key types.
const (
	ECDSA   = "ecdsa"
	RSA     = "rsa"
	Ed25519 = "ed25519"
)

// Curves.
const (
	P256 = "p256"
	P384 = "p384"
	P521 = "p521"
)

// RSA size limits: below MinRSABits is breakable or refused by peers; above
// MaxRSABits crypto/tls refuses the key in handshakes.
const (
	MinRSABits     = 2048
	MaxRSABits     = 8192
	DefaultRSABits = 3072
)

// ErrUnsupported is returned for a key type, size or curve keywright refuses.
var ErrUnsupported = newError("unsupported key")

// ErrCurveNotForType and ErrBitsNotForType: a Spec gives a curve, or a
// size in bits, that its key type does not take (a caller with flags
// names the flag).
var (
	ErrCurveNotForType = newError("a curve is only for ecdsa keys")
	ErrBitsNotForType  = newError("a size in bits is only for rsa keys")
)

// Spec says which key to make. The zero Spec is ECDSA P-256.
type Spec struct {
	Type  string // ecdsa (default), rsa, ed25519
	Bits  int    // RSA only; 0 means DefaultRSABits
	Curve string // ECDSA only; "" means p256
}

// Normalize fills defaults and checks the Spec.
func (s Spec) Normalize() (Spec, error) {
	s.Type = strings.ToLower(s.Type)
	s.Curve = strings.ToLower(strings.ReplaceAll(s.Curve, "-", ""))
	if s.Type == "" {
		s.Type = ECDSA
	}
	switch s.Type {
	case RSA:
		if s.Curve != "" {
			return s, errorf("%w: %w, not rsa", ErrUnsupported, ErrCurveNotForType)
		}
		if s.Bits == 0 {
			s.Bits = DefaultRSABits
		}
		if s.Bits < MinRSABits || s.Bits > MaxRSABits {
			return s, errorf("%w: rsa key of %d bits: must be %d to %d bits", ErrUnsupported, s.Bits, MinRSABits, MaxRSABits)
		}
	case ECDSA:
		if s.Bits != 0 {
			return s, errorf("%w: %w; ecdsa keys take a curve", ErrUnsupported, ErrBitsNotForType)
		}
		if s.Curve == "" {
			s.Curve = P256
		}
		if curveOf(s.Curve) == nil {
			return s, errorf("%w: curve %q: use p256, p384 or p521", ErrUnsupported, s.Curve)
		}
	case Ed25519:
		if s.Curve != "" {
			return s, errorf("%w: %w; ed25519 keys take neither a curve nor a size", ErrUnsupported, ErrCurveNotForType)
		}
		if s.Bits != 0 {
			return s, errorf("%w: %w; ed25519 keys take neither a curve nor a size", ErrUnsupported, ErrBitsNotForType)
		}
	default:
		return s, errorf("%w: type %q: use ecdsa, rsa or ed25519", ErrUnsupported, s.Type)
	}
	return s, nil
}

// String describes the Spec as people say it: "ecdsa p256", "rsa 3072", "ed25519".
func (s Spec) String() string {
	switch s.Type {
	case RSA:
		return fmt.Sprintf("rsa %d", s.Bits)
	case ECDSA:
		return "ecdsa " + s.Curve
	}
	return s.Type
}

func curveOf(name string) elliptic.Curve {
	switch name {
	case P256:
		return elliptic.P256()
	case P384:
		return elliptic.P384()
	case P521:
		return elliptic.P521()
	}
	return nil
}

// Generate makes a new key from crypto/rand.
func Generate(s Spec) (crypto.Signer, error) {
	s, err := s.Normalize()
	if err != nil {
		return nil, err
	}
	switch s.Type {
	case RSA:
		return rsa.GenerateKey(rand.Reader, s.Bits)
	case Ed25519:
		priv, err := newEd25519()
		if err != nil {
			return nil, err
		}
		return priv, nil
	default:
		return ecdsa.GenerateKey(curveOf(s.Curve), rand.Reader)
	}
}

// SpecOf describes an existing public key as a Spec.
func SpecOf(pub crypto.PublicKey) (Spec, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return Spec{Type: RSA, Bits: k.N.BitLen()}, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return Spec{Type: ECDSA, Curve: P256}, nil
		case elliptic.P384():
			return Spec{Type: ECDSA, Curve: P384}, nil
		case elliptic.P521():
			return Spec{Type: ECDSA, Curve: P521}, nil
		}
		return Spec{}, errorf("%w: ecdsa curve %s", ErrUnsupported, k.Curve.Params().Name)
	case ed25519.PublicKey:
		return Spec{Type: Ed25519}, nil
	}
	return Spec{}, errorf("%w: a public key that is not RSA, ECDSA or Ed25519", ErrUnsupported)
}

// CheckStrength refuses public keys keywright will not sign or trust: RSA
// outside 2048..8192 bits, curves other than P-256/384/521, DSA.
func CheckStrength(pub crypto.PublicKey) error {
	s, err := SpecOf(pub)
	if err != nil {
		return err
	}
	_, err = s.Normalize()
	return err
}

// Size is the key size in bits people quote: the RSA modulus, the curve
// size, 256 for Ed25519.
func (s Spec) Size() int {
	switch s.Type {
	case RSA:
		return s.Bits
	case ECDSA:
		return curveOf(s.Curve).Params().BitSize
	}
	return 256
}
