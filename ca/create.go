package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"time"

	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// RootRequest describes a new self-signed root CA.
type RootRequest struct {
	Subject     pkix.Name // CN (required) and O
	Key         crypto.Signer
	Days        int // 0: DefaultRootYears
	PathLen     int // -1: no path length (the default for a root, BR 7.1.2.1)
	Constraints Constraints
	Now         time.Time
	Serial      *big.Int // nil: csr.RandomSerial
}

// NewRoot makes a self-signed root: CA:TRUE critical, keyCertSign, cRLSign
// and digitalSignature (critical), SKI, no EKU, no path length unless asked.
func NewRoot(r RootRequest) (*x509.Certificate, error) {
	if r.Now.IsZero() {
		r.Now = time.Now()
	}
	if r.Subject.CommonName == "" {
		return nil, errorf("a CA certificate needs a subject common name")
	}
	if err := keygen.CheckStrength(r.Key.Public()); err != nil {
		return nil, errorf("%w", err)
	}
	w, err := caWindow(r.Now, r.Days, DefaultRootYears)
	if err != nil {
		return nil, err
	}
	serial := r.Serial
	if serial == nil {
		if serial, err = csr.RandomSerial(nil); err != nil {
			return nil, err
		}
	}
	ski, err := csr.SubjectKeyID(r.Key.Public())
	if err != nil {
		return nil, errorf("%w", err)
	}
	t := &x509.Certificate{
		SerialNumber: serial, Subject: r.Subject, NotBefore: w.NotBefore, NotAfter: w.NotAfter,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: -1,
		KeyUsage: caKeyUsage, SubjectKeyId: ski,
	}
	if r.PathLen >= 0 {
		t.MaxPathLen, t.MaxPathLenZero = r.PathLen, r.PathLen == 0
	}
	r.Constraints.apply(t)
	der, err := x509.CreateCertificate(rand.Reader, t, t, r.Key.Public(), r.Key)
	if err != nil {
		return nil, errorf("self-signing the root: %w", err)
	}
	return x509.ParseCertificate(der)
}

// CreateRequest is `ca init`: where the new CA goes and what it is.
type CreateRequest struct {
	Store       *store.Store
	Paths       Paths  // of the new CA
	KeyPEM      []byte // the new CA's key as written (encrypted or not)
	Root        RootRequest
	Parent      *Authority // nil: a root
	Force       bool
	LockTimeout time.Duration
}

// Create makes a CA and writes NAME.key, NAME.crt (and NAME.pem for an
// intermediate) all or nothing. A root records itself in its own record; an
// intermediate is recorded by its parent, under the parent's lock.
func Create(ctx context.Context, r CreateRequest) (*Authority, error) {
	if err := store.CheckFree(r.Force, r.Paths.Cert, r.Paths.Key, r.Paths.Chain); err != nil {
		return nil, err
	}
	// Make the certificate before taking a lock, so a refusal leaves no trace.
	a, err := newAuthority(r)
	if err != nil {
		return nil, err
	}
	lockHolder := a
	if r.Parent != nil {
		lockHolder = r.Parent
	}
	db, done, err := lockHolder.lockDB(ctx, r.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer done()
	// Again under the lock: another process may have made it meanwhile
	// (then the files exist, which is the error to report, not the record).
	if err := store.CheckFree(r.Force, r.Paths.Cert, r.Paths.Key, r.Paths.Chain); err != nil {
		return nil, err
	}
	// A root is recorded in its own record, which is registered in the same
	// transaction; an intermediate is recorded by its parent.
	rec := db.newRecord(r.Paths.Name)
	profile := ProfileRoot
	if r.Parent != nil {
		if rec, err = db.Record(ctx, r.Parent.Paths.Name, r.Parent.Cert, r.Parent.Paths.Cert); err != nil {
			return nil, err
		}
		profile = ProfileCA
	}
	tx := &store.Tx{Force: r.Force}
	tx.Add(r.Paths.Key, r.KeyPEM, store.Key.Mode)
	tx.Add(r.Paths.Cert, EncodeCerts(a.Cert), store.Cert.Mode)
	if r.Parent != nil {
		tx.Add(r.Paths.Chain, EncodeCerts(a.Issuers()...), store.Chain.Mode)
	}
	ev := issuedEvent(a.Cert, profile, r.Paths.Cert, r.Root.Now)
	self := &Stored{Name: r.Paths.Name, Path: r.Paths.Cert, Cert: a.Cert}
	return a, commitRecorded(db, tx, func(p []store.Pending) (func() error, error) { return rec.Issued(ctx, ev, self, p) })
}

// newAuthority makes the new CA's certificate: self-signed, or signed by
// the parent with the ca profile.
func newAuthority(r CreateRequest) (*Authority, error) {
	if r.Parent == nil {
		cert, err := NewRoot(r.Root)
		if err != nil {
			return nil, err
		}
		return &Authority{Paths: r.Paths, Cert: cert, Root: cert, Key: r.Root.Key}, nil
	}
	p, _ := ProfileByName(ProfileCA)
	s, err := r.Parent.Sign(SignRequest{
		Subject: r.Root.Subject, PublicKey: r.Root.Key.Public(), Profile: p, Days: r.Root.Days,
		Now: r.Root.Now, Serial: r.Root.Serial, PathLen: r.Root.PathLen, Constraints: r.Root.Constraints,
	})
	if err != nil {
		return nil, err
	}
	return &Authority{Paths: r.Paths, Cert: s.Cert, Chain: s.Chain[1:], Root: r.Parent.Root, Key: r.Root.Key}, nil
}

// ErrCAExists: the root CreateAndIssue was to make exists already (made
// meanwhile by another keywright); nothing was written.
var ErrCAExists = newError("the CA exists already")

// CreateAndIssue makes a root CA and the first certificate it signs as one
// commit: issue's zero-config local-ca (README "Certificate authority").
// Both are signed before anything is written, and the CA's files, the
// certificate's files and both record entries land together or not at
// all, so a command that fails leaves no CA behind. A request whose files
// are the new CA's is refused (ErrReplacesCA). If the CA's files exist
// (another keywright made them first), the error is ErrCAExists: load that
// CA and Issue with it.
func CreateAndIssue(ctx context.Context, c CreateRequest, r IssueRequest) (*Authority, *Issued, error) {
	if c.Parent != nil {
		return nil, nil, newError("CreateAndIssue makes a root")
	}
	for _, p := range r.paths() {
		if filepath.Clean(strings.TrimSuffix(p, filepath.Ext(p))+store.Cert.Suffix) == filepath.Clean(c.Paths.Cert) {
			return nil, nil, errorf("%s: %w (it is the new CA %s's)", p, ErrReplacesCA, c.Paths.Name)
		}
	}
	if err := newCAFree(c); err != nil {
		return nil, nil, waitForMaker(ctx, c, err)
	}
	if err := store.CheckFree(r.Force, r.paths()...); err != nil {
		return nil, nil, err
	}
	if err := checkNotCA(ctx, nil, r); err != nil {
		return nil, nil, err
	}
	a, err := newAuthority(c)
	if err != nil {
		return nil, nil, err
	}
	s, err := a.Sign(r.Sign)
	if err != nil {
		return nil, nil, err
	}
	db, done, err := a.lockDB(ctx, c.LockTimeout)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	if err := newCAFree(c); err != nil {
		return nil, nil, err
	}
	if err := checkNotCA(ctx, db, r); err != nil {
		return nil, nil, err
	}
	rec := db.newRecord(c.Paths.Name)
	tx := &store.Tx{Force: r.Force}
	tx.Add(c.Paths.Key, c.KeyPEM, store.Key.Mode)
	tx.Add(c.Paths.Cert, EncodeCerts(a.Cert), store.Cert.Mode)
	tx.AddFiles(issueFiles(r, s)...)
	evs := []Event{issuedEvent(a.Cert, ProfileRoot, c.Paths.Cert, c.Root.Now), issuedEvent(s.Cert, r.Sign.Profile.Name, r.CertPath, r.Sign.Now)}
	evs[1].Renews = r.Renews
	self := &Stored{Name: c.Paths.Name, Path: c.Paths.Cert, Cert: a.Cert}
	err = commitRecorded(db, tx, func(p []store.Pending) (func() error, error) { return rec.issuedEvents(ctx, evs, self, p) })
	if err != nil {
		return nil, nil, err
	}
	return a, &Issued{Signed: s, Entry: rec.entryOf(evs[1])}, nil
}

// newCAFree checks that the files of the new root c do not exist: if
// either does, the error is ErrCAExists.
func newCAFree(c CreateRequest) error {
	err := store.CheckFree(false, c.Paths.Cert, c.Paths.Key)
	if errors.Is(err, store.ErrExists) {
		return errorf("%w: %w", ErrCAExists, err) // names the file that exists
	}
	return err
}

// waitForMaker: the CA's files were found before its lock was taken, so
// the keywright making them may be half-way through its commit (the key
// placed, not yet the certificate). Waiting for the lock lets that commit
// finish before the caller loads the CA. Other errors pass unchanged.
func waitForMaker(ctx context.Context, c CreateRequest, err error) error {
	if !errors.Is(err, ErrCAExists) {
		return err
	}
	lock, lerr := c.Paths.LockCA(ctx, c.LockTimeout)
	if lerr != nil {
		return lerr
	}
	lock.Unlock()
	return err
}
