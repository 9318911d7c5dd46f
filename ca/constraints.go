package ca

import (
	"crypto/x509"
	"net"
	"strings"

	"github.com/keywright/keywright/csr"
)

// Constraints are the names a CA may sign for (RFC 5280 §4.2.1.10). A DNS
// domain "example.test" covers example.test and every name below it; an
// email domain "example.test" covers every address at that host and
// ".example.test" every address at a host below it; a URI domain likewise
// covers the URI's host itself, or (with the '.') the hosts below it.
type Constraints struct {
	PermitDNS, ExcludeDNS     []string
	PermitIP, ExcludeIP       []*net.IPNet
	PermitEmail, ExcludeEmail []string
	PermitURI, ExcludeURI     []string
}

// ConstraintValues are constraints as the user writes them.
type ConstraintValues struct {
	PermitDNS, ExcludeDNS     []string
	PermitIP, ExcludeIP       []string // CIDR: 10.0.0.0/8, fd00::/8
	PermitEmail, ExcludeEmail []string // domains: example.test
	PermitURI, ExcludeURI     []string // hosts' domains: example.test
}

// ParseConstraints checks and canonicalises constraint values: domains as
// DNS names are (lower case, punycode; a leading '.' is kept, as RFC 5280
// allows for "below this domain only"), networks as CIDRs with no host bits.
//
// RFC 5280 constrains each name type on its own, so a CA limited to DNS
// names in example.test could still sign any URI or email address. Here
// DNS domains also constrain URI hosts and email domains to the same names
// (both RFC 5280 forms, "example.test" and ".example.test", so the domain
// and every name below it), unless URI constraints, or email constraints,
// are given: then those say what URIs, or email addresses, may be.
func ParseConstraints(v ConstraintValues) (Constraints, error) {
	c, err := parseConstraints(v)
	if err != nil {
		return c, err
	}
	if len(v.PermitURI)+len(v.ExcludeURI) == 0 {
		c.PermitURI, c.ExcludeURI = withSubdomains(c.PermitDNS), withSubdomains(c.ExcludeDNS)
	}
	if len(v.PermitEmail)+len(v.ExcludeEmail) == 0 {
		c.PermitEmail, c.ExcludeEmail = withSubdomains(c.PermitDNS), withSubdomains(c.ExcludeDNS)
	}
	return c, nil
}

// withSubdomains is each DNS domain as URI and email constraints write it:
// the domain itself and, with a leading '.', the names below it.
func withSubdomains(domains []string) []string {
	var out []string
	for _, d := range domains {
		if !strings.HasPrefix(d, ".") {
			out = append(out, d)
		}
		out = append(out, "."+strings.TrimPrefix(d, "."))
	}
	return out
}

func parseConstraints(v ConstraintValues) (Constraints, error) {
	var c Constraints
	var err error
	if c.PermitURI, err = parseDomains("permitted URI domain", v.PermitURI); err != nil {
		return c, err
	}
	if c.ExcludeURI, err = parseDomains("excluded URI domain", v.ExcludeURI); err != nil {
		return c, err
	}
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
			return nil, errorf("%s %q: not a domain name", what, v)
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
			return nil, errorf("%s %q: not a CIDR range such as 10.0.0.0/8 or fd00::/8", what, v)
		}
		if !ip.Equal(n.IP) {
			return nil, errorf("%s %q: host bits are set; did you mean %s?", what, v, n)
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
		len(c.PermitEmail)+len(c.ExcludeEmail)+len(c.PermitURI)+len(c.ExcludeURI) == 0
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
	t.PermittedURIDomains, t.ExcludedURIDomains = c.PermitURI, c.ExcludeURI
}
