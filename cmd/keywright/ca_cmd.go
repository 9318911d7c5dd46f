package main

import (
	"crypto"
	"crypto/x509/pkix"
	"fmt"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/csr"
)

// CACmd groups the certificate authority commands.
type CACmd struct {
	Init   CAInitCmd   `cmd:"" help:"Create a root CA, or an intermediate signed by --parent."`
	Sign   CASignCmd   `cmd:"" help:"Sign a certificate request with a CA."`
	Revoke CARevokeCmd `cmd:"" help:"Revoke a certificate a CA issued."`
	CRL    CACRLCmd    `cmd:"" name:"crl" help:"Sign the CA's certificate revocation list as CA.crl."`
	Log    CALogCmd    `cmd:"" help:"Print the CA's record: issued, revoked and CRL events, oldest first (--json: JSON Lines)."`
	Trust  CATrustCmd  `cmd:"" help:"Put a root CA into this machine's trust stores, take it out, or say where it is: install, uninstall, status."`
}

// CAInitCmd is `ca init NAME`.
type CAInitCmd struct {
	Name         string   `arg:"" help:"CA name: NAME.key, NAME.crt (and NAME.pem for an intermediate) in the store."`
	CN           string   `name:"cn" help:"Subject common name (default: NAME)." placeholder:"CN"`
	Org          string   `help:"Subject organization (default: keywright)." placeholder:"O"`
	Days         *int     `help:"Validity in days (default: 10 years for a root, 5 for an intermediate; at most 10950, 30 years)." placeholder:"N"`
	Parent       string   `help:"Make an intermediate CA signed by this CA." placeholder:"CA" completion-predictor:"ca" type:"nonempty"`
	PathLen      *int     `name:"path-len" help:"How many CAs may follow below this one (default: unlimited for a root, 0 for an intermediate)." placeholder:"N"`
	PermitDNS    []string `name:"permit-dns" help:"Name constraint: may only sign DNS names in this domain (repeat); URI hosts and email domains too, unless --permit-uri/--exclude-uri or --permit-email/--exclude-email say otherwise." placeholder:"DOMAIN,..." type:"option"`
	ExcludeDNS   []string `name:"exclude-dns" help:"Name constraint: may not sign DNS names in this domain (repeat); URI hosts and email domains neither, as --permit-dns." placeholder:"DOMAIN,..." type:"option"`
	PermitIP     []string `name:"permit-ip" help:"Name constraint: may only sign IP addresses in this range (repeat)." placeholder:"CIDR,..." type:"option"`
	ExcludeIP    []string `name:"exclude-ip" help:"Name constraint: may not sign IP addresses in this range (repeat)." placeholder:"CIDR,..." type:"option"`
	PermitEmail  []string `name:"permit-email" help:"Name constraint: may only sign email addresses at this host (.DOMAIN: at a host below it) (repeat)." placeholder:"DOMAIN,..." type:"option"`
	ExcludeEmail []string `name:"exclude-email" help:"Name constraint: may not sign email addresses at this host (.DOMAIN: at a host below it) (repeat)." placeholder:"DOMAIN,..." type:"option"`
	PermitURI    []string `name:"permit-uri" help:"Name constraint: may only sign URIs whose host is this one (.DOMAIN: a host below it) (repeat)." placeholder:"DOMAIN,..." type:"option"`
	ExcludeURI   []string `name:"exclude-uri" help:"Name constraint: may not sign URIs whose host is this one (.DOMAIN: a host below it) (repeat)." placeholder:"DOMAIN,..." type:"option"`
	KeyFlags     `embed:""`
	NoPassphrase bool   `name:"no-passphrase" help:"Write the CA key unencrypted."`
	Passout      string `help:"Encrypt the CA key with the passphrase from SRC." placeholder:"SRC" type:"source"`
	CAKeyFlags   `embed:""`

	passoutFlag string // the flag Passout came from, for messages (default --passout)
}

func (c *CAInitCmd) Run(e *Env) error {
	req, err := c.request(e)
	if err != nil {
		return err
	}
	if c.Parent != "" {
		if req.Parent, err = loadAuthority(e, c.Parent, c.CAKeyFlags); err != nil {
			return err
		}
	}
	if req.Root.Key, req.KeyPEM, err = c.newKey(e, req.Paths.Key); err != nil {
		return err
	}
	a, err := ca.Create(e.Ctx, req)
	if err != nil {
		return busyHint(err)
	}
	what := fmt.Sprintf("root CA %q", a.Cert.Subject.CommonName)
	if !a.IsRoot() {
		what = fmt.Sprintf("intermediate CA %q (signed by %s)", a.Cert.Subject.CommonName, c.Parent)
	}
	addCertSummary(e.Result().add("ca", a.Paths.Name).add("cert", a.Paths.Cert).add("key", a.Paths.Key).
		add("encrypted", !c.NoPassphrase), a.Cert)
	e.UI.Infof("wrote %s to %s and %s (key %s, valid until %s)", what,
		a.Paths.Cert, a.Paths.Key, map[bool]string{true: "unencrypted", false: "encrypted"}[c.NoPassphrase], day(a.Cert.NotAfter))
	return nil
}

// request checks the flags and fills everything but the key.
func (c *CAInitCmd) request(e *Env) (ca.CreateRequest, error) {
	var req ca.CreateRequest
	if c.NoPassphrase && c.Passout != "" {
		return req, usagef("--no-passphrase and --passout cannot be used together")
	}
	if _, err := caDays.check(c.Days); err != nil {
		return req, err
	}
	if c.PathLen != nil && *c.PathLen < 0 {
		return req, usagef("--path-len %d: must be 0 or more", *c.PathLen)
	}
	cons, err := c.constraints()
	if err != nil {
		return req, &usageError{err}
	}
	paths, err := ca.PathsFor(e.Store(), c.Name)
	if err != nil {
		return req, err
	}
	if err := refuseExisting(e, paths.Cert, paths.Key); err != nil {
		return req, err
	}
	pathLen := -1 // unlimited: a root's default
	switch {
	case c.PathLen != nil:
		pathLen = *c.PathLen
	case c.Parent != "":
		pathLen = 0
	}
	subject, err := caSubject(c.CN, c.Org, paths.Name)
	if err != nil {
		return req, &usageError{err}
	}
	req = ca.CreateRequest{Store: e.Store(), Paths: paths, Force: e.Globals.Force, LockTimeout: c.LockTimeout,
		Root: ca.RootRequest{Subject: subject, Days: intOr0(c.Days), PathLen: pathLen, Constraints: cons, Now: e.Now()}}
	return req, nil
}

func caSubject(cn, org, name string) (pkix.Name, error) {
	if cn == "" {
		cn = name
	}
	if org == "" {
		org = "keywright"
	}
	return subjectOfFlags(csr.Subject{CommonName: cn, Organization: org}) // csr new's rules
}

// newKey makes the CA key and its PEM, encrypted unless --no-passphrase.
func (c *CAInitCmd) newKey(e *Env, path string) (key crypto.Signer, pemBytes []byte, err error) {
	spec, err := c.spec()
	if err != nil {
		return nil, nil, err
	}
	flag := c.passoutFlag
	if flag == "" {
		flag = "--passout"
	}
	pass, err := passphraseIf(e, !c.NoPassphrase, flag, c.Passout, path)
	if err != nil {
		return nil, nil, err
	}
	return newKey(spec, pass)
}

// constraints checks the name-constraint flags, a refused value named by
// its flag (ca knows no flags).
func (c *CAInitCmd) constraints() (ca.Constraints, error) {
	err := firstRefusedFlag(func(v ca.ConstraintValues) error { _, err := ca.ParseConstraints(v); return err },
		flagAlone[ca.ConstraintValues]{"--permit-dns", ca.ConstraintValues{PermitDNS: c.PermitDNS}},
		flagAlone[ca.ConstraintValues]{"--exclude-dns", ca.ConstraintValues{ExcludeDNS: c.ExcludeDNS}},
		flagAlone[ca.ConstraintValues]{"--permit-ip", ca.ConstraintValues{PermitIP: c.PermitIP}},
		flagAlone[ca.ConstraintValues]{"--exclude-ip", ca.ConstraintValues{ExcludeIP: c.ExcludeIP}},
		flagAlone[ca.ConstraintValues]{"--permit-email", ca.ConstraintValues{PermitEmail: c.PermitEmail}},
		flagAlone[ca.ConstraintValues]{"--exclude-email", ca.ConstraintValues{ExcludeEmail: c.ExcludeEmail}},
		flagAlone[ca.ConstraintValues]{"--permit-uri", ca.ConstraintValues{PermitURI: c.PermitURI}},
		flagAlone[ca.ConstraintValues]{"--exclude-uri", ca.ConstraintValues{ExcludeURI: c.ExcludeURI}})
	if err != nil {
		return ca.Constraints{}, err
	}
	return ca.ParseConstraints(ca.ConstraintValues{PermitDNS: c.PermitDNS, ExcludeDNS: c.ExcludeDNS,
		PermitIP: c.PermitIP, ExcludeIP: c.ExcludeIP, PermitEmail: c.PermitEmail, ExcludeEmail: c.ExcludeEmail,
		PermitURI: c.PermitURI, ExcludeURI: c.ExcludeURI})
}
