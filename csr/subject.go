package csr

import (
	"crypto/x509/pkix"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadSubject wraps every refused subject.
var ErrBadSubject = newError("invalid subject")

// attribute is one subject attribute keywright reads and writes, with the
// upper bound RFC 5280 Appendix A gives it.
type attribute struct {
	key   string // as openssl writes it
	max   int
	field func(n *pkix.Name) *[]string
}

var attributes = []attribute{
	{"C", 2, func(n *pkix.Name) *[]string { return &n.Country }},
	{"ST", 128, func(n *pkix.Name) *[]string { return &n.Province }},
	{"L", 128, func(n *pkix.Name) *[]string { return &n.Locality }},
	{"street", 128, func(n *pkix.Name) *[]string { return &n.StreetAddress }},
	{"postalCode", 40, func(n *pkix.Name) *[]string { return &n.PostalCode }},
	{"O", 64, func(n *pkix.Name) *[]string { return &n.Organization }},
	{"OU", 64, func(n *pkix.Name) *[]string { return &n.OrganizationalUnit }},
}

// Subject holds the subject fields of the command line; empty ones are
// left out.
type Subject struct {
	CommonName, Organization, OrganizationalUnit string
	Country, Province, Locality                  string
}

// Name checks the fields and returns them as a pkix.Name.
func (s Subject) Name() (pkix.Name, error) {
	var n pkix.Name
	for _, kv := range [][2]string{
		{"C", s.Country}, {"ST", s.Province}, {"L", s.Locality},
		{"O", s.Organization}, {"OU", s.OrganizationalUnit}, {"CN", s.CommonName},
	} {
		if kv[1] == "" {
			continue
		}
		if err := set(&n, kv[0], kv[1]); err != nil {
			return pkix.Name{}, err
		}
	}
	return n, nil
}

// ParseSubject reads an openssl-style subject, "/C=US/O=Example/CN=web":
// attributes C, ST, L, street, postalCode, O, OU, CN and serialNumber, each
// "/KEY=VALUE", where a backslash escapes the next character ("\/" is a
// slash in a value). '+' is a plain character, as in openssl without
// -multivalue-rdn.
func ParseSubject(s string) (pkix.Name, error) {
	var n pkix.Name
	if !strings.HasPrefix(s, "/") {
		return n, errorf("%w %q: it must start with '/', as in /O=Example/CN=web", ErrBadSubject, s)
	}
	parts, err := splitEscaped(s[1:])
	if err != nil {
		return n, errorf("%w %q: %v", ErrBadSubject, s, err)
	}
	for _, p := range parts {
		if p.raw == "" && len(parts) == 1 {
			break // "/" alone is the empty subject
		}
		key, _, ok := strings.Cut(p.raw, "=")
		if !ok || p.eqEscaped {
			return n, errorf("%w %q: %q is not KEY=VALUE", ErrBadSubject, s, p.value)
		}
		_, value, _ := strings.Cut(p.value, "=")
		if err := set(&n, strings.TrimSpace(key), value); err != nil {
			return pkix.Name{}, err
		}
	}
	return n, nil
}

// part is one "/KEY=VALUE" with escapes kept (raw, to find the first
// unescaped '=') and removed (value).
type part struct {
	raw, value string
	eqEscaped  bool // the first '=' of value was escaped
}

func splitEscaped(s string) ([]part, error) {
	var parts []part
	var raw, val strings.Builder
	eqSeen, eqEscaped := false, false
	flush := func() {
		parts = append(parts, part{raw: raw.String(), value: val.String(), eqEscaped: eqEscaped})
		raw.Reset()
		val.Reset()
		eqSeen, eqEscaped = false, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return nil, newError("it ends with a lone '\\'")
			}
			i++
			raw.WriteString("\\\\") // never '/' or '=' in raw
			val.WriteByte(s[i])
			if s[i] == '=' && !eqSeen {
				eqSeen, eqEscaped = true, true
			}
		case c == '/':
			flush()
		default:
			if c == '=' {
				eqSeen = true
			}
			raw.WriteByte(c)
			val.WriteByte(c)
		}
	}
	flush()
	return parts, nil
}

// set checks one attribute value and appends it to n.
func set(n *pkix.Name, key, value string) error {
	if value == "" {
		return errorf("%w: %s has no value", ErrBadSubject, key)
	}
	if !utf8.ValidString(value) || strings.IndexFunc(value, unicode.IsControl) >= 0 {
		return errorf("%w: %s has a control character or invalid UTF-8", ErrBadSubject, key)
	}
	switch key {
	case "CN", "commonName":
		if n.CommonName != "" {
			return errorf("%w: CN is given twice", ErrBadSubject)
		}
		if utf8.RuneCountInString(value) > 64 {
			return errorf("%w: CN is at most 64 characters (RFC 5280 ub-common-name)", ErrBadSubject)
		}
		n.CommonName = value
		return nil
	case "serialNumber":
		n.SerialNumber = value
		return nil
	case "C", "countryName":
		if !isCountry(value) {
			return errorf("%w: C %q is not a two-letter country code (ISO 3166)", ErrBadSubject, value)
		}
		value = strings.ToUpper(value)
	}
	for _, a := range attributes {
		if a.key == key {
			if utf8.RuneCountInString(value) > a.max {
				return errorf("%w: %s is at most %d characters", ErrBadSubject, key, a.max)
			}
			f := a.field(n)
			*f = append(*f, value)
			return nil
		}
	}
	return errorf("%w: unknown attribute %q; use C, ST, L, street, postalCode, O, OU, CN or serialNumber", ErrBadSubject, key)
}

func isCountry(v string) bool {
	return len(v) == 2 && unicode.IsLetter(rune(v[0])) && unicode.IsLetter(rune(v[1])) && v[0] < 0x80 && v[1] < 0x80
}

// CheckCountry reports whether v is a two-letter country code; for prompts.
func CheckCountry(v string) error {
	if !isCountry(v) {
		return errorf("%q is not a two-letter country code, such as US or DE", v)
	}
	return nil
}

// FormatSubject writes n as ParseSubject reads it, escaping '/', '\' and
// '=' in values: ParseSubject(FormatSubject(n)) gives n back.
func FormatSubject(n pkix.Name) string {
	var b strings.Builder
	for _, a := range attributes {
		for _, v := range *a.field(&n) {
			writeAttr(&b, a.key, v)
		}
	}
	if n.CommonName != "" {
		writeAttr(&b, "CN", n.CommonName)
	}
	if n.SerialNumber != "" {
		writeAttr(&b, "serialNumber", n.SerialNumber)
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

func writeAttr(b *strings.Builder, key, v string) {
	b.WriteString("/" + key + "=")
	for _, c := range v {
		if c == '/' || c == '\\' || c == '=' {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
}
