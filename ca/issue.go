package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/store"
)

// IssueRequest is a certificate to sign and the files to write with it.
type IssueRequest struct {
	Store     *store.Store
	Sign      SignRequest
	CertPath  string       // NAME.crt
	ChainPath string       // NAME.pem
	Extra     []store.File // written in the same transaction (the key, the CSR)
	Force     bool
	Renews    string // the serial this certificate renews, for the record
	// RenewsSHA256 is the fingerprint of the certificate Renews names: under
	// the CA's lock, CertPath must still hold it and the record must not
	// have it revoked (checkRenewable), so that two renewals of one
	// certificate, or a renewal and a revocation, never both land.
	RenewsSHA256 string
	// LockTimeout bounds the wait for the CA's lock (then store.ErrBusy).
	LockTimeout time.Duration
}

// Issued is the outcome of Issue.
type Issued struct {
	*Signed
	Entry *Entry
}

// Issue signs under the CA's exclusive lock: pick a serial unused in the
// record, sign and verify, append the record event (durable before any file
// appears), then write the certificate, its chain and Extra all or nothing.
// If writing fails the event is taken back, so a failed command leaves the
// store as it was; a crash between the two leaves at most a recorded
// certificate whose file is missing, never a certificate without a record.
func (a *Authority) Issue(ctx context.Context, r IssueRequest) (*Issued, error) {
	if err := store.CheckFree(r.Force, r.paths()...); err != nil {
		return nil, err
	}
	if err := checkNotCA(ctx, nil, r); err != nil {
		return nil, err
	}
	// Sign before taking the lock: a refused request leaves no trace, not
	// even a lock file, and the lock is held only for the record and files.
	s, err := a.Sign(r.Sign)
	if err != nil {
		return nil, err
	}
	rec, done, err := a.openRecord(ctx, r.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := checkNotCA(ctx, rec.db, r); err != nil {
		return nil, err
	}
	if err := a.checkRenewable(ctx, rec.db, r); err != nil {
		return nil, err
	}
	res := a.issueLocked(ctx, rec, r, s)
	return res.Issued, res.Err
}

// issueLocked records and writes a signed request, under the CA lock the
// caller holds. In the (never yet seen) case that the random serial is one
// the CA already used, the record's UNIQUE constraint says so and the
// certificate is signed anew.
func (a *Authority) issueLocked(ctx context.Context, rec *Record, r IssueRequest, s *Signed) GroupResult {
	for attempt := 1; ; attempt++ {
		ev := issuedEvent(s.Cert, r.Sign.Profile.Name, r.CertPath, r.Sign.Now)
		ev.Renews = r.Renews
		tx := &store.Tx{Force: r.Force, Checked: true} // Issue and IssueGroup ran CheckFree
		tx.AddFiles(issueFiles(r, s)...)
		err := commitRecorded(rec.db, tx, func(p []store.Pending) (func() error, error) { return rec.Issued(ctx, ev, nil, p) })
		if err == nil {
			return GroupResult{Issued: &Issued{Signed: s, Entry: rec.entryOf(ev)}}
		}
		if !errors.Is(err, ErrSerialUsed) || attempt == 8 {
			return GroupResult{Err: err}
		}
		r.Sign.Serial = nil
		if s, err = a.Sign(r.Sign); err != nil {
			return GroupResult{Err: err}
		}
	}
}

// issueFiles are the files of an issue: the key and request first (a
// process killed half-way through the commit leaves at most a key without
// its certificate, never the reverse), then the certificate and its chain.
func issueFiles(r IssueRequest, s *Signed) []store.File {
	files := append([]store.File(nil), r.Extra...)
	return append(files,
		store.File{Path: r.CertPath, Data: EncodeCerts(s.Cert), Mode: store.Cert.Mode},
		store.File{Path: r.ChainPath, Data: EncodeCerts(s.Chain...), Mode: store.Chain.Mode})
}

// commitRecorded commits tx with record as its Record step: the files are
// staged (so the disk had room), then recorded durably with their pending
// names, then placed, all in one critical section an interrupt lets finish.
// The invariant holds: never a certificate file without its record, a
// failed command leaves no record of what it did not write, and what a
// killed command recorded is put in place by the next one to open the
// record (finishPending).
func commitRecorded(db *DB, tx *store.Tx, record func(pending []store.Pending) (undo func() error, err error)) error {
	var recorded []store.Pending
	tx.Record = func(p []store.Pending) (func() error, error) {
		recorded = p
		return record(p)
	}
	tx.Placed = func() { db.dropPending(recorded) }
	tx.RecordDir = db.dir // finishPending sweeps it
	return tx.Commit()
}

// ErrReplacesCA: a certificate's files would replace a CA's. Only a new
// CA replaces a CA (README "Certificate authority").
var ErrReplacesCA = newError("the files of a CA are never replaced by a certificate")

// paths are the files the request writes.
func (r IssueRequest) paths() []string {
	return append([]string{r.CertPath, r.ChainPath}, extraPaths(r.Extra)...)
}

// checkNotCA refuses a request that would write over a CA's files, force
// or not: a NAME whose NAME.crt is a CA certificate, or (db not nil) that
// the record knows as a CA's.
func checkNotCA(ctx context.Context, db *DB, r IssueRequest) error {
	return checkNotCAPaths(ctx, db, r.paths())
}

// RefuseCAFiles refuses, force or not, to write any of paths over a CA's
// files (ErrReplacesCA): a path whose NAME.crt is a CA certificate, or
// that the record of the store dir (if it has one) knows as a CA's. For
// the commands that write a key or a certificate without a CA (key new,
// cert self-sign): only ca init replaces a CA, its key included.
func RefuseCAFiles(ctx context.Context, dir string, paths ...string) error {
	if !ExistsDB(dir) {
		return checkNotCAPaths(ctx, nil, paths)
	}
	db, err := openReadOnly(dir)
	if err != nil {
		return err
	}
	defer db.Close()
	return checkNotCAPaths(ctx, db, paths)
}

func checkNotCAPaths(ctx context.Context, db *DB, paths []string) error {
	seen := map[string]bool{}
	for _, p := range paths {
		certPath := strings.TrimSuffix(p, filepath.Ext(p)) + store.Cert.Suffix
		if seen[certPath] {
			continue
		}
		seen[certPath] = true
		if certs, err := ReadCerts(certPath); err == nil && certs[0].IsCA {
			return errorf("%s: %w (it holds CA %q)", p, ErrReplacesCA, certs[0].Subject.CommonName)
		}
		if db == nil {
			continue
		}
		name, err := db.caAt(ctx, certPath)
		if err != nil {
			return err
		}
		if name != "" {
			return errorf("%s: %w (CA %s in %s)", p, ErrReplacesCA, name, db.Path)
		}
	}
	return nil
}

func extraPaths(files []store.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

// issuedEvent is the record event for cert, written to path.
func issuedEvent(cert *x509.Certificate, profile, path string, now time.Time) Event {
	if now.IsZero() {
		now = time.Now()
	}
	return Event{
		Event: EventIssued, Time: now.UTC().Truncate(time.Second), Serial: FormatSerial(cert.SerialNumber),
		Subject: csr.FormatSubject(cert.Subject), SANs: csr.SANsOf(cert).Values(),
		NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(), Profile: profile,
		File: path, SHA256: fingerprint(cert),
	}
}
