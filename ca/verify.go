package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/store"
)

// The checks Verify makes, by name (README "Certificate authority", verify).
const (
	CheckValidity   = "validity"
	CheckChain      = "chain"
	CheckRevocation = "revocation"
)

// Errors of Verify's checks: each failed check's *CheckError wraps one.
var (
	ErrCertExpired     = newError("the certificate has expired")
	ErrCertNotYetValid = newError("the certificate is not valid yet")
	ErrUntrusted       = newError("the certificate does not chain to a root the store trusts")
	ErrNotThroughCA    = newError("the certificate does not chain through the CA asked for")
	ErrNoTrustAnchor   = newError("the store has no root CA to verify against")
	ErrRevoked         = newError("the certificate is revoked")
	// ErrCARevoked (a *RevokedCAError): a CA of the chain is revoked.
	// ErrCAExpired, ErrCANotYetValid: a CA of the chain is out of its validity.
)

// CheckError is a failed check: Kind is one of the sentinels above, Detail
// says what was found.
type CheckError struct {
	Kind   error
	Detail string
	Err    error // the cause (crypto/x509's error, a *RevokedCAError), or nil
}

func (e *CheckError) Error() string   { return e.Detail }
func (e *CheckError) Unwrap() []error { return []error{e.Kind, e.Err} }

// VerifyOptions are what Verify checks against.
type VerifyOptions struct {
	At            time.Time           // the time to check at; zero: now
	Intermediates []*x509.Certificate // certificates that came with it (its NAME.pem)
	Through       *Authority          // the chain must go through this CA; nil: any CA of the store
}

// Check is one check of Verify: it passed (Err nil), was skipped, or failed.
type Check struct {
	Name    string // CheckValidity, CheckChain, CheckRevocation
	Detail  string // what was found; for a failed check, Err's text
	Skipped bool
	Err     error // nil: passed or skipped; a *CheckError, or (Unknown) why the check could not be made
	// Unknown: the check could not be made, because the store or its
	// record could not be read (Err says which); Verify's error says it too.
	Unknown bool
}

// Verification is what Verify found out about a certificate.
type Verification struct {
	Chain  []*x509.Certificate // the verified chain, the certificate first, its root last; nil if none
	Checks []Check             // validity, chain, then revocation (one check per revoked certificate of the chain)
}

// Err joins the errors of the failed checks (nil when all passed).
func (v *Verification) Err() error {
	var errs []error
	for _, c := range v.Checks {
		errs = append(errs, c.Err)
	}
	return errors.Join(errs...)
}

// Verify checks a certificate as a client of the store's CAs would, and
// more: its validity at opt.At, its chain to a root of the store (or
// through opt.Through) with crypto/x509, and the revocation of every
// certificate of the chain in the record of the CA that issued it (a
// revoked CA fails every certificate below it; a root that revoked itself
// fails the whole chain). Every failed check is in the result, not just the
// first. The error is for what stops a check from being made — a store
// directory, CA certificate or record that cannot be read (ErrRecord,
// ErrStoreUnreadable) — never reported as "no root" or "not in the store";
// the checks it affects are Unknown.
func Verify(ctx context.Context, st *store.Store, leaf *x509.Certificate, opt VerifyOptions) (*Verification, error) {
	if opt.At.IsZero() {
		opt.At = time.Now()
	}
	v := &Verification{Checks: []Check{validity(leaf, opt.At)}}
	known, problems := verifyCAs(ctx, st)
	v.Checks = append(v.Checks, v.chain(leaf, known, problems, opt))
	rev, err := v.revocation(ctx, st, known)
	v.Checks = append(v.Checks, rev...)
	return v, errors.Join(append(problems, err)...)
}

// verifyCAs are the CAs of the store, and every problem met reading them.
func verifyCAs(ctx context.Context, st *store.Store) ([]Stored, []error) {
	known, problems, err := knownCAs(ctx, st)
	if err != nil {
		problems = append(problems, err)
	}
	return known, problems
}

func validity(leaf *x509.Certificate, at time.Time) Check {
	c := Check{Name: CheckValidity}
	switch {
	case at.After(leaf.NotAfter):
		c.Err = &CheckError{Kind: ErrCertExpired, Detail: "expired on " + leaf.NotAfter.UTC().Format(time.RFC3339)}
	case at.Before(leaf.NotBefore):
		c.Err = &CheckError{Kind: ErrCertNotYetValid, Detail: "not valid until " + leaf.NotBefore.UTC().Format(time.RFC3339)}
	default:
		c.Detail = fmt.Sprintf("valid until %s (%d days left)", leaf.NotAfter.UTC().Format(time.RFC3339), int(leaf.NotAfter.Sub(at).Hours()/24))
	}
	return finish(c)
}

// finish copies a failed check's error into its detail.
func finish(c Check) Check {
	if c.Err != nil {
		c.Detail = fault.Text(c.Err)
	}
	return c
}

// chain verifies against the store's roots (or opt.Through's), at opt.At
// clamped to the certificate's own period, so an expired certificate is
// reported once, as validity.
func (v *Verification) chain(leaf *x509.Certificate, known []Stored, problems []error, opt VerifyOptions) Check {
	c := Check{Name: CheckChain}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, x := range opt.Intermediates {
		inter.AddCert(x)
	}
	n := 0
	if a := opt.Through; a != nil {
		roots.AddCert(a.Root)
		n++
		for _, x := range a.Issuers() {
			inter.AddCert(x)
		}
	} else {
		for _, s := range known {
			if isSelfSigned(s.Cert) {
				roots.AddCert(s.Cert)
				n++
			} else {
				inter.AddCert(s.Cert)
			}
		}
	}
	if n == 0 {
		if len(problems) > 0 {
			c.Unknown, c.Err = true, errors.Join(problems...)
			return finish(c)
		}
		c.Err = &CheckError{Kind: ErrNoTrustAnchor, Detail: fault.Text(ErrNoTrustAnchor)}
		return finish(c)
	}
	at := opt.At
	if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	} else if at.Before(leaf.NotBefore) {
		at = leaf.NotBefore
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		if len(problems) > 0 { // the root may be what could not be read
			c.Unknown, c.Err = true, errors.Join(append([]error{err}, problems...)...)
			return finish(c)
		}
		c.Err = chainError(leaf, err, at)
		return finish(c)
	}
	for _, ch := range chains {
		if opt.Through == nil || containsCert(ch, opt.Through.Cert) {
			v.Chain = ch
			c.Detail = describeChain(ch)
			return c
		}
	}
	c.Err = &CheckError{Kind: ErrNotThroughCA, Detail: fmt.Sprintf("it does not chain to CA %s (only %s)", opt.Through.Paths.Name, describeChain(chains[0]))}
	return finish(c)
}

// chainError names a CA of the chain that is out of its validity, else
// says what crypto/x509 found.
func chainError(leaf *x509.Certificate, err error, at time.Time) *CheckError {
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired && inv.Cert != nil && !inv.Cert.Equal(leaf) {
		c := inv.Cert
		if at.Before(c.NotBefore) {
			return &CheckError{Kind: ErrCANotYetValid, Err: err, Detail: fmt.Sprintf("CA %q is valid from %s only", c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339))}
		}
		return &CheckError{Kind: ErrCAExpired, Err: err, Detail: fmt.Sprintf("CA %q expired on %s", c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339))}
	}
	return &CheckError{Kind: ErrUntrusted, Err: err, Detail: fault.Text(X509Reason(err))}
}

func containsCert(chain []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range chain {
		if x.Equal(c) {
			return true
		}
	}
	return false
}

// describeChain names a chain from the certificate's issuer up to the root.
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

// revocation looks every certificate of the verified chain up in the
// record of the CA that issued it: one failed check per revoked one, else
// one check that says where the certificate was found.
func (v *Verification) revocation(ctx context.Context, st *store.Store, known []Stored) ([]Check, error) {
	c := Check{Name: CheckRevocation}
	if len(v.Chain) == 0 {
		c.Skipped, c.Detail = true, "no verified issuer to ask"
		return []Check{c}, nil
	}
	issuer := storedOf(v.Chain[min(1, len(v.Chain)-1)], known)
	if issuer == nil {
		c.Skipped, c.Detail = true, "the issuer is not in the store"
		return []Check{c}, nil
	}
	entries, err := chainEntriesIn(ctx, st, v.Chain, known)
	if err != nil {
		c.Unknown, c.Err = true, err
		return []Check{finish(c)}, err
	}
	var failed []Check
	var damaged []error
	for i, e := range entries {
		if e != nil && e.Damaged != nil {
			damaged = append(damaged, e.Damaged)
			continue
		}
		if e == nil || !e.Revoked {
			continue
		}
		if i == 0 {
			failed = append(failed, finish(Check{Name: CheckRevocation, Err: &CheckError{Kind: ErrRevoked,
				Detail: fmt.Sprintf("revoked by CA %s on %s (%s)", e.CA, e.RevokedAt.UTC().Format(time.RFC3339), e.Reason)}}))
			continue
		}
		rev := &RevokedCAError{CA: caNameOf(e, v.Chain[i]), Revoked: caNameOf(e, v.Chain[i]), By: e.CA, At: e.RevokedAt, Reason: e.Reason}
		failed = append(failed, finish(Check{Name: CheckRevocation, Err: &CheckError{Kind: ErrCARevoked, Err: rev, Detail: fault.Text(rev)}}))
	}
	if len(damaged) > 0 { // not known whether they are revoked
		err := errors.Join(damaged...)
		c.Unknown, c.Err = true, err
		return append(failed, finish(c)), err
	}
	if len(failed) > 0 {
		return failed, nil
	}
	if len(v.Chain) == 1 { // a trusted root: only its own record can revoke it
		c.Skipped, c.Detail = true, fmt.Sprintf("a root: not revoked in its own record (%s)", issuer.Name)
		return []Check{c}, nil
	}
	if entries[0] == nil {
		c.Skipped, c.Detail = true, fmt.Sprintf("not in CA %s's record", issuer.Name)
		return []Check{c}, nil
	}
	c.Detail = fmt.Sprintf("not revoked in CA %s's record", issuer.Name)
	if len(v.Chain) > 2 {
		c.Detail += ", nor is a CA above it"
	}
	return []Check{c}, nil
}

// storedOf is the store CA whose certificate is c, or nil.
func storedOf(c *x509.Certificate, known []Stored) *Stored {
	for i := range known {
		if known[i].Cert.Equal(c) {
			return &known[i]
		}
	}
	return nil
}

// chainEntriesIn is chainEntries in the records of the store and of the
// directories of the chain's CAs, a revoked entry first.
func chainEntriesIn(ctx context.Context, st *store.Store, chain []*x509.Certificate, known []Stored) ([]*Entry, error) {
	dirs := []string{st.Dir}
	for _, c := range chain[1:] {
		if s := storedOf(c, known); s != nil {
			dirs = append(dirs, filepath.Dir(s.Path))
		}
	}
	out := make([]*Entry, len(chain))
	for _, dir := range uniqueDirs(dirs...) {
		if !ExistsDB(dir) && !hasLegacy(dir) {
			continue
		}
		db, err := OpenDB(ctx, dir, discoveryTimeout)
		if err != nil {
			return nil, err
		}
		entries, err := db.chainEntries(ctx, chain)
		db.Close()
		if err != nil {
			return nil, err
		}
		for i, e := range entries {
			if e != nil {
				out[i] = preferred(out[i], e)
			}
		}
	}
	return out, nil
}
