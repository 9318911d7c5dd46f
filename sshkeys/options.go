package sshkeys

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ErrBadOption: an authorized_keys option is unknown, lacks its value or
// has an invalid one.
var ErrBadOption = newError("bad authorized_keys option")

// ErrPrincipalsWithoutCA: principals= on a key without cert-authority.
var ErrPrincipalsWithoutCA = newError("principals= applies only to a cert-authority key")

// Options are the authorized_keys options of sshd(8) ("AUTHORIZED_KEYS FILE
// FORMAT") that keywright writes. The zero Options is a plain key line.
type Options struct {
	Restrict          bool      // restrict: everything off unless re-enabled
	CertAuthority     bool      // cert-authority: the key is a CA for user certificates
	Command           string    // command="...": forced command
	From              []string  // from="...": client host patterns and CIDRs
	Expires           time.Time // expiry-time="YYYYMMDDHHMMZ" (written in UTC)
	NoPortForwarding  bool
	NoAgentForwarding bool
	NoPTY             bool
	NoX11Forwarding   bool
	NoUserRC          bool
	PermitOpen        []string // permitopen="host:port"
	PermitListen      []string // permitlisten="[host:]port"
	Principals        []string // principals="a,b": only with CertAuthority
	Environment       []string // environment="NAME=value"
	Tunnel            string   // tunnel="N": a tun device number
}

// List returns the options in the order keywright writes them (restrict
// first, so that what follows reads as exceptions to it), validated.
func (o Options) List() ([]Option, error) {
	var out []Option
	flag := func(on bool, name string) {
		if on {
			out = append(out, Option{Name: name})
		}
	}
	val := func(name string, values ...string) {
		for _, v := range values {
			out = append(out, Option{Name: name, Value: v, HasValue: true})
		}
	}
	flag(o.Restrict, "restrict")
	flag(o.CertAuthority, "cert-authority")
	if len(o.Principals) > 0 {
		val("principals", strings.Join(o.Principals, ","))
	}
	if len(o.From) > 0 {
		val("from", strings.Join(o.From, ","))
	}
	if o.Command != "" {
		val("command", o.Command)
	}
	if !o.Expires.IsZero() {
		val("expiry-time", FormatExpiry(o.Expires))
	}
	flag(o.NoPortForwarding, "no-port-forwarding")
	flag(o.NoAgentForwarding, "no-agent-forwarding")
	flag(o.NoPTY, "no-pty")
	flag(o.NoX11Forwarding, "no-X11-forwarding")
	flag(o.NoUserRC, "no-user-rc")
	val("permitopen", o.PermitOpen...)
	val("permitlisten", o.PermitListen...)
	val("environment", o.Environment...)
	if o.Tunnel != "" {
		val("tunnel", o.Tunnel)
	}
	if err := CheckOptions(out); err != nil {
		return nil, err
	}
	return out, nil
}

// Option is one authorized_keys option as it stands in a line: a keyword,
// and a value when the keyword takes one (the value without its quotes).
type Option struct {
	Name     string
	Value    string
	HasValue bool
}

// optionSpec says whether a keyword takes a value, and how to check it.
type optionSpec struct {
	valued bool
	check  func(string) error
}

// optionSpecs is sshd(8)'s list of authorized_keys options (OpenSSH 9.x),
// keyed by the lower-case keyword.
var optionSpecs = map[string]optionSpec{
	"agent-forwarding":    {},
	"cert-authority":      {},
	"no-agent-forwarding": {},
	"no-port-forwarding":  {},
	"no-pty":              {},
	"no-user-rc":          {},
	"no-x11-forwarding":   {},
	"no-touch-required":   {},
	"port-forwarding":     {},
	"pty":                 {},
	"restrict":            {},
	"user-rc":             {},
	"verify-required":     {},
	"x11-forwarding":      {},
	"command":             {valued: true, check: checkCommand},
	"environment":         {valued: true, check: checkEnvironment},
	"expiry-time":         {valued: true, check: func(v string) error { _, err := ParseExpiry(v); return err }},
	"from":                {valued: true, check: CheckFrom},
	"permitlisten":        {valued: true, check: checkPermitListen},
	"permitopen":          {valued: true, check: checkPermitOpen},
	"principals":          {valued: true, check: checkPrincipalList},
	"tunnel":              {valued: true, check: checkTunnel},
}

// CheckOptions validates a list of options as sshd would read them, and
// refuses principals= without cert-authority (sshd ignores it there, which
// is never what was meant).
func CheckOptions(opts []Option) error {
	ca, principals := false, false
	for _, o := range opts {
		name := strings.ToLower(o.Name)
		spec, ok := optionSpecs[name]
		switch {
		case !ok:
			return errorf("%w: unknown option %q", ErrBadOption, o.Name)
		case spec.valued && !o.HasValue:
			return errorf("%w: %s needs a value (%s=\"...\")", ErrBadOption, o.Name, o.Name)
		case !spec.valued && o.HasValue:
			return errorf("%w: %s takes no value", ErrBadOption, o.Name)
		}
		if o.HasValue {
			if err := checkValue(o.Value); err != nil {
				return errorf("%w: %s: %w", ErrBadOption, o.Name, err)
			}
			if err := spec.check(o.Value); err != nil {
				return errorf("%w: %s=%q: %w", ErrBadOption, o.Name, o.Value, err)
			}
		}
		ca = ca || name == "cert-authority"
		principals = principals || name == "principals"
	}
	if principals && !ca {
		return errorf("%w: %w", ErrBadOption, ErrPrincipalsWithoutCA)
	}
	return nil
}

// checkValue refuses what cannot be written inside sshd's quotes: line
// breaks and NUL, and a final backslash (it would escape the closing quote).
func checkValue(v string) error {
	if strings.ContainsAny(v, "\n\r\x00") {
		return newError("newline, carriage return or NUL is not allowed")
	}
	if strings.HasSuffix(v, `\`) {
		return newError("a value cannot end with a backslash")
	}
	return nil
}

func checkCommand(v string) error {
	if strings.TrimSpace(v) == "" {
		return newError("empty command")
	}
	return nil
}

// checkEnvironment follows sshd's valid_env_name: NAME=value, NAME made of
// letters, digits and '_'.
func checkEnvironment(v string) error {
	name, _, ok := strings.Cut(v, "=")
	if !ok {
		return newError("want NAME=value")
	}
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !isAlnum(r) && r != '_' }) >= 0 {
		return errorf("variable name %q: letters, digits and '_' only", name)
	}
	return nil
}

// CheckFrom validates a from= pattern list (comma-separated): host name
// patterns with '*' and '?', IP addresses, CIDR blocks with no host bits
// set (sshd refuses 10.0.0.1/8), each optionally negated with '!'.
func CheckFrom(list string) error {
	for _, p := range strings.Split(list, ",") {
		if err := checkFromPattern(p); err != nil {
			return err
		}
	}
	return nil
}

func checkFromPattern(p string) error {
	p = strings.TrimPrefix(p, "!")
	if p == "" {
		return newError("empty pattern")
	}
	if strings.Contains(p, "/") {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return errorf("pattern %q: not a CIDR block", p)
		}
		if prefix.Masked() != prefix {
			return errorf("pattern %q: host bits set; did you mean %s", p, prefix.Masked())
		}
		return nil
	}
	for _, r := range p {
		if !isAlnum(r) && !strings.ContainsRune(".-_*?:", r) {
			return errorf("pattern %q: only letters, digits, '.', '-', '_', ':', '*' and '?' are allowed", p)
		}
	}
	return nil
}

// checkPermitOpen: host:port, the port a number or '*'; an IPv6 host in [].
func checkPermitOpen(v string) error {
	host, port, err := splitHostPort(v)
	if err != nil {
		return err
	}
	if host == "" {
		return newError("want HOST:PORT")
	}
	return checkPort(port)
}

// checkPermitListen: [host:]port.
func checkPermitListen(v string) error {
	if !strings.Contains(v, ":") {
		return checkPort(v)
	}
	_, port, err := splitHostPort(v)
	if err != nil {
		return err
	}
	return checkPort(port)
}

func splitHostPort(v string) (host, port string, err error) {
	if strings.HasPrefix(v, "[") {
		end := strings.Index(v, "]:")
		if end < 0 {
			return "", "", newError("want [IPV6]:PORT")
		}
		return v[1:end], v[end+2:], nil
	}
	i := strings.LastIndex(v, ":")
	if i < 0 || strings.Count(v, ":") > 1 {
		return "", "", newError("want HOST:PORT (an IPv6 address in [])")
	}
	host = v[:i]
	for _, r := range host {
		if !isAlnum(r) && !strings.ContainsRune(".-_*", r) {
			return "", "", errorf("host %q: bad character %q", host, r)
		}
	}
	return host, v[i+1:], nil
}

func checkPort(p string) error {
	if p == "*" {
		return nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || p[0] == '0' || p[0] == '+' {
		return errorf("port %q: want 1 to 65535 or '*'", p)
	}
	return nil
}

// checkPrincipalList: comma-separated principal names.
func checkPrincipalList(v string) error {
	for _, p := range strings.Split(v, ",") {
		if err := CheckPrincipal(p); err != nil {
			return err
		}
	}
	return nil
}

// CheckPrincipal validates one principal (a user or host name in a
// certificate): not empty, no spaces, commas, quotes or control characters.
func CheckPrincipal(p string) error {
	if p == "" {
		return newError("empty principal")
	}
	if strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f || r == ',' || r == '"' }) >= 0 {
		return errorf("principal %q: no spaces, commas, quotes or control characters", p)
	}
	return nil
}

// checkTunnel: a tun(4) device number, or "any".
func checkTunnel(v string) error {
	if v == "any" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 0x7fffffff-2 || v[0] == '+' {
		return errorf("tunnel %q: want a device number or 'any'", v)
	}
	return nil
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// FormatExpiry writes t as sshd reads an absolute time in UTC: YYYYMMDDHHMMZ.
func FormatExpiry(t time.Time) string { return t.UTC().Format("200601021504") + "Z" }

// expiryLayouts are the forms sshd(8) accepts for expiry-time, without the
// optional trailing 'Z' that makes them UTC instead of local time.
var expiryLayouts = []string{"20060102", "200601021504", "20060102150405"}

// ParseExpiry reads an expiry-time value (YYYYMMDD[HHMM[SS]][Z]); without
// the trailing Z it is the server's local time, taken here as this
// machine's.
func ParseExpiry(v string) (time.Time, error) {
	loc := time.Local
	s := v
	if strings.HasSuffix(s, "Z") {
		s, loc = strings.TrimSuffix(s, "Z"), time.UTC
	}
	for _, layout := range expiryLayouts {
		if len(s) == len(layout) {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, errorf("date %q: want YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optionally ending in Z for UTC", v)
}
