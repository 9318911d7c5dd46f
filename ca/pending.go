package ca

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"

	"github.com/keywright/keywright/store"
)

// The record keeps, with each certificate it records, the pending names of
// the files being placed (store.Pending, README "The record"): a command
// killed after the record's commit but before its files are in place leaves
// rows here, and the next command to open the record puts those files in
// place. So a recorded certificate always reaches its file, and a re-run
// (batch) finds it issued instead of signing another.

// insertPending stores the pending files of a Tx in the transaction that
// records their certificates.
func (db *DB) insertPending(ctx context.Context, tx *sql.Tx, pending []store.Pending) error {
	return eachRow(ctx, tx, "INSERT INTO pending (file, target, force) VALUES (?, ?, ?)", len(pending),
		func(i int) []any { return []any{db.rel(pending[i].File), db.rel(pending[i].Target), pending[i].Force} })
}

// deletePending drops pending rows in tx (an undo).
func (db *DB) deletePending(ctx context.Context, tx *sql.Tx, pending []store.Pending) error {
	return eachRow(ctx, tx, "DELETE FROM pending WHERE file = ?", len(pending),
		func(i int) []any { return []any{db.rel(pending[i].File)} })
}

// execer runs a statement: a *sql.Tx, or a stmtCache over one.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// stmtCache is a transaction whose statements are each compiled once: a
// group commit records a hundred certificates with the same two statements.
type stmtCache struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func newStmtCache(tx *sql.Tx) *stmtCache { return &stmtCache{tx: tx, stmts: map[string]*sql.Stmt{}} }

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok := c.stmts[query]
	if !ok {
		var err error
		if st, err = c.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		c.stmts[query] = st
	}
	return st.ExecContext(ctx, args...)
}

// Close closes the statements (the transaction stays open).
func (c *stmtCache) Close() {
	for _, st := range c.stmts {
		st.Close()
	}
}

// eachRow runs query n times in tx with args(i), prepared once (a group
// commit's thousand rows would otherwise each compile it).
func eachRow(ctx context.Context, tx *sql.Tx, query string, n int, args func(i int) []any) error {
	if n == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range n {
		if _, err := stmt.ExecContext(ctx, args(i)...); err != nil {
			return err
		}
	}
	return nil
}

// undo is the undo of a Record step: fn takes back what it recorded and the
// pending rows go with it, in one transaction that runs even after an
// interrupt cancelled ctx.
func (db *DB) undo(ctx context.Context, pending []store.Pending, fn func(context.Context, *sql.Tx) error) func() error {
	return func() error {
		bg := context.WithoutCancel(ctx)
		return db.inTx(bg, func(tx *sql.Tx) error {
			if err := fn(bg, tx); err != nil {
				return err
			}
			return db.deletePending(bg, tx, pending)
		})
	}
}

// dropPending drops the rows of files now in place. Not syncing them is
// safe: a row that comes back after a crash names a file that is gone,
// and finishPending drops it then.
func (db *DB) dropPending(pending []store.Pending) {
	if len(pending) == 0 {
		return
	}
	ctx := context.Background()
	c, err := db.sql.Conn(ctx)
	if err != nil {
		return
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "PRAGMA synchronous = OFF"); err != nil {
		return
	}
	defer c.ExecContext(ctx, "PRAGMA synchronous = FULL") // the connection goes back to the pool
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return
	}
	if db.deletePending(ctx, tx, pending) != nil {
		tx.Rollback()
		return
	}
	_ = tx.Commit()
}

func init() { store.SetPendingFinisher(finishPendingIn) }

// finishPendingIn opens the record that covers dir: opening it puts in
// place what a killed writer recorded (finishPending), before a write of
// another kind goes into dir (store.Tx) or a command reads it
// (store.Settle). The record is dir's own, or for a directory without one
// (issue ./out/web), the store's (RecordFilesOutside). It waits at most
// wait for the record and the directory.
func finishPendingIn(dir string, wait time.Duration) error {
	rd := dir
	if !ExistsDB(rd) {
		if rd = outsideRecord.Load().(string); rd == "" || !ExistsDB(rd) {
			return nil
		}
	}
	db, err := openDB(context.Background(), rd, wait, wait)
	if err != nil {
		return err
	}
	if rd != dir && store.Dirty(dir) {
		// Files staged here get their pending name just before the Record
		// step: one no row names was never recorded.
		err = store.SweepPending(dir, func(p string) bool { return db.namesPending(context.Background(), p) })
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// outsideRecord is the store directory whose record covers the files a
// command writes outside any store (RecordFilesOutside).
var outsideRecord atomic.Value

func init() { outsideRecord.Store("") }

// RecordFilesOutside says that storeDir's record covers the files this
// process writes or reads outside any store directory (issue ./out/web
// records the certificate in the store's record): what a killed keywright
// left pending there is put in place from it (store.Settle, store.Tx).
func RecordFilesOutside(storeDir string) { outsideRecord.Store(storeDir) }

// finishPending puts in place the files a killed command recorded but did
// not place, and drops their rows. It waits at most wait for a writer
// holding a directory's lock, once per directory, then leaves that
// directory's files for a later look. A file
// whose writer is still running is left to it; a file that cannot be
// placed (its target was made meanwhile) keeps its row, and store check
// reports it.
func (db *DB) finishPending(ctx context.Context, wait time.Duration) error {
	pending, err := db.pendingRows(ctx)
	if err != nil {
		return err
	}
	done := store.FinishPending(pending, wait)
	named := make(map[string]bool, len(pending))
	for _, p := range pending {
		named[p.File] = true
	}
	for _, p := range done {
		delete(named, p.File)
	}
	if len(done) > 0 {
		// Dropping the rows of files in place tidies; it promises nothing:
		// a row left (the record busy, read-only, or on a full disk) names
		// a file that is placed or gone, and a later look drops it.
		_ = db.inTx(ctx, func(tx *sql.Tx) error { return db.deletePending(ctx, tx, done) })
	}
	// A writer killed after naming its files pending but before the record
	// committed left files no row names: they go (one stat when none).
	// Whether a row names a file is asked again under the directory's lock
	// (SweepPending holds it): a writer that recorded its files after the
	// rows above were read, and was killed, has rows the list lacks.
	if store.Dirty(db.dir) {
		return store.SweepPending(db.dir, func(p string) bool { return named[p] || db.namesPending(ctx, p) })
	}
	return nil
}

// namesPending reports whether a pending row names file; when the record
// cannot say, it does (the file is kept).
func (db *DB) namesPending(ctx context.Context, file string) bool {
	var n int
	err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM pending WHERE file = ?", db.rel(file)).Scan(&n)
	return err != nil || n > 0
}

// pendingRows lists the pending files the record names.
func (db *DB) pendingRows(ctx context.Context) ([]store.Pending, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT file, target, force FROM pending ORDER BY rowid")
	if err != nil {
		return nil, db.err(err)
	}
	defer rows.Close()
	var out []store.Pending
	for rows.Next() {
		var p store.Pending
		if err := rows.Scan(&p.File, &p.Target, &p.Force); err != nil {
			return nil, db.err(err)
		}
		p.File, p.Target = db.abs(p.File), db.abs(p.Target)
		out = append(out, p)
	}
	return out, db.err(rows.Err())
}
