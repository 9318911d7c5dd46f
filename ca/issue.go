package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
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
	rec, done, err := a.openRecord(ctx, r.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer done()
	for attempt := 1; ; attempt++ {
		ev := issuedEvent(s.Cert, r.Sign.Profile.Name, r.CertPath, r.Sign.Now)
		ev.Renews = r.Renews
		err := commitRecorded(issueTx(r, s), func() (func() error, error) { return rec.Issued(ctx, ev, nil) })
		if err == nil {
			return &Issued{Signed: s, Entry: rec.entryOf(ev)}, nil
		}
		if !errors.Is(err, ErrSerialUsed) || attempt == 8 {
			return nil, err
		}
		// A random serial the CA already used (never yet seen: 128 bits):
		// the record's UNIQUE constraint said so; sign anew.
		r.Sign.Serial = nil
		if s, err = a.Sign(r.Sign); err != nil {
			return nil, err
		}
	}
}

// issueTx is the files of an issue: the key and request first (a process
// killed half-way through the commit leaves at most a key without its
// certificate, never the reverse), then the certificate and its chain.
func issueTx(r IssueRequest, s *Signed) *store.Tx {
	tx := &store.Tx{Force: r.Force}
	for _, f := range r.Extra {
		tx.Add(f.Path, f.Data, f.Mode)
	}
	tx.Add(r.CertPath, EncodeCerts(s.Cert), store.Cert.Mode)
	tx.Add(r.ChainPath, EncodeCerts(s.Chain...), store.Chain.Mode)
	return tx
}

// commitRecorded commits tx with record as its Record step: the files are
// staged (so the disk had room), then recorded durably, then placed, all in
// one critical section an interrupt lets finish. The invariant holds: never
// a certificate file without its record, and a failed command leaves no
// record of what it did not write.
func commitRecorded(tx *store.Tx, record func() (undo func() error, err error)) error {
	tx.Record = record
	return tx.Commit()
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
