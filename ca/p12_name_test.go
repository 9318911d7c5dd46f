package ca

import (
	"crypto"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/keywright/keywright/internal/interop"
	"github.com/keywright/keywright/keygen"
)

// The key bag and the leaf's certificate bag carry the friendlyName, in
// both encodings; the CA certificates do not; the MAC verifies and the
// bags decrypt (go-pkcs12 reads it back), and a wrong password is still
// refused.
func TestPKCS12FriendlyName(t *testing.T) {
	root, key, web := p12Leaf(t)
	for _, legacy := range []bool{false, true} {
		data, err := PKCS12(key, web, []*x509.Certificate{root.Cert}, []byte("pässword"), legacy, "web-Ü")
		if err != nil {
			t.Fatal(err)
		}
		if _, cert, cas, err := pkcs12.DecodeChain(data, "pässword"); err != nil || !cert.Equal(web) || len(cas) != 1 {
			t.Fatalf("legacy %v: decode: %v", legacy, err)
		}
		if _, _, _, err := pkcs12.DecodeChain(data, "wrong"); err == nil {
			t.Fatalf("legacy %v: a wrong password decodes", legacy)
		}
		// ToPEM's key blocks are not valid PEM keys, but it is go-pkcs12's one
		// way to show bag attributes, which is what is checked here.
		//lint:ignore SA1019 only the friendlyName headers are read
		blocks, err := pkcs12.ToPEM(data, "pässword")
		if err != nil {
			t.Fatal(err)
		}
		named := map[string]int{}
		for _, b := range blocks {
			if b.Headers["friendlyName"] == "web-Ü" {
				named[b.Type]++
			}
		}
		if len(blocks) != 3 || named["PRIVATE KEY"] != 1 || named["CERTIFICATE"] != 1 {
			t.Errorf("legacy %v: %d blocks, named %v", legacy, len(blocks), named)
		}
	}
}

// p12Leaf is a root CA, a key and its certificate signed by the root.
func p12Leaf(t *testing.T) (*Authority, crypto.Signer, *x509.Certificate) {
	t.Helper()
	root := testCA(t, newStore(t), "root", nil, nil)
	key := genKey(t, keygen.Spec{})
	r := leafReq(t, "", "web.example.test")
	r.PublicKey = key.Public()
	s, err := root.Sign(r)
	if err != nil {
		t.Fatal(err)
	}
	return root, key, s.Cert
}

// openssl, keytool and pk12util show the name: as each bag's friendlyName,
// as the alias of the key entry, as the nickname of the key and certificate.
func TestPKCS12FriendlyNameInterop(t *testing.T) {
	root, key, web := p12Leaf(t)
	dir := t.TempDir()
	for _, legacy := range []bool{false, true} {
		data, err := PKCS12(key, web, []*x509.Certificate{root.Cert}, []byte("export-pw"), legacy, "web")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, map[bool]string{false: "modern.p12", true: "legacy.p12"}[legacy])
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(path)+"/openssl", func(t *testing.T) {
			args := []string{"pkcs12", "-in", path, "-passin", "pass:export-pw", "-nodes", "-info"}
			if legacy {
				args = append(args, "-legacy")
			}
			out := runTool(t, interop.Tool(t, "openssl"), args...)
			if n := strings.Count(out, "friendlyName: web\n"); n != 2 {
				t.Errorf("%d bags named web, want the key's and the leaf's:\n%s", n, out)
			}
		})
		t.Run(filepath.Base(path)+"/pk12util", func(t *testing.T) {
			out := runTool(t, interop.Tool(t, "pk12util"), "-l", path, "-W", "export-pw")
			if n := strings.Count(out, "Friendly Name: web\n"); n != 2 {
				t.Errorf("%d bags named web, want the key's and the leaf's:\n%s", n, out)
			}
		})
		t.Run(filepath.Base(path)+"/keytool", func(t *testing.T) {
			out := runTool(t, interop.Tool(t, "keytool"), "-list", "-keystore", path, "-storetype", "PKCS12", "-storepass", "export-pw")
			if !strings.Contains(out, "web, ") || !strings.Contains(out, "PrivateKeyEntry") {
				t.Errorf("no entry with the alias web:\n%s", out)
			}
		})
	}
}

func runTool(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
	return string(out)
}
