package keygen

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
)

// The plain multiplication gives the standard library's key for every seed.
func TestEd25519FromSeedIsTheStandardKey(t *testing.T) {
	seeds := [][]byte{make([]byte, 32), bytes.Repeat([]byte{0xff}, 32)}
	for range 500 {
		seed := make([]byte, 32)
		rand.Read(seed)
		seeds = append(seeds, seed)
	}
	for _, seed := range seeds {
		got, err := ed25519FromSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		if want := ed25519.NewKeyFromSeed(seed); !bytes.Equal(got, want) {
			t.Fatalf("seed %x: key %x, the standard library's %x", seed, got, want)
		}
	}
}

// Keys made before and after the switch to the standard library's table
// sign and verify, and are all different.
func TestEd25519KeysAcrossTheSwitch(t *testing.T) {
	seen := map[string]bool{}
	msg := []byte("keywright")
	for i := range 2 * ed25519Plain {
		k, err := Generate(Spec{Type: Ed25519})
		if err != nil {
			t.Fatal(err)
		}
		priv := k.(ed25519.PrivateKey)
		if seen[string(priv.Seed())] {
			t.Fatalf("key %d: a seed made twice", i)
		}
		seen[string(priv.Seed())] = true
		sig, err := priv.Sign(nil, msg, crypto.Hash(0))
		if err != nil || !ed25519.Verify(priv.Public().(ed25519.PublicKey), msg, sig) {
			t.Fatalf("key %d: does not verify its own signature (%v)", i, err)
		}
		if !bytes.Equal(priv, ed25519.NewKeyFromSeed(priv.Seed())) {
			t.Fatalf("key %d: public half is not the seed's", i)
		}
	}
	if ed25519Made.Load() <= ed25519Plain {
		t.Fatalf("the test never reached the standard library's keys (%d made)", ed25519Made.Load())
	}
}
