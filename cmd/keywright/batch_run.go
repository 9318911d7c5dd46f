package main

import (
	"crypto"
	"fmt"
	"io"
	"runtime"
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

// batch is one run of a manifest.
type batch struct {
	e      *Env
	c      *BatchCmd
	m      *Manifest
	cas    batchCAs
	window time.Duration
	rep    *batchReport
	auth   *renewer // loads each CA once (its key's passphrase asked once)
	sshCAs map[string]crypto.Signer
	sshErr map[string]error
	pass   []byte // --passout
}

func newBatch(e *Env, c *BatchCmd, m *Manifest, cas batchCAs, window time.Duration, start time.Time) *batch {
	return &batch{e: e, c: c, m: m, cas: cas, window: window,
		rep:    newBatchReport(e, m, start, c.DryRun),
		auth:   newRenewer(e, renewOptions{CAKeys: c.CAKeyFlags}),
		sshCAs: map[string]crypto.Signer{}, sshErr: map[string]error{}}
}

// plan decides every entry from the store as it is.
func (b *batch) plan() ([]certPlan, []sshPlan, error) {
	now := b.e.Now()
	p := &planner{e: b.e, st: b.e.Store(), cas: b.cas, now: now, renewBy: now.Add(b.window), force: b.e.Globals.Force}
	defer p.close()
	certs := make([]certPlan, len(b.m.Certs))
	for i := range b.m.Certs {
		if certs[i] = p.cert(&b.m.Certs[i]); p.dbErr != nil {
			return nil, nil, busyHint(p.dbErr)
		}
	}
	sshs := make([]sshPlan, len(b.m.SSH))
	for i := range b.m.SSH {
		sshs[i] = p.ssh(&b.m.SSH[i])
	}
	return certs, sshs, nil
}

// run plans, asks every passphrase it needs, then works chunk by chunk
// until done or interrupted (Ctrl-C: the chunk in flight is finished, no
// new one started, exit 130).
func (b *batch) run() error {
	runtime.GOMAXPROCS(*b.c.Jobs)
	onFinishing.Store(func(w io.Writer) {
		fmt.Fprintln(w, "keywright: interrupted: finishing the entries in flight, starting no new one (interrupt again to stop at once)")
	})
	certs, sshs, err := b.plan()
	if err != nil {
		return err
	}
	if err := b.secrets(certs, sshs); err != nil {
		return err
	}
	b.rep.startProgress(len(certs) + len(sshs))
	stopped := b.runCerts(certs) || b.runSSH(sshs)
	return b.rep.finish(stopped)
}

// secrets asks, before any progress is drawn, for the new keys' passphrase
// (--passout, once) and each CA key's (--ca-passin, once per CA) that some
// entry needs. A CA that cannot be loaded fails its entries.
func (b *batch) secrets(certs []certPlan, sshs []sshPlan) error {
	work := false
	caErrs := map[string]error{} // one error per CA, so it is printed once
	for i := range certs {
		if pl := &certs[i]; pl.action == actIssued || pl.action == actRenewed {
			work = true
			if _, err := b.auth.authority(pl.ca); err != nil {
				if caErrs[pl.ca] == nil {
					caErrs[pl.ca] = errorf("CA %s: %w", pl.ca, err)
				}
				*pl = pl.fail(caErrs[pl.ca])
			}
		}
	}
	for i, pl := range sshs {
		work = work || pl.genKey || pl.pubOnly
		if c := b.m.SSH[i].Cert; pl.sign && c != nil {
			if err := b.sshCA(c.CA); err != nil {
				sshs[i] = pl.fail(err)
			}
		}
	}
	if b.c.Passout == "" || !work {
		return nil
	}
	var err error
	b.pass, err = passphraseNew(b.e, "--passout", b.c.Passout, "the new keys")
	return err
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
	certs, sshs, err := b.plan()
	if err != nil {
		return err
	}
	for i, pl := range certs {
		b.rep.cert(i, pl, nil, nil)
	}
	for i, pl := range sshs {
		b.rep.ssh(i, pl, nil)
	}
	return b.rep.finish(false)
}

// certGroup is a chunk's entries of one CA, made ready to sign.
type certGroup struct {
	a    *ca.Authority
	idx  []int // entries of the manifest
	reqs []ca.IssueRequest
	errs []error
}

// runCerts does the certificate entries: those to skip or that failed in
// the plan are reported at once; the others go, chunk by chunk and CA by
// CA, through a pipeline: keys and requests are made for the next group
// while the last one is signed and committed. It reports whether it
// stopped for an interrupt.
func (b *batch) runCerts(plans []certPlan) bool {
	groups := make(chan certGroup, 1)
	quit := make(chan struct{})
	go func() {
		defer close(groups)
		b.prepareGroups(plans, groups, quit)
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
		b.commitGroup(plans, g)
	}
	return store.Interrupted()
}

// prepareGroups walks the plans in manifest order, reports those with
// nothing to write, and sends the others as groups of one CA, at most
// batchChunk each.
func (b *batch) prepareGroups(plans []certPlan, out chan<- certGroup, quit <-chan struct{}) {
	pending := map[string][]int{}
	var order []string
	send := func(name string) bool {
		idx := pending[name]
		delete(pending, name)
		select {
		case out <- b.prepareGroup(name, idx, plans):
			return true
		case <-quit:
			return false
		}
	}
	for i, pl := range plans {
		if pl.action == actSkipped || pl.action == actFailed {
			b.rep.cert(i, pl, nil, nil)
			continue
		}
		if _, ok := pending[pl.ca]; !ok {
			order = append(order, pl.ca)
		}
		pending[pl.ca] = append(pending[pl.ca], i)
		if len(pending[pl.ca]) == batchChunk && !send(pl.ca) {
			return
		}
	}
	for _, name := range order {
		if len(pending[name]) > 0 && !send(name) {
			return
		}
	}
}

// prepareGroup makes the keys and requests of entries idx (of CA name) on
// --jobs workers.
func (b *batch) prepareGroup(name string, idx []int, plans []certPlan) certGroup {
	g := certGroup{idx: idx, reqs: make([]ca.IssueRequest, len(idx)), errs: make([]error, len(idx))}
	a, err := b.auth.authority(name)
	if err != nil {
		for k := range idx {
			g.errs[k] = err
		}
		return g
	}
	g.a = a
	parallel(*b.c.Jobs, len(idx), func(k int) {
		g.reqs[k], g.errs[k] = b.request(a, &b.m.Certs[idx[k]], plans[idx[k]])
	})
	return g
}

// request makes an entry's key and request and the IssueRequest, as issue
// does (renew's when the entry renews a certificate).
func (b *batch) request(a *ca.Authority, ent *CertEntry, pl certPlan) (ca.IssueRequest, error) {
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
		LockTimeout: b.c.LockTimeout,
		Sign: ca.SignRequest{Subject: subject, SANs: ent.SANs, PublicKey: key.Public(), Profile: profile,
			Days: ent.Days, Now: b.e.Now()},
		Extra: []store.File{{Path: paths.Key, Data: keyPEM, Mode: store.Key.Mode},
			{Path: paths.CSR, Data: csrPEM, Mode: store.CSR.Mode}},
	}, nil
}

// commitGroup signs, writes and records a group as one group commit, and
// reports each entry.
func (b *batch) commitGroup(plans []certPlan, g certGroup) {
	var ready []int
	var reqs []ca.IssueRequest
	for k, i := range g.idx {
		if g.errs[k] != nil {
			b.rep.cert(i, plans[i].fail(g.errs[k]), nil, nil)
			continue
		}
		ready = append(ready, i)
		reqs = append(reqs, g.reqs[k])
	}
	if len(reqs) == 0 {
		return
	}
	for k, res := range g.a.IssueGroup(b.e.Ctx, reqs, b.c.LockTimeout) {
		i := ready[k]
		if res.Err != nil {
			b.rep.cert(i, plans[i].fail(busyHint(res.Err)), nil, nil)
			continue
		}
		b.rep.cert(i, plans[i], res.Issued, res.Issued.Warnings)
	}
}

// runSSH does the SSH entries, chunk by chunk: pairs made and certificates
// signed on --jobs workers, then the chunk's files written as one
// transaction (those that replace files as another). It reports whether
// it stopped for an interrupt.
func (b *batch) runSSH(plans []sshPlan) bool {
	var idx []int
	for i, pl := range plans {
		if pl.action == actSkipped || pl.action == actFailed {
			b.rep.ssh(i, pl, nil)
			continue
		}
		if idx = append(idx, i); len(idx) == batchChunk {
			if store.Interrupted() {
				return true
			}
			b.sshChunk(plans, idx)
			idx = idx[:0]
		}
	}
	if len(idx) > 0 && !store.Interrupted() {
		b.sshChunk(plans, idx)
	}
	return store.Interrupted()
}

// sshChunk makes and writes the SSH entries idx.
func (b *batch) sshChunk(plans []sshPlan, idx []int) {
	works := make([]sshWork, len(idx))
	errs := make([]error, len(idx))
	parallel(*b.c.Jobs, len(idx), func(k int) {
		i := idx[k]
		var caKey crypto.Signer
		if c := b.m.SSH[i].Cert; c != nil {
			caKey = b.sshCAs[c.CA]
		}
		works[k], errs[k] = prepareSSH(&b.m.SSH[i], plans[i], b.pass, caKey, b.e.Now())
	})
	for _, force := range []bool{false, true} {
		var part []int
		tx := store.Tx{Force: force}
		for k := range idx {
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
	for k, i := range idx {
		if errs[k] != nil {
			b.rep.ssh(i, plans[i].fail(errs[k]), nil)
			continue
		}
		b.rep.ssh(i, plans[i], works[k].cert)
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
