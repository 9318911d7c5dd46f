package csr

import (
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// DNS name limits (RFC 1035 2.3.4).
const (
	maxLabel = 63
	maxName  = 253
)

// parseDNS checks a host name and returns it lower-case, with U-labels
// converted to punycode (IDNA 2008, RFC 5891). A wildcard is allowed only as
// the whole left-most label, with at least two labels after it (CA/B BR
// 7.1.4.2; zlint e_dnsname_wildcard_only_in_left_label, e_san_bare_wildcard).
func parseDNS(v string, wildcardOK bool) (string, error) {
	if !utf8.ValidString(v) {
		return "", newError("a DNS name must be valid UTF-8")
	}
	if strings.HasSuffix(v, ".") {
		return "", newError("a DNS name must not end with a dot")
	}
	if strings.ContainsRune(v, '_') {
		return "", newError("'_' is not allowed in a DNS name (RFC 5280 4.2.1.6: preferred name syntax)")
	}
	if v == "*" {
		return "", newError("a bare wildcard matches nothing; a wildcard needs at least two labels after it, as in *.example.com")
	}
	rest, wildcard := strings.CutPrefix(v, "*.")
	if wildcard && !wildcardOK {
		return "", newError("a wildcard is not allowed here")
	}
	if strings.Contains(rest, "*") {
		return "", newError("a wildcard must be the whole left-most label, as in *.example.com")
	}
	if err := checkEmptyLabels(rest); err != nil {
		return "", err
	}
	ascii, err := idna.Lookup.ToASCII(rest)
	if err != nil {
		return "", idnaError(rest)
	}
	// idna maps some characters to '.', so look at the result again.
	if err := checkEmptyLabels(ascii); err != nil {
		return "", err
	}
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return "", err
		}
	}
	if isDigits(labels[len(labels)-1]) {
		return "", newError("the last label is all digits: this is an IP address or a typo, not a DNS name (use ip: for an address)")
	}
	if wildcard {
		if len(labels) < 2 {
			return "", newError("a wildcard needs at least two labels after it, as in *.example.com")
		}
		ascii = "*." + ascii
	}
	if len(ascii) > maxName {
		return "", errorf("a DNS name is at most %d characters, this one has %d", maxName, len(ascii))
	}
	return ascii, nil
}

func checkEmptyLabels(v string) error {
	if v == "" || strings.HasPrefix(v, ".") || strings.Contains(v, "..") {
		return newError("a DNS name must not have an empty label")
	}
	return nil
}

// checkLabel applies the LDH rule: letters, digits and '-', 1 to 63
// characters, no '-' first or last.
func checkLabel(l string) error {
	if len(l) > maxLabel {
		return errorf("label %q is longer than %d characters", l, maxLabel)
	}
	for _, c := range []byte(l) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return errorf("label %q has %q: only letters, digits and '-' are allowed", l, rune(c))
		}
	}
	if strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
		return errorf("label %q starts or ends with '-'", l)
	}
	return nil
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// idnaError says why name is not a valid internationalised DNS name: the
// first character IDNA does not allow in a label, when one alone is the
// reason (the idna package's own messages print Go rune syntax).
func idnaError(name string) error {
	for _, r := range name {
		if r == '.' || r == '-' || r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			continue // allowed alone; wrong only in their place
		}
		if _, err := idna.Lookup.ToASCII("a" + string(r)); err != nil {
			return errorf("not a valid (internationalised) DNS name: it has %q, which a DNS name cannot have", r)
		}
	}
	return newError("not a valid (internationalised) DNS name: invalid label (IDNA2008: a label may not start or end with '-' " +
		"or start with a combining mark, and one with \"--\" as its third and fourth characters must be valid punycode)")
}

// parseEmail checks an rfc822Name (RFC 5280 4.2.1.6): a dot-atom local part
// (RFC 5322 3.2.3) and a DNS domain, which is lower-cased and converted to
// punycode; the local part keeps its case.
func parseEmail(v string) (string, error) {
	at := strings.LastIndexByte(v, '@')
	if at < 0 {
		return "", newError("an email address needs an '@'")
	}
	local, domain := v[:at], v[at+1:]
	if local == "" || len(local) > 64 {
		return "", newError("the part before '@' must be 1 to 64 characters")
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "", newError("the part before '@' must not start or end with '.' or have '..'")
	}
	for _, c := range []byte(local) {
		if !atext(c) && c != '.' {
			return "", errorf("the part before '@' has %q, which an email address in a certificate cannot have", rune(c))
		}
	}
	d, err := parseDNS(domain, false)
	if err != nil {
		return "", errorf("domain %q: %v", domain, err)
	}
	return local + "@" + d, nil
}

// atext is RFC 5322's atom character set.
func atext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// parseURI checks a uniformResourceIdentifier: ASCII, with a scheme and a
// host (a DNS name or an IP address, and optionally a port), no user
// information (it would publish a password), and in a form that survives
// being parsed again.
func parseURI(v string) (string, error) {
	for _, c := range []byte(v) {
		if c <= ' ' || c >= 0x7f {
			return "", newError("a URI must be printable ASCII without spaces (percent-encode the rest)")
		}
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", errorf("not a URI: %v", urlReason(err))
	}
	if u.Scheme == "" || u.Host == "" {
		return "", newError("a URI needs a scheme and a host, as in https://example.com/ or spiffe://example.org/svc")
	}
	if u.User != nil {
		return "", newError("a URI in a certificate must not carry user information")
	}
	host, err := uriHost(u)
	if err != nil {
		return "", err
	}
	u.Host = host
	canon := u.String()
	again, err := url.Parse(canon)
	if err != nil || again.String() != canon {
		return "", newError("the URI does not keep its form when parsed again; write it percent-encoded")
	}
	return canon, nil
}

// uriHost checks and lower-cases the host (and port) of u.
func uriHost(u *url.URL) (string, error) {
	if strings.Contains(u.Host, "%") {
		return "", newError("a URI host must not be percent-encoded or have a zone")
	}
	name, port := u.Hostname(), u.Port()
	if strings.HasSuffix(u.Host, ":") || (port != "" && !validPort(port)) {
		return "", errorf("URI port %q is not a number from 0 to 65535", port)
	}
	var host string
	if a, err := netip.ParseAddr(name); err == nil {
		if a.Zone() != "" {
			return "", newError("a URI host must not have a zone")
		}
		host = a.Unmap().String()
		if a.Unmap().Is6() {
			host = "[" + host + "]"
		}
	} else {
		d, err := parseDNS(name, false)
		if err != nil {
			return "", errorf("URI host %q: %v", name, err)
		}
		host = d
	}
	if port != "" {
		host += ":" + port
	}
	return host, nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && isDigits(p) && n <= 65535
}

// urlReason is what url.Parse found wrong, without the URL it quotes.
func urlReason(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
