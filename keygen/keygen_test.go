package keygen_test

import (
	"bytes"
	"crypto"
	"errors"
	"strings"
	"testing"

	"github.com/keywright/keywright/keygen"
)

// fastOpts keeps unit tests quick; the default count is tested once below.
var fastOpts = keygen.EncryptOptions{Iterations: 1000}

var allSpecs = []keygen.Spec{
	{Type: keygen.ECDSA},
	{Type: keygen.ECDSA, Curve: keygen.P384},
	{Type: keygen.ECDSA, Curve: keygen.P521},
	{Type: keygen.Ed25519},
	{Type: keygen.RSA, Bits: 2048},
}

func TestNormalizeDefaults(t *testing.T) {
	tests := []struct {
		in   keygen.Spec
		want string
	}{
		{keygen.Spec{}, "ecdsa p256"},
		{keygen.Spec{Type: "RSA"}, "rsa 3072"},
		{keygen.Spec{Type: "ecdsa", Curve: "P-384"}, "ecdsa p384"},
		{keygen.Spec{Type: "ed25519"}, "ed25519"},
		{keygen.Spec{Type: "rsa", Bits: 4096}, "rsa 4096"},
	}
	for _, tt := range tests {
		got, err := tt.in.Normalize()
		if err != nil || got.String() != tt.want {
			t.Errorf("Normalize(%+v) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeRefuses(t *testing.T) {
	tests := []struct {
		in      keygen.Spec
		wantErr string
	}{
		{keygen.Spec{Type: "rsa", Bits: 1024}, "must be 2048 to 8192 bits"},
		{keygen.Spec{Type: "rsa", Bits: 8200}, "must be 2048 to 8192 bits"},
		{keygen.Spec{Type: "ecdsa", Curve: "p224"}, `curve "p224"`},
		{keygen.Spec{Type: "ecdsa", Bits: 256}, "a size in bits is only for rsa keys; ecdsa keys take a curve"},
		{keygen.Spec{Type: "rsa", Curve: "p256"}, "a curve is only for ecdsa keys, not rsa"},
		{keygen.Spec{Type: "ed25519", Bits: 256}, "ed25519 keys take neither a curve nor a size"},
		{keygen.Spec{Type: "dsa"}, `type "dsa"`},
	}
	for _, tt := range tests {
		_, err := tt.in.Normalize()
		if !errors.Is(err, keygen.ErrUnsupported) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Normalize(%+v) error = %v; want %q", tt.in, err, tt.wantErr)
		}
	}
}

func generate(t testing.TB, s keygen.Spec) crypto.Signer {
	t.Helper()
	k, err := keygen.Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func samePublic(a, b crypto.Signer) bool {
	type eq interface{ Equal(crypto.PublicKey) bool }
	return a.Public().(eq).Equal(b.Public())
}

func TestRoundTripPlain(t *testing.T) {
	for _, s := range allSpecs {
		t.Run(s.Type+s.Curve, func(t *testing.T) {
			k := generate(t, s)
			got, err := keygen.SpecOf(k.Public())
			if err != nil {
				t.Fatal(err)
			}
			want, _ := s.Normalize()
			if got != want {
				t.Fatalf("SpecOf = %+v, want %+v", got, want)
			}
			pemBytes, err := keygen.MarshalPEM(k)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(pemBytes, []byte("-----BEGIN PRIVATE KEY-----\n")) {
				t.Fatalf("not PKCS#8 PEM: %.40q", pemBytes)
			}
			d, err := keygen.ParsePEM(pemBytes, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !samePublic(k, d.Key) || d.Encrypted || d.Format != "pkcs8" {
				t.Fatalf("round trip mismatch: %+v", d)
			}
		})
	}
}

func TestRoundTripEncrypted(t *testing.T) {
	for _, s := range allSpecs {
		t.Run(s.Type+s.Curve, func(t *testing.T) {
			k := generate(t, s)
			pemBytes, err := keygen.MarshalEncryptedPEM(k, []byte("correct horse"), fastOpts)
			if err != nil {
				t.Fatal(err)
			}
			if !keygen.IsEncrypted(pemBytes) {
				t.Fatal("IsEncrypted = false")
			}
			if _, err := keygen.ParsePEM(pemBytes, nil); !errors.Is(err, keygen.ErrPassphraseRequired) {
				t.Fatalf("no passphrase: %v", err)
			}
			wrong := func() ([]byte, error) { return []byte("wrong horse"), nil }
			if _, err := keygen.ParsePEM(pemBytes, wrong); !errors.Is(err, keygen.ErrWrongPassphrase) {
				t.Fatalf("wrong passphrase: %v", err)
			}
			right := func() ([]byte, error) { return []byte("correct horse"), nil }
			d, err := keygen.ParsePEM(pemBytes, right)
			if err != nil {
				t.Fatal(err)
			}
			if !samePublic(k, d.Key) || !d.Encrypted {
				t.Fatalf("round trip mismatch: %+v", d)
			}
		})
	}
}

// A wrong passphrase must be reported as such every time, not as a parse
// error when the CBC padding happens to look valid (about 1 in 256).
func TestWrongPassphraseAlwaysReported(t *testing.T) {
	k := generate(t, keygen.Spec{})
	pemBytes, err := keygen.MarshalEncryptedPEM(k, []byte("right"), keygen.EncryptOptions{Iterations: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		pass := []byte("wrong-" + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + string(rune(i)))
		_, err := keygen.ParsePEM(pemBytes, func() ([]byte, error) { return pass, nil })
		if !errors.Is(err, keygen.ErrWrongPassphrase) {
			t.Fatalf("try %d: %v", i, err)
		}
	}
}

func TestDefaultIterationsWritten(t *testing.T) {
	k := generate(t, keygen.Spec{Type: keygen.Ed25519})
	pemBytes, err := keygen.MarshalEncryptedPEM(k, []byte("pw"), keygen.EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := keygen.DescribeEncryption(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	want := "PBES2 PBKDF2-HMAC-SHA256 600000 iterations AES-256-CBC"
	if info != want {
		t.Fatalf("encryption = %q, want %q", info, want)
	}
}

func TestCheckStrength(t *testing.T) {
	if err := keygen.CheckStrength(generate(t, keygen.Spec{}).Public()); err != nil {
		t.Fatal(err)
	}
	if err := keygen.CheckStrength("not a key"); !errors.Is(err, keygen.ErrUnsupported) {
		t.Fatalf("got %v", err)
	}
}

func TestFingerprintMatchesPublicPEM(t *testing.T) {
	k := generate(t, keygen.Spec{})
	fp, err := keygen.FingerprintOf(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	if len(fp.Hex()) != 64 || !strings.HasPrefix(fp.Base64(), "SHA256:") || len(fp.Base64()) != 7+43 {
		t.Fatalf("fingerprint forms: %s %s", fp.Hex(), fp.Base64())
	}
	pub, err := keygen.MarshalPublicPEM(k.Public())
	if err != nil || !bytes.HasPrefix(pub, []byte("-----BEGIN PUBLIC KEY-----")) {
		t.Fatalf("public PEM: %v %.30q", err, pub)
	}
}
