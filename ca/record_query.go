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
// OR scanned the whole index, row by row, to keep its ORDER BY. Each reads
// expiringPage entries at a time and calls fn with them after the read
// ends: memory stays a page whatever the window holds, and no read of the
// record stays open while fn works (renew --expiring writes a renewal per
// entry; an open read would keep the WAL from being checkpointed).
//
// Only the entries recorded when it starts are passed: a renewal recorded
// while it runs (renew --expiring renews what it is given) may end inside
// the window too, and must not be renewed again.
func (db *DB) Expiring(ctx context.Context, t time.Time, fn func(*Entry) error) error {
	var last int64
	if err := db.sql.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM certificates").Scan(&last); err != nil {
		return db.err(err)
	}
	if err := db.entryPages(ctx, expiringBefore, t.Unix(), last, fn); err != nil {
		return err
	}
	return db.entryPages(ctx, expiringUnreadable, int64(math.MaxInt64), last, fn)
}

// expiringWidth is the length of the longest NAME Expiring(t) would pass.
func (db *DB) expiringWidth(ctx context.Context, t time.Time) (int, error) {
	width := 0
	for _, b := range []struct {
		cond  string
		bound any
	}{{expiringBefore, t.Unix()}, {expiringUnreadable, int64(math.MaxInt64)}} {
		var n sql.NullInt64
		q := "SELECT max(length(c.name)) FROM certificates c WHERE " + b.cond + " AND c.revoked_at IS NULL"
		if err := db.sql.QueryRowContext(ctx, q, b.bound).Scan(&n); err != nil {
			return 0, db.err(err)
		}
		width = max(width, int(n.Int64))
	}
	return width, nil
}

// expiringPage is how many entries Expiring reads at a time.
var expiringPage = 256

// Expiring's two searches, each ordered by not_after then id
// (TestExpiringSearchesTheIndex checks SQLite's plan for them).
const (
	expiringBefore     = "c.not_after < ?"
	expiringUnreadable = "c.not_after > ?"
)

// entryPages calls fn with the entries up to id lastID whose not_after
// meets cond (with bound), soonest first, a page at a time: each page
// starts after the last entry of the one before, by (not_after, id).
func (db *DB) entryPages(ctx context.Context, cond string, bound any, lastID int64, fn func(*Entry) error) error {
	var after []any
	for {
		page, last, err := db.entryPage(ctx, cond, bound, lastID, after)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < expiringPage {
			return nil
		}
		after = last
	}
}

// entryPage reads one page of entryPages, and the key of its last entry.
func (db *DB) entryPage(ctx context.Context, cond string, bound any, lastID int64, after []any) ([]*Entry, []any, error) {
	args := append(append([]any{bound, lastID}, after...), expiringPage)
	rows, err := db.sql.QueryContext(ctx, entryPageQuery(cond, after != nil), args...)
	if err != nil {
		return nil, nil, db.err(err)
	}
	defer rows.Close()
	var page []*Entry
	var at any // as stored: an integer, or a damaged entry's text, blob or real
	var id int64
	for rows.Next() {
		e, err := db.tolerate(scanEntry(keyThen{rows, []any{&at, &id}}))
		if err != nil {
			return nil, nil, err
		}
		page = append(page, e)
	}
	return page, []any{at, id}, db.err(rows.Err())
}

// entryPageQuery is entryPage's query: the entries meeting cond, up to an
// id, after the key given as two more arguments when paged, at most a page.
func entryPageQuery(cond string, paged bool) string {
	q := "SELECT c.not_after, c.id, " + entryColumns + " WHERE " + cond + " AND c.id <= ? AND c.revoked_at IS NULL"
	if paged {
		q += " AND (c.not_after, c.id) > (?, ?)"
	}
	return q + " ORDER BY c.not_after, c.id LIMIT ?"
}

// keyThen scans a row's leading key columns into key, then the rest as
// asked.
type keyThen struct {
	rows *sql.Rows
	key  []any
}

func (k keyThen) Scan(dst ...any) error { return k.rows.Scan(append(k.key, dst...)...) }

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
