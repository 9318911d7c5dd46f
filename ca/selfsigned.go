package ca

import (
	"context"
	"crypto/x509"
	"path/filepath"
	"time"

	"github.com/keywright/keywright/store"
)

// ProfileSelfSigned is recorded for a self-signed certificate (`cert
// self-sign`): it has no CA, so it is in no CA's log, but list --expiring
// finds it in the record like any other certificate of the store.
const ProfileSelfSigned = "self-signed"

// WriteSelfSigned writes a self-signed certificate to path. Inside the
// store it is recorded first, as Issue records (the record taken back if
// the file cannot be written); a file elsewhere is only written.
func WriteSelfSigned(ctx context.Context, st *store.Store, cert *x509.Certificate, path string, force bool, now time.Time) error {
	tx := &store.Tx{Force: force}
	tx.Add(path, EncodeCerts(cert), store.Cert.Mode)
	if !inStore(st, path) {
		return tx.Commit()
	}
	if err := store.CheckFree(force, path); err != nil {
		return err // before the record is opened: a refusal leaves no trace
	}
	db, err := OpenDB(ctx, st.Dir, discoveryTimeout)
	if err != nil {
		return err
	}
	defer db.Close()
	ev := issuedEvent(cert, ProfileSelfSigned, path, now)
	return commitRecorded(db, tx, func(p []store.Pending) (func() error, error) { return db.newRecord("").Issued(ctx, ev, nil, p) })
}

// inStore reports whether path is a file directly in the store directory.
func inStore(st *store.Store, path string) bool {
	rel := relativeTo(st.Dir, path)
	return !filepath.IsAbs(rel) && filepath.Dir(rel) == "."
}
