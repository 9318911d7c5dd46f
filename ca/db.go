package ca

import (
	"context"
	"crypto/rand"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/store"
	"modernc.org/sqlite" // pure Go, so release builds stay CGO_ENABLED=0
)

// DBFile is the record database of a store (README "The record"). Its name
// ends in .sqlite, which no store kind uses, so it never meets a NAME's file.
const DBFile = "record.sqlite"

// dbMode: the record holds nothing secret (serials, subjects, dates); the
// store directory (0700) keeps it private anyway.
const dbMode os.FileMode = 0o644

//go:embed schema.sql
var schemaSQL string

// schemaVersion is PRAGMA user_version of a database with schema.sql.
// (The SSH CAs' table, schema_ssh_cas.sql, is made when the first SSH CA
// is noted: a record without it is a version 1 record that knows none,
// which an older keywright still reads.)
const schemaVersion = 1

// DB is the record database of one store directory: the CAs it knows, the
// certificates they issued and their events.
type DB struct {
	Path string // DIR/record.sqlite, for messages
	dir  string // the store directory: files are recorded relative to it
	sql  *sql.DB
}

// OpenDB opens (creating it if needed) the record of the store in dir,
// importing the JSON Lines records an earlier keywright kept there. A
// writer that finds the database locked waits at most timeout, then fails
// with store.ErrBusy; 0 tries once.
//
// What a killed writer left pending is put in place on the way: a
// directory another writer holds is waited for once, at most a second (a
// writer holds it for milliseconds; one that is stopped must not stall
// every reader), then left for a later look. store.Settle, which must
// never wait, opens it with 0.
func OpenDB(ctx context.Context, dir string, timeout time.Duration) (*DB, error) {
	return openDB(ctx, dir, timeout, min(timeout, openSettleWait))
}

// openSettleWait bounds OpenDB's wait for a directory another writer holds.
const openSettleWait = time.Second

// openDB is OpenDB, waiting at most settle for a directory whose pending
// files it puts in place.
func openDB(ctx context.Context, dir string, timeout, settle time.Duration) (*DB, error) {
	path := filepath.Join(dir, DBFile)
	if strings.ContainsAny(path, "?#") {
		return nil, errorf("%w %s: the path may not contain '?' or '#'", ErrRecord, path)
	}
	created, err := createDBFile(path)
	if err != nil {
		return nil, err
	}
	// WAL is set once, when the schema is made (it is kept in the file);
	// synchronous=FULL syncs the WAL at every commit, so a commit is on
	// disk when it returns. A 64 KiB page cache: a command reads the
	// record once, through its indexes, and a page it needs again comes
	// back from the kernel's cache. A larger one cost readers of a
	// 10,000-certificate record about 1 MiB each and made nothing faster,
	// not even a batch's group commits (README "Performance").
	// journal_size_limit(0) empties the WAL after each checkpoint (the last
	// connection's close makes one): a WAL left full of checkpointed frames
	// is read whole by the next process to open the record, a cost that
	// grew with the size of the last batch (bench/fleet.sh found it).
	dsn := fmt.Sprintf("%s?_txlock=immediate&_pragma=busy_timeout(%d)&_pragma=synchronous(FULL)"+
		"&_pragma=cache_size(-64)&_pragma=journal_size_limit(0)", path, timeout.Milliseconds())
	registerDriver()
	conn, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, dbErr(path, err)
	}
	// A command is one writer; a second connection lets it look something
	// up while it walks a query (list), which WAL allows beside a writer.
	conn.SetMaxOpenConns(2)
	db := &DB{Path: path, dir: dir, sql: conn}
	if err := db.migrateWaiting(ctx, created, timeout); err != nil {
		conn.Close()
		return nil, err
	}
	if err := db.finishPending(ctx, settle); err != nil {
		conn.Close()
		return nil, err
	}
	return db, nil
}

// ExistsDB reports whether dir has a record database (commands that only
// read use it to leave a store without one untouched).
func ExistsDB(dir string) bool { return store.Exists(filepath.Join(dir, DBFile)) }

// Close releases the database.
func (db *DB) Close() error { return db.sql.Close() }

// createDBFile makes an empty database file with an exact mode (SQLite
// gives its -wal and -shm files the same mode), refusing a symlink. It
// reports whether the file is new.
func createDBFile(path string) (bool, error) {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		return false, errorf("%w %s: %w", ErrRecord, path, store.ErrSymlink)
	case err == nil && !fi.Mode().IsRegular():
		return false, errorf("%w %s: not a regular file", ErrRecord, path)
	case err == nil:
		return false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return false, dbErr(path, err)
	}
	if err := store.EnsureDir(filepath.Dir(path)); err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, dbMode)
	if errors.Is(err, fs.ErrExist) {
		return false, nil // another process made it first
	}
	if err != nil {
		return false, dbErr(path, err)
	}
	err = f.Chmod(dbMode)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, dbErr(path, err)
	}
	return true, nil
}

// migrate brings the schema to schemaVersion. A new database also imports
// the JSON Lines records of the store (once: the import is in the same
// transaction as the schema).
func (db *DB) migrate(ctx context.Context, created bool) error {
	var version int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return db.err(err)
	}
	if version == schemaVersion {
		return nil
	}
	// Outside a transaction (SQLite cannot change the journal mode inside
	// one); it waits for the busy timeout like a write.
	if _, err := db.sql.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		return db.err(err)
	}
	if version > schemaVersion {
		return errorf("%w %s: schema version %d is newer than this keywright (%d); upgrade keywright",
			ErrRecord, db.Path, version, schemaVersion)
	}
	if version < 0 {
		return errorf("%w %s: schema version %d: not a record keywright made", ErrRecord, db.Path, version)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		// Again inside the write transaction: another process may have
		// made the schema while this one waited.
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version == schemaVersion {
			return err
		}
		if _, err := tx.ExecContext(ctx, schemaSQL); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			return err
		}
		return db.importLegacy(ctx, tx)
	})
}

// migrateWaiting is migrate, tried again while the record is busy, for
// at most timeout. SQLite does not call its busy handler for every lock
// a new database needs: switching the journal mode to WAL while another
// process makes the same database fails at once with SQLITE_BUSY (five
// zero-config issues at once in an empty store found it).
func (db *DB) migrateWaiting(ctx context.Context, created bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := db.migrate(ctx, created)
		if !errors.Is(err, store.ErrBusy) || !time.Now().Before(deadline) {
			return err
		}
		var b [1]byte
		_, _ = rand.Read(b[:]) // crypto/rand: it never fails (Go 1.24)
		pause := time.Millisecond * time.Duration(1+b[0]%10)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// driverName is modernc.org/sqlite registered with persistWAL as its
// connection hook (registered once, when a record is first opened).
const driverName = "keywright-sqlite"

var registerDriver = sync.OnceFunc(func() {
	d := &sqlite.Driver{}
	d.RegisterConnectionHook(persistWAL)
	sql.Register(driverName, d)
})

// persistWAL keeps the -wal and -shm files when the last connection
// closes, instead of deleting them and making them anew next time: a
// reader then needs no new disk space (on a full disk, list and verify
// still work), and a writer reuses the WAL's blocks. It runs on every new
// connection.
func persistWAL(conn sqlite.ExecQuerierContext, _ string) error {
	fc, ok := conn.(sqlite.FileControl)
	if !ok {
		return newError("the SQLite driver has no file control")
	}
	_, err := fc.FileControlPersistWAL("main", 1)
	return err
}

// inTx runs fn in one write transaction (BEGIN IMMEDIATE: the write lock is
// taken at the start, so fn never fails half-way for want of it) and
// commits; with synchronous=FULL the commit is on disk when it returns.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return db.err(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return db.err(err)
	}
	return db.err(tx.Commit())
}

// err names the database in an error and turns SQLite's "database is
// locked" into store.ErrBusy.
func (db *DB) err(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrBusy) || fault.Package(err) == "ca" {
		return err // ours, already named
	}
	return dbErr(db.Path, err)
}

// sqliteCode is the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

func dbErr(path string, err error) error {
	// SQLITE_BUSY (5) and SQLITE_LOCKED (6), with any extended code.
	if code := sqliteCode(err) & 0xff; code == 5 || code == 6 {
		return errorf("%s: %w", path, store.ErrBusy)
	}
	if code := sqliteCode(err); code != 0 {
		return errorf("%w %s: %w", ErrRecord, path, fault.Reason("ca", sqliteText(code), err))
	}
	return errorf("%w %s: %w", ErrRecord, path, err)
}

// sqliteReasons say what SQLite's primary result codes mean for the
// record; its own words end in "(26)" and name its internals.
var sqliteReasons = map[int]string{
	1:  "its tables are not the ones keywright keeps (a table or a column is missing)",
	8:  "it cannot be written (a read-only file or file system)",
	10: "the disk failed to read or write it",
	11: "the database is damaged (a page of it does not read)",
	13: "the disk is full",
	14: "it cannot be opened (no permission, or its directory is missing)",
	23: "no permission to read it",
	26: "it is not an SQLite database (damaged, or replaced by another file)",
}

func sqliteText(code int) string {
	if text, ok := sqliteReasons[code&0xff]; ok {
		return text
	}
	return "the database refused the operation (SQLite result code " + strconv.Itoa(code) + ")"
}

// rel names a file relative to the store when it is inside it.
func (db *DB) rel(path string) string { return relativeTo(db.dir, path) }

// abs is the path of a file the record names relative to the store.
func (db *DB) abs(file string) string {
	if filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(db.dir, file)
}

// relativeTo is path relative to dir when it lies inside, else absolute.
// Two paths both relative (or both absolute) are compared as written, with
// no system call (a batch asks this a dozen times a certificate); only a
// mix needs the working directory.
func relativeTo(dir, path string) string {
	if filepath.IsAbs(dir) == filepath.IsAbs(path) {
		if rel, err := filepath.Rel(dir, path); err == nil && !escapes(rel) {
			return rel
		}
	}
	abs, err1 := filepath.Abs(path)
	absDir, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return path
	}
	if rel, err := filepath.Rel(absDir, abs); err == nil && !escapes(rel) {
		return rel
	}
	return abs
}

// escapes reports whether a relative path leaves its directory.
func escapes(rel string) bool {
	return rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
