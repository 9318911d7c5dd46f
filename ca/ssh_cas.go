package ca

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"path/filepath"
	"time"
)

// The record knows the store's SSH CAs (README "SSH"), by the fingerprint
// of their public key: ssh ca init notes each key pair it makes, and a
// command that would replace a key pair (ssh keygen --force, batch
// --force) asks first, whatever path names it. Only ssh ca init --force
// replaces an SSH CA.

//go:embed schema_ssh_cas.sql
var schemaSSHCAs string

// ErrReplacesSSHCA: the key pair to replace is an SSH CA's.
var ErrReplacesSSHCA = newError("the key pair of an SSH CA is replaced only by ssh ca init --force")

// RecordSSHCA notes in the record of the store in dir that the public key
// of fingerprint is an SSH CA's, whose private key is file. It waits at
// most timeout for the record.
func RecordSSHCA(ctx context.Context, dir, file, fingerprint string, at time.Time, timeout time.Duration) error {
	db, err := OpenDB(ctx, dir, timeout)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, schemaSSHCAs); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ssh_cas (fingerprint, file, created_at) VALUES (?, ?, ?)
			ON CONFLICT (fingerprint) DO UPDATE SET file = excluded.file, created_at = excluded.created_at`,
			fingerprint, db.rel(file), at.Unix())
		return err
	})
}

// CheckNotSSHCA refuses (ErrReplacesSSHCA) to replace the key pair at path
// when the record of the store in dir knows one of fingerprints (those of
// the pair's private and public halves) as an SSH CA's. A store without a
// record, or a record without SSH CAs, knows none, and is left as it is.
func CheckNotSSHCA(ctx context.Context, dir, path string, fingerprints []string, timeout time.Duration) error {
	if !ExistsDB(dir) {
		return nil
	}
	db, err := OpenDB(ctx, dir, timeout)
	if err != nil {
		return err
	}
	defer db.Close()
	var table string
	err = db.sql.QueryRowContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'ssh_cas'").Scan(&table)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return db.err(err)
	}
	for _, fp := range fingerprints {
		var file string
		err := db.sql.QueryRowContext(ctx, "SELECT file FROM ssh_cas WHERE fingerprint = ?", fp).Scan(&file)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return db.err(err)
		case filepath.Clean(db.abs(file)) == filepath.Clean(path):
			return errorf("%s: %w", path, ErrReplacesSSHCA)
		default:
			return errorf("%s: %w (it is the SSH CA made as %s)", path, ErrReplacesSSHCA, db.abs(file))
		}
	}
	return nil
}
