package ca

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/store"
)

// ErrRecord is returned for a record that cannot be read or written.
var ErrRecord = newError("CA record")

// ErrRecordInUse is returned when a CA would take over the record of an
// earlier CA of the same name that has issued certificates (even with
// --force: the records of two keys must not mix, or revocations and serials
// of the old CA would be attributed to the new one).
var ErrRecordInUse = newError("the record belongs to an earlier CA of this name")

// ErrSerialUsed is returned when a serial is already in the CA's record.
var ErrSerialUsed = newError("serial number already used by this CA")

// Record is one CA's part of the record database.
type Record struct {
	db   *DB
	id   int64
	CA   string // the CA's NAME
	Path string // the database, for messages
}

// Record returns the record of CA name (whose certificate is cert, at
// certPath), registering the CA in the database on first use and importing
// its JSON Lines record (NAME.db beside NAME.crt) if an earlier keywright
// left one.
func (db *DB) Record(ctx context.Context, name string, cert *x509.Certificate, certPath string) (*Record, error) {
	var id int64
	var sum string
	// Known already (the usual case): a read, no write transaction.
	err := db.sql.QueryRowContext(ctx, "SELECT id, sha256 FROM cas WHERE name = ?", name).Scan(&id, &sum)
	if err == nil && sum == fingerprint(cert) {
		return &Record{db: db, id: id, CA: name, Path: db.Path}, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, db.err(err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) (err error) {
		id, err = db.register(ctx, tx, name, cert, certPath)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Record{db: db, id: id, CA: name, Path: db.Path}, nil
}

// register finds or adds CA name in tx. A name whose row is another
// certificate is taken over only when that CA never recorded anything.
func (db *DB) register(ctx context.Context, tx *sql.Tx, name string, cert *x509.Certificate, certPath string) (int64, error) {
	sum := fingerprint(cert)
	var id int64
	var old string
	err := tx.QueryRowContext(ctx, "SELECT id, sha256 FROM cas WHERE name = ?", name).Scan(&id, &old)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return db.insertCA(ctx, tx, name, cert, certPath)
	case err != nil:
		return 0, err
	case old == sum:
		return id, nil
	}
	var used bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM events WHERE ca_id = ?)", id).Scan(&used); err != nil {
		return 0, err
	}
	if used {
		return 0, errorf("%s: %w %s; its history stays in the record: choose another name for the new CA", db.Path, ErrRecordInUse, name)
	}
	_, err = tx.ExecContext(ctx, "UPDATE cas SET cert_file = ?, sha256 = ?, subject = ?, ski = ? WHERE id = ?",
		db.rel(certPath), sum, cert.Subject.String(), hex.EncodeToString(cert.SubjectKeyId), id)
	return id, err
}

func (db *DB) insertCA(ctx context.Context, tx *sql.Tx, name string, cert *x509.Certificate, certPath string) (int64, error) {
	res, err := tx.ExecContext(ctx, "INSERT INTO cas (name, cert_file, sha256, subject, ski) VALUES (?, ?, ?, ?, ?)",
		name, db.rel(certPath), fingerprint(cert), cert.Subject.String(), hex.EncodeToString(cert.SubjectKeyId))
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	return id, db.importSibling(ctx, tx, id, certPath)
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// entryColumns are the columns scanEntry reads, in its order.
const entryColumns = `cas.name, c.serial, c.name, c.file, c.subject, c.sans, c.not_before, c.not_after,
	c.profile, c.sha256, c.issued_at, c.renews, c.revoked_at, c.reason
	FROM certificates c LEFT JOIN cas ON cas.id = c.ca_id`

// ErrDamaged marks a record entry that cannot be read completely (a
// value of the wrong type or form): its status is unknown, never valid.
var ErrDamaged = newError("entry cannot be read completely")

// DamagedError is an entry of the record that cannot be read completely.
// The entry comes back with it, with what could be read (its NAME, serial
// and CA at least), so a listing can mark that certificate's status unknown.
type DamagedError struct {
	CA, Serial, File string
	Detail           string // which value is wrong, and how
}

func (e *DamagedError) Error() string { return "ca: " + e.Text() }

// Text is the message without the package name (internal/fault).
func (e *DamagedError) Text() string {
	return fmt.Sprintf("entry %s (serial %s, CA %s): %s: %s", e.File, e.Serial, caLabel(e.CA), fault.Text(ErrDamaged), e.Detail)
}

// Is makes errors.Is(err, ErrDamaged) and errors.Is(err, ErrRecord) true.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged || target == ErrRecord }

// scanEntry reads one row of entryColumns. Every value is read as text and
// checked, so a row with a wrong value (SQLite stores whatever it is
// given) is a *DamagedError that comes with the entry as far as it could be
// read, not a failed query.
func scanEntry(rows interface{ Scan(...any) error }) (*Entry, error) {
	var v [14]sql.NullString
	dst := make([]any, len(v))
	for i := range v {
		dst[i] = &v[i]
	}
	if err := rows.Scan(dst...); err != nil {
		return nil, err
	}
	e := &Entry{CA: v[0].String, Serial: v[1].String, Name: v[2].String, File: v[3].String, Subject: v[4].String,
		Profile: v[8].String, SHA256: v[9].String, Renews: v[11].String, Reason: v[13].String}
	var problems []string
	bad := func(col, why string) { problems = append(problems, col+": "+why) }
	if _, err := ParseSerial(e.Serial); err != nil {
		bad("serial", fmt.Sprintf("%q is not a serial number", e.Serial))
	}
	if !isSHA256(e.SHA256) {
		bad("sha256", fmt.Sprintf("%q is not a SHA-256 in hex", e.SHA256))
	}
	if err := jsonStrings(v[5].String, &e.SANs); err != nil {
		bad("sans", "not a JSON array of names")
	}
	for _, t := range []struct {
		col  string
		v    sql.NullString
		dst  *time.Time
		null bool
	}{{"not_before", v[6], &e.NotBefore, false}, {"not_after", v[7], &e.NotAfter, false},
		{"issued_at", v[10], &e.IssuedAt, false}, {"revoked_at", v[12], &e.RevokedAt, true}} {
		if !t.v.Valid && t.null {
			continue
		}
		n, err := strconv.ParseInt(t.v.String, 10, 64)
		if err != nil {
			bad(t.col, fmt.Sprintf("%q is not a time in Unix seconds", t.v.String))
			continue
		}
		*t.dst = unix(n)
	}
	e.Revoked = v[12].Valid
	if len(problems) > 0 {
		return e, &DamagedError{CA: e.CA, Serial: e.Serial, File: e.File, Detail: strings.Join(problems, "; ")}
	}
	return e, nil
}

// jsonStrings reads a JSON array of strings; [] is nil.
func jsonStrings(s string, out *[]string) error {
	if err := json.Unmarshal([]byte(s), out); err != nil {
		return err
	}
	if len(*out) == 0 {
		*out = nil
	}
	return nil
}

func unix(s int64) time.Time { return time.Unix(s, 0).UTC() }

// Lookup returns the entry for a serial (as FormatSerial writes it), or nil.
func (r *Record) Lookup(ctx context.Context, serial string) (*Entry, error) {
	row := r.db.sql.QueryRowContext(ctx, "SELECT "+entryColumns+" WHERE c.ca_id = ? AND c.serial = ?", r.id, serial)
	e, err := scanEntry(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return e, r.db.err(err)
}

// newRecord is the record of a CA that is not registered yet: its first
// Issued registers it (a root recording its own certificate).
func (db *DB) newRecord(name string) *Record { return &Record{db: db, CA: name, Path: db.Path} }

// Issued records ev (an issued event) durably, before any file it
// describes is written. newCA, when the certificate is itself a CA, is
// registered in the same transaction, so the store knows the CA from the
// moment its files can exist. undo takes both back, for a command that
// fails after recording. A serial the CA already used is refused by the
// database (UNIQUE), whoever raced to it.
func (r *Record) Issued(ctx context.Context, ev Event, newCA *Stored, pending []store.Pending) (undo func() error, err error) {
	return r.issuedEvents(ctx, []Event{ev}, newCA, pending)
}

// issuedEvents is Issued of several events in one transaction (one sync):
// a new root's own certificate and the first it signs, or a batch's group.
// newCA is registered first; undo takes everything back.
func (r *Record) issuedEvents(ctx context.Context, evs []Event, newCA *Stored, pending []store.Pending) (undo func() error, err error) {
	evs = append([]Event(nil), evs...) // the caller's keep their paths (entryOf)
	for i := range evs {
		evs[i].File = r.db.rel(evs[i].File)
	}
	var caID int64
	registered := r.id != 0
	err = r.db.inTx(ctx, func(tx *sql.Tx) error {
		if newCA != nil {
			if caID, err = r.db.register(ctx, tx, newCA.Name, newCA.Cert, newCA.Path); err != nil {
				return err
			}
		}
		if r.id == 0 { // a root's own record, registered just now
			r.id = caID
		}
		stmts := newStmtCache(tx)
		defer stmts.Close()
		for _, ev := range evs {
			if err := r.insertIssued(ctx, stmts, ev); err != nil {
				return err
			}
		}
		return r.db.insertPending(ctx, tx, pending)
	})
	if err != nil {
		if !registered {
			r.id = 0
		}
		return nil, err
	}
	return r.db.undo(ctx, pending, func(ctx context.Context, tx *sql.Tx) error {
		// Newest first: the CA registered here goes with its last event.
		for i := len(evs) - 1; i >= 0; i-- {
			id := int64(0)
			if i == 0 {
				id = caID
			}
			if err := r.deleteIssued(ctx, tx, evs[i].Serial, id); err != nil {
				return err
			}
		}
		return nil
	}), nil
}

func (r *Record) insertIssued(ctx context.Context, tx execer, ev Event) error {
	sans, err := json.Marshal(ev.SANs)
	if err != nil {
		return err
	}
	if ev.SANs == nil {
		sans = []byte("[]")
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO certificates (ca_id, serial, name, file, subject, sans, not_before,
		not_after, profile, sha256, issued_at, renews) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.caID(), ev.Serial, store.BaseName(ev.File), ev.File, ev.Subject, string(sans), ev.NotBefore.Unix(),
		ev.NotAfter.Unix(), ev.Profile, ev.SHA256, ev.Time.Unix(), nullString(ev.Renews))
	if isUniqueViolation(err) {
		return errorf("%s: serial %s: %w %s", r.Path, ev.Serial, ErrSerialUsed, r.CA)
	}
	if err != nil || r.id == 0 {
		return err // a self-signed certificate has no CA whose log it joins
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO events (ca_id, kind, at, serial) VALUES (?, ?, ?, ?)",
		r.id, EventIssued, ev.Time.Unix(), ev.Serial)
	return err
}

// caID is the ca_id column: NULL for the record of self-signed certificates.
func (r *Record) caID() sql.NullInt64 { return sql.NullInt64{Int64: r.id, Valid: r.id != 0} }

// deleteIssued undoes insertIssued (and the registration of a new CA).
func (r *Record) deleteIssued(ctx context.Context, tx *sql.Tx, serial string, newCA int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM events WHERE ca_id = ? AND kind = ? AND serial = ?", r.id, EventIssued, serial); err != nil {
		return err
	}
	del, args := "DELETE FROM certificates WHERE ca_id = ? AND serial = ?", []any{r.id, serial}
	if r.id == 0 {
		del, args = "DELETE FROM certificates WHERE ca_id IS NULL AND serial = ?", []any{serial}
	}
	if _, err := tx.ExecContext(ctx, del, args...); err != nil {
		return err
	}
	if newCA == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "DELETE FROM cas WHERE id = ? AND NOT EXISTS (SELECT 1 FROM events WHERE ca_id = ?)", newCA, newCA)
	return err
}

// entryOf is the entry an issued event made.
func (r *Record) entryOf(ev Event) *Entry {
	ev.File = r.db.rel(ev.File)
	return &Entry{CA: r.CA, Serial: ev.Serial, Name: store.BaseName(ev.File), Subject: ev.Subject, SANs: ev.SANs,
		NotBefore: ev.NotBefore, NotAfter: ev.NotAfter, Profile: ev.Profile, File: ev.File, SHA256: ev.SHA256,
		IssuedAt: ev.Time, Renews: ev.Renews}
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// isUniqueViolation: SQLITE_CONSTRAINT_UNIQUE (or the primary key's).
func isUniqueViolation(err error) bool {
	code := sqliteCode(err)
	return code == 2067 || code == 1555
}
