package ca

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// An SSH CA noted in the record is refused as a key pair to replace, by
// its fingerprint: another key pair at the same file is not the CA.
func TestSSHCAs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "ssh", "users")
	if err := CheckNotSSHCA(ctx, dir, file, "SHA256:a", time.Second); err != nil || ExistsDB(dir) {
		t.Fatalf("no record: %v (made one: %v)", err, ExistsDB(dir))
	}
	if err := RecordSSHCA(ctx, dir, file, "SHA256:a", testNow, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := CheckNotSSHCA(ctx, dir, file, "SHA256:a", time.Second); !errors.Is(err, ErrReplacesSSHCA) {
		t.Fatalf("the CA: %v", err)
	}
	if err := CheckNotSSHCA(ctx, dir, file, "SHA256:b", time.Second); err != nil {
		t.Fatalf("another key at the file: %v", err)
	}
	if err := CheckNotSSHCA(ctx, dir, filepath.Join(dir, "ssh", "alice"), "SHA256:a", time.Second); err != nil {
		t.Fatalf("another file: %v", err)
	}
	// ssh ca init --force: the new pair is the CA.
	if err := RecordSSHCA(ctx, dir, file, "SHA256:b", testNow, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := CheckNotSSHCA(ctx, dir, file, "SHA256:b", time.Second); !errors.Is(err, ErrReplacesSSHCA) {
		t.Fatalf("the new CA: %v", err)
	}
}

// A record of schema version 1 (before SSH CAs) is brought to the current
// version when opened, keeping what it holds and importing nothing again.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	st, root, _, _ := chainStore(t)
	before := issuedOf(t, root)
	db, err := OpenDB(ctx, st.Dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TABLE ssh_cas", "PRAGMA user_version = 1"} {
		if _, err := db.sql.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if err := RecordSSHCA(ctx, st.Dir, filepath.Join(st.Dir, "ssh", "users"), "SHA256:a", testNow, time.Second); err != nil {
		t.Fatalf("after migration: %v", err)
	}
	db, err = OpenDB(ctx, st.Dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != schemaVersion {
		t.Fatalf("version %d (%v), want %d", version, err, schemaVersion)
	}
	if after := issuedOf(t, root); len(after) != len(before) {
		t.Fatalf("%d issued events before, %d after", len(before), len(after))
	}
}
