package keygen_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywright/keywright/internal/interop"
	"github.com/keywright/keywright/keygen"
)

// openssl runs the real openssl with PW in its environment (for -passin
// env:PW), failing the test on a non-zero exit.
func openssl(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(interop.Tool(t, "openssl"), args...)
	cmd.Env = append(os.Environ(), "PW=s3cret pass")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

var pw = func() ([]byte, error) { return []byte("s3cret pass"), nil }

// TestOpenSSLReadsOurKeys: `openssl pkey` reads every key we write, plain
// and encrypted (with the passphrase), and derives the same public key.
func TestOpenSSLReadsOurKeys(t *testing.T) {
	interop.Tool(t, "openssl")
	dir := t.TempDir()
	for _, s := range allSpecs {
		k := generate(t, s)
		wantPub, _ := keygen.MarshalPublicPEM(k.Public())
		plain, _ := keygen.MarshalPEM(k)
		enc, err := keygen.MarshalEncryptedPEM(k, []byte("s3cret pass"), keygen.EncryptOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{"plain": plain, "encrypted": enc} {
			t.Run(s.Type+s.Curve+"/"+name, func(t *testing.T) {
				f := filepath.Join(dir, s.Type+s.Curve+name+".key")
				if err := os.WriteFile(f, data, 0o600); err != nil {
					t.Fatal(err)
				}
				got := openssl(t, "pkey", "-in", f, "-passin", "env:PW", "-pubout")
				if !bytes.Equal(got, wantPub) {
					t.Fatalf("openssl public key differs:\n%s\nwant\n%s", got, wantPub)
				}
			})
		}
	}
	// A wrong passphrase is refused by openssl too: the encryption is real.
	k := generate(t, keygen.Spec{})
	enc, _ := keygen.MarshalEncryptedPEM(k, []byte("other"), fastOpts)
	f := filepath.Join(dir, "other.key")
	os.WriteFile(f, enc, 0o600)
	cmd := exec.Command(interop.Tool(t, "openssl"), "pkey", "-in", f, "-passin", "pass:nope", "-noout")
	if err := cmd.Run(); err == nil {
		t.Fatal("openssl accepted a wrong passphrase")
	}
}

// TestWeReadOpenSSLKeys: every key form openssl writes is read, and gives
// the public key openssl derives.
func TestWeReadOpenSSLKeys(t *testing.T) {
	interop.Tool(t, "openssl")
	dir := t.TempDir()
	gens := map[string][]string{
		"rsa":     {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"},
		"p256":    {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"},
		"p384":    {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"},
		"ed25519": {"-algorithm", "ED25519"},
	}
	forms := map[string]struct {
		args      []string
		format    string
		encrypted bool
	}{
		"pkcs8":       {[]string{"pkey"}, "pkcs8", false},
		"traditional": {[]string{"pkey", "-traditional"}, "", false},
		"pbkdf2":      {[]string{"pkcs8", "-topk8", "-passout", "env:PW"}, "pkcs8-encrypted", true},
		"scrypt":      {[]string{"pkcs8", "-topk8", "-scrypt", "-passout", "env:PW"}, "pkcs8-encrypted", true},
		"sha512prf":   {[]string{"pkcs8", "-topk8", "-v2prf", "hmacWithSHA512", "-passout", "env:PW"}, "pkcs8-encrypted", true},
		"aes128":      {[]string{"pkcs8", "-topk8", "-v2", "aes-128-cbc", "-passout", "env:PW"}, "pkcs8-encrypted", true},
		"des3":        {[]string{"pkcs8", "-topk8", "-v2", "des3", "-passout", "env:PW"}, "pkcs8-encrypted", true},
	}
	for alg, genArgs := range gens {
		src := filepath.Join(dir, alg+".pem")
		openssl(t, append([]string{"genpkey", "-out", src}, genArgs...)...)
		wantPub := openssl(t, "pkey", "-in", src, "-pubout")
		for name, form := range forms {
			if name == "traditional" {
				if alg == "ed25519" {
					continue // Ed25519 has no pre-PKCS#8 form
				}
				form.format = map[bool]string{true: "pkcs1", false: "sec1"}[alg == "rsa"]
			}
			t.Run(alg+"/"+name, func(t *testing.T) {
				out := openssl(t, append(form.args, "-in", src)...)
				d, err := keygen.ParsePEM(out, pw)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				gotPub, _ := keygen.MarshalPublicPEM(d.Key.Public())
				if !bytes.Equal(gotPub, wantPub) {
					t.Fatal("public key differs from openssl's")
				}
				if d.Encrypted != form.encrypted || (form.format != "" && d.Format != form.format) {
					t.Fatalf("format %q encrypted %v", d.Format, d.Encrypted)
				}
			})
		}
	}
}

// PBES1 (openssl pkcs8 -v1) is refused with a way out.
func TestPBES1Refused(t *testing.T) {
	interop.Tool(t, "openssl")
	src := filepath.Join(t.TempDir(), "k.pem")
	openssl(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", src)
	out := openssl(t, "pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-passout", "env:PW", "-in", src)
	_, err := keygen.ParsePEM(out, pw)
	if !errors.Is(err, keygen.ErrUnsupportedEncryption) || !strings.Contains(err.Error(), "openssl pkcs8 -topk8") {
		t.Fatalf("got %v", err)
	}
}
