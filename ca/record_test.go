package ca

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keywright/keywright/store"
)

// issueLeaf issues NAME with root into st.
func issueLeaf(t testing.TB, st *store.Store, a *Authority, name string) *Issued {
	t.Helper()
	certPath, _ := st.Path(name, store.Cert)
	chainPath, _ := st.Path(name, store.Chain)
	is, err := a.Issue(context.Background(), IssueRequest{Store: st, Sign: leafReq(t, "", name+".example.test"),
		CertPath: certPath, ChainPath: chainPath, LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("issue %s: %v", name, err)
	}
	return is
}

// history makes a store with every kind of event: a root and an
// intermediate, leaves, a revocation and two CRLs.
func history(t *testing.T) (*store.Store, *Authority, *Authority) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	inter := testCA(t, st, "int", root, nil)
	issueLeaf(t, st, inter, "web")
	bad := issueLeaf(t, st, inter, "bad")
	ctx := context.Background()
	if _, err := inter.Revoke(ctx, RevokeRequest{Serial: bad.Cert.SerialNumber, Reason: "key-compromise", Now: testNow, LockTimeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := inter.CRL(ctx, CRLRequest{Path: filepath.Join(st.Dir, "int.crl"), Now: testNow, LockTimeout: time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	return st, root, inter
}

func jsonLines(t *testing.T, evs []Event) []byte {
	var b bytes.Buffer
	for _, ev := range evs {
		line, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

func TestRecordEvents(t *testing.T) {
	_, root, inter := history(t)
	evs := eventsOf(t, inter)
	var kinds []string
	for _, ev := range evs {
		kinds = append(kinds, ev.Event)
	}
	if got := strings.Join(kinds, " "); got != "issued issued revoked crl crl" {
		t.Fatalf("events %q", got)
	}
	if evs[0].File != "web.crt" || evs[0].SANs[0] != "dns:web.example.test" || evs[0].Profile != "server" || evs[0].SHA256 == "" {
		t.Errorf("issued event %+v", evs[0])
	}
	if evs[2].Serial != evs[1].Serial || evs[2].Reason != "key-compromise" || evs[3].CRLNumber != 1 || evs[4].CRLNumber != 2 || evs[4].NextUpdate.IsZero() {
		t.Errorf("revoked/crl events %+v %+v %+v", evs[2], evs[3], evs[4])
	}
	if r := issuedOf(t, root); len(r) != 2 || r[1].File != "int.crt" || r[1].Profile != ProfileCA {
		t.Errorf("root's record %+v", r)
	}
}

// A JSON Lines record from before the database is imported once, event for
// event, and left as it was; `ca log --json` prints the same lines back.
func TestRecordImportsJSONLines(t *testing.T) {
	st, root, inter := history(t)
	legacy := map[string][]byte{"root": jsonLines(t, eventsOf(t, root)), "int": jsonLines(t, eventsOf(t, inter))}
	removeDB(t, st.Dir)
	for name, data := range legacy {
		if err := os.WriteFile(filepath.Join(st.Dir, name+".db"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The first command that looks for CAs makes the database and imports.
	cas, err := CAs(context.Background(), st)
	if err != nil || len(cas) != 2 {
		t.Fatalf("CAs after import: %v %v", cas, err)
	}
	for name, a := range map[string]*Authority{"root": root, "int": inter} {
		if got := jsonLines(t, eventsOf(t, a)); !bytes.Equal(got, legacy[name]) {
			t.Errorf("%s: ca log after import\n%s\nwant\n%s", name, got, legacy[name])
		}
		if data, _ := os.ReadFile(filepath.Join(st.Dir, name+".db")); !bytes.Equal(data, legacy[name]) {
			t.Errorf("%s.db was changed by the import", name)
		}
	}
	// Imported state works: the revoked serial stays revoked, the next CRL
	// number follows the imported ones, the serials stay taken.
	crl, err := inter.CRL(context.Background(), CRLRequest{Path: filepath.Join(st.Dir, "int.crl"), Now: testNow, LockTimeout: time.Second})
	if err != nil || crl.Number != 3 || len(crl.List.RevokedCertificateEntries) != 1 {
		t.Fatalf("CRL after import: %v %+v", err, crl)
	}
	// Only once: a second open imports nothing more.
	if n := len(eventsOf(t, inter)); n != 6 {
		t.Fatalf("%d events after the next CRL, want 6", n)
	}
}

func removeDB(t *testing.T, dir string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(dir, DBFile+suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
}

// A serial the CA already used is refused by the database itself.
func TestRecordSerialUnique(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	web := issueLeaf(t, st, root, "web")
	rec, done, err := root.openRecord(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	ev := issuedEvent(web.Cert, "server", filepath.Join(st.Dir, "other.crt"), testNow)
	if _, err := rec.Issued(context.Background(), ev, nil, nil); err == nil || !errors.Is(err, ErrSerialUsed) {
		t.Fatalf("second record of serial %s: %v", ev.Serial, err)
	}
}

// Undo takes an issued event back (and a CA registered with it), and a CRL
// number back.
func TestRecordUndo(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	ctx := context.Background()
	rec, done, err := root.openRecord(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	before := len(eventsOf(t, root))
	inter := testCA(t, newStore(t), "int", nil, nil) // any CA certificate will do
	ev := issuedEvent(inter.Cert, ProfileCA, filepath.Join(st.Dir, "int.crt"), testNow)
	undo, err := rec.Issued(ctx, ev, &Stored{Name: "int", Path: filepath.Join(st.Dir, "int.crt"), Cert: inter.Cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := rec.Lookup(ctx, ev.Serial); e == nil {
		t.Fatal("not recorded")
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	if e, _ := rec.Lookup(ctx, ev.Serial); e != nil || len(eventsOf(t, root)) != before {
		t.Fatalf("after undo: entry %+v", e)
	}
	if known, _ := rec.db.CAs(ctx); len(known) != 1 {
		t.Fatalf("the CA registered with the event outlived its undo: %+v", known)
	}
	d, err := rec.NextCRL(ctx)
	if err != nil || d.Number != 1 {
		t.Fatalf("first CRL number %d: %v", d.Number, err)
	}
	if undo, err = rec.IssuedCRL(ctx, 1, testNow, testNow, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.IssuedCRL(ctx, 1, testNow, testNow, nil); err == nil {
		t.Fatal("CRL number 1 recorded twice")
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	if d, err = rec.NextCRL(ctx); err != nil || d.Number != 1 {
		t.Fatalf("CRL number after an undo: %d, %v; want 1", d.Number, err)
	}
}

// Twenty signers at once (each with its own database connection and lock
// file descriptor, as processes have): all recorded once, distinct serials.
func TestRecordConcurrentIssue(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { issueLeaf(t, st, root, fmt.Sprintf("c%02d", i)) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ev := range issuedOf(t, root) {
		if seen[ev.Serial] {
			t.Fatalf("serial %s twice", ev.Serial)
		}
		seen[ev.Serial] = true
	}
	if len(seen) != 21 {
		t.Fatalf("%d issued events, want 21", len(seen))
	}
}

func TestRecordNewerSchemaRefused(t *testing.T) {
	st := newStore(t)
	testCA(t, st, "root", nil, nil)
	db, err := OpenDB(context.Background(), st.Dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := OpenDB(context.Background(), st.Dir, time.Second); err == nil || !strings.Contains(err.Error(), "newer than this keywright") {
		t.Fatalf("open of a newer schema: %v", err)
	}
}

func TestRecordRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, DBFile))
	if _, err := OpenDB(context.Background(), dir, time.Second); !errors.Is(err, store.ErrSymlink) {
		t.Fatalf("open through a symlink: %v", err)
	}
	if store.Exists(filepath.Join(dir, "elsewhere")) {
		t.Fatal("created the symlink's target")
	}
}

// Expiring answers from the not-after index and skips revoked entries and
// files that now hold another certificate.
func TestExpiring(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	issueLeaf(t, st, root, "a")
	b := issueLeaf(t, st, root, "b")
	ctx := context.Background()
	if _, err := root.Revoke(ctx, RevokeRequest{Serial: b.Cert.SerialNumber, Now: testNow, LockTimeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	var names []string
	_, err := Expiring(ctx, st, testNow, 100*24*time.Hour, func(it Item) error {
		names = append(names, it.Name+"/"+it.CA)
		return nil
	})
	if err != nil || strings.Join(names, " ") != "a/root" {
		t.Fatalf("expiring: %v %v", names, err)
	}
	names = nil
	Expiring(ctx, st, testNow, 24*time.Hour, func(it Item) error { names = append(names, it.Name); return nil })
	if len(names) != 0 {
		t.Fatalf("expiring within a day: %v", names)
	}
}

// Expiring reads the record a page at a time: across pages the order is
// not_after then issue order (equal not-afters included, as certificates
// issued in one second have), nothing twice, nothing revoked, and the
// entries whose not-after is not an integer come last, in SQLite's order:
// a huge real, then text, then a blob.
func TestExpiringInPages(t *testing.T) {
	defer func(n int) { expiringPage = n }(expiringPage)
	expiringPage = 2
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	var want []string
	for _, name := range []string{"a", "b", "c", "d", "e", "huge", "text", "blob"} {
		issueLeaf(t, st, root, name)
		if name != "c" {
			want = append(want, name)
		}
	}
	ctx := context.Background()
	db, err := OpenDB(ctx, st.Dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"UPDATE certificates SET not_after = 1e30 WHERE name = 'huge'",
		"UPDATE certificates SET not_after = 'soon' WHERE name = 'text'",
		"UPDATE certificates SET not_after = x'00' WHERE name = 'blob'",
		"UPDATE certificates SET revoked_at = 1, reason = 'superseded' WHERE name = 'c'",
	} {
		if _, err := db.sql.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	err = db.Expiring(ctx, testNow.Add(1000*24*time.Hour), func(e *Entry) error {
		got = append(got, e.Name)
		if e.Name == "a" { // as renew --expiring records a renewal
			issueLeaf(t, st, root, "late")
		}
		return nil
	})
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("expiring in pages of 2: %v %v, want %v (nothing recorded meanwhile)", got, err, want)
	}
}

// Expiring's queries are searches of the not_after index, whatever the
// record holds: a plan that scans (an OR of the two ranges did, to keep
// the order) makes list --expiring cost grow with the store.
func TestExpiringSearchesTheIndex(t *testing.T) {
	st := newStore(t)
	testCA(t, st, "root", nil, nil)
	db, err := OpenDB(context.Background(), st.Dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{entryPageQuery(expiringBefore, false), entryPageQuery(expiringBefore, true),
		entryPageQuery(expiringUnreadable, false), entryPageQuery(expiringUnreadable, true)} {
		rows, err := db.sql.Query("EXPLAIN QUERY PLAN "+q, int64(0), int64(0), int64(0), int64(0), int64(1))
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, "SEARCH c USING INDEX certificates_by_not_after") || strings.Contains(got, "SCAN c") {
			t.Errorf("%s: plan %q, want a search of certificates_by_not_after", q, got)
		}
	}
}

// A writer that finds the record locked by another writer waits the busy
// timeout (the commands' --lock-timeout), then says busy.
func TestRecordBusy(t *testing.T) {
	st := newStore(t)
	testCA(t, st, "root", nil, nil)
	ctx := context.Background()
	holder, err := OpenDB(ctx, st.Dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	tx, err := holder.sql.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	other, err := OpenDB(ctx, st.Dir, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	start := time.Now()
	err = other.inTx(ctx, func(*sql.Tx) error { return nil })
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("a second writer: %v, want store.ErrBusy", err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Fatalf("said busy after %v, before the 50ms busy timeout", waited)
	}
	// Readers are not blocked by a writer (WAL).
	if cas, err := other.CAs(ctx); err != nil || len(cas) != 1 {
		t.Fatalf("a reader beside a writer: %v %v", cas, err)
	}
}
