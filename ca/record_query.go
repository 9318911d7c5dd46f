package ca

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"time"
)

// KnownCA is a CA the record knows: its NAME and certificate file.
type KnownCA struct {
	Name     string
	CertPath string
	SHA256   string
}

// CAs lists the CAs the record knows, by name. Nothing is parsed: the
// caller checks the files it needs (README "The record").
func (db *DB) CAs(ctx context.Context) ([]KnownCA, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT name, cert_file, sha256 FROM cas ORDER BY name")
	if err != nil {
		return nil, db.err(err)
	}
	defer rows.Close()
	var out []KnownCA
	for rows.Next() {
		var k KnownCA
		if err := rows.Scan(&k.Name, &k.CertPath, &k.SHA256); err != nil {
			return nil, db.err(err)
		}
		k.CertPath = db.abs(k.CertPath)
		out = append(out, k)
	}
	return out, db.err(rows.Err())
}

// caAt is the NAME of the CA the record knows at certPath, or "".
func (db *DB) caAt(ctx context.Context, certPath string) (string, error) {
	var name string
	err := db.sql.QueryRowContext(ctx, "SELECT name FROM cas WHERE cert_file = ?", db.rel(certPath)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return name, db.err(err)
}

// Expiring calls fn with every certificate of every CA that is not revoked
// and ends before t, soonest first. An entry whose not-after is not a
// number (text, a blob) or a number past every integer is among them,
// last, and an entry that cannot be read completely comes with Damaged set
// (its status is unknown).
//
// Two searches of the not_after index, so the cost is what they find, not
// the record's size: the not-afters before t, then those past the largest
// integer (SQLite orders text and blobs after all numbers). One query with
// OR scanned the whole index, row by row, to keep its ORDER BY. The second
// search finds only values keywright never writes, so that it reads a
// later snapshot of the record than the first changes nothing.
func (db *DB) Expiring(ctx context.Context, t time.Time, fn func(*Entry) error) error {
	if err := db.scanEntries(ctx, true, fn, expiringBefore, t.Unix()); err != nil {
		return err
	}
	return db.scanEntries(ctx, true, fn, expiringUnreadable, int64(math.MaxInt64))
}

// Expiring's two searches (TestExpiringSearchesTheIndex checks SQLite's
// plan for them).
const (
	expiringBefore     = "WHERE c.not_after < ? AND c.revoked_at IS NULL ORDER BY c.not_after, c.id"
	expiringUnreadable = "WHERE c.not_after > ? AND c.revoked_at IS NULL ORDER BY c.not_after, c.id"
)

// ByName calls fn with every certificate recorded under NAME (by any CA),
// oldest first.
func (db *DB) ByName(ctx context.Context, name string, fn func(*Entry) error) error {
	return db.eachEntry(ctx, fn, "WHERE c.name = ? ORDER BY c.id", name)
}

// entriesOf calls fn with the entries of the certificates cas (few: the
// store's CAs), found by fingerprint.
func (db *DB) entriesOf(ctx context.Context, cas []Stored, fn func(*Entry) error) error {
	if len(cas) == 0 {
		return nil
	}
	args := make([]any, len(cas))
	for i, s := range cas {
		args[i] = fingerprint(s.Cert)
	}
	marks := strings.Repeat("?, ", len(cas)-1) + "?"
	return db.scanEntries(ctx, true, fn, "WHERE c.sha256 IN ("+marks+") ORDER BY c.id", args...)
}

// Entries calls fn with every certificate the record holds, oldest first.
func (db *DB) Entries(ctx context.Context, fn func(*Entry) error) error {
	return db.eachEntry(ctx, fn, "ORDER BY c.id")
}

func (db *DB) eachEntry(ctx context.Context, fn func(*Entry) error, where string, args ...any) error {
	return db.scanEntries(ctx, false, fn, where, args...)
}

// scanEntries calls fn with each entry of the query. An entry that cannot
// be read completely is an error, or, when tolerant, comes with Damaged set.
func (db *DB) scanEntries(ctx context.Context, tolerant bool, fn func(*Entry) error, where string, args ...any) error {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+entryColumns+" "+where, args...)
	if err != nil {
		return db.err(err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if tolerant {
			e, err = db.tolerate(e, err)
		}
		if err != nil {
			return db.err(err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return db.err(rows.Err())
}

// tolerate turns a damaged entry into the entry with Damaged set.
func (db *DB) tolerate(e *Entry, err error) (*Entry, error) {
	if e != nil && errors.Is(err, ErrDamaged) {
		e.Damaged = db.err(err)
		return e, nil
	}
	return e, err
}

// PathOf is the file of an entry (the record names files relative to the
// store).
func (db *DB) PathOf(e *Entry) string { return db.abs(e.File) }

// Lookup finds the entry of serial in the record of CA name, or nil.
func (db *DB) Lookup(ctx context.Context, caName, serial string) (*Entry, error) {
	row := db.sql.QueryRowContext(ctx, "SELECT "+entryColumns+" WHERE cas.name = ? AND c.serial = ?", caName, serial)
	e, err := scanEntry(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return e, db.err(err)
}

// Log calls fn with each event of the CA's record, oldest first (`ca log`).
// A CA the record does not know yet is registered first, importing the JSON
// Lines record an earlier keywright kept for it.
func (a *Authority) Log(ctx context.Context, fn func(Event) error) error {
	db, err := OpenDB(ctx, filepath.Dir(a.Paths.Record), discoveryTimeout)
	if err != nil {
		return err
	}
	defer db.Close()
	rec, err := db.Record(ctx, a.Paths.Name, a.Cert, a.Paths.Cert)
	if err != nil {
		return err
	}
	return rec.Events(ctx, fn)
}

// bySHA256 is the entry of the certificate with fingerprint sum, or nil
// (a damaged one with Damaged set).
func (db *DB) bySHA256(ctx context.Context, sum string) (*Entry, error) {
	e, err := db.tolerate(scanEntry(db.sql.QueryRowContext(ctx, "SELECT "+entryColumns+" WHERE c.sha256 = ? ORDER BY c.id DESC LIMIT 1", sum)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return e, db.err(err)
}

// nameCursor walks the record's entries in NAME order (the by-name index),
// for a caller that walks the store's files in the same order.
type nameCursor struct {
	db   *DB
	rows *sql.Rows
	next *Entry // the first entry not yet passed; nil at the end
}

func (db *DB) byName(ctx context.Context) (*nameCursor, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+entryColumns+" ORDER BY c.name, c.id")
	if err != nil {
		return nil, db.err(err)
	}
	c := &nameCursor{db: db, rows: rows}
	return c, c.advance()
}

func (c *nameCursor) advance() error {
	c.next = nil
	if !c.rows.Next() {
		return c.db.err(c.rows.Err())
	}
	e, err := c.db.tolerate(scanEntry(c.rows))
	if err != nil {
		return c.db.err(err)
	}
	c.next = slim(e)
	return nil
}

// entryOf returns the entry of NAME whose certificate has fingerprint sum
// (the newest, if one was recorded twice), else a damaged entry of NAME,
// or nil. Calls come in NAME order.
func (c *nameCursor) entryOf(name, sum string) (*Entry, error) {
	for c.next != nil && c.next.Name < name {
		if err := c.advance(); err != nil {
			return nil, err
		}
	}
	var found, damaged *Entry
	for c.next != nil && c.next.Name == name {
		switch {
		case c.next.SHA256 == sum:
			found = c.next
		case c.next.Damaged != nil && !isSHA256(c.next.SHA256):
			damaged = c.next
		}
		if err := c.advance(); err != nil {
			return nil, err
		}
	}
	if found == nil {
		// An entry of NAME whose fingerprint cannot be read may be this
		// certificate's: its status is unknown.
		found = damaged
	}
	return found, nil
}

func (c *nameCursor) close() { c.rows.Close() }

// isSHA256 reports whether s is a SHA-256 in hex, as the record keeps them.
func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}
