//go:build unix

package ca

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/keywright/keywright/store"
)

// crashAfterRecord leaves what a command killed after its record's commit
// and before placing its files leaves: the certificate recorded with its
// pending file, the file not in place. It returns the pending file, its
// target and the certificate's PEM.
func crashAfterRecord(t *testing.T, st *store.Store, a *Authority, name string) (pending, target string, pemData []byte) {
	t.Helper()
	s, err := a.Sign(leafReq(t, "", name+".example.test"))
	if err != nil {
		t.Fatal(err)
	}
	target = filepath.Join(st.Dir, name+".crt")
	pending = filepath.Join(st.Dir, ".keywright-pending-999999-"+name)
	pemData = EncodeCerts(s.Cert)
	if err := os.WriteFile(pending, pemData, 0o644); err != nil {
		t.Fatal(err)
	}
	rec, done, err := a.openRecord(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	ev := issuedEvent(s.Cert, "server", target, testNow)
	if _, err := rec.Issued(context.Background(), ev, nil, []store.Pending{{File: pending, Target: target}}); err != nil {
		t.Fatal(err)
	}
	return pending, target, pemData
}

// What a killed command recorded is put in place by the next command that
// opens the record; a pending file whose writer still runs is left to it.
func TestPendingFinishedByNextOpen(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	alive, aliveTarget, _ := crashAfterRecord(t, st, root, "busy")
	holder, err := os.Open(alive)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(holder.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	pending, target, want := crashAfterRecord(t, st, root, "web")
	if _, err := os.Stat(target); err == nil {
		t.Fatal("the target exists before any recovery: the test sets nothing up")
	}
	if _, err := CAs(context.Background(), st); err != nil { // any command that opens the record
		t.Fatal(err)
	}
	if got, err := os.ReadFile(target); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the recorded certificate was not put in place: %v", err)
	}
	if store.Exists(pending) {
		t.Error("the pending file is still there")
	}
	if store.Exists(aliveTarget) || !store.Exists(alive) {
		t.Error("a pending file whose writer is alive was taken over")
	}
	holder.Close() // its writer "dies"
	if _, err := CAs(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if !store.Exists(aliveTarget) || store.Exists(alive) {
		t.Error("the pending file of a dead writer was not finished")
	}
	db, err := OpenDB(context.Background(), st.Dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if rows, err := db.pendingRows(context.Background()); err != nil || len(rows) != 0 {
		t.Fatalf("pending rows left: %v %v", rows, err)
	}
}

// A pending file no record names (its writer died before the record's
// commit) is removed, once the directory's mark says a writer died; a
// normal issue leaves no pending file or row behind.
func TestPendingOrphanRemoved(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	issueLeaf(t, st, root, "web")
	if left, _ := filepath.Glob(filepath.Join(st.Dir, ".keywright-pending-*")); len(left) != 0 {
		t.Fatalf("an issue left pending files: %v", left)
	}
	orphan := filepath.Join(st.Dir, ".keywright-pending-999999-orphan")
	if err := os.WriteFile(orphan, []byte("a private key, say"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The mark a killed writer leaves: its lock file's size is 1.
	if err := os.WriteFile(filepath.Join(st.Dir, store.DirLockName), []byte{1}, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := CAs(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if store.Exists(orphan) {
		t.Fatal("an orphan pending file stayed")
	}
	if store.Dirty(st.Dir) {
		t.Error("the mark stayed set with nothing left to sweep")
	}
}

// The sweep asks the record again, under the directory's lock, whether a
// row names a pending file: a file recorded after finishPending read its
// rows (its writer killed meanwhile) is kept for the next open to place,
// while a file no row names goes.
func TestSweepAsksTheRecordUnderTheLock(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	recorded, target, _ := crashAfterRecord(t, st, root, "late")
	orphan := filepath.Join(st.Dir, ".keywright-pending-999999-orphan")
	if err := os.WriteFile(orphan, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st.Dir, store.DirLockName), []byte{1}, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := openReadOnly(st.Dir) // no finishPending: as if its rows were read before the writer recorded
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !db.namesPending(context.Background(), recorded) || db.namesPending(context.Background(), orphan) {
		t.Fatal("namesPending does not tell the recorded file from the orphan")
	}
	if err := store.SweepPending(st.Dir, func(p string) bool { return db.namesPending(context.Background(), p) }); err != nil {
		t.Fatal(err)
	}
	if !store.Exists(recorded) {
		t.Fatal("the sweep removed a pending file the record names: its certificate would never be placed")
	}
	if store.Exists(orphan) {
		t.Error("the orphan stayed")
	}
	if _, err := CAs(context.Background(), st); err != nil { // the next command places it
		t.Fatal(err)
	}
	if !store.Exists(target) || store.Exists(recorded) {
		t.Error("the recorded pending file was not placed by the next open")
	}
}

// A write no record covers (key new, csr new, a forced self-signed
// certificate) into a directory a killed writer left recorded files in has
// them put in place first, so it never takes the name one of them waits
// for: here it finds the recorded certificate in place and says so.
func TestOtherWriteFinishesRecordedFirst(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	pending, target, want := crashAfterRecord(t, st, root, "n1")
	// The killed writer's mark: the directory lock file not empty.
	if err := os.WriteFile(filepath.Join(st.Dir, store.DirLockName), []byte{1}, 0o600); err != nil {
		t.Fatal(err)
	}
	err := store.WriteFile(target, []byte("another certificate\n"), store.Cert.Mode, false)
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("a write over a name a recorded file waits for: %v, want ErrExists", err)
	}
	if got, err := os.ReadFile(target); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the recorded certificate is not the one in place: %v", err)
	}
	if store.Exists(pending) {
		t.Error("the pending file is still there")
	}
}

// store check does not report the pending file of a write in progress
// (its writer holds it): a check from cron while a batch runs is clean.
func TestCheckRecordSkipsWritesInProgress(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	alive, _, _ := crashAfterRecord(t, st, root, "busy")
	holder, err := os.Open(alive)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := syscall.Flock(int(holder.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	findings, err := CheckRecord(context.Background(), st, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f.Kind == store.FindingPending {
			t.Fatalf("a write in progress reported: %+v", f)
		}
	}
	if !store.Exists(alive) {
		t.Fatal("the test lost its pending file: it checks nothing")
	}
}
