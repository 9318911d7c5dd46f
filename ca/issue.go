package ca

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
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
	paths := append([]string{r.CertPath, r.ChainPath}, extraPaths(r.Extra)...)
	if err := checkFree(r.Force, paths...); err != nil {
		return nil, err
	}
	// Sign before taking the lock: a refused request leaves no trace, not
	// even a lock file, and the lock is held only for the record and files.
	s, err := a.Sign(r.Sign)
	if err != nil {
		return nil, err
	}
	rec, unlock, err := a.lockRecord(ctx, r.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if s, err = a.resignIfUsed(rec, s, r.Sign); err != nil {
		return nil, err
	}
	// The key and request go first: a process killed half-way through the
	// commit leaves at most a key without its certificate, never the reverse.
	tx := &store.Tx{Force: r.Force}
	for _, f := range r.Extra {
		tx.Add(f.Path, f.Data, f.Mode)
	}
	tx.Add(r.CertPath, EncodeCerts(s.Cert), store.Cert.Mode)
	tx.Add(r.ChainPath, EncodeCerts(s.Chain...), store.Chain.Mode)
	ev := issuedEvent(r.Store, s.Cert, r.Sign.Profile.Name, r.CertPath, r.Sign.Now)
	if err := commitRecorded(rec, ev, tx); err != nil {
		return nil, err
	}
	s.Warnings = append(s.Warnings, rec.Warnings...)
	return &Issued{Signed: s, Entry: rec.Lookup(ev.Serial)}, nil
}

// resignIfUsed signs again, with a serial the record does not hold, in the
// (never yet seen) case that s's random serial is taken. Under the lock.
func (a *Authority) resignIfUsed(rec *Record, s *Signed, r SignRequest) (*Signed, error) {
	if rec.Lookup(FormatSerial(s.Cert.SerialNumber)) == nil {
		return s, nil
	}
	var err error
	if r.Serial, err = freshSerial(rec); err != nil {
		return nil, err
	}
	return a.Sign(r)
}

// commitRecorded appends ev, then commits tx; if the commit fails the event
// is taken back.
func commitRecorded(rec *Record, ev Event, tx *store.Tx) error {
	undo, err := rec.Append(ev)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		if uerr := undo(); uerr != nil {
			return fmt.Errorf("%w (and the record could not be restored: %v)", err, uerr)
		}
		return err
	}
	return nil
}

// checkFree fails early, before signing or recording, when a target exists.
func checkFree(force bool, paths ...string) error {
	for _, p := range paths {
		if p == "" {
			continue
		}
		fi, err := os.Lstat(p)
		switch {
		case err != nil:
			continue
		case fi.Mode()&os.ModeSymlink != 0:
			return fmt.Errorf("store: %s: %w", p, store.ErrSymlink)
		case !force:
			return fmt.Errorf("store: %s: %w", p, store.ErrExists)
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

// freshSerial picks a serial the CA has not used (a collision of 128 random
// bits is not expected in the life of the universe; the check is cheap).
func freshSerial(rec *Record) (serial *big.Int, err error) {
	for range 8 {
		if serial, err = csr.RandomSerial(nil); err != nil {
			return nil, err
		}
		if rec.Lookup(FormatSerial(serial)) == nil {
			return serial, nil
		}
	}
	return nil, fmt.Errorf("ca: %w %s: could not find an unused serial number", ErrRecord, rec.Path)
}

// issuedEvent is the record line for cert.
func issuedEvent(st *store.Store, cert *x509.Certificate, profile, path string, now time.Time) Event {
	if now.IsZero() {
		now = time.Now()
	}
	sum := sha256.Sum256(cert.Raw)
	return Event{
		Event: EventIssued, Time: now.UTC().Truncate(time.Second), Serial: FormatSerial(cert.SerialNumber),
		Subject: csr.FormatSubject(cert.Subject), SANs: csr.SANsOf(cert).Values(),
		NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(), Profile: profile,
		File: storeRelative(st, path), SHA256: hex.EncodeToString(sum[:]),
	}
}

// storeRelative names a file relative to the store when it is inside it.
func storeRelative(st *store.Store, path string) string {
	if st == nil {
		return path
	}
	abs, err1 := filepath.Abs(path)
	dir, err2 := filepath.Abs(st.Dir)
	if err1 == nil && err2 == nil {
		if rel, err := filepath.Rel(dir, abs); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
		return abs
	}
	return path
}
