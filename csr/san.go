// Package csr owns what goes into a certificate request: subjects (from
// fields or an openssl-style "/C=../O=../CN=.." string), subject alternative
// names (parsed, classified and validated before anything is signed),
// building and parsing PKCS#10 requests (always with their signature and key
// strength checked), self-signed leaf certificates, and the random serial
// number of every certificate keywright signs (RandomSerial; package ca adds
// the check against its record).
//
// It never touches files, terminals or flags, and it leaves CA policy
// (profiles, serial records, chains) to package ca.
package csr

import (
	"crypto/x509"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/keywright/keywright/internal/fault"
)

// SAN kinds, also the prefixes that force a kind ("dns:a.example").
const (
	KindDNS   = "dns"
	KindIP    = "ip"
	KindEmail = "email"
	KindURI   = "uri"
)

// MaxSANs bounds the names in one request or certificate.
const MaxSANs = 100

// ErrBadSAN wraps every refused subject alternative name.
var ErrBadSAN = newError("invalid subject alternative name")

// SANs are the subject alternative names of a request or certificate, each
// in canonical form (lower-case punycode DNS names, 4-byte IPv4 addresses).
type SANs struct {
	DNS    []string
	IPs    []net.IP
	Emails []string
	URIs   []*url.URL
}

// Values lists the names with their kind prefix, DNS names first, then IP
// addresses, emails and URIs: "dns:a.example", "ip:10.0.0.1".
func (s SANs) Values() []string {
	var out []string
	for _, d := range s.DNS {
		out = append(out, KindDNS+":"+d)
	}
	for _, ip := range s.IPs {
		out = append(out, KindIP+":"+ip.String())
	}
	for _, e := range s.Emails {
		out = append(out, KindEmail+":"+e)
	}
	for _, u := range s.URIs {
		out = append(out, KindURI+":"+u.String())
	}
	return out
}

// Len is the number of names.
func (s SANs) Len() int { return len(s.DNS) + len(s.IPs) + len(s.Emails) + len(s.URIs) }

// Empty reports whether there are no names at all.
func (s SANs) Empty() bool { return s.Len() == 0 }

// Contains reports whether name (with or without a kind prefix, in any form
// ParseSAN accepts) is one of the names.
func (s SANs) Contains(name string) bool {
	kind, canon, err := ParseSAN(name)
	return err == nil && s.has(kind, canon)
}

// has reports whether s has the name ParseSAN gave as kind and canon,
// comparing the forms Values gives, without making them all.
func (s SANs) has(kind, canon string) bool {
	switch kind {
	case KindDNS:
		return slices.Contains(s.DNS, canon)
	case KindEmail:
		return slices.Contains(s.Emails, canon)
	case KindIP:
		return slices.ContainsFunc(s.IPs, func(ip net.IP) bool { return ip.String() == canon })
	case KindURI:
		return slices.ContainsFunc(s.URIs, func(u *url.URL) bool { return u.String() == canon })
	}
	return false
}

// ApplyToCert sets the names of a certificate template.
func (s SANs) ApplyToCert(c *x509.Certificate) {
	c.DNSNames, c.IPAddresses, c.EmailAddresses, c.URIs = s.DNS, s.IPs, s.Emails, s.URIs
}

// ApplyToCSR sets the names of a request template.
func (s SANs) ApplyToCSR(r *x509.CertificateRequest) {
	r.DNSNames, r.IPAddresses, r.EmailAddresses, r.URIs = s.DNS, s.IPs, s.Emails, s.URIs
}

// Validate checks every name again, as ParseSAN would, and requires each to
// be in canonical form already; for names that come from a request or a
// certificate someone else made.
func (s SANs) Validate() error {
	if s.Len() > MaxSANs {
		return errorf("%w: %d names, at most %d are allowed", ErrBadSAN, s.Len(), MaxSANs)
	}
	for _, v := range s.Values() {
		kind, canon, err := ParseSAN(v)
		if err != nil {
			return err
		}
		if kind+":"+canon != v {
			return errorf("%w: %q is not in canonical form (%s:%s)", ErrBadSAN, v, kind, canon)
		}
	}
	return nil
}

// SANsOf returns the names of a certificate as they are in it. They are not
// changed or dropped; call Validate to check them.
func SANsOf(cert *x509.Certificate) SANs {
	return SANs{DNS: cert.DNSNames, IPs: cert.IPAddresses, Emails: cert.EmailAddresses, URIs: cert.URIs}
}

// SANsOfCSR returns the names of a request as they are in it; ParseCSR has
// already validated them.
func SANsOfCSR(r *x509.CertificateRequest) SANs {
	return SANs{DNS: r.DNSNames, IPs: r.IPAddresses, Emails: r.EmailAddresses, URIs: r.URIs}
}

// ParseSANs parses each value with ParseSAN, drops duplicates (by canonical
// form) and refuses more than MaxSANs names.
func ParseSANs(values []string) (SANs, error) {
	var s SANs
	seen := map[string]bool{}
	for _, v := range values {
		kind, canon, err := ParseSAN(v)
		if err != nil {
			return SANs{}, err
		}
		if seen[kind+":"+canon] {
			continue
		}
		seen[kind+":"+canon] = true
		if len(seen) > MaxSANs {
			return SANs{}, errorf("%w: more than %d names", ErrBadSAN, MaxSANs)
		}
		s.add(kind, canon)
	}
	return s, nil
}

// add appends a name ParseSAN has accepted.
func (s *SANs) add(kind, canon string) {
	switch kind {
	case KindDNS:
		s.DNS = append(s.DNS, canon)
	case KindIP:
		s.IPs = append(s.IPs, net.IP(netip.MustParseAddr(canon).AsSlice()))
	case KindEmail:
		s.Emails = append(s.Emails, canon)
	case KindURI:
		u, _ := url.Parse(canon) // ParseSAN checked that it re-parses
		s.URIs = append(s.URIs, u)
	}
}

// ParseSAN classifies and checks one name, as mkcert does: an IP address,
// else an email (it has '@'), else a URI with a scheme and a host, else a
// DNS name. A "dns:", "ip:", "email:" or "uri:" prefix forces the kind. It
// returns the kind and the canonical form; an error names the rule broken.
func ParseSAN(value string) (kind, canonical string, err error) {
	v := strings.TrimSpace(value)
	if p, rest, ok := strings.Cut(v, ":"); ok {
		switch k := strings.ToLower(p); k {
		case KindDNS, KindIP, KindEmail, KindURI:
			kind, v = k, strings.TrimSpace(rest)
		}
	}
	if v == "" {
		return "", "", sanError(value, "the name is empty")
	}
	if !utf8.ValidString(v) {
		return "", "", sanError(value, "the name is not valid UTF-8")
	}
	if kind == "" {
		kind = classify(v)
	}
	switch kind {
	case KindIP:
		canonical, err = parseIP(v)
	case KindEmail:
		canonical, err = parseEmail(v)
	case KindURI:
		canonical, err = parseURI(v)
	default:
		canonical, err = parseDNS(v, true)
	}
	if err != nil {
		return "", "", sanError(value, fault.Text(err))
	}
	return kind, canonical, nil
}

func sanError(value, rule string) error {
	return errorf("%w %q: %s", ErrBadSAN, value, rule)
}

// classify picks the kind of an unprefixed name. Anything that looks like an
// IP address, including with a zone or a prefix length, is an IP, so that it
// is refused as one and never written as a DNS name.
func classify(v string) string {
	if _, err := netip.ParseAddr(v); err == nil {
		return KindIP
	}
	if _, err := netip.ParsePrefix(v); err == nil {
		return KindIP
	}
	// An email address never has "://"; a URI with user information does.
	if strings.Contains(v, "@") && !strings.Contains(v, "://") {
		return KindEmail
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		return KindURI
	}
	return KindDNS
}

// parseIP accepts one IPv4 or IPv6 address; an IPv4-mapped IPv6 address is
// written as IPv4 (4 octets, RFC 5280 4.2.1.6).
func parseIP(v string) (string, error) {
	if _, err := netip.ParsePrefix(v); err == nil {
		return "", newError("an IP SAN is one address, not a network (CIDR)")
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return "", newError("not an IPv4 or IPv6 address")
	}
	if a.Zone() != "" {
		return "", newError("an IP address with a zone (%" + a.Zone() + ") cannot be in a certificate")
	}
	return a.Unmap().String(), nil
}
