package ca

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// CANames lists the CAs the record knows whose certificate is there, and
// changes nothing in the store: no record is created where there is none,
// and an existing one is opened read-only.
func TestCANames(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	if names, err := CANames(ctx, st.Dir); err != nil || len(names) != 0 {
		t.Fatalf("no store: %q, %v; want none", names, err)
	}
	root := testCA(t, st, "root", nil, nil)
	testCA(t, st, "sub", root, nil)
	testCA(t, st, "gone", nil, nil)
	if err := os.Remove(filepath.Join(st.Dir, "gone.crt")); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(st.Dir, DBFile)
	before, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	names, err := CANames(ctx, st.Dir)
	if want := []string{"root", "sub"}; err != nil || !slices.Equal(names, want) {
		t.Fatalf("CANames: %q, %v; want %q (gone's certificate is gone)", names, err, want)
	}
	if after, _ := os.ReadFile(record); string(before) != string(after) {
		t.Fatal("CANames changed the record")
	}
	db, err := openReadOnly(st.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.sql.ExecContext(ctx, "DELETE FROM cas"); err == nil {
		t.Fatal("the read-only record accepted a write")
	}
}

// Without a record, the store's certificates are looked through, and no
// record is made.
func TestCANamesWithoutRecord(t *testing.T) {
	st := newStore(t)
	testCA(t, st, "root", nil, nil)
	if err := os.Remove(filepath.Join(st.Dir, DBFile)); err != nil {
		t.Fatal(err)
	}
	names, err := CANames(context.Background(), st.Dir)
	if err != nil || !slices.Equal(names, []string{"root"}) {
		t.Fatalf("CANames: %q, %v; want [root]", names, err)
	}
	if ExistsDB(st.Dir) {
		t.Fatal("CANames created a record")
	}
}
