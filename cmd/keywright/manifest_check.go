package main

// The checks of a batch manifest's entries (manifest.go), with the rules
// of the commands they stand for: issue (SANs, CN, profile, days, CA), key
// new (type, bits, curve), ssh keygen and ssh sign.

import (
	"strings"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/sshkeys"
)

// checkDefaults checks the defaults and keeps the fields that pass, so a
// bad default is reported once, at its line, not once per entry.
func (c *manifestChecker) checkDefaults(d certFields) {
	const where = "defaults"
	for _, f := range []struct {
		name string
		line int
	}{{"name", d.name.line}, {"sans", d.sans.line}, {"cn", d.cn.line}} {
		if f.line != 0 {
			c.errs.addErr(f.line, fieldPath(where, f.name), errNoDefault)
		}
	}
	d.name, d.sans, d.cn = textField{}, listField{}, textField{}
	if _, ok := c.profile(d.profile, fieldPath(where, "profile")); !ok {
		d.profile = textField{}
	}
	if _, ok := c.days(d.days, fieldPath(where, "days")); !ok {
		d.days = numField{}
	}
	if !c.caName(d.ca, fieldPath(where, "ca")) {
		d.ca = textField{}
	}
	if _, ok := c.key(d, d, where); !ok {
		d.typ, d.bits, d.curve = textField{}, numField{}, textField{}
	}
	c.defaults = d
}

// cert checks a certificate entry, applies the defaults and passes it to
// the sink when it passes.
func (c *manifestChecker) cert(f certFields, where string) {
	e := CertEntry{Line: f.line}
	name, ok := c.name(f.name, f.line, where, c.certNames)
	e.Name = name
	ok = c.sansAndCN(f, where, &e) && ok
	ok = c.certSettings(f, where, &e) && ok
	if !ok {
		return
	}
	if e.CA == "" {
		if c.m.NoCA == 0 {
			c.m.NoCALine = e.Line
		}
		c.m.NoCA++
	}
	c.m.tallyLifetime(&e)
	if c.sink.cert != nil {
		c.sink.cert(c.m.NCerts, &e)
	}
	c.m.NCerts++
}

// sansAndCN checks the SANs as issue checks --san, and the CN as issue
// checks --cn (leafSubject: the first DNS name by default, made a SAN).
func (c *manifestChecker) sansAndCN(f certFields, where string, e *CertEntry) bool {
	if f.sans.bad || f.cn.bad {
		return false
	}
	path := fieldPath(where, "sans")
	if len(f.sans.v) == 0 {
		c.errs.addf(knownLine(f.sans.line, f.line), "%s: missing: at least one DNS name, IP address, email or URI", path)
		return false
	}
	sans, err := csr.ParseSANs(f.sans.v)
	if err != nil {
		c.sanProblems(f.sans, path, err)
		return false
	}
	cnLine, cnPath := f.cn.line, fieldPath(where, "cn")
	if cnLine == 0 {
		cnLine, cnPath = f.sans.line, path
	}
	subject, sans, err := leafSubject(f.cn.v, sans)
	if err != nil {
		c.errs.addErr(cnLine, cnPath, err)
		return false
	}
	e.SANs, e.CN = sans, subject.CommonName
	return true
}

// sanProblems reports each refused SAN at its own line; err (from the whole
// list, such as too many names) when each one alone passes.
func (c *manifestChecker) sanProblems(f listField, path string, err error) {
	found := false
	for i, v := range f.v {
		if _, _, perr := csr.ParseSAN(v); perr != nil {
			c.errs.addErr(f.lines[i], path, perr)
			found = true
		}
	}
	if !found {
		c.errs.addErr(f.line, path, err)
	}
}

// certSettings checks profile, days, CA and key, each from the entry or
// else from the defaults.
func (c *manifestChecker) certSettings(f certFields, where string, e *CertEntry) bool {
	d := c.defaults
	ok := true
	var good bool
	if e.Profile, good = c.profile(orText(f.profile, d.profile), fieldPath(where, "profile")); !good {
		ok = false
	}
	if e.Days, good = c.days(orNum(f.days, d.days), fieldPath(where, "days")); !good {
		ok = false
	}
	caf := orText(f.ca, d.ca)
	if c.caName(caf, fieldPath(where, "ca")) {
		e.CA = caf.v
		noteCA(caf, c.caSeen, &c.m.CAs)
	} else {
		ok = false
	}
	if e.Key, good = c.key(f, mergeKey(f, d), where); !good {
		ok = false
	}
	return ok
}

// mergeKey is the entry's key fields over the defaults', field by field,
// unless the entry names another type: then the defaults' bits and curve,
// which belong to their type, are left out.
func mergeKey(f, d certFields) certFields {
	if f.typ.line != 0 && !strings.EqualFold(f.typ.v, orText(d.typ, textField{v: keygen.ECDSA}).v) {
		return f
	}
	f.typ, f.bits, f.curve = orText(f.typ, d.typ), orNum(f.bits, d.bits), orText(f.curve, d.curve)
	return f
}

// key checks the key fields k as key new checks --type, --bits and
// --curve. A problem is put at the field of the entry f that is wrong: the
// type if it is unknown, else bits or curve (what does not fit the type).
func (c *manifestChecker) key(f, k certFields, where string) (keygen.Spec, bool) {
	if k.typ.bad || k.bits.bad || k.curve.bad {
		return keygen.Spec{}, false
	}
	s, err := keygen.Spec{Type: k.typ.v, Bits: k.bits.v, Curve: k.curve.v}.Normalize()
	if err == nil {
		return s, true
	}
	type field struct {
		name string
		line int
	}
	order := []field{{"bits", f.bits.line}, {"curve", f.curve.line}, {"type", f.typ.line}}
	if _, terr := (keygen.Spec{Type: k.typ.v}).Normalize(); terr != nil {
		order = []field{{"type", f.typ.line}}
	}
	line, path := f.line, where
	for _, x := range order {
		if x.line != 0 {
			line, path = x.line, fieldPath(where, x.name)
			break
		}
	}
	c.errs.addErr(line, path, err)
	return s, false
}

// profile checks a leaf profile ("" is server); the CA profile is refused.
func (c *manifestChecker) profile(f textField, path string) (string, bool) {
	if f.bad {
		return "", false
	}
	p, err := ca.ProfileByName(f.v)
	if err != nil || p.CA {
		var leaves []string
		for _, n := range ca.ProfileNames() {
			if q, _ := ca.ProfileByName(n); !q.CA {
				leaves = append(leaves, n)
			}
		}
		c.errs.addf(f.line, "%s: unknown profile %q for a certificate: use %s", path, f.v, strings.Join(leaves, ", "))
		return "", false
	}
	return p.Name, true
}

// days checks a leaf's validity as csr.CheckDays does; an explicit 0 is
// refused rather than taken as the default. Days left out stay 0: the
// default lifetime, shortened (with a warning) to end with the CA, as issue
// without --days.
func (c *manifestChecker) days(f numField, path string) (int, bool) {
	if f.bad {
		return 0, false
	}
	if f.line == 0 {
		return 0, true
	}
	if f.line != 0 && f.v == 0 {
		c.errs.addf(f.line, "%s: 0 days: give at least 1, or leave days out for the default (%d)", path, csr.DefaultDays)
		return 0, false
	}
	d, err := csr.CheckDays(f.v)
	if err != nil {
		c.errs.addErr(f.line, path, err)
		return 0, false
	}
	return d, true
}

// ssh checks an ssh entry as ssh keygen checks its flags (and its
// certificate as ssh sign does) and adds it when it passes.
func (c *manifestChecker) ssh(f sshFields, where string) {
	e := SSHEntry{Line: f.line, Type: f.typ.v, Bits: f.bits.v, Comment: f.comment.v}
	name, ok := c.name(f.name, f.line, where, c.sshNames)
	e.Name = name
	if f.certBad {
		ok = false
	}
	if f.typ.bad || f.bits.bad || f.comment.bad {
		ok = false
	} else {
		spec, err := sshKeySpec(f.typ.v, f.bits.v)
		if err != nil {
			line, path := knownLine(f.bits.line, f.line), fieldPath(where, "bits")
			if _, terr := sshKeySpec(f.typ.v, 0); terr != nil {
				line, path = knownLine(f.typ.line, f.line), fieldPath(where, "type")
			}
			c.errs.addErr(line, path, err)
			ok = false
		}
		e.Key = spec
		if err := checkNoNewline(fieldPath(where, "comment"), f.comment.v); err != nil {
			c.errs.add(manifestProblem{Line: f.comment.line, Msg: fault.Text(err), Err: err})
			ok = false
		}
	}
	if f.cert != nil {
		cert, good := c.sshCert(*f.cert, fieldPath(where, "certificate"))
		e.Cert, ok = cert, ok && good
	}
	if !ok {
		return
	}
	if c.sink.ssh != nil {
		c.sink.ssh(c.m.NSSH, &e)
	}
	c.m.NSSH++
}

// sshCert checks an SSH certificate's fields as ssh sign checks its flags:
// a CA, an identity and at least one principal are required.
func (c *manifestChecker) sshCert(f sshCertFields, where string) (*SSHCertEntry, bool) {
	e := &SSHCertEntry{Line: f.line, CA: f.ca.v, Identity: f.identity.v, Principals: f.principals.v,
		Days: sshCertDefaultDays, Host: f.host.v}
	ok := !f.host.bad && !f.identity.bad && !f.principals.bad
	switch path := fieldPath(where, "ca"); {
	case f.ca.bad:
		ok = false
	case f.ca.v == "":
		c.errs.addf(knownLine(f.ca.line, f.line), "%s: missing: the SSH CA in the store that signs", path)
		ok = false
	case c.caName(f.ca, path):
		noteCA(f.ca, c.sshCASeen, &c.m.SSHCAs)
	default:
		ok = false
	}
	if path := fieldPath(where, "identity"); !f.identity.bad && strings.TrimSpace(f.identity.v) == "" {
		c.errs.addf(knownLine(f.identity.line, f.line), "%s: missing: the key id that sshd logs (ssh sign --identity)", path)
		ok = false
	} else if err := checkNoNewline(path, f.identity.v); err != nil {
		c.errs.add(manifestProblem{Line: f.identity.line, Msg: fault.Text(err), Err: err})
		ok = false
	}
	ok = c.principals(f, where) && ok
	if f.days.line != 0 && !f.days.bad {
		// ssh sign's own range (sshkeys.MaxCertDays), far from an overflow.
		if msg := sshCertDays.outside(f.days.v); msg != "" {
			c.errs.addf(f.days.line, "%s: %d: %s", fieldPath(where, "days"), f.days.v, msg)
			ok = false
		}
		e.Days = f.days.v
	}
	return e, ok && !f.days.bad
}

// principals checks an SSH certificate's principals as ssh sign does.
func (c *manifestChecker) principals(f sshCertFields, where string) bool {
	path := fieldPath(where, "principals")
	switch {
	case f.principals.bad:
		return false
	case len(f.principals.v) == 0:
		// sshd takes an empty list as any principal: never by accident.
		c.errs.addf(knownLine(f.principals.line, f.line), "%s: missing: at least one principal (user, or host name for host: true)", path)
		return false
	}
	ok := true
	for i, p := range f.principals.v {
		if err := sshkeys.CheckPrincipal(p); err != nil {
			c.errs.addErr(f.principals.lines[i], path, err)
			ok = false
		}
	}
	return ok
}

func orText(f, d textField) textField {
	if f.line == 0 && !f.bad {
		return d
	}
	return f
}

func orNum(f, d numField) numField {
	if f.line == 0 && !f.bad {
		return d
	}
	return f
}

// knownLine is the first line that is known (not 0).
func knownLine(lines ...int) int {
	for _, l := range lines {
		if l != 0 {
			return l
		}
	}
	return 0
}
