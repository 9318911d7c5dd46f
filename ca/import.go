package ca

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/keywright/keywright/store"
)

// legacyKind is the JSON Lines record an earlier keywright kept as NAME.db
// beside NAME.crt; it is imported once and then left as it was.
var legacyKind = store.Kind{Label: "CA record (JSON Lines)", Suffix: ".db", Mode: 0o644}

// importLegacy runs once, when the database is made: every CA whose
// NAME.db is in the store is registered and its events imported, and so is
// every CA those records say they issued (an intermediate that never
// issued anything has no NAME.db of its own).
func (db *DB) importLegacy(ctx context.Context, tx *sql.Tx) error {
	records, _ := filepath.Glob(filepath.Join(db.dir, "*"+legacyKind.Suffix))
	for _, path := range records {
		name := strings.TrimSuffix(filepath.Base(path), legacyKind.Suffix)
		if _, err := db.registerFile(ctx, tx, name); err != nil {
			return err
		}
	}
	return nil
}

// registerFile registers the CA whose certificate is NAME.crt in the
// store, if it is one with its key beside it, and (through register) its
// record and the CAs it issued. It reports whether it registered one.
func (db *DB) registerFile(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	if store.ValidateName(name) != nil {
		return false, nil
	}
	var known bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM cas WHERE name = ?)", name).Scan(&known); err != nil || known {
		return false, err
	}
	certPath := filepath.Join(db.dir, name+store.Cert.Suffix)
	certs, err := ReadCerts(certPath)
	if err != nil {
		return false, nil // a NAME.db without its certificate: nothing to register
	}
	s := Stored{Name: name, Path: certPath, Cert: certs[0]}
	if !s.IsCA() {
		return false, nil
	}
	_, err = db.register(ctx, tx, name, s.Cert, certPath)
	return err == nil, err
}

// importSibling imports the JSON Lines record beside a newly registered
// CA's certificate, if there is one that was not imported before, then
// registers the CAs that record says were issued.
func (db *DB) importSibling(ctx context.Context, tx *sql.Tx, caID int64, certPath string) error {
	path := strings.TrimSuffix(certPath, store.Cert.Suffix) + legacyKind.Suffix
	if fi, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular()) {
		return nil
	}
	var done bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM imports WHERE file = ?)", db.rel(path)).Scan(&done); err != nil || done {
		return err
	}
	// A torn last line (legacy.Warnings) was a write cut short by a crash,
	// never a whole event: it is not imported, as the old reader skipped it.
	legacy, err := readLegacy(path)
	if err != nil {
		return err
	}
	r := &Record{db: db, id: caID, Path: db.Path}
	for _, ev := range legacy.Events {
		if err := r.importEvent(ctx, tx, ev); err != nil {
			return errorf("importing %s: %w", path, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO imports (file, ca_id, events) VALUES (?, ?, ?)", db.rel(path), caID, len(legacy.Events)); err != nil {
		return err
	}
	return db.registerIssuedCAs(ctx, tx, legacy.Events)
}

// importEvent adds one checked legacy event to the record in tx.
func (r *Record) importEvent(ctx context.Context, tx *sql.Tx, ev Event) error {
	switch ev.Event {
	case EventIssued:
		return r.insertIssued(ctx, tx, ev)
	case EventRevoked:
		if _, err := tx.ExecContext(ctx, "UPDATE certificates SET revoked_at = ?, reason = ? WHERE ca_id = ? AND serial = ? AND revoked_at IS NULL",
			ev.Time.Unix(), ev.Reason, r.id, ev.Serial); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO events (ca_id, kind, at, serial, reason) VALUES (?, ?, ?, ?, ?)",
			r.id, EventRevoked, ev.Time.Unix(), ev.Serial, ev.Reason)
		return err
	default: // EventCRL; readLegacy refused anything else
		if _, err := tx.ExecContext(ctx, "UPDATE cas SET crl_number = ? WHERE id = ?", ev.CRLNumber, r.id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO events (ca_id, kind, at, crl_number, next_update) VALUES (?, ?, ?, ?, ?)",
			r.id, EventCRL, ev.Time.Unix(), ev.CRLNumber, nullTime(ev.NextUpdate))
		return err
	}
}

// registerIssuedCAs registers the intermediates an imported record issued.
func (db *DB) registerIssuedCAs(ctx context.Context, tx *sql.Tx, events []Event) error {
	for _, ev := range events {
		if ev.Event != EventIssued || ev.Profile != ProfileCA || filepath.IsAbs(ev.File) || filepath.Dir(ev.File) != "." {
			continue
		}
		if _, err := db.registerFile(ctx, tx, strings.TrimSuffix(ev.File, store.Cert.Suffix)); err != nil {
			return err
		}
	}
	return nil
}

// nullTime is t in Unix seconds, or NULL for the zero time.
func nullTime(t time.Time) sql.NullInt64 { return sql.NullInt64{Int64: t.Unix(), Valid: !t.IsZero()} }
