package main

import (
	"crypto"
	"crypto/x509/pkix"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/store"
)

// CertCmd groups the certificate commands that need no CA.
type CertCmd struct {
	SelfSign CertSelfSignCmd `cmd:"" name:"self-sign" help:"Make a self-signed certificate NAME.crt (CA:FALSE) for NAME.key."`
}

// CertSelfSignCmd is `cert self-sign NAME`.
type CertSelfSignCmd struct {
	Name    string   `arg:"" help:"Name of the key (or a path ending in .key); the certificate is NAME.crt next to it." completion-predictor:"key"`
	Days    *int     `help:"Validity in days: 90 by default, a warning over 200, at most 825." placeholder:"N"`
	SAN     []string `name:"san" sep:"none" help:"Subject alternative name (repeat), as for csr new; added to those of NAME.csr if it exists." placeholder:"VALUE"`
	CN      string   `name:"cn" help:"Common name; without --cn or --subject the subject of NAME.csr (if any) is used." placeholder:"CN"`
	Subject string   `help:"Whole subject, openssl style: \"/O=Example/CN=web\"." placeholder:"DN"`
	Passin  string   `help:"Passphrase source for an encrypted NAME.key." placeholder:"SRC" type:"source"`
}

func (c *CertSelfSignCmd) Run(e *Env) error {
	days, err := c.checkFlags()
	if err != nil {
		return err
	}
	crtPath, keyPath, err := c.paths(e)
	if err != nil {
		return err
	}
	if err := ca.RefuseCAFiles(e.Ctx, e.Store().Dir, crtPath); err != nil {
		return err // a CA's certificate is never replaced by a leaf, --force or not
	}
	k, err := loadKey(e, keyPath, "--passin", c.Passin)
	if err != nil {
		return err
	}
	subject, sans, err := c.names(e, k.Key.Public())
	if err != nil {
		return err
	}
	if days > csr.WarnDays {
		e.UI.Warnf("%d days is over %d: browsers and the CA/B Forum rules refuse such long-lived server certificates", days, csr.WarnDays)
	}
	crt, err := csr.SelfSign(csr.SelfSignRequest{Subject: subject, SANs: sans, Key: k.Key, Days: days, Now: e.Now()})
	if err != nil {
		return err
	}
	certs, err := ca.ParseCerts(crt)
	if err != nil {
		return err
	}
	if err := ca.WriteSelfSigned(e.Ctx, e.Store(), certs[0], crtPath, e.Globals.Force, e.Now()); err != nil {
		return busyHint(err)
	}
	e.UI.Infof("wrote self-signed certificate to %s (%d days)", crtPath, days)
	return addWrittenCert(e.Result().add("cert", crtPath).add("key", keyPath), crt)
}

// checkFlags refuses a bad flag value (exit 2) before anything is read or
// a passphrase asked: --days, --san, and the subject of --cn/--subject,
// which then is the whole subject (NAME.csr is not read).
func (c *CertSelfSignCmd) checkFlags() (days int, err error) {
	if days, err = leafDays.check(c.Days); err != nil {
		return 0, err
	}
	if days == 0 {
		days = csr.DefaultDays
	}
	sans, err := csr.ParseSANs(c.SAN)
	if err != nil {
		return 0, &usageError{errorf("--san: %w", err)}
	}
	if c.CN == "" && c.Subject == "" {
		return days, nil
	}
	subject, err := c.flagSubject()
	if err != nil {
		return 0, err
	}
	if _, err := csr.AddCommonName(subject, sans); err != nil {
		return 0, &usageError{err}
	}
	return days, nil
}

// flagSubject is the subject --subject and --cn give.
func (c *CertSelfSignCmd) flagSubject() (pkix.Name, error) {
	var subject pkix.Name
	if c.Subject != "" {
		var err error
		if subject, err = csr.ParseSubject(c.Subject); err != nil {
			return subject, &usageError{err}
		}
	}
	if c.CN != "" {
		if subject.CommonName != "" {
			return subject, usagef("--cn and --subject both set CN; give it once")
		}
		subject.CommonName = c.CN
	}
	return subject, nil
}

func (c *CertSelfSignCmd) paths(e *Env) (crtPath, keyPath string, err error) {
	if c.Name == "-" {
		return "", "", usagef("cert self-sign reads NAME.key and writes NAME.crt; give a NAME or a path, not '-'")
	}
	if crtPath, err = e.Store().Sibling(c.Name, store.Cert); err != nil {
		return "", "", err
	}
	if keyPath, err = e.Store().Sibling(c.Name, store.Key); err != nil {
		return "", "", err
	}
	if err := refuseExisting(e, crtPath); err != nil {
		return "", "", err
	}
	if !store.Exists(keyPath) {
		return "", "", withHint(errorf("%s: no such key", keyPath),
			"make one first: keywright key new %s (or keywright csr new %s)", c.Name, c.Name)
	}
	return crtPath, keyPath, nil
}

// names are the subject and SANs: from the flags, or from NAME.csr (whose
// signature is checked and whose key must be NAME.key) plus --san.
func (c *CertSelfSignCmd) names(e *Env, pub crypto.PublicKey) (pkix.Name, csr.SANs, error) {
	subject, err := c.flagSubject()
	if err != nil {
		return subject, csr.SANs{}, err
	}
	values := c.SAN
	if c.CN == "" && c.Subject == "" {
		fromCSR, sans, err := c.fromCSR(e, pub)
		if err != nil {
			return subject, csr.SANs{}, err
		}
		subject, values = fromCSR, append(sans, values...)
	}
	sans, err := csr.ParseSANs(values)
	if err != nil {
		return subject, sans, err
	}
	if subject.CommonName == "" && sans.Empty() {
		return subject, sans, &usageError{withHint(newError("cert self-sign: the certificate needs a common name or at least one SAN"),
			"give --cn or --san, or make NAME.csr first with keywright csr new")}
	}
	return subject, sans, nil
}

// fromCSR reads the sibling NAME.csr, if there is one.
func (c *CertSelfSignCmd) fromCSR(e *Env, pub crypto.PublicKey) (pkix.Name, []string, error) {
	path, err := e.Store().Sibling(c.Name, store.CSR)
	if err != nil || !store.Exists(path) {
		return pkix.Name{}, nil, err
	}
	data, err := store.ReadFile(path, e.Stdin)
	if err != nil {
		return pkix.Name{}, nil, err
	}
	r, err := csr.ParseCSR(data)
	if err != nil {
		return pkix.Name{}, nil, errorf("%s: %w", path, err)
	}
	if !publicKeysEqual(r.PublicKey, pub) {
		return pkix.Name{}, nil, errorf("%s: the request is for another key than %s", path, store.BaseName(c.Name)+".key")
	}
	subject := r.Subject
	subject.Names = nil // as parsed; a template uses the fields
	return subject, csr.SANsOfCSR(r).Values(), nil
}

// publicKeysEqual compares two public keys of the types keywright uses.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	ea, ok := a.(equaler)
	return ok && ea.Equal(b)
}
