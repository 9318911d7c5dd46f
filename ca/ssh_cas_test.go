package ca

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// An SSH CA noted in the record is refused as a key pair to replace, by
// its fingerprint, whatever path names it; another key is not the CA.
func TestSSHCAs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "ssh", "users")
	check := func(fps ...string) error { return CheckNotSSHCA(ctx, dir, "some/path", fps, time.Second) }
	if err := check("SHA256:a"); err != nil || ExistsDB(dir) {
		t.Fatalf("no record: %v (made one: %v)", err, ExistsDB(dir))
	}
	if err := RecordSSHCA(ctx, dir, file, "SHA256:a", testNow, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := check("SHA256:b", "SHA256:a"); !errors.Is(err, ErrReplacesSSHCA) {
		t.Fatalf("the CA: %v", err)
	}
	if err := check("SHA256:b"); err != nil {
		t.Fatalf("another key: %v", err)
	}
	// ssh ca init --force: the new pair is a CA too (the old one stays
	// noted: if the new files were never written, it is still protected).
	if err := RecordSSHCA(ctx, dir, file, "SHA256:b", testNow, time.Second); err != nil {
		t.Fatal(err)
	}
	for _, fp := range []string{"SHA256:a", "SHA256:b"} {
		if err := check(fp); !errors.Is(err, ErrReplacesSSHCA) {
			t.Fatalf("%s: %v", fp, err)
		}
	}
}

// The SSH CAs' table is made on demand: a record without it knows no SSH
// CA, and noting one keeps the record at schema version 1, which an older
// keywright still reads.
func TestSSHCAsKeepSchemaVersion(t *testing.T) {
	ctx := context.Background()
	st, _, _, _ := chainStore(t)
	if err := CheckNotSSHCA(ctx, st.Dir, "x", []string{"SHA256:a"}, time.Second); err != nil {
		t.Fatalf("a record without the table: %v", err)
	}
	if err := RecordSSHCA(ctx, st.Dir, filepath.Join(st.Dir, "ssh", "users"), "SHA256:a", testNow, time.Second); err != nil {
		t.Fatal(err)
	}
	db, err := OpenDB(ctx, st.Dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != 1 {
		t.Fatalf("version %d (%v), want 1", version, err)
	}
}

// A record whose schema version is negative is refused as not keywright's,
// never a crash.
func TestNegativeSchemaVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := OpenDB(ctx, dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.ExecContext(ctx, "PRAGMA user_version = -1"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := OpenDB(ctx, dir, time.Second); !errors.Is(err, ErrRecord) {
		t.Fatalf("version -1: %v", err)
	}
}
