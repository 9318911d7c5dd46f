package ca

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/keywright/keywright/store"
)

// Certificate statuses.
const (
	StatusValid       = "valid"
	StatusExpired     = "expired"
	StatusNotYetValid = "not-yet-valid"
	StatusRevoked     = "revoked"
	// StatusIssuerRevoked: a CA above the certificate is revoked (in its
	// own issuer's record), so no client that checks revocation trusts it.
	StatusIssuerRevoked = "issuer-revoked"
	// StatusUnknown: the record entry of the certificate, or of a CA above
	// it, cannot be read completely (Item.Problem says why).
	StatusUnknown = "unknown"
)

// discoveryTimeout bounds the wait for the record database when a command
// only needs to know the store's CAs.
const discoveryTimeout = 30 * time.Second

// KnownCAs are the CA certificates the store's record knows whose
// certificate files are in place, parsed, sorted by name. Only the CAs'
// own files are read, however many certificates the store holds. A record
// that knows no CA looks through the store's *.crt once and registers the
// CAs it finds (a store made by hand, or by a keywright older than the
// record database). A CA file that cannot be read is left out (knownCAs
// reports it).
func KnownCAs(ctx context.Context, st *store.Store) ([]Stored, error) {
	known, _, err := knownCAs(ctx, st)
	return known, err
}

// knownCAs is KnownCAs, and every file it could not read: a CA the record
// knows whose certificate does not parse, or (with no record) any *.crt of
// the store that does not parse, or the store directory itself.
func knownCAs(ctx context.Context, st *store.Store) ([]Stored, []error, error) {
	if !ExistsDB(st.Dir) && !hasLegacy(st.Dir) {
		// Nothing to import: look, but leave the store as it is (a
		// command refused later must not have changed it).
		all, problems := ScanDir(st.Dir)
		return keepCAs(all, func(s Stored) bool { return s.Cert.IsCA }), problems, nil
	}
	db, err := OpenDB(ctx, st.Dir, discoveryTimeout)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	known, err := db.CAs(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(known) == 0 {
		cas, err := db.registerScanned(ctx)
		return cas, nil, err
	}
	var out []Stored
	var problems []error
	for _, k := range known {
		certs, err := ReadCerts(k.CertPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			problems = append(problems, errorf("%w (CA %s of the record %s)", err, k.Name, db.Path))
		case certs[0].IsCA:
			out = append(out, Stored{Name: k.Name, Path: k.CertPath, Cert: certs[0]})
		}
	}
	return out, problems, nil
}

// registerScanned registers every CA (with its key) among the store's
// certificates.
func (db *DB) registerScanned(ctx context.Context) ([]Stored, error) {
	all, _ := ScanDir(db.dir)
	var cas []Stored
	for _, s := range all {
		if s.IsCA() {
			if _, err := db.Record(ctx, s.Name, s.Cert, s.Path); err != nil {
				return nil, err
			}
			cas = append(cas, s)
		}
	}
	return cas, nil
}

// CAs lists the CAs of a store that can sign: known to the record, with the
// key beside the certificate.
func CAs(ctx context.Context, st *store.Store) ([]Stored, error) {
	known, err := KnownCAs(ctx, st)
	return keepCAs(known, Stored.IsCA), err
}

func keepCAs(all []Stored, keep func(Stored) bool) []Stored {
	var out []Stored
	for _, s := range all {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// hasLegacy reports whether dir has a JSON Lines record to import.
func hasLegacy(dir string) bool {
	found, _ := filepath.Glob(filepath.Join(dir, "*"+legacyKind.Suffix))
	return len(found) > 0
}

// StatusAt is a certificate's status at now: revoked (by the record),
// unknown (its record entry cannot be read completely), expired, not yet
// valid or valid.
func StatusAt(c *x509.Certificate, e *Entry, now time.Time) string {
	switch {
	case e != nil && e.Revoked && e.Damaged == nil:
		return StatusRevoked
	case e != nil && e.Damaged != nil:
		return StatusUnknown
	case now.After(c.NotAfter):
		return StatusExpired
	case now.Before(c.NotBefore):
		return StatusNotYetValid
	}
	return StatusValid
}

// IssuerOf finds the certificate among candidates that signed c: c itself
// when it is self-signed, else a CA whose subject is c's issuer and whose
// key verifies c's signature.
func IssuerOf(c *x509.Certificate, candidates []Stored) *Stored {
	for i := range candidates {
		s := &candidates[i]
		if s.Cert.Equal(c) {
			if isSelfSigned(c) {
				return s
			}
			continue
		}
		if s.Cert.IsCA && issuedBy(c, s.Cert) {
			return s
		}
	}
	return nil
}

// issuerIndex finds a certificate's issuer among CAs by key id first, so
// a signature is checked against one candidate, not every CA.
type issuerIndex struct {
	byKeyID map[string][]*Stored
	all     []Stored
}

func newIssuerIndex(cas []Stored) *issuerIndex {
	ix := &issuerIndex{byKeyID: map[string][]*Stored{}, all: cas}
	for i := range cas {
		id := hex.EncodeToString(cas[i].Cert.SubjectKeyId)
		ix.byKeyID[id] = append(ix.byKeyID[id], &cas[i])
	}
	return ix
}

// issuer of c among the CAs, checking the signature; nil if none.
func (ix *issuerIndex) issuer(c *x509.Certificate) *Stored {
	if isSelfSigned(c) {
		return &Stored{Cert: c}
	}
	if len(c.AuthorityKeyId) > 0 {
		for _, s := range ix.byKeyID[hex.EncodeToString(c.AuthorityKeyId)] {
			if issuedBy(c, s.Cert) {
				return s
			}
		}
		return nil
	}
	return IssuerOf(c, ix.all) // no key id (not one keywright made): try each CA
}

// FindIssuer is the store CA that signed c (c itself for a root), or nil.
func FindIssuer(ctx context.Context, st *store.Store, c *x509.Certificate) *Stored {
	known, _ := KnownCAs(ctx, st)
	return IssuerOf(c, known)
}

// CertNames lists the NAMEs of the store's *.crt files, sorted, without
// reading any of them.
func CertNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	for {
		// In chunks: a store holds four files per certificate, and only the
		// names of the certificates are kept.
		chunk, err := f.Readdirnames(4096)
		for _, n := range chunk {
			name, ok := strings.CutSuffix(n, store.Cert.Suffix)
			if ok && store.ValidateName(name) == nil {
				names = append(names, name)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(names)
	return names, nil
}

// readStored reads NAME.crt of dir if it is a regular file.
func readStored(dir, name string) (Stored, error) {
	p := filepath.Join(dir, name+store.Cert.Suffix)
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
		return Stored{}, errSkip
	}
	certs, err := ReadCerts(p)
	if err != nil {
		return Stored{}, err
	}
	return Stored{Name: name, Path: p, Cert: certs[0]}, nil
}
