package ca

import (
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
