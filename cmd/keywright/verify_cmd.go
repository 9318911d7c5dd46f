package main

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// VerifyCmd is `verify NAME|FILE`.
type VerifyCmd struct {
	Ref     string        `arg:"" optional:"" name:"name-or-file" help:"Certificate NAME (NAME.crt and NAME.pem) or file."`
	CA      string        `name:"ca" help:"Require the chain to go through this CA (default: any CA in the store)." placeholder:"CA"`
	Host    string        `help:"Check that the certificate is valid for this host name or IP address (with --connect: HOST by default)." placeholder:"H"`
	At      string        `help:"Check at this time (RFC 3339, or YYYY-MM-DD) instead of now." placeholder:"TIME"`
	Passin  string        `help:"Passphrase source for an encrypted NAME.key (for the key check)." placeholder:"SRC"`
	Connect string        `help:"Check the chain the TLS server at HOST[:PORT] (default port 443) presents instead of a file." placeholder:"HOST[:PORT]"`
	Timeout time.Duration `help:"With --connect: how long to wait for the server." default:"10s"`
}

// Validate wants one certificate: NAME|FILE or --connect.
func (c *VerifyCmd) Validate() error {
	switch {
	case c.Ref == "" && c.Connect == "":
		return errors.New("no certificate: give a NAME|FILE, or --connect HOST[:PORT]")
	case c.Ref != "" && c.Connect != "":
		return errors.New("give a certificate NAME|FILE or --connect HOST[:PORT], not both")
	}
	return nil
}

// checkResult is one check of verify.
type checkResult struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"`
	Detail  string `json:"detail"`
}

// verifyReport is verify's --json document.
type verifyReport struct {
	File     string        `json:"file"`
	Subject  string        `json:"subject"`
	Serial   string        `json:"serial"`
	NotAfter time.Time     `json:"not_after"`
	At       time.Time     `json:"at"`
	OK       bool          `json:"ok"`
	Checks   []checkResult `json:"checks"`
}

func (c *VerifyCmd) Run(e *Env) error {
	if _, err := e.ReadStore(); err != nil {
		return err
	}
	at, err := parseAt(c.At, e.Now())
	if err != nil {
		return err
	}
	file, certs, err := c.read(e)
	if err != nil {
		return err
	}
	v := verifier{e: e, cmd: c, leaf: certs[0], extra: certs[1:], at: at}
	if c.CA != "" {
		// a --ca that is not a CA is an error, not a failed check (exit 1, not 3)
		if v.ca, err = loadCACert(e, c.CA); err != nil {
			return err
		}
	}
	checks := []checkResult{v.validity()}
	chain := v.chain()
	checks = append(checks, chain, v.revocation(), v.key(file))
	if c.Host != "" {
		checks = append(checks, v.host())
	}
	return c.report(e, file, v, checks)
}

// read loads the certificate and whatever chain sits with it.
func (c *VerifyCmd) read(e *Env) (string, []*x509.Certificate, error) {
	if c.Connect != "" {
		return c.connect(e) // tls_fetch.go
	}
	path, err := e.Store().Resolve(c.Ref, store.Cert)
	if err != nil {
		return "", nil, err
	}
	if !store.IsPath(c.Ref) {
		if p, _ := e.Store().Path(c.Ref, store.Chain); store.Exists(p) {
			path = p
		}
	}
	data, err := store.ReadFile(path, e.Stdin)
	if err != nil {
		return "", nil, err
	}
	certs, err := ca.ParseCerts(data)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", displayPath(path), err)
	}
	return path, certs, nil
}

func (c *VerifyCmd) report(e *Env, file string, v verifier, checks []checkResult) error {
	failed, passed := 0, []string{}
	for _, ch := range checks {
		switch {
		case !ch.OK:
			failed++
			e.UI.Failf("%s: %s: %s", displayPath(file), ch.Name, oneLine(ch.Detail))
		case !ch.Skipped:
			passed = append(passed, ch.Name)
		}
	}
	if e.Globals.JSON {
		rep := verifyReport{File: displayPath(file), Subject: v.leaf.Subject.String(), Serial: ca.FormatSerial(v.leaf.SerialNumber),
			NotAfter: v.leaf.NotAfter.UTC(), At: v.at.UTC().Truncate(time.Second), OK: failed == 0, Checks: checks}
		if err := writeJSON(e, rep); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &checkFailed{n: failed}
	}
	e.UI.Infof("%s: ok (%s)", displayPath(file), strings.Join(passed, ", "))
	return nil
}

// parseAt reads --at: RFC 3339 or a date (midnight UTC).
func parseAt(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--at %q: give a time as 2026-05-01 or 2026-05-01T12:00:00Z", s)
}

// verifier runs the checks of one certificate.
type verifier struct {
	e     *Env
	cmd   *VerifyCmd
	leaf  *x509.Certificate
	extra []*x509.Certificate // intermediates that came with it
	at    time.Time
	ca    *ca.Authority       // --ca, loaded
	path  []*x509.Certificate // the verified chain, leaf first
}

func (v *verifier) validity() checkResult {
	r := checkResult{Name: "validity", OK: true}
	switch {
	case v.at.After(v.leaf.NotAfter):
		r.OK, r.Detail = false, "expired on "+v.leaf.NotAfter.UTC().Format(time.RFC3339)
	case v.at.Before(v.leaf.NotBefore):
		r.OK, r.Detail = false, "not valid until "+v.leaf.NotBefore.UTC().Format(time.RFC3339)
	default:
		r.Detail = fmt.Sprintf("valid until %s (%d days left)", v.leaf.NotAfter.UTC().Format(time.RFC3339), int(v.leaf.NotAfter.Sub(v.at).Hours()/24))
	}
	return r
}

// chain verifies against the store's roots (or --ca's), at --at clamped to
// the leaf's own period so an expired leaf is reported once, as validity.
func (v *verifier) chain() checkResult {
	r := checkResult{Name: "chain"}
	roots, inter, want, err := v.pools()
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	at := v.at
	if at.After(v.leaf.NotAfter) {
		at = v.leaf.NotAfter
	} else if at.Before(v.leaf.NotBefore) {
		at = v.leaf.NotBefore
	}
	chains, err := v.leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	for _, ch := range chains {
		if want == nil || containsCert(ch, want) {
			v.path = ch
			r.OK, r.Detail = true, describeChain(ch)
			return r
		}
	}
	r.Detail = fmt.Sprintf("it does not chain to CA %s (only %s)", v.cmd.CA, describeChain(chains[0]))
	return r
}

// pools are the trust anchors and intermediates to verify with: --ca's
// root and chain, or every CA in the store.
func (v *verifier) pools() (roots, inter *x509.CertPool, want *x509.Certificate, err error) {
	roots, inter = x509.NewCertPool(), x509.NewCertPool()
	for _, c := range v.extra {
		inter.AddCert(c)
	}
	if a := v.ca; a != nil {
		roots.AddCert(a.Root)
		for _, c := range a.Issuers() {
			inter.AddCert(c)
		}
		return roots, inter, a.Cert, nil
	}
	known, err := ca.KnownCAs(v.e.Ctx, v.e.Store())
	if err != nil {
		return nil, nil, nil, err
	}
	n := 0
	for _, s := range known {
		switch {
		case !s.Cert.IsCA:
		case ca.IssuerOf(s.Cert, []ca.Stored{s}) != nil:
			roots.AddCert(s.Cert)
			n++
		default:
			inter.AddCert(s.Cert)
		}
	}
	if n == 0 {
		return nil, nil, nil, fmt.Errorf("no root CA in store %s to verify against; give --ca", storeName(v.e))
	}
	return roots, inter, nil, nil
}

func containsCert(chain []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range chain {
		if x.Equal(c) {
			return true
		}
	}
	return false
}

// describeChain names a chain from the leaf's issuer up to the root.
func describeChain(chain []*x509.Certificate) string {
	var names []string
	for _, c := range chain[1:] {
		names = append(names, fmt.Sprintf("%q", c.Subject.CommonName))
	}
	if len(names) == 0 {
		return "self-signed and trusted"
	}
	return "chains to " + strings.Join(names, " -> ")
}

// revocation looks the certificate up in its issuer's record.
func (v *verifier) revocation() checkResult {
	r := checkResult{Name: "revocation", OK: true}
	if len(v.path) < 2 {
		r.Skipped, r.Detail = true, "no verified issuer to ask"
		return r
	}
	issuer := v.path[1]
	known, _ := ca.KnownCAs(v.e.Ctx, v.e.Store())
	for _, s := range known {
		if !s.Cert.Equal(issuer) {
			continue
		}
		entry, err := ca.LookupIssued(v.e.Ctx, s, v.leaf)
		switch {
		case err != nil:
			r.OK, r.Detail = false, err.Error()
		case entry == nil:
			r.Skipped, r.Detail = true, fmt.Sprintf("not in CA %s's record", s.Name)
		case entry.Revoked:
			r.OK, r.Detail = false, fmt.Sprintf("revoked by CA %s on %s (%s)", s.Name, entry.RevokedAt.UTC().Format(time.RFC3339), entry.Reason)
		default:
			r.Detail = fmt.Sprintf("not revoked in CA %s's record", s.Name)
		}
		return r
	}
	r.Skipped, r.Detail = true, "the issuer is not in the store"
	return r
}

// key compares the certificate with the private key next to it, if any.
func (v *verifier) key(file string) checkResult {
	r := checkResult{Name: "key", OK: true}
	if v.cmd.Connect != "" {
		r.Skipped, r.Detail = true, "the server's private key is the server's"
		return r
	}
	keyPath, err := v.e.Store().Sibling(file, store.Key)
	if err != nil || file == "-" || !store.Exists(keyPath) {
		r.Skipped, r.Detail = true, "no private key next to the certificate"
		return r
	}
	data, err := store.ReadFile(keyPath, nil)
	if err == nil && keygen.IsEncrypted(data) && v.cmd.Passin == "" && !v.e.CanPrompt() {
		r.Skipped, r.Detail = true, keyPath+" is encrypted; give --passin to check it"
		return r
	}
	k, err := loadKey(v.e, keyPath, "--passin", v.cmd.Passin)
	if err != nil {
		r.OK, r.Detail = false, err.Error()
		return r
	}
	pub, ok := k.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(v.leaf.PublicKey) {
		r.OK, r.Detail = false, keyPath+" does not match the certificate"
		return r
	}
	r.Detail = keyPath + " matches"
	return r
}

func (v *verifier) host() checkResult {
	r := checkResult{Name: "host", OK: true, Detail: v.cmd.Host + " is one of the names"}
	if err := v.leaf.VerifyHostname(v.cmd.Host); err != nil {
		r.OK, r.Detail = false, err.Error()
	}
	return r
}
