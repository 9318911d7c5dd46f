package ca

import (
	"crypto/x509"
	"fmt"
	"net"
	"strings"

	"github.com/keywright/keywright/csr"
)

// Constraints are the names a CA may sign for (RFC 5280 §4.2.1.10). A DNS
// domain "example.test" covers example.test and every name below it; an
// email domain covers every address at it.
type Constraints struct {
	PermitDNS, ExcludeDNS     []string
	PermitIP, ExcludeIP       []*net.IPNet
	PermitEmail, ExcludeEmail []string
}

// ConstraintValues are constraints as the user writes them.
type ConstraintValues struct {
	PermitDNS, ExcludeDNS     []string
	PermitIP, ExcludeIP       []string // CIDR: 10.0.0.0/8, fd00::/8
	PermitEmail, ExcludeEmail []string // domains: example.test
}

// ParseConstraints checks and canonicalises constraint values: domains as
// DNS names are (lower case, punycode; a leading '.' is kept, as RFC 5280
// allows for "below this domain only"), networks as CIDRs with no host bits.
func ParseConstraints(v ConstraintValues) (Constraints, error) {
	var c Constraints
	var err error
	if c.PermitDNS, err = parseDomains("permitted DNS domain", v.PermitDNS); err != nil {
		return c, err
	}
	if c.ExcludeDNS, err = parseDomains("excluded DNS domain", v.ExcludeDNS); err != nil {
		return c, err
	}
	if c.PermitEmail, err = parseDomains("permitted email domain", v.PermitEmail); err != nil {
		return c, err
	}
	if c.ExcludeEmail, err = parseDomains("excluded email domain", v.ExcludeEmail); err != nil {
		return c, err
	}
	if c.PermitIP, err = parseNets("permitted IP range", v.PermitIP); err != nil {
		return c, err
	}
	c.ExcludeIP, err = parseNets("excluded IP range", v.ExcludeIP)
	return c, err
}

func parseDomains(what string, values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		dot := strings.HasPrefix(v, ".")
		kind, canon, err := csr.ParseSAN("dns:" + strings.TrimPrefix(v, "."))
		if err != nil || kind != csr.KindDNS || strings.Contains(canon, "*") {
			return nil, fmt.Errorf("ca: %s %q: not a domain name", what, v)
		}
		if dot {
			canon = "." + canon
		}
		out = append(out, canon)
	}
	return out, nil
}

func parseNets(what string, values []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, v := range values {
		ip, n, err := net.ParseCIDR(v)
		if err != nil {
			return nil, fmt.Errorf("ca: %s %q: not a CIDR range such as 10.0.0.0/8 or fd00::/8", what, v)
		}
		if !ip.Equal(n.IP) {
			return nil, fmt.Errorf("ca: %s %q: host bits are set; did you mean %s?", what, v, n)
		}
		if v4 := n.IP.To4(); v4 != nil {
			n.IP = v4
		}
		out = append(out, n)
	}
	return out, nil
}

// Empty reports whether there are no constraints at all.
func (c Constraints) Empty() bool {
	return len(c.PermitDNS)+len(c.ExcludeDNS)+len(c.PermitIP)+len(c.ExcludeIP)+
		len(c.PermitEmail)+len(c.ExcludeEmail) == 0
}

// apply puts the constraints into a CA template, critical (RFC 5280 says
// conforming CAs MUST mark it critical; zlint e_ext_name_constraints_not_critical).
func (c Constraints) apply(t *x509.Certificate) {
	if c.Empty() {
		return
	}
	t.PermittedDNSDomainsCritical = true
	t.PermittedDNSDomains, t.ExcludedDNSDomains = c.PermitDNS, c.ExcludeDNS
	t.PermittedIPRanges, t.ExcludedIPRanges = c.PermitIP, c.ExcludeIP
	t.PermittedEmailAddresses, t.ExcludedEmailAddresses = c.PermitEmail, c.ExcludeEmail
}
