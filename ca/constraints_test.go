package ca

import (
	"errors"
	"strings"
	"testing"
)

func TestParseConstraints(t *testing.T) {
	c, err := ParseConstraints(ConstraintValues{
		PermitDNS: []string{"Example.Test", ".internal"}, ExcludeDNS: []string{"bücher.example"},
		PermitIP: []string{"10.0.0.0/8", "fd00::/8"}, ExcludeIP: []string{"10.9.0.0/16"}, PermitEmail: []string{"example.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.PermitDNS[0] != "example.test" || c.PermitDNS[1] != ".internal" || c.ExcludeDNS[0] != "xn--bcher-kva.example" {
		t.Errorf("DNS: %v %v", c.PermitDNS, c.ExcludeDNS)
	}
	if len(c.PermitIP[0].IP) != 4 || c.PermitIP[1].String() != "fd00::/8" || c.ExcludeIP[0].String() != "10.9.0.0/16" {
		t.Errorf("IP: %v %v", c.PermitIP, c.ExcludeIP)
	}
	if c.Empty() {
		t.Error("Empty")
	}
	for _, tt := range []struct {
		in   ConstraintValues
		want string
	}{
		{ConstraintValues{PermitDNS: []string{"*.example.test"}}, `permitted DNS domain "*.example.test": not a domain name`},
		{ConstraintValues{ExcludeDNS: []string{"a_b.test"}}, `excluded DNS domain "a_b.test"`},
		{ConstraintValues{PermitDNS: []string{"10.0.0.1"}}, "not a domain name"},
		{ConstraintValues{PermitIP: []string{"10.0.0.0"}}, "not a CIDR range"},
		{ConstraintValues{ExcludeIP: []string{"fd00::1/8"}}, "host bits are set; did you mean fd00::/8?"},
		{ConstraintValues{PermitEmail: []string{"user@example.test"}}, `permitted email domain "user@example.test"`},
	} {
		t.Run(tt.want, func(t *testing.T) {
			_, err := ParseConstraints(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// DNS constraints also constrain URI hosts and email domains (both RFC 5280
// forms), unless the URI or the email constraints are given.
func TestConstraintsFollowDNS(t *testing.T) {
	for _, tt := range []struct {
		name                                             string
		in                                               ConstraintValues
		permitURI, excludeURI, permitEmail, excludeEmail string
	}{
		{"derived", ConstraintValues{PermitDNS: []string{"example.test", ".internal"}, ExcludeDNS: []string{"secret.example.test"}},
			"example.test .example.test .internal", "secret.example.test .secret.example.test",
			"example.test .example.test .internal", "secret.example.test .secret.example.test"},
		{"URI given", ConstraintValues{PermitDNS: []string{"example.test"}, PermitURI: []string{"api.example.test"}},
			"api.example.test", "", "example.test .example.test", ""},
		{"email excluded only", ConstraintValues{PermitDNS: []string{"example.test"}, ExcludeEmail: []string{"example.test"}},
			"example.test .example.test", "", "", "example.test"},
		{"no DNS constraints", ConstraintValues{PermitIP: []string{"10.0.0.0/8"}}, "", "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConstraints(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []struct{ what, have, want string }{
				{"permitted URI", strings.Join(c.PermitURI, " "), tt.permitURI},
				{"excluded URI", strings.Join(c.ExcludeURI, " "), tt.excludeURI},
				{"permitted email", strings.Join(c.PermitEmail, " "), tt.permitEmail},
				{"excluded email", strings.Join(c.ExcludeEmail, " "), tt.excludeEmail},
			} {
				if got.have != got.want {
					t.Errorf("%s: %q, want %q", got.what, got.have, got.want)
				}
			}
		})
	}
}

// The names a constrained CA signs: inside its domains, of every type.
func TestSignWithinConstraints(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	nc := testCA(t, st, "nc", root, func(r *RootRequest) {
		r.Constraints, _ = ParseConstraints(ConstraintValues{PermitDNS: []string{"example.test"}, PermitIP: []string{"10.0.0.0/8"}})
	})
	r := leafReq(t, "www.example.test", "www.example.test", "example.test", "10.1.2.3", "uri:https://example.test/a",
		"uri:spiffe://a.b.example.test/svc", "ops@example.test", "ops@mail.example.test")
	s, err := nc.Sign(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Cert.URIs) != 2 || len(s.Cert.EmailAddresses) != 2 {
		t.Fatalf("names: %v %v", s.Cert.URIs, s.Cert.EmailAddresses)
	}
	// A constraint RFC 5280 reads strictly: "example.test" alone is that
	// host only for URIs, while crypto/x509 would let a.example.test by.
	strict := testCA(t, st, "strict", root, func(r *RootRequest) {
		r.Constraints, _ = ParseConstraints(ConstraintValues{PermitDNS: []string{"example.test"}, PermitURI: []string{"example.test"}})
	})
	r = leafReq(t, "www.example.test", "www.example.test", "uri:https://a.example.test/")
	if _, err := strict.Sign(r); !errors.Is(err, ErrNameNotPermitted) {
		t.Fatalf("uri below a host-only constraint: %v", err)
	}
}
