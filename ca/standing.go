package ca

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/store"
)

// Errors of a CA's standing (README "Certificate authority", Policy).
var (
	// ErrCARevoked: the CA, or a CA above it, is revoked in its issuer's
	// record; it signs nothing.
	ErrCARevoked = newError("the CA is revoked")
	// ErrCAKey: the key to certify is the key of a CA of the store.
	ErrCAKey = newError("the public key is a CA's key")
)

// RevokedCAError says which CA of a chain is revoked, by whom and when.
type RevokedCAError struct {
	CA      string    // the CA that was to sign (or be trusted)
	Revoked string    // the revoked CA: CA itself or one above it
	By      string    // the CA whose record revoked it
	At      time.Time // when
	Reason  string
}

func (e *RevokedCAError) Error() string { return "ca: " + e.Text() }

// Text is the message without the package name (internal/fault).
func (e *RevokedCAError) Text() string {
	who := "CA " + e.CA
	if e.Revoked != e.CA {
		who = fmt.Sprintf("CA %s is below CA %s, which", e.CA, e.Revoked)
	}
	return fmt.Sprintf("%s: %s was revoked by CA %s on %s (%s)", fault.Text(ErrCARevoked), who, e.By, day(e.At), e.Reason)
}

// Is makes errors.Is(err, ErrCARevoked) true.
func (e *RevokedCAError) Is(target error) bool { return target == ErrCARevoked }

// standing is what Load learns from the store about a CA before it signs:
// whether it or a CA above it is revoked (or its entry cannot be read), and
// the keys of the store's CAs, none of which it may certify.
type standing struct {
	refusal error               // why the CA may not sign: a *RevokedCAError or a damaged entry; nil when it may
	caKeys  map[[32]byte]string // SPKI SHA-256 of each CA key of the store → its NAME
}

// loadStanding reads the record(s) of a's store and directory: the entry of
// every certificate of a's chain (a revoked one, or one that cannot be read
// completely, is a.refusal), and every CA the store knows (a CA
// certificate that cannot be read is an error: its key would go
// unchecked).
func (a *Authority) loadStanding(ctx context.Context, st *store.Store) error {
	a.standing = standing{caKeys: map[[32]byte]string{}}
	chain := a.fullChain()
	for _, dir := range uniqueDirs(st.Dir, filepath.Dir(a.Paths.Record)) {
		if err := a.standingIn(ctx, dir, chain); err != nil {
			return err
		}
	}
	return nil
}

// standingIn is loadStanding for the store in dir.
func (a *Authority) standingIn(ctx context.Context, dir string, chain []*x509.Certificate) error {
	if !ExistsDB(dir) && !hasLegacy(dir) {
		found, _ := ScanDir(dir) // no record: a file that does not parse is not a CA the store knows
		for _, s := range found {
			if s.Cert.IsCA {
				a.caKeys[sha256.Sum256(s.Cert.RawSubjectPublicKeyInfo)] = s.Name
			}
		}
		return nil
	}
	db, err := OpenDB(ctx, dir, discoveryTimeout)
	if err != nil {
		return err
	}
	defer db.Close()
	known, err := db.CAs(ctx)
	if err != nil {
		return err
	}
	for _, k := range known {
		certs, err := ReadCerts(k.CertPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // a CA whose files are gone
		case err != nil:
			return errorf("%w (CA %s is in the record %s; every CA's key is checked before signing)", err, k.Name, db.Path)
		}
		a.caKeys[sha256.Sum256(certs[0].RawSubjectPublicKeyInfo)] = k.Name
	}
	if a.refusal != nil {
		return nil
	}
	entries, err := db.chainEntries(ctx, chain)
	if err != nil {
		return err
	}
	for i, e := range entries {
		switch {
		case e == nil:
		case e.Revoked && e.Damaged == nil:
			a.refusal = &RevokedCAError{CA: a.Paths.Name, Revoked: caNameOf(e, chain[i]), By: e.CA, At: e.RevokedAt, Reason: e.Reason}
			return nil
		case e.Damaged != nil && a.refusal == nil:
			// Whether it is revoked is not known: it does not sign, but
			// it can still be looked at, revoke and publish its CRL.
			a.refusal = e.Damaged
		}
	}
	return nil
}

// CanSign reports why the CA may not sign at now, or nil: it (or a CA
// above it) is revoked, expired or not yet valid (what Sign refuses before
// looking at a request).
func (a *Authority) CanSign(now time.Time) error {
	var rev *RevokedCAError
	switch {
	case errors.As(a.refusal, &rev):
		return errorf("%w; a revoked CA signs nothing", a.refusal)
	case a.refusal != nil:
		return errorf("%w (so whether CA %s may sign is not known)", a.refusal, a.Paths.Name)
	}
	return checkIssuerTime(a.Paths.Name, append(a.Issuers(), a.Root), now, Window{})
}

// caNameOf is how messages name the CA certificate c whose entry is e.
func caNameOf(e *Entry, c *x509.Certificate) string {
	if e.Name != "" {
		return e.Name
	}
	return fmt.Sprintf("%q", c.Subject.CommonName)
}

func uniqueDirs(dirs ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			abs = filepath.Clean(d)
		}
		if !seen[abs] {
			seen[abs] = true
			out = append(out, d)
		}
	}
	return out
}

// fullChain is the CA's certificate, the intermediates above it and its
// root, each signed by the next.
func (a *Authority) fullChain() []*x509.Certificate {
	chain := append([]*x509.Certificate{a.Cert}, a.Chain...)
	if a.Root != nil && !a.IsRoot() {
		chain = append(chain, a.Root)
	}
	return chain
}

// checkKey refuses to certify the key of a CA: the signing CA's own, one
// above it, or any CA the store knows.
func (a *Authority) checkKey(pub crypto.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return errorf("%w", err)
	}
	sum := sha256.Sum256(der)
	for _, c := range a.fullChain() {
		if sum == sha256.Sum256(c.RawSubjectPublicKeyInfo) {
			return errorf("%w: it is the key of CA %q, which a certificate may not share (SPKI SHA-256 %x)", ErrCAKey, c.Subject.CommonName, sum)
		}
	}
	if name, ok := a.caKeys[sum]; ok {
		return errorf("%w: it is the key of CA %s of the store, which a certificate may not share (SPKI SHA-256 %x)", ErrCAKey, name, sum)
	}
	return nil
}

// chainEntries finds the record entry of each certificate of chain (each
// signed by the next; the last may be self-signed): the one with its
// fingerprint, or with its serial in the record of the CA whose
// certificate is the next one (for the last, itself); nil where the record
// has none. Of several, a revoked one is preferred, then one that cannot be
// read completely (Damaged set: the status is not known).
func (db *DB) chainEntries(ctx context.Context, chain []*x509.Certificate) ([]*Entry, error) {
	out := make([]*Entry, len(chain))
	for i, c := range chain {
		issuer := c
		if i+1 < len(chain) {
			issuer = chain[i+1]
		}
		err := db.scanEntries(ctx, true, func(e *Entry) error {
			out[i] = preferred(out[i], e)
			return nil
		}, "WHERE c.sha256 = ? OR (c.serial = ? AND c.ca_id IN (SELECT id FROM cas WHERE sha256 = ?)) ORDER BY c.id",
			fingerprint(c), FormatSerial(c.SerialNumber), fingerprint(issuer))
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// preferred is the entry that says more about a certificate's standing: a
// revoked one, else a damaged one (its status unknown), else the first.
func preferred(have, e *Entry) *Entry {
	switch {
	case have == nil:
		return e
	case have.Revoked && have.Damaged == nil:
		return have
	case e.Revoked && e.Damaged == nil, e.Damaged != nil && have.Damaged == nil:
		return e
	}
	return have
}
