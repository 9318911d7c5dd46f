package csr

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSANGood(t *testing.T) {
	tests := []struct {
		in, kind, canon string
	}{
		{"example.com", KindDNS, "example.com"},
		{"WWW.Example.COM", KindDNS, "www.example.com"},
		{"  spaced.example  ", KindDNS, "spaced.example"},
		{"localhost", KindDNS, "localhost"},
		{"*.example.com", KindDNS, "*.example.com"},
		{"Bücher.example", KindDNS, "xn--bcher-kva.example"},
		{"xn--bcher-kva.example", KindDNS, "xn--bcher-kva.example"},
		{"ｅｘａｍｐｌｅ.com", KindDNS, "example.com"},
		{"a-b.c1.example", KindDNS, "a-b.c1.example"},
		{"dns:example.org", KindDNS, "example.org"},
		{"DNS:Example.org", KindDNS, "example.org"},
		{strings.Repeat("a", 63) + ".example", KindDNS, strings.Repeat("a", 63) + ".example"},
		{"10.0.0.1", KindIP, "10.0.0.1"},
		{"ip:192.168.1.1", KindIP, "192.168.1.1"},
		{"::1", KindIP, "::1"},
		{"2001:DB8::1", KindIP, "2001:db8::1"},
		{"::ffff:10.1.2.3", KindIP, "10.1.2.3"},
		{"user@example.com", KindEmail, "user@example.com"},
		{"First.Last+tag@Example.COM", KindEmail, "First.Last+tag@example.com"},
		{"email:a@b.example", KindEmail, "a@b.example"},
		{"https://example.com/path", KindURI, "https://example.com/path"},
		{"HTTPS://Example.com:8443/x?q=1", KindURI, "https://example.com:8443/x?q=1"},
		{"spiffe://example.org/ns/default/sa/web", KindURI, "spiffe://example.org/ns/default/sa/web"},
		{"uri:https://[2001:db8::1]/", KindURI, "https://[2001:db8::1]/"},
		{"https://10.0.0.1/", KindURI, "https://10.0.0.1/"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			kind, canon, err := ParseSAN(tt.in)
			if err != nil {
				t.Fatalf("ParseSAN(%q): %v", tt.in, err)
			}
			if kind != tt.kind || canon != tt.canon {
				t.Fatalf("ParseSAN(%q) = %s %q, want %s %q", tt.in, kind, canon, tt.kind, tt.canon)
			}
			// canonical forms are fixed points
			k2, c2, err := ParseSAN(kind + ":" + canon)
			if err != nil || k2 != kind || c2 != canon {
				t.Fatalf("ParseSAN(%s:%s) = %s %q %v", kind, canon, k2, c2, err)
			}
		})
	}
}

func TestParseSANBad(t *testing.T) {
	tests := []struct {
		in, rule string
	}{
		{"", "the name is empty"},
		{"dns:", "the name is empty"},
		{"example.com.", "must not end with a dot"},
		{"a..example", "empty label"},
		{".example", "empty label"},
		{"a_b.example", "'_' is not allowed"},
		{"_acme.example", "'_' is not allowed"},
		{"*", "at least two labels after it"},
		{"*.com", "at least two labels after it"},
		{"a.*.example", "whole left-most label"},
		{"*a.example.com", "whole left-most label"},
		{"*.*.example.com", "whole left-most label"},
		{strings.Repeat("a", 64) + ".example", "longer than 63"},
		{strings.Repeat(strings.Repeat("a", 60)+".", 5) + "example", "at most 253"},
		{"-a.example", "invalid label"},
		{"a-.example", "invalid label"},
		{"ab--c.example", "invalid label"},
		{"xn--zz.example", "invalid label"},
		{"xn--a.example", "invalid label"},
		{"exa mple.com", "not a valid"},
		{"a\x00b.example", "not a valid"},
		{"example.com:443", "not a valid"},
		{"1.2.3", "last label is all digits"},
		{"010.0.0.1", "last label is all digits"},
		{"dns:10.0.0.1", "last label is all digits"},
		{"dns:::1", "not a valid"},
		{"10.0.0.0/8", "not a network (CIDR)"},
		{"fe80::1%eth0", "zone"},
		{"ip:example.com", "not an IPv4 or IPv6 address"},
		{"ip:10.0.0.*", "not an IPv4 or IPv6 address"},
		{"@example.com", "before '@' must be 1 to 64"},
		{"user@", "domain"},
		{"user@*.example.com", "wildcard is not allowed"},
		{"us er@example.com", "before '@' has"},
		{"a..b@example.com", "'..'"},
		{"email:example.com", "needs an '@'"},
		{"user@exa_mple.com", "'_' is not allowed"},
		{"uri:example.com", "needs a scheme and a host"},
		{"uri:urn:isbn:123", "needs a scheme and a host"},
		{"https://user:secret@example.com/", "user information"},
		{"https://example.com:99999/", "port"},
		{"https://exa_mple.com/", "'_' is not allowed"},
		{"https://bücher.example/", "printable ASCII"},
		{"https://example.com/a b", "printable ASCII"},
		{"https://exa%41mple.com/", "not a valid"},
		{"a://0000000.0000%800", "must be valid UTF-8"},
		{"https://[fe80::1%25eth0]/", "zone"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			kind, canon, err := ParseSAN(tt.in)
			if err == nil {
				t.Fatalf("ParseSAN(%q) = %s %q, want an error", tt.in, kind, canon)
			}
			if !errors.Is(err, ErrBadSAN) {
				t.Errorf("error %v does not wrap ErrBadSAN", err)
			}
			if !strings.Contains(err.Error(), tt.rule) {
				t.Errorf("ParseSAN(%q) error %q, want it to contain %q", tt.in, err, tt.rule)
			}
			if !strings.HasPrefix(err.Error(), "csr: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestParseSANsDedupAndLimit(t *testing.T) {
	s, err := ParseSANs([]string{"A.example", "a.example", "dns:a.example", "10.0.0.1", "::ffff:10.0.0.1", "x@a.example", "x@A.example"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dns:a.example", "ip:10.0.0.1", "email:x@a.example"}
	if got := s.Values(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Values() = %q, want %q", got, want)
	}
	if !s.Contains("A.EXAMPLE") || !s.Contains("ip:10.0.0.1") || s.Contains("b.example") || s.Contains("bad_name") {
		t.Fatal("Contains is wrong")
	}
	if len(s.IPs[0]) != 4 {
		t.Fatalf("IPv4 SAN has %d bytes, want 4", len(s.IPs[0]))
	}
	var many []string
	for i := range MaxSANs + 1 {
		many = append(many, fmt.Sprintf("h%d.example", i))
	}
	if _, err := ParseSANs(many); err == nil || !strings.Contains(err.Error(), "more than 100") {
		t.Fatalf("101 SANs: %v", err)
	}
	if _, err := ParseSANs(many[:MaxSANs]); err != nil {
		t.Fatalf("100 SANs: %v", err)
	}
	if _, err := ParseSANs([]string{"ok.example", "bad_.example"}); err == nil {
		t.Fatal("a bad name among good ones was accepted")
	}
}

// FuzzParseSAN: an accepted name is canonical (a fixed point), a DNS name is
// lower-case LDH and never an IP, and it builds a certificate that parses
// back with the same SAN.
func FuzzParseSAN(f *testing.F) {
	for _, s := range []string{"example.com", "*.example.com", "Bücher.example", "10.0.0.1", "::ffff:1.2.3.4",
		"fe80::1%eth0", "a@b.example", "https://example.com:8443/p?q#f", "uri:spiffe://x.example/y", "dns:1.2.3.4",
		"a_b.example", "xn--zz.example", "a..b", "ip:10.0.0.0/8", "email:x@y", "https://[::1]/"} {
		f.Add(s)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		kind, canon, err := ParseSAN(in)
		if err != nil {
			return
		}
		if k2, c2, err := ParseSAN(kind + ":" + canon); err != nil || k2 != kind || c2 != canon {
			t.Fatalf("%q -> %s:%s is not a fixed point: %s %q %v", in, kind, canon, k2, c2, err)
		}
		if kind == KindDNS {
			if canon != strings.ToLower(canon) || len(canon) > 253 || strings.HasSuffix(canon, ".") {
				t.Fatalf("%q -> bad DNS name %q", in, canon)
			}
			if _, _, err := ParseSAN("ip:" + canon); err == nil {
				t.Fatalf("%q -> DNS name %q is an IP address", in, canon)
			}
		}
		sans, err := ParseSANs([]string{in})
		if err != nil {
			t.Fatalf("ParseSANs(%q): %v", in, err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Unix(1000, 0), NotAfter: time.Unix(100000, 0)}
		sans.ApplyToCert(tmpl)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatalf("%q: CreateCertificate: %v", in, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("%q: ParseCertificate: %v", in, err)
		}
		if got, want := SANsOf(cert).Values(), sans.Values(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: certificate has %q, want %q", in, got, want)
		}
		if err := SANsOf(cert).Validate(); err != nil {
			t.Fatalf("%q: SANs from the certificate: %v", in, err)
		}
	})
}
