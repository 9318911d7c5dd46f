package ca

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// The record knows the store's SSH CAs (README "SSH"): ssh ca init notes
// each key pair it makes, and a command that would replace the key pair of
// one (ssh keygen --force, batch --force) asks first. Only ssh ca init
// --force replaces an SSH CA.

// ErrReplacesSSHCA: the key pair to replace is an SSH CA's.
var ErrReplacesSSHCA = newError("the key pair of an SSH CA is replaced only by ssh ca init --force")

// RecordSSHCA notes that the key pair whose private key is file is an SSH
// CA with the public key of fingerprint, replacing an earlier note for
// file. It waits at most timeout for the record.
func RecordSSHCA(ctx context.Context, dir, file, fingerprint string, at time.Time, timeout time.Duration) error {
	db, err := OpenDB(ctx, dir, timeout)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO ssh_cas (file, fingerprint, created_at) VALUES (?, ?, ?)
			ON CONFLICT (file) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at`,
			db.rel(file), fingerprint, at.Unix())
		return err
	})
}

// CheckNotSSHCA refuses (ErrReplacesSSHCA) to replace the key pair whose
// private key is file when the record knows it as an SSH CA with the
// public key of fingerprint (the one now in place). A store without a
// record knows no SSH CA, and is left as it is.
func CheckNotSSHCA(ctx context.Context, dir, file, fingerprint string, timeout time.Duration) error {
	if !ExistsDB(dir) {
		return nil
	}
	db, err := OpenDB(ctx, dir, timeout)
	if err != nil {
		return err
	}
	defer db.Close()
	var known string
	err = db.sql.QueryRowContext(ctx, "SELECT fingerprint FROM ssh_cas WHERE file = ?", db.rel(file)).Scan(&known)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return db.err(err)
	case known == fingerprint:
		return errorf("%s: %w", file, ErrReplacesSSHCA)
	}
	return nil
}
