package keygen

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"sync/atomic"

	"filippo.io/edwards25519"
)

// Ed25519 keys, made as RFC 8032 (5.1.5) says: a random 32-byte seed, its
// SHA-512, the first half clamped as the scalar s, the public key s·B.
//
// The standard library computes s·B with a table of multiples of the base
// point that it builds on the first key of a process: about 1.3 ms, which
// pays for itself only from about the thirtieth key (30 µs a key after it,
// against 75 µs for a plain constant-time scalar multiplication). Most
// commands make one key, so the first keys of a process are made with the
// plain multiplication (filippo.io/edwards25519) and only a batch of many
// goes on with the standard library's table.

// ed25519Plain is how many keys a process makes without the table.
const ed25519Plain = 16

var ed25519Made atomic.Int64

// newEd25519 makes a new Ed25519 key from crypto/rand.
func newEd25519() (ed25519.PrivateKey, error) {
	if ed25519Made.Add(1) > ed25519Plain {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	return ed25519FromSeed(seed)
}

// ed25519FromSeed is ed25519.NewKeyFromSeed without the standard library's
// base-point table.
func ed25519FromSeed(seed []byte) (ed25519.PrivateKey, error) {
	h := sha512.Sum512(seed)
	s, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		return nil, errorf("ed25519: %w", err)
	}
	pub := new(edwards25519.Point).ScalarMult(s, edwards25519.NewGeneratorPoint()).Bytes()
	priv := make(ed25519.PrivateKey, 0, ed25519.PrivateKeySize)
	return append(append(priv, seed...), pub...), nil
}
