package csr

import (
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseSubject(t *testing.T) {
	tests := []struct {
		in   string
		want pkix.Name
	}{
		{"/", pkix.Name{}},
		{"/CN=web.example", pkix.Name{CommonName: "web.example"}},
		{"/C=de/ST=Berlin/L=Berlin/O=Example GmbH/OU=Ops/CN=web", pkix.Name{
			Country: []string{"DE"}, Province: []string{"Berlin"}, Locality: []string{"Berlin"},
			Organization: []string{"Example GmbH"}, OrganizationalUnit: []string{"Ops"}, CommonName: "web"}},
		{`/O=A\/B/CN=x`, pkix.Name{Organization: []string{"A/B"}, CommonName: "x"}},
		{`/O=a=b\\c`, pkix.Name{Organization: []string{`a=b\c`}}},
		{"/O=R+D/OU=one/OU=two", pkix.Name{Organization: []string{"R+D"}, OrganizationalUnit: []string{"one", "two"}}},
		{"/CN=Grüße", pkix.Name{CommonName: "Grüße"}},
		{"/serialNumber=42/street=Main St 1/postalCode=10115", pkix.Name{SerialNumber: "42", StreetAddress: []string{"Main St 1"}, PostalCode: []string{"10115"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSubject(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseSubject(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			again, err := ParseSubject(FormatSubject(got))
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip through %q: %+v %v", FormatSubject(got), again, err)
			}
		})
	}
}

func TestParseSubjectBad(t *testing.T) {
	tests := []struct{ in, text string }{
		{"", "must start with '/'"},
		{"CN=x", "must start with '/'"},
		{"/CN", `"CN" is not KEY=VALUE`},
		{`/CN\=x`, "is not KEY=VALUE"},
		{"/CN=", "CN has no value"},
		{"/CN=a/CN=b", "CN is given twice"},
		{"/C=USA", "not a two-letter country code"},
		{"/C=1A", "not a two-letter country code"},
		{"/emailAddress=a@b", `unknown attribute "emailAddress"`},
		{"/CN=" + strings.Repeat("x", 65), "at most 64"},
		{"/O=a\x00b", "control character"},
		{`/CN=x\`, `lone '\'`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseSubject(tt.in)
			if !errors.Is(err, ErrBadSubject) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("ParseSubject(%q): %v, want %q", tt.in, err, tt.text)
			}
		})
	}
}

func TestSubjectFields(t *testing.T) {
	n, err := Subject{CommonName: "web", Organization: "Ex", Country: "us"}.Name()
	if err != nil || n.CommonName != "web" || n.Country[0] != "US" || n.Organization[0] != "Ex" {
		t.Fatalf("%+v %v", n, err)
	}
	if _, err := (Subject{Country: "USA"}).Name(); err == nil {
		t.Fatal("three-letter country accepted")
	}
}

func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{"/", "/CN=x", `/O=A\/B/CN=x`, "/C=DE/ST=B/L=B/O=E/OU=O/CN=w", `/CN=\=`, "/CN=a/CN=b", "//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := ParseSubject(in)
		if err != nil {
			return
		}
		again, err := ParseSubject(FormatSubject(n))
		if err != nil || !reflect.DeepEqual(again, n) {
			t.Fatalf("%q -> %q -> %+v %v", in, FormatSubject(n), again, err)
		}
	})
}

// FuzzParseCSR: whatever is accepted verifies, has an accepted key and
// valid SANs.
func FuzzParseCSR(f *testing.F) {
	key := testKeys(f)["ecdsa p256"]
	good, err := Build(Request{Subject: pkix.Name{CommonName: "a.example"}, SANs: mustSANs(f, "a.example", "10.0.0.1"), Key: key})
	if err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode(good)
	f.Add(good)
	f.Add(block.Bytes)
	if dsa, err := os.ReadFile("testdata/dsa.csr"); err == nil {
		f.Add(dsa)
	}
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseCSR(in)
		if err != nil {
			return
		}
		if err := r.CheckSignature(); err != nil {
			t.Fatalf("accepted a request that does not verify: %v", err)
		}
		if err := SANsOfCSR(r).Validate(); err != nil {
			t.Fatalf("accepted bad SANs: %v", err)
		}
	})
}

func ExampleParseSubject() {
	n, err := ParseSubject(`/C=DE/O=R\/D GmbH/CN=web.example`)
	if err != nil {
		panic(err)
	}
	fmt.Println(n.Country, n.Organization, n.CommonName)
	fmt.Println(FormatSubject(n))
	// Output:
	// [DE] [R/D GmbH] web.example
	// /C=DE/O=R\/D GmbH/CN=web.example
}
