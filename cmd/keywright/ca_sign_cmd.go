package main

import (
	"crypto/x509"
	"encoding/asn1"
	"strings"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/store"
)

// CASignCmd is `ca sign CSR --ca CA`.
type CASignCmd struct {
	CSR        string `arg:"" name:"csr" help:"Request NAME (NAME.csr) or file ('-' for stdin)." completion-predictor:"csr"`
	CA         string `name:"ca" required:"" help:"The CA that signs." placeholder:"CA" completion-predictor:"ca"`
	Name       string `help:"Write NAME.crt and NAME.pem (default: the request's NAME)." placeholder:"NAME"`
	Profile    string `help:"server, client, server-client, code-signing, email or ca." default:"server" enum:"server,client,server-client,code-signing,email,ca"`
	Days       *int   `help:"Validity in days (default 90 for a leaf, at most 825; 5 years for --profile ca, at most 10950)." placeholder:"N"`
	CAKeyFlags `embed:""`
}

func (c *CASignCmd) Run(e *Env) error {
	profile, err := ca.ProfileByName(c.Profile)
	if err != nil {
		return &usageError{err}
	}
	days := leafDays
	if profile.CA {
		days = caDays
	}
	if _, err := days.check(c.Days); err != nil {
		return err
	}
	req, err := c.readCSR(e)
	if err != nil {
		return err
	}
	certPath, chainPath, err := c.outputs(e)
	if err != nil {
		return err
	}
	a, err := loadAuthority(e, c.CA, c.CAKeyFlags)
	if err != nil {
		return err
	}
	if ignored := ignoredExtensions(req); len(ignored) > 0 {
		e.UI.Infof("ignoring the request's own %s: the %s profile decides", strings.Join(ignored, ", "), profile.Name)
	}
	sign := ca.SignRequest{Subject: req.Subject, SANs: csr.SANsOfCSR(req), PublicKey: req.PublicKey,
		Profile: profile, Days: intOr0(c.Days), Now: e.Now(), PathLen: 0}
	is, err := a.Issue(e.Ctx, ca.IssueRequest{Store: e.Store(), Sign: sign, CertPath: certPath, ChainPath: chainPath,
		Force: e.Globals.Force, LockTimeout: c.LockTimeout})
	if err != nil {
		return busyHint(err)
	}
	reportIssued(e, a, is, certPath, chainPath)
	return nil
}

// readCSR reads and checks the request (signature, key, SANs).
func (c *CASignCmd) readCSR(e *Env) (*x509.CertificateRequest, error) {
	path, err := e.Store().Resolve(c.CSR, store.CSR)
	if err != nil {
		return nil, err
	}
	data, err := store.ReadFile(path, e.Stdin)
	if err != nil {
		return nil, err
	}
	req, err := csr.ParseCSR(data)
	if err != nil {
		return nil, errorf("%s: %w", displayPath(path), err)
	}
	return req, nil
}

// outputs are NAME.crt and NAME.pem: --name in the store, else next to the
// request.
func (c *CASignCmd) outputs(e *Env) (certPath, chainPath string, err error) {
	ref := c.Name
	if ref == "" {
		if c.CSR == "-" {
			return "", "", usagef("a request read from stdin needs --name for the certificate")
		}
		ref = c.CSR
	}
	if certPath, err = e.Store().Sibling(ref, store.Cert); err != nil {
		return "", "", err
	}
	chainPath, err = e.Store().Sibling(ref, store.Chain)
	return certPath, chainPath, err
}

// reportIssued tells the user what was written.
func reportIssued(e *Env, a *ca.Authority, is *ca.Issued, certPath, chainPath string) {
	warnAll(e, is.Warnings)
	addCertSummary(e.Result().add("cert", certPath).add("chain", chainPath).add("ca", a.Paths.Name).
		add("profile", is.Entry.Profile), is.Cert)
	e.UI.Infof("wrote %s and %s: %s, serial %s, valid until %s, signed by %s", certPath, chainPath,
		issuedNames(is), is.Entry.Serial, day(is.Cert.NotAfter), chainSummary(a))
}

// issuedNames is what a certificate is for: its SANs, or, for a CA
// certificate that has none, its subject.
func issuedNames(is *ca.Issued) string {
	if len(is.Entry.SANs) > 0 {
		return strings.Join(is.Entry.SANs, ", ")
	}
	return is.Cert.Subject.String()
}

// ignoredExtensions names the extensions a request asked for that the
// profile overrides (only the SANs are taken from a request).
func ignoredExtensions(r *x509.CertificateRequest) []string {
	names := map[string]string{
		"2.5.29.19": "basic constraints", "2.5.29.15": "key usage", "2.5.29.37": "extended key usage",
		"2.5.29.30": "name constraints", "2.5.29.14": "subject key identifier",
	}
	var out []string
	for _, ext := range r.Extensions {
		if ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}) {
			continue
		}
		n, ok := names[ext.Id.String()]
		if !ok {
			n = "extension " + ext.Id.String()
		}
		out = append(out, n)
	}
	return out
}
