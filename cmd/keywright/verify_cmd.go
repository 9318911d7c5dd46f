package main

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// VerifyCmd is `verify NAME|FILE`.
type VerifyCmd struct {
	Ref     string        `arg:"" optional:"" name:"name-or-file" help:"Certificate NAME (NAME.crt and NAME.pem) or file." completion-predictor:"cert"`
	CA      string        `name:"ca" help:"Require the chain to go through this CA (default: any CA in the store)." placeholder:"CA" completion-predictor:"ca" type:"nonempty"`
	Host    string        `help:"Check that the certificate is valid for this host name or IP address (with --connect: HOST by default)." placeholder:"H" type:"nonempty"`
	At      *string       `help:"Check at this time instead of now: YYYY-MM-DD, RFC 3339, YYYYMMDD[HHMM[SS]][Z], or a duration from now such as 30d." placeholder:"TIME"`
	Passin  string        `help:"Passphrase source for an encrypted NAME.key (for the key check)." placeholder:"SRC" type:"source"`
	Connect string        `help:"Check the chain the TLS server at HOST[:PORT] (default port 443) presents instead of a file." placeholder:"HOST[:PORT]"`
	Timeout time.Duration `help:"With --connect: how long to wait for the server." default:"10s"`
}

// Validate wants one certificate: NAME|FILE or --connect.
func (c *VerifyCmd) Validate() error {
	switch {
	case c.Ref == "" && c.Connect == "":
		return newError("no certificate: give a NAME|FILE, or --connect HOST[:PORT]")
	case c.Ref != "" && c.Connect != "":
		return newError("give a certificate NAME|FILE or --connect HOST[:PORT], not both")
	}
	return nil
}

// checkResult is one check of verify.
type checkResult struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"`
	Detail  string `json:"detail"`
	unknown bool   // could not be made: the command's error says why
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
	at := e.Now()
	if c.At != nil { // given empty, it is refused, not taken as now
		var err error
		if at, err = timeFlag("--at", *c.At, at); err != nil {
			return err
		}
	}
	file, certs, err := c.read(e)
	if err != nil {
		return err
	}
	v := verifier{e: e, cmd: c, leaf: certs[0], at: at}
	opt := ca.VerifyOptions{At: at, Intermediates: certs[1:]}
	if c.CA != "" {
		// a --ca that is not a CA is an error, not a failed check (exit 1, not 3)
		if opt.Through, err = loadCACert(e, c.CA); err != nil {
			return err
		}
	}
	res, verr := ca.Verify(e.Ctx, e.Store(), v.leaf, opt)
	var checks []checkResult
	for _, ch := range res.Checks {
		r := checkResult{Name: ch.Name, OK: ch.Err == nil, Skipped: ch.Skipped, Detail: ch.Detail, unknown: ch.Unknown}
		if errors.Is(ch.Err, ca.ErrNoTrustAnchor) {
			r.Detail = fmt.Sprintf("no root CA in store %s to verify against; give --ca", storeName(e))
		}
		checks = append(checks, r)
	}
	checks = append(checks, v.key(file))
	if c.Host != "" {
		checks = append(checks, v.host())
	}
	return c.report(e, file, v, checks, verr)
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
		return "", nil, errorf("%s: %w", displayPath(path), err)
	}
	return path, certs, nil
}

// report prints a line per failed check and the JSON document. A check
// that could not be made (the store or its record could not be read) is
// the command's error, exit 1, after the report.
func (c *VerifyCmd) report(e *Env, file string, v verifier, checks []checkResult, verr error) error {
	failed, passed := 0, []string{}
	for _, ch := range checks {
		switch {
		case ch.unknown:
		case !ch.OK:
			failed++
			e.UI.Failf("%s: %s: %s", displayPath(file), ch.Name, oneLine(ch.Detail))
		case !ch.Skipped:
			passed = append(passed, ch.Name)
		}
	}
	if e.Globals.JSON {
		rep := verifyReport{File: displayPath(file), Subject: v.leaf.Subject.String(), Serial: ca.FormatSerial(v.leaf.SerialNumber),
			NotAfter: v.leaf.NotAfter.UTC(), At: v.at.UTC().Truncate(time.Second), OK: failed == 0 && verr == nil, Checks: checks}
		if err := writeJSON(e, rep); err != nil {
			return err
		}
	}
	switch {
	case verr != nil:
		return verr
	case failed > 0:
		return &checkFailed{n: failed}
	}
	e.UI.Infof("%s: ok (%s)", displayPath(file), strings.Join(passed, ", "))
	return nil
}

// verifier runs the checks of one certificate.
type verifier struct {
	e    *Env
	cmd  *VerifyCmd
	leaf *x509.Certificate
	at   time.Time
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
		r.OK, r.Detail = false, fault.Text(err)
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
	if err := v.leaf.VerifyHostname(asciiHost(v.cmd.Host)); err != nil {
		r.OK, r.Detail = false, fault.Text(ca.X509Reason(err))
	}
	return r
}

// asciiHost is a host name as certificates hold it: an internationalised
// name in its xn-- form, as issue --san writes it (bücher.test is
// xn--bcher-kva.test). An IP address, or a name idna cannot map, is
// returned as given.
func asciiHost(h string) string {
	if net.ParseIP(h) != nil {
		return h
	}
	if a, err := idna.Lookup.ToASCII(h); err == nil {
		return a
	}
	return h
}
