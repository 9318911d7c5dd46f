package main

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/ca"
)

// batchReport counts and reports a batch's entries as they are done: a
// failure as an error line on stderr when it happens (FILE:LINE: NAME:
// why), the progress bar on a terminal, and at the end the summary line
// (always the last line) and, with --json, the document on stdout, its
// entries as they are done (batch_json.go). Safe for concurrent use.
type batchReport struct {
	e      *Env
	m      *Manifest
	start  time.Time
	dryRun bool

	mu      sync.Mutex
	moved   *sync.Cond  // on mu: an entry was added (waitWindow)
	doc     fleetReport // the counts; its entries go to json
	json    *jsonStream // nil without --json
	prog    progress
	printed map[error]bool // failures of a shared cause (a CA that cannot sign), printed once
}

func newBatchReport(e *Env, m *Manifest, start time.Time, dryRun bool) *batchReport {
	r := &batchReport{e: e, m: m, start: start, dryRun: dryRun, prog: noProgress{}, printed: map[error]bool{}}
	r.moved = sync.NewCond(&r.mu)
	if e.Globals.JSON {
		r.json = newJSONStream(e.Stdout)
	}
	return r
}

// startProgress draws the progress bar of n entries, on a terminal only.
func (r *batchReport) startProgress(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prog = newProgress(r.e, n)
}

// entryRef is an entry as the report names it: its position among all the
// manifest's entries (certificates first, then SSH keys), line and name.
type entryRef struct {
	pos, line int
	name      string
}

func certRef(pos int, e *CertEntry) entryRef { return entryRef{pos: pos, line: e.Line, name: e.Name} }

// sshRef is SSH entry pos's ref, after every certificate entry.
func (b *batch) sshRef(pos int, e *SSHEntry) entryRef {
	return entryRef{pos: b.m.NCerts + pos, line: e.Line, name: e.Name}
}

// cert reports a certificate entry.
func (r *batchReport) cert(ref entryRef, pl certPlan, is *ca.Issued, warnings []string) {
	fe := fleetEntry{Name: ref.name, Kind: "certificate", Action: pl.action}
	switch {
	case is != nil:
		fe.Serial, fe.NotAfter = is.Entry.Serial, is.Cert.NotAfter.UTC()
	case pl.action == actSkipped:
		fe.Serial, fe.NotAfter = pl.serial, pl.notAfter
	}
	r.add(ref, fe, pl.err, warnings)
}

// ssh reports an SSH entry; cert is the certificate signed, if any.
func (r *batchReport) ssh(ref entryRef, pl sshPlan, cert *ssh.Certificate) {
	fe := fleetEntry{Name: ref.name, Kind: "ssh", Action: pl.action}
	switch {
	case cert != nil:
		fe.Serial = strconv.FormatUint(cert.Serial, 10)
		fe.NotAfter = time.Unix(int64(min(cert.ValidBefore, uint64(1)<<62)), 0).UTC()
	case pl.action == actSkipped && pl.serial != "":
		fe.Serial, fe.NotAfter = pl.serial, pl.notAfter
	}
	r.add(ref, fe, pl.err, nil)
}

func (r *batchReport) add(ref entryRef, fe fleetEntry, err error, warnings []string) {
	pos, line := ref.pos, ref.line
	r.mu.Lock()
	defer r.mu.Unlock()
	switch fe.Action {
	case actIssued:
		r.doc.Issued++
	case actRenewed:
		r.doc.Renewed++
	case actSkipped:
		r.doc.Skipped++
	case actFailed:
		r.doc.Failed++
		fe.Error = message(err)
	}
	if r.json != nil {
		r.json.add(pos, fe)
		r.moved.Broadcast()
	}
	printErr := err != nil && !r.dryRun && !r.printed[err]
	printPlan := r.dryRun && !r.e.Globals.JSON
	if printErr || printPlan || len(warnings) > 0 {
		r.prog.above(func() {
			for _, w := range warnings {
				r.e.UI.Warnf("%s:%d: %s: %s", r.m.File, line, fe.Name, w)
			}
			if printPlan {
				fmt.Fprintln(r.e.Stdout, dryRunLine(fe, err))
			} else if printErr {
				r.printed[err] = true
				reportError(r.e.Stderr, errorf("%s:%d: %s: %w", r.m.File, line, fe.Name, err))
			}
		})
	}
	r.prog.add(1)
}

// waitWindow holds the planner before entry pos while the --json report
// holds more than window entries done after one not done yet: that one is
// in a group already sent, and the planner, which reports the entries with
// nothing to write at once, would otherwise run ahead of a slow commit
// without bound. It returns at once without --json, and when stop is
// closed (the commits ended: an interrupt).
func (r *batchReport) waitWindow(pos, window int, stop <-chan struct{}) {
	if r.json == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for pos-r.json.next > window && !r.json.done && !isClosed(stop) {
		if testHookPlannerHeld != nil {
			testHookPlannerHeld()
		}
		r.moved.Wait()
	}
}

// wakeOn wakes waitWindow's waiters when stop is closed.
func (r *batchReport) wakeOn(stop <-chan struct{}) {
	<-stop
	r.mu.Lock()
	r.moved.Broadcast()
	r.mu.Unlock()
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// dryRunLine says what batch would do with an entry.
func dryRunLine(fe fleetEntry, err error) string {
	what := map[string]string{actIssued: "would be issued", actRenewed: "would be renewed", actSkipped: "skipped"}[fe.Action]
	switch {
	case err != nil:
		return fmt.Sprintf("%s (%s): would fail: %s", fe.Name, fe.Kind, message(err))
	case fe.Action == actRenewed:
		what += fmt.Sprintf(" (ends %s)", fe.NotAfter.Format(time.RFC3339))
	case fe.Action == actSkipped && fe.Serial != "":
		what += fmt.Sprintf(" (serial %s, valid until %s)", fe.Serial, fe.NotAfter.Format(time.RFC3339))
	}
	return fmt.Sprintf("%s (%s): %s", fe.Name, fe.Kind, what)
}

// finish ends the progress bar and prints the summary line (and the JSON
// document). The error makes the exit code: stop's when the batch stopped
// early (130 when interrupted, 1 when the manifest changed), else 1 when an
// entry failed.
func (r *batchReport) finish(stop error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prog.finish()
	if r.json != nil {
		if err := r.json.finish(r.doc); err != nil && stop == nil {
			stop = errorf("the JSON report could not be written: %w", err)
		}
	}
	if stop != nil && !interrupted(stop) {
		reportError(r.e.Stderr, stop) // before the summary, which stays the last line
		stop = reportedError{stop}
	}
	d := r.doc
	took := fmt.Sprintf("%.1fs", time.Since(r.start).Seconds())
	if r.dryRun {
		fmt.Fprintf(r.e.Stderr, "keywright: batch: dry run, nothing written: %d to issue, %d to renew, %d skipped, %d failed (%s)\n",
			d.Issued, d.Renewed, d.Skipped, d.Failed, took)
	} else {
		fmt.Fprintf(r.e.Stderr, "keywright: batch: %d issued, %d renewed, %d skipped, %d failed (%s)\n",
			d.Issued, d.Renewed, d.Skipped, d.Failed, took)
	}
	switch {
	case stop != nil:
		return stop
	case d.Failed > 0:
		return &batchFailed{n: d.Failed, of: d.Issued + d.Renewed + d.Skipped + d.Failed}
	}
	return nil
}

// closeJSON ends the --json document of a batch the signal handler is
// stopping at once, so that what was printed is whole: once the entry being
// written is out, or after closeWait if a write stays blocked (a reader
// that stopped reading), which leaves it cut.
func (r *batchReport) closeJSON() {
	if r.json == nil {
		return
	}
	locked := make(chan struct{})
	go func() {
		r.mu.Lock() // not released when the wait below gives up: the process is ending
		close(locked)
	}()
	select {
	case <-locked:
		defer r.mu.Unlock()
		_ = r.json.finish(r.doc)
	case <-time.After(closeWait):
	}
}

// closeWait bounds closeJSON's wait for a write in progress.
const closeWait = time.Second

// reportedError is an error finish has printed already: nothing more is
// printed, and the exit code is 1.
type reportedError struct{ err error }

func (e reportedError) Error() string        { return e.err.Error() }
func (e reportedError) ErrorLines() []string { return nil }

// batchFailed: some entries failed (exit 1). Each was reported as an error
// line when it failed and the summary says how many: nothing more is
// printed, so the summary stays the last line.
type batchFailed struct{ n, of int }

func (e *batchFailed) Error() string        { return fmt.Sprintf("batch: %d of %d entries failed", e.n, e.of) }
func (e *batchFailed) ErrorLines() []string { return nil }
