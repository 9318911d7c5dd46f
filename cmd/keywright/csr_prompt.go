package main

import (
	"fmt"
	"strings"

	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/keygen"
)

// keyChoices are the key types the prompt offers, as keygen.Spec prints them.
var keyChoices = []keygen.Spec{
	{Type: keygen.ECDSA, Curve: keygen.P256},
	{Type: keygen.ECDSA, Curve: keygen.P384},
	{Type: keygen.Ed25519},
	{Type: keygen.RSA, Bits: 2048},
	{Type: keygen.RSA, Bits: 3072},
	{Type: keygen.RSA, Bits: 4096},
}

// askRequest asks for the subject, then the SANs one at a time until an
// empty answer, then (for a new key) the key type. Each answer is checked
// as it is typed; the flags given become the defaults.
func askRequest(p Prompter, in requestInput, askKey bool) (requestInput, error) {
	s := &in.subject
	fields := []struct {
		msg, help string
		dst       *string
		check     func(string) error
	}{
		{"Common name (CN)", "usually the host name, such as www.example.com; may be empty if you give SANs", &s.CommonName,
			func(v string) error { return checkField(csr.Subject{CommonName: v}) }},
		{"Organization (O)", "may be empty", &s.Organization, func(v string) error { return checkField(csr.Subject{Organization: v}) }},
		{"Organizational unit (OU)", "may be empty", &s.OrganizationalUnit, func(v string) error { return checkField(csr.Subject{OrganizationalUnit: v}) }},
		{"Locality (L)", "city; may be empty", &s.Locality, func(v string) error { return checkField(csr.Subject{Locality: v}) }},
		{"State or province (ST)", "may be empty", &s.Province, func(v string) error { return checkField(csr.Subject{Province: v}) }},
		{"Country (C)", "two letters, such as US or DE; may be empty", &s.Country, func(v string) error {
			if v == "" {
				return nil
			}
			return csr.CheckCountry(v)
		}},
	}
	for _, f := range fields {
		v, err := p.Input(Question{Message: f.msg, Default: *f.dst, Help: f.help, Validate: f.check})
		if err != nil {
			return in, err
		}
		*f.dst = strings.TrimSpace(v)
	}
	sans, err := askSANs(p, s.CommonName)
	if err != nil {
		return in, err
	}
	in.sans = sans
	if askKey {
		if in.keySpec, err = askKeyType(p, in.keySpec); err != nil {
			return in, err
		}
	}
	return in, nil
}

func checkField(s csr.Subject) error {
	_, err := s.Name()
	return plainError(err)
}

// askSANs asks for names until an empty answer. With no CN, at least one
// is needed.
func askSANs(p Prompter, cn string) ([]string, error) {
	var sans []string
	for len(sans) < csr.MaxSANs {
		first := len(sans) == 0
		v, err := p.Input(Question{
			Message: fmt.Sprintf("Subject alternative name %d (empty to finish)", len(sans)+1),
			Help:    "a DNS name, IP address, email or URI; dns:, ip:, email:, uri: force a kind",
			Validate: func(v string) error {
				if strings.TrimSpace(v) == "" {
					if first && cn == "" {
						return newError("give at least one name: there is no common name")
					}
					return nil
				}
				_, _, err := csr.ParseSAN(v)
				return plainError(err)
			},
		})
		if err != nil {
			return nil, err
		}
		if v = strings.TrimSpace(v); v == "" {
			break
		}
		sans = append(sans, v)
	}
	return sans, nil
}

func askKeyType(p Prompter, def keygen.Spec) (keygen.Spec, error) {
	var options []string
	for _, k := range keyChoices {
		options = append(options, k.String())
	}
	ans, err := p.Select("Key type", options, def.String())
	if err != nil {
		return def, err
	}
	for _, k := range keyChoices {
		if k.String() == ans {
			return k, nil
		}
	}
	return def, errorf("unknown key type %q", ans)
}

// plainError is err as its message for people (internal/fault), for
// messages shown under a prompt.
func plainError(err error) error {
	if err == nil {
		return nil
	}
	return newError(fault.Text(err))
}

func joinComma(v []string) string { return strings.Join(v, ", ") }

// equivalent is the command line that makes the same request without
// questions, quoted for a POSIX shell.
func (c *CSRNewCmd) equivalent(e *Env, in requestInput, newKey bool) string {
	args := []string{"keywright"}
	if e.Globals.Store != "./pki" {
		args = append(args, "--store", e.Globals.Store)
	}
	if e.Globals.Force {
		args = append(args, "--force")
	}
	args = append(args, "csr", "new", c.Name)
	s := in.subject
	for _, f := range [][2]string{
		{"--cn", s.CommonName}, {"--subject", c.Subject}, {"--org", s.Organization}, {"--ou", s.OrganizationalUnit},
		{"--locality", s.Locality}, {"--state", s.Province}, {"--country", s.Country},
	} {
		if f[1] != "" {
			args = append(args, f[0], f[1])
		}
	}
	for _, v := range in.sans {
		args = append(args, "--san", v)
	}
	if newKey {
		k, _ := in.keySpec.Normalize()
		args = append(args, "--type", k.Type)
		switch k.Type {
		case keygen.RSA:
			args = append(args, "--bits", fmt.Sprint(k.Bits))
		case keygen.ECDSA:
			args = append(args, "--curve", k.Curve)
		}
		switch {
		case c.Passout != "": // a source, not the secret
			args = append(args, "--passout", c.Passout)
		case c.Encrypt:
			args = append(args, "--encrypt")
		}
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote returns s unchanged when a POSIX shell would read it as one
// word as it is, else in single quotes (a quote inside becomes '\”).
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("@%+=:,./_-", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
