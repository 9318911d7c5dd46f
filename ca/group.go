package ca

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/keywright/keywright/store"
)

// GroupResult is the outcome of one request of IssueGroup: Issued, or Err.
type GroupResult struct {
	Issued *Issued
	Err    error
}

// IssueGroup issues several certificates with the CA as one group commit
// (batch): the requests are signed in parallel, then, under the CA lock,
// every file of the group is staged and synced, all the certificates are
// recorded in one database transaction (one WAL sync), the files are placed
// and each directory is synced once. That is as durable as Issue, one
// request at a time, with a fraction of the syncs.
//
// Each request succeeds or fails on its own: one that is refused (its files
// exist, its signature fails the policy) fails alone before the group is
// written; if the group commit itself fails (a file that appeared
// meanwhile), each request of it is issued again on its own, so one bad
// request never takes the others with it. Results come in the order of
// reqs.
func (a *Authority) IssueGroup(ctx context.Context, reqs []IssueRequest, lockTimeout time.Duration) []GroupResult {
	out := make([]GroupResult, len(reqs))
	signed := a.signAll(ctx, reqs, out)
	rec, done, err := a.openRecord(ctx, lockTimeout)
	if err != nil {
		for i := range out {
			if out[i].Err == nil {
				out[i].Err = err
			}
		}
		return out
	}
	defer done()
	var group []int
	for i := range reqs {
		if out[i].Err == nil {
			out[i].Err = checkNotCA(ctx, rec.db, reqs[i])
		}
		if out[i].Err == nil {
			out[i].Err = a.checkRenewable(ctx, rec.db, reqs[i])
		}
		if out[i].Err == nil {
			group = append(group, i)
		}
	}
	if len(group) == 0 {
		return out
	}
	// A store.Tx has one Force: the requests that may replace files are
	// committed apart from those that may not.
	for _, force := range []bool{false, true} {
		var part []int
		for _, i := range group {
			if reqs[i].Force == force {
				part = append(part, i)
			}
		}
		if len(part) == 0 {
			continue
		}
		if err := a.commitGroup(ctx, rec, reqs, signed, part, out); err != nil {
			// One request spoilt the group: each on its own (as Issue
			// does, under the lock already held), so the others land.
			for _, i := range part {
				out[i] = a.issueLocked(ctx, rec, reqs[i], signed[i])
			}
		}
	}
	return out
}

// signAll checks and signs every request, in parallel, before any lock.
func (a *Authority) signAll(ctx context.Context, reqs []IssueRequest, out []GroupResult) []*Signed {
	signed := make([]*Signed, len(reqs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(reqs)) {
		wg.Go(func() {
			for i := range jobs {
				r := reqs[i]
				if err := store.CheckFree(r.Force, r.paths()...); err != nil {
					out[i].Err = err
					continue
				}
				if err := checkNotCA(ctx, nil, r); err != nil {
					out[i].Err = err
					continue
				}
				signed[i], out[i].Err = a.Sign(r.Sign)
			}
		})
	}
	for i := range reqs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return signed
}

// commitGroup writes the files of the requests in group as one store.Tx
// whose Record step records all their certificates in one transaction.
func (a *Authority) commitGroup(ctx context.Context, rec *Record, reqs []IssueRequest, signed []*Signed, group []int, out []GroupResult) error {
	tx := &store.Tx{Force: reqs[group[0]].Force, Checked: true} // signAll ran CheckFree
	evs := make([]Event, 0, len(group))
	for _, i := range group {
		r := reqs[i]
		tx.AddFiles(issueFiles(r, signed[i])...)
		ev := issuedEvent(signed[i].Cert, r.Sign.Profile.Name, r.CertPath, r.Sign.Now)
		ev.Renews = r.Renews
		evs = append(evs, ev)
	}
	if err := commitRecorded(rec.db, tx, func(p []store.Pending) (func() error, error) { return rec.IssuedMany(ctx, evs, p) }); err != nil {
		return err
	}
	for k, i := range group {
		out[i] = GroupResult{Issued: &Issued{Signed: signed[i], Entry: rec.entryOf(evs[k])}}
	}
	return nil
}

// IssuedMany records several issued events in one transaction (one sync);
// undo takes them all back. A serial already used fails the whole group
// (ErrSerialUsed); IssueGroup then records them one by one.
func (r *Record) IssuedMany(ctx context.Context, evs []Event, pending []store.Pending) (undo func() error, err error) {
	return r.issuedEvents(ctx, evs, nil, pending)
}
