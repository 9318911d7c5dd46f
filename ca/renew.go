package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// Errors of renewal (README "Certificate authority", renew): the
// certificates renew refuses, each for its own reason.
var (
	ErrNoCertificate   = newError("no certificate to renew")
	ErrNotRecorded     = newError("not issued by a CA in this store")
	ErrFileReplaced    = newError("not a certificate the record holds for")
	ErrRenewRevoked    = newError("a revoked certificate is not renewed")
	ErrRenewCA         = newError("a CA certificate is not renewed (only leaf certificates are)")
	ErrRenewSelfSigned = newError("self-signed, not issued by a CA")
)

// Renewal is what renewing one certificate of a store keeps from it: its
// CA, subject, SANs and profile (from the record entry whose SHA-256 is the
// file's) and its lifetime. It is read without the CA's key or the
// certificate's own key, so a refusal costs no passphrase.
type Renewal struct {
	Name    string            // NAME
	Paths   RenewalPaths      // NAME.key, .csr, .crt, .pem: replaced together
	Cert    *x509.Certificate // the certificate renewed (NAME.crt)
	Entry   *Entry            // its record entry: CA, serial, profile
	Profile Profile
	Days    int // the old lifetime in whole days
}

// RenewalPaths are the four files a renewal replaces.
type RenewalPaths struct{ Key, CSR, Cert, Chain string }

// FindRenewal reads certificate ref (a NAME in st, or a path) and finds its
// record entry: the one whose SHA-256 is the file's, whichever of NAME's
// entries it is (a renewal killed before its files were placed leaves a
// newer entry whose file never appeared). The record is opened only if the
// store has one: a refusal never creates it.
func FindRenewal(ctx context.Context, st *store.Store, ref string) (*Renewal, error) {
	paths, err := renewalPaths(st, ref)
	if err != nil {
		return nil, err
	}
	if !store.Exists(paths.Cert) {
		return nil, errorf("%w: %s does not exist", ErrNoCertificate, paths.Cert)
	}
	certs, err := ReadCerts(paths.Cert)
	if err != nil {
		return nil, err
	}
	s := Stored{Name: store.BaseName(ref), Path: paths.Cert, Cert: certs[0]}
	e, err := recordedAs(ctx, st, s)
	if err != nil {
		return nil, err
	}
	return renewalOf(s, e, paths)
}

// RenewalOf is FindRenewal's checks for a certificate file s and its record
// entry e (nil: not recorded), as ExpiringRenewals and batch hold them.
func RenewalOf(s Stored, e *Entry) (*Renewal, error) {
	base := strings.TrimSuffix(s.Path, store.Cert.Suffix)
	return renewalOf(s, e, RenewalPaths{Key: base + store.Key.Suffix, CSR: base + store.CSR.Suffix,
		Cert: s.Path, Chain: base + store.Chain.Suffix})
}

func renewalOf(s Stored, e *Entry, paths RenewalPaths) (*Renewal, error) {
	switch {
	case e == nil:
		return nil, errorf("%s: %w (the record has no certificate with its fingerprint)", s.Path, ErrNotRecorded)
	case s.Cert.IsCA || e.Profile == ProfileCA || e.Profile == ProfileRoot:
		return nil, errorf("%s: %w", s.Path, ErrRenewCA)
	case e.CA == "":
		return nil, errorf("%s: %w", s.Path, ErrRenewSelfSigned)
	case e.Revoked:
		return nil, errorf("%s: serial %s was revoked by CA %s on %s: %w", s.Path, e.Serial, e.CA, day(e.RevokedAt), ErrRenewRevoked)
	}
	profile, err := ProfileByName(e.Profile)
	if err != nil {
		return nil, errorf("%w (recorded for %s)", err, s.Path)
	}
	return &Renewal{Name: s.Name, Paths: paths, Cert: s.Cert, Entry: e, Profile: profile, Days: lifetimeDays(s.Cert)}, nil
}

func renewalPaths(st *store.Store, ref string) (RenewalPaths, error) {
	var p RenewalPaths
	for _, f := range []struct {
		dst  *string
		kind store.Kind
	}{{&p.Key, store.Key}, {&p.CSR, store.CSR}, {&p.Cert, store.Cert}, {&p.Chain, store.Chain}} {
		var err error
		if *f.dst, err = st.Sibling(ref, f.kind); err != nil {
			return p, err
		}
	}
	return p, nil
}

// recordedAs finds the entry of s among the record's certificates named
// s.Name. None, but others of that NAME: the file was replaced by hand.
func recordedAs(ctx context.Context, st *store.Store, s Stored) (*Entry, error) {
	if !ExistsDB(st.Dir) && !hasLegacy(st.Dir) {
		return nil, nil
	}
	db, err := OpenDB(ctx, st.Dir, discoveryTimeout)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	sum := fingerprint(s.Cert)
	var match, newest *Entry
	n := 0
	err = db.ByName(ctx, s.Name, func(e *Entry) error {
		n++
		newest = e
		if e.SHA256 == sum {
			match = e
		}
		return nil
	})
	if err != nil || match != nil || newest == nil {
		return match, err
	}
	return nil, errorf("%s: %w %s (the newest of the %d it holds is serial %s by CA %s); was the file replaced by hand?",
		s.Path, ErrFileReplaced, s.Name, n, newest.Serial, caLabel(newest.CA))
}

func caLabel(name string) string {
	if name == "" {
		return "(self-signed)"
	}
	return name
}

// lifetimeDays is a certificate's validity rounded to whole days (at
// least 1); RFC 5280 §4.1.2.5 counts both ends, hence the second.
func lifetimeDays(c *x509.Certificate) int {
	d := c.NotAfter.Add(time.Second).Sub(c.NotBefore)
	days := int((d + 12*time.Hour) / (24 * time.Hour))
	return max(days, 1)
}

// ErrRenewedMeanwhile: the certificate a renewal replaces is no longer in
// its file (another keywright renewed or replaced it after the renewal was
// planned). ErrRevokedMeanwhile: it was revoked meanwhile.
var (
	ErrRenewedMeanwhile = newError("renewed or replaced meanwhile")
	ErrRevokedMeanwhile = newError("revoked meanwhile")
)

// checkRenewable checks, under the CA's lock, that a renewal (r.Renews
// set) still replaces what it planned to: r.CertPath holds the certificate
// it renews, which the record of a has not revoked. Two renewals of one
// certificate at once, or a renewal and a revocation, then end as they
// would one after the other.
func (a *Authority) checkRenewable(ctx context.Context, db *DB, r IssueRequest) error {
	if r.Renews == "" {
		return nil
	}
	if r.RenewsSHA256 != "" {
		if certs, err := ReadCerts(r.CertPath); err != nil || fingerprint(certs[0]) != r.RenewsSHA256 {
			return notInPlace(r.Renews) // the caller names the file
		}
	}
	e, err := db.Lookup(ctx, a.Paths.Name, r.Renews)
	if err != nil {
		return err
	}
	if e != nil && e.Revoked {
		return errorf("%w: serial %s was revoked while it was being renewed; a revoked certificate is not renewed",
			ErrRevokedMeanwhile, r.Renews)
	}
	return nil
}

// notInPlace: a certificate file no longer holds serial (ErrRenewedMeanwhile).
func notInPlace(serial string) error {
	return errorf("%w: it no longer holds serial %s (another keywright renewed or replaced it)", ErrRenewedMeanwhile, serial)
}

// InPlace checks, once any write in progress in its directory is done (a
// renewal places NAME.key and NAME.crt under that directory's lock), that
// NAME.crt still holds the certificate r renews.
func (r *Renewal) InPlace() error {
	if l, err := store.LockDir(filepath.Dir(r.Paths.Cert)); err == nil {
		l.Unlock()
	}
	if certs, err := ReadCerts(r.Paths.Cert); err == nil && !certs[0].Equal(r.Cert) {
		return errorf("%s: %w", r.Paths.Cert, notInPlace(r.Entry.Serial))
	}
	return nil
}

// KeySpec is the type and size of the renewed certificate's key, read from
// the certificate (so no passphrase is needed to make a key like it).
func (r *Renewal) KeySpec() (keygen.Spec, error) {
	s, err := keygen.SpecOf(r.Cert.PublicKey)
	if err != nil {
		return s, errorf("%s: %w", r.Paths.Cert, err)
	}
	return s, nil
}

// Subject is the renewed certificate's subject, as the certificate has it.
func (r *Renewal) Subject() pkix.Name { return subjectOf(r.Cert) }

// SANs are the renewed certificate's names, as the certificate has them.
func (r *Renewal) SANs() csr.SANs { return csr.SANsOf(r.Cert) }

// RenewRequest is what a renewal needs besides the old certificate.
type RenewRequest struct {
	PublicKey crypto.PublicKey // the new certificate's key (new, or the old one)
	// Days is the new lifetime; 0 keeps the old one, shortened (with a
	// warning) to end with the CA's chain as a default lifetime is.
	Days        int
	Now         time.Time    // zero: time.Now()
	Extra       []store.File // written with the certificate (the key, the request)
	LockTimeout time.Duration
}

// Request is the IssueRequest of the renewal, for a.Issue or a.IssueGroup
// (a must be the CA of the record entry): same subject, SANs and profile,
// Force (the four files are replaced together, all or none) and Renews =
// the old serial. The warnings say why the lifetime is shorter than asked.
func (r *Renewal) Request(st *store.Store, a *Authority, q RenewRequest) (IssueRequest, []string, error) {
	if a.Paths.Name != r.Entry.CA {
		return IssueRequest{}, nil, errorf("%s was issued by CA %s, not %s", r.Paths.Cert, r.Entry.CA, a.Paths.Name)
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	days, warnings := q.Days, []string(nil)
	if days == 0 {
		days, warnings = r.fitDays(a, q.Now)
	}
	return IssueRequest{
		Store: st, CertPath: r.Paths.Cert, ChainPath: r.Paths.Chain, Extra: q.Extra, Force: true,
		Renews: r.Entry.Serial, RenewsSHA256: r.Entry.SHA256, LockTimeout: q.LockTimeout,
		Sign: SignRequest{Subject: r.Subject(), SANs: r.SANs(), PublicKey: q.PublicKey, Profile: r.Profile,
			Days: days, Now: q.Now},
	}, warnings, nil
}

// fitDays is the old lifetime, shortened to end with a's chain if it would
// outlive it (a lifetime that does not fit even a day is left for Sign to
// refuse).
func (r *Renewal) fitDays(a *Authority, now time.Time) (int, []string) {
	days := r.Days
	w := windowDays(now, days)
	end := chainEnd(append(a.Issuers(), a.Root))
	if !w.NotAfter.After(end) {
		return days, nil
	}
	fit := Window{NotBefore: w.NotBefore, NotAfter: end}.Days()
	if fit < 1 {
		return days, nil
	}
	return fit, []string{fmt.Sprintf("%s: the renewed certificate ends on %s with CA %q's chain, after %d days instead of %d",
		r.Paths.Cert, day(windowDays(now, fit).NotAfter), a.Paths.Name, fit, days)}
}

// subjectOf is c's subject as a name to sign: the attributes pkix.Name has
// fields for, and any other attribute kept as it was (ExtraNames), so
// nothing of the subject is lost.
func subjectOf(c *x509.Certificate) pkix.Name {
	n := c.Subject
	n.Names, n.ExtraNames = nil, nil
	known := map[string]bool{"2.5.4.6": true, "2.5.4.10": true, "2.5.4.11": true, "2.5.4.3": true,
		"2.5.4.5": true, "2.5.4.7": true, "2.5.4.8": true, "2.5.4.9": true, "2.5.4.17": true}
	for _, atv := range c.Subject.Names {
		if !known[atv.Type.String()] {
			n.ExtraNames = append(n.ExtraNames, atv)
		}
	}
	return n
}

// ExpiringRenewals calls fn for each certificate of the store's CAs that
// ends before now+window, soonest first: what Expiring (list --expiring)
// finds, less CA and self-signed certificates, which renew leaves alone. A
// certificate that cannot be renewed comes with the reason (r is nil): one
// whose record entry cannot be read completely too.
// Files that cannot be read are returned as problems.
func ExpiringRenewals(ctx context.Context, st *store.Store, now time.Time, window time.Duration,
	fn func(name string, r *Renewal, err error) error) ([]error, error) {
	return Expiring(ctx, st, now, window, func(it Item) error {
		if it.Problem != nil { // its entry, or a CA's above it, cannot be read
			return fn(it.Name, nil, it.Problem)
		}
		e := it.Entry
		if e == nil || e.CA == "" || it.Cert.IsCA || e.Profile == ProfileCA || e.Profile == ProfileRoot {
			return nil
		}
		r, err := RenewalOf(it.Stored, e)
		return fn(it.Name, r, err)
	})
}
