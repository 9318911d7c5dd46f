package ca

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/keywright/keywright/internal/fault"
)

// ErrNameNotPermitted: a name the CA, or a CA above it, may not issue.
var ErrNameNotPermitted = newError("name outside what the CA may issue")

// checkNames refuses, before anything is signed, every name of t that a CA
// of chain (the signing CA first, named name, then those above it) may not
// issue by its name constraints, of whatever type (RFC 5280 §4.2.1.10:
// DNS, IP, email and URI names each by the constraints of their type). The
// RFC's forms are read strictly: an email or URI domain "example.test" is
// that host only, ".example.test" the hosts below it. Each refused name is
// its own error, with the constraint that refuses it.
func checkNames(t *x509.Certificate, name string, chain []*x509.Certificate) error {
	var errs []error
	for i, c := range chain {
		who := fmt.Sprintf("CA %s", name)
		if i > 0 {
			who = fmt.Sprintf("CA %q (above %s)", c.Subject.CommonName, name)
		}
		for _, d := range t.DNSNames {
			errs = append(errs, nameCheck(who, "dns:"+d, "DNS domain", c.PermittedDNSDomains, c.ExcludedDNSDomains,
				func(con string) bool { return dnsInDomain(d, con) }, func(con string) bool { return dnsExcluded(d, con) }))
		}
		for _, ip := range t.IPAddresses {
			errs = append(errs, ipCheck(who, ip, c))
		}
		for _, m := range t.EmailAddresses {
			match := func(con string) bool { return emailMatches(m, con) }
			errs = append(errs, nameCheck(who, "email:"+m, "email domain", c.PermittedEmailAddresses, c.ExcludedEmailAddresses, match, match))
		}
		for _, u := range t.URIs {
			errs = append(errs, uriCheck(who, u, c))
		}
	}
	var refused nameErrors
	for _, err := range errs {
		if err != nil {
			refused = append(refused, err)
		}
	}
	if len(refused) == 0 {
		return nil
	}
	return refused
}

// nameErrors are the names refused, one error each, reported on one line
// after ErrNameNotPermitted.
type nameErrors []error

func (e nameErrors) Error() string { return "ca: " + e.Text() }

// Text is the message without the package name (internal/fault).
func (e nameErrors) Text() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = fault.Text(err)
	}
	return fault.Text(ErrNameNotPermitted) + ": " + strings.Join(msgs, "; ")
}

func (e nameErrors) Unwrap() []error { return append([]error{ErrNameNotPermitted}, e...) }

// nameCheck applies one type's permitted and excluded constraints to a
// name: it must match a permitted one (if there are any) and no excluded one.
func nameCheck(who, name, kind string, permitted, excluded []string, match, excludes func(string) bool) error {
	for _, con := range excluded {
		if excludes(con) {
			return errorf("%s: %s excludes %s %s", name, who, kind, con)
		}
	}
	if len(permitted) == 0 {
		return nil
	}
	for _, con := range permitted {
		if match(con) {
			return nil
		}
	}
	return errorf("%s: %s permits only %s %s", name, who, plural(kind, len(permitted)), strings.Join(permitted, ", "))
}

func ipCheck(who string, ip net.IP, c *x509.Certificate) error {
	show := func(ns []*net.IPNet) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = n.String()
		}
		return out
	}
	in := func(n *net.IPNet) bool { return ipInNet(ip, n) }
	match := func(con string) bool {
		for _, n := range append(c.PermittedIPRanges, c.ExcludedIPRanges...) {
			if n.String() == con {
				return in(n)
			}
		}
		return false
	}
	return nameCheck(who, "ip:"+ip.String(), "IP range", show(c.PermittedIPRanges), show(c.ExcludedIPRanges), match, match)
}

func uriCheck(who string, u *url.URL, c *x509.Certificate) error {
	name := "uri:" + u.String()
	host := u.Hostname()
	if net.ParseIP(host) != nil && len(c.PermittedURIDomains)+len(c.ExcludedURIDomains) > 0 {
		return errorf("%s: %s has URI constraints, which a URI with an IP address cannot meet", name, who)
	}
	match := func(con string) bool { return hostMatches(host, con) }
	return nameCheck(who, name, "URI domain", c.PermittedURIDomains, c.ExcludedURIDomains, match, match)
}

// dnsInDomain: RFC 5280 DNS constraints: the domain itself or any name
// made by adding labels on the left ("." first: only those below it).
func dnsInDomain(name, con string) bool {
	name, con = strings.ToLower(name), strings.ToLower(con)
	if strings.HasPrefix(con, ".") {
		return strings.HasSuffix(name, con)
	}
	return name == con || strings.HasSuffix(name, "."+con)
}

// dnsExcluded: dnsInDomain, and a wildcard is excluded by a constraint
// that names one of the hosts it covers ("*.example.test" by
// "bad.example.test"), as clients check it.
func dnsExcluded(name, con string) bool {
	if dnsInDomain(name, con) {
		return true
	}
	rest, ok := strings.CutPrefix(name, "*.")
	label, tail, found := strings.Cut(con, ".")
	return ok && found && label != "" && strings.EqualFold(tail, rest)
}

// hostMatches: RFC 5280 URI and email domain constraints: "host" is that
// host only, ".domain" any host below domain.
func hostMatches(host, con string) bool {
	host, con = strings.ToLower(host), strings.ToLower(con)
	if strings.HasPrefix(con, ".") {
		return strings.HasSuffix(host, con)
	}
	return host == con
}

// emailMatches: an email constraint is a mailbox (with '@'), or a host or
// domain as hostMatches.
func emailMatches(mailbox, con string) bool {
	at := strings.LastIndexByte(mailbox, '@')
	if at < 0 {
		return false
	}
	if i := strings.LastIndexByte(con, '@'); i >= 0 {
		return mailbox[:at] == con[:i] && strings.EqualFold(mailbox[at+1:], con[i+1:])
	}
	return hostMatches(mailbox[at+1:], con)
}

// ipInNet: an address is in a range of its own family only.
func ipInNet(ip net.IP, n *net.IPNet) bool {
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return len(ip) == len(n.IP) && n.Contains(ip)
}

func plural(kind string, n int) string {
	if n == 1 {
		return kind
	}
	return kind + "s"
}
