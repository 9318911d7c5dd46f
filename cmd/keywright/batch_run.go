package main

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/store"
)

// batchChunk is how many certificates of one CA are signed, written and
// recorded as one group commit (ca.IssueGroup): one record transaction
// and one sync of the directory per chunk. Nothing of a chunk is kept
// after it (memory stays flat however long the manifest).
const batchChunk = 128

// batchLag is how far behind the manifest a CA's unfinished group may fall
// (groupQueue): at most about that many entries wait for the --json report.
// A variable for tests.
var batchLag = 32 * batchChunk

// batch is one run of a manifest. It holds no more than a chunk of its
// entries at once: a survey made while the manifest is checked says which
// CAs and keys the work needs; then the manifest is read again
// (Manifest.forEachEntry), the certificate entries planned and done chunk
// by chunk, then the SSH entries.
type batch struct {
	e      *Env
	c      *BatchCmd
	m      *Manifest
	cas    batchCAs
	window time.Duration
	now    time.Time // when the batch started: the survey and every plan use it
	rep    *batchReport
	auth   *renewer // loads each CA once (its key's passphrase asked once)
	caErrs map[string]error
	sshCAs map[string]crypto.Signer
	sshErr map[string]error
	pass   []byte // --passout
	// readErr: the manifest could not be read again (changed meanwhile);
	// no entry after it was done.
	readErr error
}

func newBatch(e *Env, c *BatchCmd, m *Manifest, cas batchCAs, window time.Duration, now, start time.Time) *batch {
	return &batch{e: e, c: c, m: m, cas: cas, window: window, now: now,
		rep:    newBatchReport(e, m, start, c.DryRun),
		auth:   newRenewer(e, renewOptions{CAKeys: c.CAKeyFlags}),
		caErrs: map[string]error{},
		sshCAs: map[string]crypto.Signer{}, sshErr: map[string]error{}}
}

// planner is a planner of the store at the batch's time, as the survey's
// was; close it after use.
func (b *batch) planner() *planner {
	return newPlanner(b.e, b.cas, b.now, b.window)
}

func newPlanner(e *Env, cas batchCAs, now time.Time, window time.Duration) *planner {
	return &planner{e: e, st: e.Store(), cas: cas, now: now, renewBy: now.Add(window), force: e.Globals.Force}
}

// run asks every passphrase the work needs (sv: the survey made while
// the manifest was checked), then works chunk by chunk until done or
// interrupted (Ctrl-C: the chunk in flight is finished, no new one
// started, exit 130).
func (b *batch) run(sv *batchSurvey) error {
	runtime.GOMAXPROCS(*b.c.Jobs)
	onFinishing.Store(func(w io.Writer) {
		fmt.Fprintln(w, "keywright: interrupted: finishing the entries in flight, starting no new one (interrupt again to stop at once)")
	})
	keepGoingOnBrokenPipe()
	need, err := sv.done()
	if err != nil {
		return err
	}
	if err := b.secrets(need); err != nil {
		return err
	}
	b.rep.startProgress(b.m.NCerts + b.m.NSSH)
	stopped := b.runCerts() || b.runSSH()
	return b.rep.finish(b.stopErr(stopped))
}

// stopErr is why the batch stopped before its end, or nil.
func (b *batch) stopErr(interrupted bool) error {
	switch {
	case b.readErr != nil:
		return withHint(b.readErr, "the entries before the change were done and the rest were not; run batch again")
	case interrupted:
		return errBatchInterrupted
	}
	return nil
}

// readEntries reads the manifest again into sink, keeping a failure.
func (b *batch) readEntries(sink manifestSink) {
	if err := b.m.forEachEntry(sink); err != nil && b.readErr == nil {
		b.readErr = err
	}
}

// secrets asks, before any progress is drawn, for each CA key's passphrase
// (--ca-passin, once per CA) and the new keys' (--passout, once) that the
// work needs. A CA that cannot be loaded fails its entries later.
func (b *batch) secrets(need batchNeeds) error {
	for _, name := range need.cas {
		_, _ = b.authority(name)
	}
	for _, name := range need.sshCAs {
		_ = b.sshCA(name)
	}
	if b.c.Passout == "" || !need.keys {
		return nil
	}
	var err error
	b.pass, err = passphraseNew(b.e, "--passout", b.c.Passout, "the new keys")
	return err
}

// authority is CA name, loaded once; its error names the CA.
func (b *batch) authority(name string) (*ca.Authority, error) {
	if err, failed := b.caErrs[name]; failed {
		return nil, err
	}
	a, err := b.auth.authority(name)
	if err != nil {
		b.caErrs[name] = errorf("CA %s: %w", name, err)
		return nil, b.caErrs[name]
	}
	return a, nil
}

// passoutRead refuses to write a key when --passout was given but not read
// (the survey found no key to write: the store changed while batch ran),
// rather than write it unencrypted.
func (b *batch) passoutRead() error {
	if b.c.Passout != "" && b.pass == nil {
		return errorf("--passout was not read: the store changed while batch ran (the survey found no key to write); run batch again")
	}
	return nil
}

// sshCA loads SSH CA name's key, once.
func (b *batch) sshCA(name string) error {
	if err, done := b.sshErr[name]; done {
		return err
	}
	k, err := loadSSHCAKey(b.e, name, b.c.CAPassin)
	if err != nil {
		err = errorf("SSH CA %s: %w", name, err)
	}
	b.sshCAs[name], b.sshErr[name] = k, err
	return err
}

// dryRun plans every entry and prints what would be done; it writes
// nothing and asks for no passphrase.
func (b *batch) dryRun() error {
	p := b.planner()
	defer p.close()
	b.readEntries(manifestSink{cert: func(pos int, ent *CertEntry) {
		if p.dbErr == nil {
			b.rep.cert(certRef(pos, ent), p.cert(ent), nil, nil)
		}
	}})
	if p.dbErr != nil {
		return b.rep.finish(busyHint(p.dbErr))
	}
	b.readEntries(manifestSink{ssh: func(pos int, ent *SSHEntry) {
		b.rep.ssh(b.sshRef(pos, ent), p.ssh(ent), nil)
	}})
	return b.rep.finish(b.stopErr(false))
}

// certJob is a certificate entry to issue or renew, and its plan.
type certJob struct {
	ref entryRef
	ent CertEntry
	pl  certPlan
}

// certGroup is a chunk's entries of one CA, made ready to sign.
type certGroup struct {
	a    *ca.Authority
	jobs []certJob
	reqs []ca.IssueRequest
	errs []error
}

// runCerts does the certificate entries, read again and planned as they
// come: those to skip or that fail the plan are reported at once; the
// others go, chunk by chunk and CA by CA, through a pipeline: keys and
// requests are made for the next group while the last one is signed and
// committed. It reports whether it stopped for an interrupt.
func (b *batch) runCerts() bool {
	groups := make(chan certGroup, 1)
	quit := make(chan struct{})
	go func() {
		defer close(groups)
		b.prepareGroups(groups, quit)
	}()
	defer func() {
		close(quit)
		for range groups { // let the producer end
		}
	}()
	for g := range groups {
		if store.Interrupted() {
			return true
		}
		if testHookCommit != nil && len(g.jobs) > 0 {
			testHookCommit(g.jobs[0].pl.ca)
		}
		b.commitGroup(g, true)
	}
	return store.Interrupted()
}

// Test hooks: testHookCommit runs before a group of CA ca is committed;
// testHookPlannerHeld when the planner waits for the --json window, and
// when it has planned every certificate entry.
var (
	testHookCommit      func(ca string)
	testHookPlannerHeld func()
)

// prepareGroups plans the certificate entries in manifest order, reports
// those with nothing to write, and sends the others as groups of one CA
// (groupQueue). After quit it plans nothing more.
func (b *batch) prepareGroups(out chan<- certGroup, quit <-chan struct{}) {
	p := b.planner()
	defer p.close()
	q := &groupQueue{b: b, out: out, quit: quit, pending: map[string][]certJob{}}
	go b.rep.wakeOn(quit)
	b.readEntries(manifestSink{stop: func() bool { return q.stopped || store.Interrupted() }, cert: func(pos int, ent *CertEntry) {
		q.sendLagging(pos)
		// The group of the earliest entry not done was sent (sendLagging),
		// so this wait ends when it is committed.
		b.rep.waitWindow(pos, batchLag+2*batchChunk, quit)
		ref := certRef(pos, ent)
		pl := p.cert(ent)
		if store.Interrupted() { // no new entry, nor one whose plan the interrupt cut short
			q.stopped = true
			return
		}
		if p.dbErr != nil {
			pl = pl.fail(busyHint(p.dbErr))
		}
		if err := b.caErrs[pl.ca]; err != nil && pl.action != actSkipped {
			pl = pl.fail(err) // a CA that could not be loaded
		}
		if pl.action == actSkipped || pl.action == actFailed {
			b.rep.cert(ref, pl, nil, nil)
			return
		}
		q.add(certJob{ref: ref, ent: *ent, pl: pl})
	}})
	q.sendAll()
	if testHookPlannerHeld != nil {
		testHookPlannerHeld()
	}
}

// groupQueue fills a group per CA and sends each when it has batchChunk
// entries, or when its first entry falls batchLag entries behind the
// manifest (so that the --json report, which waits for the earliest entry
// not done, holds few), or at the end.
type groupQueue struct {
	b       *batch
	out     chan<- certGroup
	quit    <-chan struct{}
	pending map[string][]certJob
	order   []string // the CAs, each once, in order of first mention
	stopped bool     // quit: nothing more is sent
}

func (q *groupQueue) add(job certJob) {
	name := job.pl.ca
	if _, ok := q.pending[name]; !ok {
		q.order = append(q.order, name)
	}
	q.pending[name] = append(q.pending[name], job)
	if len(q.pending[name]) == batchChunk {
		q.send(name)
	}
}

func (q *groupQueue) send(name string) {
	jobs := q.pending[name]
	q.pending[name] = nil // the CA keeps its place in order
	if q.stopped {
		return
	}
	select {
	case q.out <- q.b.prepareGroup(name, jobs):
	case <-q.quit:
		q.stopped = true
	}
}

// sendLagging sends, at every batchChunk-th entry, the groups that fell
// behind entry pos.
func (q *groupQueue) sendLagging(pos int) {
	if pos%batchChunk != 0 {
		return
	}
	for _, name := range q.order {
		if jobs := q.pending[name]; len(jobs) > 0 && jobs[0].ref.pos < pos-batchLag {
			q.send(name)
		}
	}
}

func (q *groupQueue) sendAll() {
	for _, name := range q.order {
		if len(q.pending[name]) > 0 {
			q.send(name)
		}
	}
}

// prepareGroup makes the keys and requests of jobs (of CA name) on --jobs
// workers.
func (b *batch) prepareGroup(name string, jobs []certJob) certGroup {
	g := certGroup{jobs: jobs, reqs: make([]ca.IssueRequest, len(jobs)), errs: make([]error, len(jobs))}
	a, err := b.authority(name)
	if err != nil {
		for k := range jobs {
			g.errs[k] = err
		}
		return g
	}
	g.a = a
	parallel(*b.c.Jobs, len(jobs), func(k int) {
		g.reqs[k], g.errs[k] = b.request(&jobs[k].ent, jobs[k].pl)
	})
	return g
}

// request makes an entry's key and request and the IssueRequest, as issue
// does (renew's when the entry renews a certificate).
func (b *batch) request(ent *CertEntry, pl certPlan) (ca.IssueRequest, error) {
	if err := b.passoutRead(); err != nil {
		return ca.IssueRequest{}, err
	}
	paths, err := certFiles(b.e.Store(), ent.Name)
	if err != nil {
		return ca.IssueRequest{}, err
	}
	subject := ent.Subject()
	key, keyPEM, csrPEM, err := newKeyAndRequest(ent.Key, b.pass, csr.Request{Subject: subject, SANs: ent.SANs})
	if err != nil {
		return ca.IssueRequest{}, err
	}
	profile, err := ca.ProfileByName(ent.Profile)
	if err != nil {
		return ca.IssueRequest{}, err
	}
	return ca.IssueRequest{
		Store: b.e.Store(), CertPath: paths.Cert, ChainPath: paths.Chain, Force: pl.force, Renews: pl.renews,
		RenewsSHA256: pl.renewsFP, LockTimeout: b.c.LockTimeout,
		Sign: ca.SignRequest{Subject: subject, SANs: ent.SANs, PublicKey: key.Public(), Profile: profile,
			Days: ent.Days, Now: b.e.Now()},
		Extra: []store.File{{Path: paths.Key, Data: keyPEM, Mode: store.Key.Mode},
			{Path: paths.CSR, Data: csrPEM, Mode: store.CSR.Mode}},
	}, nil
}

// commitGroup signs, writes and records a group as one group commit, and
// reports each entry. With retry, the entries whose certificate another
// keywright renewed meanwhile and that are due again (their renewal is
// still within --renew-within) are renewed again, once, as a later run
// would: with renewals at once as one after the other, nothing fails.
func (b *batch) commitGroup(g certGroup, retry bool) {
	var ready []certJob
	var reqs []ca.IssueRequest
	for k, job := range g.jobs {
		if g.errs[k] != nil {
			b.rep.cert(job.ref, job.pl.fail(g.errs[k]), nil, nil)
			continue
		}
		ready = append(ready, job)
		reqs = append(reqs, g.reqs[k])
	}
	if len(reqs) == 0 {
		return
	}
	results := g.a.IssueGroup(b.e.Ctx, reqs, b.c.LockTimeout)
	issuedMeanwhile := b.replanner(g.a, results)
	var again []certJob
	for k, res := range results {
		job := ready[k]
		switch {
		case res.Err == nil:
			b.rep.cert(job.ref, job.pl, res.Issued, res.Issued.Warnings)
		case writtenMeanwhile(res.Err):
			pl := issuedMeanwhile.cert(job, res.Err)
			if pl.action == actRenewed && retry {
				again = append(again, certJob{ref: job.ref, ent: job.ent, pl: pl})
				continue
			}
			if pl.action == actRenewed {
				pl = job.pl.fail(res.Err)
			}
			b.rep.cert(job.ref, pl, nil, nil)
		default:
			b.rep.cert(job.ref, job.pl.fail(busyHint(res.Err)), nil, nil)
		}
	}
	issuedMeanwhile.close() // the CA's lock, which the renewals again take
	if len(again) == 0 {
		return
	}
	if store.Interrupted() {
		for _, job := range again {
			b.rep.cert(job.ref, job.pl.fail(errorf("%w; interrupted before renewing it again", ca.ErrRenewedMeanwhile)), nil, nil)
		}
		return
	}
	b.commitGroup(b.prepareGroup(g.a.Paths.Name, again), false)
}

// writtenMeanwhile: an entry's files appeared, or the certificate it
// renews was renewed, after it was planned (replan).
func writtenMeanwhile(err error) bool {
	return errors.Is(err, store.ErrExists) || errors.Is(err, ca.ErrRenewedMeanwhile)
}

// replan decides again, after the fact, the entries whose files appeared
// (or were renewed) after they were planned: another keywright (a second batch of the same
// manifest, say) issued them meanwhile. An entry whose certificate or key
// is now what the manifest asks for is skipped, as a later run would skip
// it; one whose files differ fails for that, as a later run would say; one
// still to be done (the other writer's files half placed) keeps err.
type replan struct {
	b    *batch
	p    *planner // made on first need
	lock *store.Lock
}

// replanner makes a replan for a group's results. When some found their
// files taken, it holds the CA's lock meanwhile, so that the other
// writer's group, which holds it until its files are in place, is whole.
func (b *batch) replanner(a *ca.Authority, results []ca.GroupResult) *replan {
	r := &replan{b: b}
	if slices.ContainsFunc(results, func(r ca.GroupResult) bool { return writtenMeanwhile(r.Err) }) {
		r.lock, _ = a.LockCA(b.e.Ctx, b.c.LockTimeout) // without it, a plan may find the other's files half placed: that entry keeps its failure
	}
	return r
}

func (r *replan) planner() *planner {
	if r.p == nil {
		r.p = r.b.planner()
	}
	return r.p
}

func (r *replan) cert(job certJob, err error) certPlan {
	pl := r.planner().cert(&job.ent)
	switch {
	case pl.action == actSkipped || pl.action == actFailed:
		return pl
	case pl.action == actRenewed && errors.Is(err, ca.ErrRenewedMeanwhile):
		return pl // due again: renewing what is in place now is the caller's
	}
	return job.pl.fail(err)
}

func (r *replan) ssh(job sshJob, err error) sshPlan {
	if pl := r.planner().ssh(&job.ent); pl.action == actSkipped || pl.action == actFailed {
		return pl
	}
	return job.pl.fail(err)
}

func (r *replan) close() {
	if r.p != nil {
		r.p.close()
	}
	if r.lock != nil {
		r.lock.Unlock()
	}
}

// sshJob is an SSH entry to make or sign, and its plan.
type sshJob struct {
	ref entryRef
	ent SSHEntry
	pl  sshPlan
}

// runSSH does the SSH entries, read again and planned as they come, chunk
// by chunk: pairs made and certificates signed on --jobs workers, then the
// chunk's files written as one transaction (those that replace files as
// another). It reports whether it stopped for an interrupt.
func (b *batch) runSSH() bool {
	if b.m.NSSH == 0 {
		return false
	}
	p := b.planner()
	defer p.close()
	var chunk []sshJob
	stopped := false
	flush := func() {
		if stopped = stopped || store.Interrupted(); !stopped && len(chunk) > 0 {
			b.sshChunk(chunk)
			chunk = chunk[:0]
		}
	}
	b.readEntries(manifestSink{stop: func() bool { return stopped || store.Interrupted() }, ssh: func(pos int, ent *SSHEntry) {
		ref := b.sshRef(pos, ent)
		if len(chunk) > 0 && chunk[0].ref.pos < ref.pos-batchLag {
			flush() // the --json report waits for it (groupQueue)
		}
		pl := p.ssh(ent)
		if store.Interrupted() {
			stopped = true
			return
		}
		if c := ent.Cert; pl.sign && c != nil && pl.action != actFailed {
			if err := b.sshCA(c.CA); err != nil {
				pl = pl.fail(err)
			}
		}
		if pl.action == actSkipped || pl.action == actFailed {
			b.rep.ssh(ref, pl, nil)
			return
		}
		if chunk = append(chunk, sshJob{ref: ref, ent: *ent, pl: pl}); len(chunk) == batchChunk {
			flush()
		}
	}})
	flush()
	return stopped || store.Interrupted()
}

// sshChunk makes and writes the SSH entries of jobs.
func (b *batch) sshChunk(jobs []sshJob) {
	works := make([]sshWork, len(jobs))
	errs := make([]error, len(jobs))
	parallel(*b.c.Jobs, len(jobs), func(k int) {
		var caKey crypto.Signer
		if c := jobs[k].ent.Cert; c != nil {
			caKey = b.sshCAs[c.CA]
		}
		if jobs[k].pl.genKey {
			if errs[k] = b.passoutRead(); errs[k] != nil {
				return
			}
		}
		works[k], errs[k] = prepareSSH(&jobs[k].ent, jobs[k].pl, b.pass, caKey, b.e.Now())
	})
	for _, force := range []bool{false, true} {
		var part []int
		tx := store.Tx{Force: force}
		for k := range jobs {
			if errs[k] == nil && works[k].force == force {
				part = append(part, k)
				tx.AddFiles(works[k].files...)
			}
		}
		if len(part) == 0 {
			continue
		}
		if err := tx.Commit(); err != nil {
			// One entry spoilt the transaction: each on its own.
			for _, k := range part {
				one := store.Tx{Force: force}
				one.AddFiles(works[k].files...)
				errs[k] = one.Commit()
			}
		}
	}
	issuedMeanwhile := &replan{b: b} // SSH entries take no CA lock
	defer issuedMeanwhile.close()
	for k, job := range jobs {
		switch {
		case errs[k] == nil:
			b.rep.ssh(job.ref, job.pl, works[k].cert)
		case errors.Is(errs[k], store.ErrExists):
			b.rep.ssh(job.ref, issuedMeanwhile.ssh(job, errs[k]), nil)
		default:
			b.rep.ssh(job.ref, job.pl.fail(errs[k]), nil)
		}
	}
}

// parallel runs fn(0..n-1) on at most jobs goroutines.
func parallel(jobs, n int, fn func(int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(jobs, n) {
		wg.Go(func() {
			for k := range next {
				fn(k)
			}
		})
	}
	for k := range n {
		next <- k
	}
	close(next)
	wg.Wait()
}

// errBatchInterrupted is a batch stopped by Ctrl-C after some of its work
// was written: exit 130.
var errBatchInterrupted = errorf("batch: %w", store.ErrInterrupted)
