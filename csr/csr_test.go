package csr

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keywright/keywright/keygen"
)

// testKeys has one key of every type keywright makes (RSA at 2048 to keep
// the tests fast), made once per test binary.
func testKeys(t testing.TB) map[string]crypto.Signer {
	t.Helper()
	keysOnce.Do(func() {
		keysMade = map[string]crypto.Signer{}
		for _, s := range []keygen.Spec{
			{Type: keygen.ECDSA, Curve: keygen.P256}, {Type: keygen.ECDSA, Curve: keygen.P384},
			{Type: keygen.ECDSA, Curve: keygen.P521}, {Type: keygen.RSA, Bits: 2048}, {Type: keygen.Ed25519},
		} {
			k, err := keygen.Generate(s)
			if err != nil {
				panic(err)
			}
			n, _ := s.Normalize()
			keysMade[n.String()] = k
		}
	})
	return keysMade
}

var (
	keysOnce sync.Once
	keysMade map[string]crypto.Signer
)

func mustSANs(t testing.TB, v ...string) SANs {
	t.Helper()
	s, err := ParseSANs(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBuildParseRoundTrip(t *testing.T) {
	sans := mustSANs(t, "web.example", "*.web.example", "10.0.0.1", "2001:db8::1", "ops@example.com", "spiffe://example.org/web")
	subject := pkix.Name{CommonName: "web.example", Organization: []string{"Example"}, Country: []string{"DE"}}
	for name, key := range testKeys(t) {
		t.Run(name, func(t *testing.T) {
			pemBytes, err := Build(Request{Subject: subject, SANs: sans, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			r, err := ParseCSR(pemBytes)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := SANsOfCSR(r).Values(), sans.Values(); !reflect.DeepEqual(got, want) {
				t.Errorf("SANs %q, want %q", got, want)
			}
			if r.Subject.String() != subject.String() {
				t.Errorf("subject %q, want %q", r.Subject, subject)
			}
			// DER works as well as PEM
			block, _ := pem.Decode(pemBytes)
			if _, err := ParseCSR(block.Bytes); err != nil {
				t.Errorf("DER: %v", err)
			}
		})
	}
}

func TestParseCSRRefuses(t *testing.T) {
	key := testKeys(t)["ecdsa p256"]
	good, err := Build(Request{Subject: pkix.Name{CommonName: "a.example"}, SANs: mustSANs(t, "a.example"), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(good)
	r, _ := x509.ParseCertificateRequest(block.Bytes)
	tampered := append([]byte(nil), block.Bytes...)
	// flip one byte of the CN inside the signed part
	i := strings.Index(string(r.RawTBSCertificateRequest), "a.example")
	tampered[strings.Index(string(r.Raw), string(r.RawTBSCertificateRequest))+i] ^= 0x02 // 'a' -> 'c'
	if !strings.Contains(string(tampered), "c.example") {
		t.Fatal("tampering went wrong")
	}

	// A CSR whose SAN another tool wrote badly (Go does not check).
	badSAN, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{"bad_name.example"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want error
		text string
	}{
		{"tampered", pem.EncodeToMemory(&pem.Block{Type: BlockCSR, Bytes: tampered}), ErrBadSignature, "does not verify"},
		{"tampered DER", tampered, ErrBadSignature, "does not verify"},
		{"certificate", pem.EncodeToMemory(&pem.Block{Type: BlockCert, Bytes: block.Bytes}), ErrNotCSR, "expected a CERTIFICATE REQUEST PEM block, got CERTIFICATE"},
		{"garbage", []byte("hello"), ErrMalformed, "neither PEM nor DER"},
		{"broken PEM", []byte("-----BEGIN CERTIFICATE REQUEST-----\nxx\n"), ErrMalformed, "neither PEM nor DER"},
		{"truncated DER", block.Bytes[:40], ErrMalformed, "malformed"},
		{"empty", nil, ErrMalformed, "neither PEM nor DER"},
		{"bad SAN", badSAN, ErrBadSAN, "'_' is not allowed"},
		{"DSA key", dsaCSR(t), ErrWeakKey, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCSR(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseCSR: %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) || !strings.HasPrefix(err.Error(), "csr: ") {
				t.Fatalf("error %q, want csr: ... %q", err, tt.text)
			}
		})
	}
}

// dsaCSR is testdata/dsa.csr, made by `openssl dsaparam -genkey -out dsa.key
// 2048 && openssl req -new -key dsa.key -subj /CN=dsa.example`: Go parses
// it, but keywright signs no DSA key.
func dsaCSR(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/dsa.csr")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBuildRefuses(t *testing.T) {
	key := testKeys(t)["ecdsa p256"]
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  Request
		text string
	}{
		{"no key", Request{Subject: pkix.Name{CommonName: "x"}}, "no key"},
		{"no name", Request{Key: key}, "needs a common name or at least one"},
		{"weak key", Request{Key: weak, SANs: mustSANs(t, "a.example")}, "1024 bits"},
		{"raw bad SAN", Request{Key: key, SANs: SANs{DNS: []string{"A.example"}}}, "not in canonical form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Build: %v, want %q", err, tt.text)
			}
		})
	}
}

func TestSelfSign(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for name, key := range testKeys(t) {
		t.Run(name, func(t *testing.T) {
			pemBytes, err := SelfSign(SelfSignRequest{
				Subject: pkix.Name{CommonName: "cn.example"}, SANs: mustSANs(t, "a.example", "10.0.0.1"),
				Key: key, Days: 30, Now: now,
			})
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode(pemBytes)
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			checkLeaf(t, c, key.Public(), now, 30)
			if want := []string{"dns:cn.example", "dns:a.example", "ip:10.0.0.1"}; !reflect.DeepEqual(SANsOf(c).Values(), want) {
				t.Errorf("SANs %q, want %q (the CN added)", SANsOf(c).Values(), want)
			}
		})
	}
}

func checkLeaf(t *testing.T, c *x509.Certificate, pub crypto.PublicKey, now time.Time, days int) {
	t.Helper()
	if !c.BasicConstraintsValid || c.IsCA {
		t.Error("not CA:FALSE")
	}
	wantKU := x509.KeyUsageDigitalSignature
	if _, ok := pub.(*rsa.PublicKey); ok {
		wantKU |= x509.KeyUsageKeyEncipherment
	}
	if c.KeyUsage != wantKU {
		t.Errorf("key usage %b, want %b", c.KeyUsage, wantKU)
	}
	if !reflect.DeepEqual(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
		t.Errorf("EKU %v", c.ExtKeyUsage)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() < 128 || len(c.SerialNumber.Bytes()) > 20 {
		t.Errorf("serial %x", c.SerialNumber)
	}
	if !c.NotBefore.Equal(now.Add(-Backdate)) {
		t.Errorf("not before %v", c.NotBefore)
	}
	if want := now.Add(-Backdate).Add(time.Duration(days)*24*time.Hour - time.Second); !c.NotAfter.Equal(want) {
		t.Errorf("not after %v, want %v", c.NotAfter, want)
	}
	ski, _ := SubjectKeyID(pub)
	if len(c.SubjectKeyId) != 20 || string(c.SubjectKeyId) != string(ski) || string(c.AuthorityKeyId) != string(ski) {
		t.Errorf("SKI %x, AKI %x, want both %x", c.SubjectKeyId, c.AuthorityKeyId, ski)
	}
	for _, ext := range c.Extensions {
		if ext.Id.Equal([]int{2, 5, 29, 19}) && !ext.Critical {
			t.Error("basic constraints not critical")
		}
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Error(err)
	}
}

func TestSelfSignRefuses(t *testing.T) {
	key := testKeys(t)["ecdsa p256"]
	sans := mustSANs(t, "a.example")
	tests := []struct {
		name string
		req  SelfSignRequest
		text string
	}{
		{"no SAN", SelfSignRequest{Key: key, Subject: pkix.Name{Organization: []string{"X"}}}, "at least one subject alternative name"},
		{"CN not a name", SelfSignRequest{Key: key, SANs: sans, Subject: pkix.Name{CommonName: "My Server"}}, `CN "My Server" must be one of the SANs`},
		{"CN not canonical", SelfSignRequest{Key: key, SANs: sans, Subject: pkix.Name{CommonName: "A.example"}}, `must be written as its SAN is: "a.example"`},
		{"too long", SelfSignRequest{Key: key, SANs: sans, Days: 826}, "over the 825-day limit"},
		{"negative", SelfSignRequest{Key: key, SANs: sans, Days: -1}, "give a positive number"},
		{"only email, no subject", SelfSignRequest{Key: key, SANs: mustSANs(t, "a@b.example")}, "needs a subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SelfSign(tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("SelfSign: %v, want %q", err, tt.text)
			}
		})
	}
	// 825 days is allowed, 0 is the default; an empty subject takes the first SAN as CN
	for _, days := range []int{825, 0} {
		p, err := SelfSign(SelfSignRequest{Key: key, SANs: sans, Days: days})
		if err != nil {
			t.Fatalf("days %d: %v", days, err)
		}
		block, _ := pem.Decode(p)
		c, _ := x509.ParseCertificate(block.Bytes)
		if c.Subject.CommonName != "a.example" {
			t.Errorf("CN %q", c.Subject.CommonName)
		}
	}
}

func TestRandomSerial(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		n, err := RandomSerial(nil)
		if err != nil {
			t.Fatal(err)
		}
		if n.Sign() <= 0 || n.BitLen() != 129 {
			t.Fatalf("serial %x: sign %d, %d bits; want positive, 129 bits", n, n.Sign(), n.BitLen())
		}
		der, _ := asn1.Marshal(n)
		if len(der)-2 > 20 {
			t.Fatalf("serial %x: %d DER octets, at most 20 allowed", n, len(der)-2)
		}
		if seen[n.String()] {
			t.Fatalf("serial %x repeated", n)
		}
		seen[n.String()] = true
	}
}

func TestRandomSerialReaderError(t *testing.T) {
	_, err := RandomSerial(bytes.NewReader([]byte{1, 2, 3}))
	if err == nil || !strings.Contains(err.Error(), "csr: serial number") {
		t.Fatalf("short reader: %v, want a serial number error", err)
	}
}

func ExampleParseSANs() {
	sans, err := ParseSANs([]string{"Web.Example", "10.0.0.1", "ops@example.com", "https://example.com/", "web.example"})
	if err != nil {
		panic(err)
	}
	fmt.Println(sans.Values())
	// Output: [dns:web.example ip:10.0.0.1 email:ops@example.com uri:https://example.com/]
}

func ExampleParseSAN() {
	_, _, err := ParseSAN("a_b.example")
	fmt.Println(err)
	// Output: csr: invalid subject alternative name "a_b.example": '_' is not allowed in a DNS name (RFC 5280 4.2.1.6: preferred name syntax)
}

func ExampleBuild() {
	key, err := keygen.Generate(keygen.Spec{})
	if err != nil {
		panic(err)
	}
	sans, err := ParseSANs([]string{"web.example", "10.0.0.1"})
	if err != nil {
		panic(err)
	}
	pemBytes, err := Build(Request{Subject: pkix.Name{CommonName: "web.example"}, SANs: sans, Key: key})
	if err != nil {
		panic(err)
	}
	r, err := ParseCSR(pemBytes) // checks the signature, the key and the SANs
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Subject, SANsOfCSR(r).Values())
	// Output: CN=web.example [dns:web.example ip:10.0.0.1]
}

func ExampleSelfSign() {
	key, err := keygen.Generate(keygen.Spec{})
	if err != nil {
		panic(err)
	}
	sans, _ := ParseSANs([]string{"localhost", "127.0.0.1"})
	pemBytes, err := SelfSign(SelfSignRequest{SANs: sans, Key: key, Days: 30})
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(pemBytes)
	c, _ := x509.ParseCertificate(block.Bytes)
	fmt.Println(c.Subject, c.IsCA, SANsOf(c).Values(), c.NotAfter.Sub(c.NotBefore).Round(time.Hour))
	// Output: CN=localhost false [dns:localhost ip:127.0.0.1] 720h0m0s
}
