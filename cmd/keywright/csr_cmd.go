package main

import (
	"crypto"
	"crypto/x509/pkix"

	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// CSRCmd groups the certificate request commands.
type CSRCmd struct {
	New CSRNewCmd `cmd:"" help:"Make a certificate request NAME.csr, with NAME.key (made if there is none)."`
}

// SubjectFlags are the subject flags of `csr new` (and `cert self-sign`).
type SubjectFlags struct {
	CN       string `name:"cn" help:"Common name (CN); added as a SAN when it is a DNS name or IP address." placeholder:"CN"`
	Subject  string `help:"Whole subject, openssl style: \"/C=DE/O=Example/CN=web\" ('\\/' is a '/' in a value)." placeholder:"DN"`
	Org      string `help:"Organization (O)." placeholder:"O"`
	OU       string `name:"ou" help:"Organizational unit (OU)." placeholder:"OU"`
	Country  string `help:"Country (C), two letters." placeholder:"CC"`
	State    string `help:"State or province (ST)." placeholder:"ST"`
	Locality string `help:"Locality or city (L)." placeholder:"L"`
}

// CSRNewCmd is `csr new NAME`.
type CSRNewCmd struct {
	Name         string `arg:"" help:"Request name (or a path ending in .csr); the key is NAME.key next to it." completion-predictor:"key"`
	SubjectFlags `embed:""`
	SAN          []string `name:"san" sep:"none" help:"Subject alternative name (repeat): DNS name, IP address, email or URI; dns:, ip:, email:, uri: force a kind." placeholder:"VALUE"`
	KeyFlags     `embed:""`
	Encrypt      bool   `help:"Encrypt a new key; the passphrase comes from --passout or a prompt."`
	Passout      string `help:"Encrypt a new key with the passphrase from SRC." placeholder:"SRC" type:"source"`
	Passin       string `help:"Passphrase source for an existing encrypted NAME.key." placeholder:"SRC" type:"source"`
}

// requestInput is what a request is made of, from flags or the prompt.
type requestInput struct {
	subject csr.Subject
	sans    []string
	keySpec keygen.Spec // for a new key
}

func (c *CSRNewCmd) Run(e *Env) error {
	csrPath, keyPath, keyExists, err := c.paths(e)
	if err != nil {
		return err
	}
	in, asked, err := c.input(e, !keyExists)
	if err != nil {
		return err
	}
	subject, sans, err := requestNames(e, c.Subject, in)
	if err != nil {
		return err
	}
	key, keyPEM, err := c.key(e, keyPath, keyExists, in.keySpec)
	if err != nil {
		return err
	}
	csrPEM, err := csr.Build(csr.Request{Subject: subject, SANs: sans, Key: key})
	if err != nil {
		return err
	}
	tx := store.Tx{Force: e.Globals.Force}
	if keyPEM != nil {
		tx.Add(keyPath, keyPEM, store.Key.Mode)
	}
	tx.Add(csrPath, csrPEM, store.CSR.Mode)
	if err := tx.Commit(); err != nil {
		return err
	}
	e.Result().add("csr", csrPath).add("key", keyPath).add("key_created", keyPEM != nil).
		add("subject", subject.String()).add("sans", sanReport(sans))
	if keyPEM != nil {
		e.UI.Infof("wrote %s key to %s", in.keySpec, keyPath)
	}
	e.UI.Infof("wrote certificate request to %s (%s)", csrPath, sansSummary(sans))
	if asked {
		e.UI.Infof("to make the same request without questions: %s", c.equivalent(e, in, !keyExists))
	}
	return nil
}

// paths are NAME.csr and NAME.key, and whether the key exists; the request
// must not exist unless --force, the key must exist if --passin is given.
func (c *CSRNewCmd) paths(e *Env) (csrPath, keyPath string, keyExists bool, err error) {
	if c.Name == "-" {
		return "", "", false, usagef("csr new writes NAME.csr and NAME.key; give a NAME or a path, not '-'")
	}
	if csrPath, err = e.Store().Sibling(c.Name, store.CSR); err != nil {
		return "", "", false, err
	}
	if keyPath, err = e.Store().Sibling(c.Name, store.Key); err != nil {
		return "", "", false, err
	}
	if err := refuseExisting(e, csrPath); err != nil {
		return "", "", false, err
	}
	keyExists = store.Exists(keyPath)
	if !keyExists && c.Passin != "" {
		// the key meant to be read is missing: do not quietly make an unencrypted one
		return "", "", false, withHint(usagef("--passin: %s does not exist", keyPath), "to make a new encrypted key, use --passout or --encrypt instead")
	}
	return csrPath, keyPath, keyExists, nil
}

// sansSummary lists the SANs of a request for a message, or says there are none.
func sansSummary(sans csr.SANs) string {
	if sans.Empty() {
		return "no SANs"
	}
	return joinComma(sans.Values())
}

// input takes the subject, SANs and key type from the flags or, on a
// terminal when no name was given, from the prompt.
func (c *CSRNewCmd) input(e *Env, newKey bool) (in requestInput, asked bool, err error) {
	f := c.SubjectFlags
	in.subject = csr.Subject{CommonName: f.CN, Organization: f.Org, OrganizationalUnit: f.OU,
		Country: f.Country, Province: f.State, Locality: f.Locality}
	in.sans = c.SAN
	if in.keySpec, err = c.spec(); err != nil {
		return in, false, err
	}
	if !newKey && c.keyFlagsGiven(e) {
		return in, false, usagef("the key flags (--type, --bits, --curve, --encrypt, --passout) apply to a new key; NAME.key exists and is used as it is")
	}
	if f.CN != "" || f.Subject != "" || len(c.SAN) > 0 {
		return in, false, nil
	}
	if !e.CanPrompt() {
		return in, false, &usageError{withHint(newError("csr new: no name for the request: give --cn, --san or --subject"),
			"for example: keywright csr new %s --cn www.example.com --san www.example.com; on a terminal without --no-input keywright asks", c.Name)}
	}
	in, err = askRequest(e.Prompter(), in, newKey)
	return in, true, err
}

// keyFlagsGiven reports whether the command line asks for a new key:
// defaults from the configuration file do not.
func (c *CSRNewCmd) keyFlagsGiven(e *Env) bool {
	_, bits := e.fromConfig("bits")
	_, curve := e.fromConfig("curve")
	_, typ := e.fromConfig("type")
	return c.Bits != 0 && !bits || c.Curve != "" && !curve || c.Type != keygen.ECDSA && !typ || c.Encrypt || c.Passout != ""
}

// key reuses keyPath or makes a new key (returned as PEM to be written).
func (c *CSRNewCmd) key(e *Env, keyPath string, exists bool, spec keygen.Spec) (crypto.Signer, []byte, error) {
	if exists {
		k, err := loadKey(e, keyPath, "--passin", c.Passin)
		if err != nil {
			return nil, nil, err
		}
		return k.Key, nil, nil
	}
	pass, err := passphraseIf(e, c.Encrypt || c.Passout != "", "--passout", c.Passout, keyPath)
	if err != nil {
		return nil, nil, err
	}
	return newKey(spec, pass)
}

// requestNames checks the subject (fields and --subject, no attribute
// twice) and the SANs, and adds the CN as a SAN when it is a host name or
// an address.
func requestNames(e *Env, subjectFlag string, in requestInput) (pkix.Name, csr.SANs, error) {
	name, err := mergeSubject(subjectFlag, in.subject)
	if err != nil {
		return name, csr.SANs{}, &usageError{err} // a refused subject flag value
	}
	values := in.sans
	if kind, canon, err := csr.ParseSAN(name.CommonName); err == nil && (kind == csr.KindDNS || kind == csr.KindIP) {
		values = append([]string{kind + ":" + canon}, values...) // the CN first
	}
	sans, err := csr.ParseSANs(values)
	if err != nil {
		// The CN is among values only when it is a valid name, and the
		// prompt checks each SAN as it is typed: this is a --san value.
		return name, sans, &usageError{errorf("--san: %w", err)}
	}
	if name.CommonName == "" && sans.Empty() {
		return name, sans, &usageError{withHint(newError("csr new: the request needs a common name or at least one SAN"), "give --cn or --san")}
	}
	withCN, err := csr.AddCommonName(name, sans)
	if err != nil {
		// A request may carry any CN; a CA following README "Certificate authority" will refuse it.
		e.UI.Warnf("%s; a CA will not sign it as it is", fault.Text(err))
		return name, sans, nil
	}
	return name, withCN, nil
}

// mergeSubject combines --subject with the field flags.
func mergeSubject(subjectFlag string, fields csr.Subject) (pkix.Name, error) {
	fromFields, err := subjectOfFlags(fields)
	if err != nil || subjectFlag == "" {
		return fromFields, err
	}
	name, err := csr.ParseSubject(subjectFlag)
	if err != nil {
		return name, errorf("--subject: %w", err)
	}
	for _, d := range []struct {
		flag     string
		from, to *[]string
	}{
		{"--org", &fromFields.Organization, &name.Organization},
		{"--ou", &fromFields.OrganizationalUnit, &name.OrganizationalUnit},
		{"--country", &fromFields.Country, &name.Country},
		{"--state", &fromFields.Province, &name.Province},
		{"--locality", &fromFields.Locality, &name.Locality},
	} {
		if len(*d.from) > 0 && len(*d.to) > 0 {
			return name, usagef("%s and --subject both set that attribute; give it once", d.flag)
		}
		*d.to = append(*d.to, *d.from...)
	}
	if fromFields.CommonName != "" && name.CommonName != "" {
		return name, usagef("--cn and --subject both set CN; give it once")
	}
	if fromFields.CommonName != "" {
		name.CommonName = fromFields.CommonName
	}
	return name, nil
}

// subjectOfFlags is the subject the field flags give, each refused value
// named by its flag (csr's rules, which know no flags).
func subjectOfFlags(fields csr.Subject) (pkix.Name, error) {
	err := firstRefusedFlag(func(s csr.Subject) error { _, err := s.Name(); return err },
		flagAlone[csr.Subject]{"--cn", csr.Subject{CommonName: fields.CommonName}},
		flagAlone[csr.Subject]{"--org", csr.Subject{Organization: fields.Organization}},
		flagAlone[csr.Subject]{"--ou", csr.Subject{OrganizationalUnit: fields.OrganizationalUnit}},
		flagAlone[csr.Subject]{"--country", csr.Subject{Country: fields.Country}},
		flagAlone[csr.Subject]{"--state", csr.Subject{Province: fields.Province}},
		flagAlone[csr.Subject]{"--locality", csr.Subject{Locality: fields.Locality}})
	if err != nil {
		return pkix.Name{}, err
	}
	return fields.Name()
}

// flagAlone is a flag and the library value that holds its value alone.
type flagAlone[T any] struct {
	flag  string
	alone T
}

// firstRefusedFlag checks each flag's value alone with a library's check
// (which knows no flags) and names the flag of the first one refused.
func firstRefusedFlag[T any](check func(T) error, flags ...flagAlone[T]) error {
	for _, f := range flags {
		if err := check(f.alone); err != nil {
			return errorf("%s: %w", f.flag, err)
		}
	}
	return nil
}
