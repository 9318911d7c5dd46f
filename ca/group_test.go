package ca

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keywright/keywright/store"
)

func groupReq(t testing.TB, st *store.Store, name string) IssueRequest {
	certPath, _ := st.Path(name, store.Cert)
	chainPath, _ := st.Path(name, store.Chain)
	return IssueRequest{Store: st, Sign: leafReq(t, "", name+".example.test"), CertPath: certPath, ChainPath: chainPath}
}

// A group issues every request, recorded once each with distinct serials;
// a request refused on its own (its file exists) fails alone, and two
// requests for one file spoil the group commit, after which each is issued
// on its own: the first lands, the second is refused.
func TestIssueGroup(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	issueLeaf(t, st, root, "taken")
	var reqs []IssueRequest
	for i := range 30 {
		reqs = append(reqs, groupReq(t, st, fmt.Sprintf("g%02d", i)))
	}
	reqs = append(reqs, groupReq(t, st, "taken"), groupReq(t, st, "twice"), groupReq(t, st, "twice"))
	res := root.IssueGroup(context.Background(), reqs, time.Second)
	for i, r := range res[:30] {
		if r.Err != nil || r.Issued == nil || r.Issued.Entry.File != fmt.Sprintf("g%02d.crt", i) {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
	if !errors.Is(res[30].Err, store.ErrExists) {
		t.Errorf("existing file: %v, want ErrExists", res[30].Err)
	}
	if res[31].Err != nil || !errors.Is(res[32].Err, store.ErrExists) {
		t.Errorf("one file twice: %v / %v, want the first issued and the second refused", res[31].Err, res[32].Err)
	}
	seen := map[string]bool{}
	for _, ev := range issuedOf(t, root) {
		if seen[ev.Serial] {
			t.Fatalf("serial %s twice", ev.Serial)
		}
		seen[ev.Serial] = true
		if _, err := os.Stat(st.Dir + "/" + ev.File); err != nil {
			t.Errorf("recorded %s without its file: %v", ev.File, err)
		}
	}
	if len(seen) != 1+1+30+1 { // root, taken, g00..g29, twice
		t.Fatalf("%d certificates recorded, want 33", len(seen))
	}
	// The WAL is emptied once the record is closed: the next command must
	// not read a group's frames again (journal_size_limit).
	if fi, err := os.Stat(filepath.Join(st.Dir, DBFile+"-wal")); err != nil || fi.Size() != 0 {
		t.Errorf("the WAL after the group: %v, %d bytes; want kept and empty", err, fi.Size())
	}
}

// BenchmarkIssueGroup is batch's group commit against one Issue per
// certificate (BenchmarkIssue): per certificate, 64 at a time.
func BenchmarkIssueGroup(b *testing.B) {
	st := newStore(b)
	root := testCA(b, st, "root", nil, nil)
	n := 0
	for b.Loop() {
		b.StopTimer()
		var reqs []IssueRequest
		for range 64 {
			n++
			reqs = append(reqs, groupReq(b, st, fmt.Sprintf("b%06d", n)))
		}
		b.StartTimer()
		for _, r := range root.IssueGroup(context.Background(), reqs, time.Second) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/cert")
}
