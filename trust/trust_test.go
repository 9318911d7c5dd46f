package trust

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newCert makes a certificate for cn signed by parent (self-signed when
// parent is nil); it is a CA when ca is true.
func newCert(t *testing.T, cn string, ca bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{"keywright test"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		BasicConstraintsValid: true, IsCA: ca,
	}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.DNSNames = []string{cn}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// newRoot makes a root CA NAME and writes its certificate into dir.
func newRoot(t *testing.T, name string) Root {
	t.Helper()
	c, _ := newCert(t, name+" root", true, nil, nil)
	path := filepath.Join(t.TempDir(), name+".crt")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := NewRoot(name, path, c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewRootRefusesLeafAndIntermediate(t *testing.T) {
	root, rootKey := newCert(t, "root", true, nil, nil)
	inter, _ := newCert(t, "int", true, root, rootKey)
	leaf, _ := newCert(t, "web.example.test", false, root, rootKey)
	if _, err := NewRoot("root", "root.crt", root); err != nil {
		t.Errorf("a root: %v", err)
	}
	_, err := NewRoot("int", "int.crt", inter)
	if !errors.Is(err, ErrIntermediate) || !strings.Contains(err.Error(), `issued by "CN=root,O=keywright test"`) {
		t.Errorf("an intermediate: %v, want ErrIntermediate naming its issuer", err)
	}
	_, err = NewRoot("web", "web.crt", leaf)
	if !errors.Is(err, ErrLeaf) || !strings.Contains(err.Error(), "web.example.test") {
		t.Errorf("a leaf: %v, want ErrLeaf naming it", err)
	}
}

// Two stores' roots of one name get different names everywhere.
func TestNamesIdentifyKeywrightTheCAAndItsFingerprint(t *testing.T) {
	a, b := newRoot(t, "local-ca"), newRoot(t, "local-ca")
	if a.Label() == b.Label() || a.Nickname() == b.Nickname() {
		t.Fatalf("two roots named local-ca share %q / %q", a.Label(), a.Nickname())
	}
	if want := "keywright-local-ca-" + a.Fingerprint()[:12]; a.Label() != want {
		t.Errorf("Label = %q, want %q", a.Label(), want)
	}
	if want := "keywright local-ca " + a.Fingerprint()[:12]; a.Nickname() != want {
		t.Errorf("Nickname = %q, want %q", a.Nickname(), want)
	}
	odd := Root{Name: "../My CA/x", Cert: a.Cert}
	if l := odd.Label(); strings.ContainsAny(l, "/ ") || !strings.HasPrefix(l, "keywright-x-") {
		t.Errorf("Label of an odd name = %q", l)
	}
}

func TestKindsSelectStores(t *testing.T) {
	res := Status(t.Context(), newRoot(t, "r"), Options{Home: t.TempDir(), Kinds: []string{NSS}})
	if len(res) != 1 || res[0].Store != NSS || res[0].State != Absent {
		t.Fatalf("--in nss with no database: %+v", res)
	}
}
