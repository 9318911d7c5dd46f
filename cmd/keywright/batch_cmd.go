package main

// `keywright batch FILE` (README "Many at once: batch"): a
// manifest of certificates and SSH keys, checked whole before anything is
// written (manifest*.go reads it; this file adds what only the store can
// tell: that the CAs it names exist), planned entry by entry
// (batch_plan.go: issue, renew, skip or fail), then done chunk by chunk
// (batch_run.go) with one group commit per CA and chunk.

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/store"
)

// BatchCmd is `batch FILE`.
type BatchCmd struct {
	File        string  `arg:"" name:"file" help:"The manifest: YAML or CSV ('-': stdin)."`
	Jobs        *int    `help:"Keys generated and certificates signed at once: 1 to 256 (default: the number of CPUs)." placeholder:"N"`
	RenewWithin *string `name:"renew-within" help:"Renew certificates that end within DURATION (30d, 2w, 12h); expired ones are renewed anyway." placeholder:"DURATION"`
	DryRun      bool    `name:"dry-run" help:"Check the manifest and print what would be done for each entry; write nothing."`
	Passout     string  `help:"Encrypt every new key with the passphrase from SRC, read once (default: keys are not encrypted)." placeholder:"SRC" type:"source"`
	CAKeyFlags  `embed:""`
}

func (c *BatchCmd) Run(e *Env) error {
	start := time.Now()
	window, err := c.check()
	if err != nil {
		return err
	}
	var sv *batchSurvey
	var sink *manifestSink
	now := e.Now()
	if !c.DryRun {
		sv = newSurvey(e, now, window)
		sink = &sv.entries
	}
	m, err := readManifest(e, c.File, sink)
	if m == nil {
		return err
	}
	defer m.Close()
	cas, caErr := resolveCAs(e, m)
	if err != nil || caErr != nil {
		if sv != nil {
			sv.p.close()
		}
		return joinManifestErrors(err, caErr)
	}
	if c.RenewWithin != nil {
		warnRenewedEveryRun(e, m, window, *c.RenewWithin)
	}
	b := newBatch(e, c, m, cas, window, now, start)
	onStopping.Store(b.rep.closeJSON)
	if c.DryRun {
		return b.dryRun()
	}
	return b.run(sv)
}

// check validates the flags before anything is read.
func (c *BatchCmd) check() (time.Duration, error) {
	jobs := runtime.NumCPU()
	if c.Jobs != nil {
		if err := jobsFlag(*c.Jobs); err != nil {
			return 0, err
		}
		jobs = *c.Jobs
	}
	c.Jobs = &jobs
	if c.File == "-" {
		for _, f := range []struct{ flag, src string }{{"--passout", c.Passout}, {"--ca-passin", c.CAPassin}} {
			if f.src == "stdin" {
				return 0, usagef("%s stdin: the manifest is read from stdin ('-'); give the passphrase with env:, file: or fd:", f.flag)
			}
		}
	}
	if c.RenewWithin == nil { // given empty, it is refused, not taken as 0
		return 0, nil
	}
	return durationFlag("--renew-within", *c.RenewWithin)
}

// warnRenewedEveryRun warns when the --renew-within window is at least the
// lifetime of some entries: a certificate of theirs is inside the window
// the moment it is issued, so every run renews it (a cron job would re-key
// it daily). The first such entry is named, with how many there are.
func warnRenewedEveryRun(e *Env, m *Manifest, window time.Duration, given string) {
	if window <= 0 {
		return
	}
	var first lifetimeTally
	days, n := 0, 0
	for d, t := range m.Lifetimes {
		if time.Duration(d)*24*time.Hour > window {
			continue
		}
		n += t.N
		if first.N == 0 || t.Line < first.Line {
			first, days = t, d
		}
	}
	if n == 0 {
		return
	}
	more := ""
	switch {
	case n == 2:
		more = " (and 1 more entry)"
	case n > 2:
		more = fmt.Sprintf(" (and %d more entries)", n-1)
	}
	e.UI.Warnf("%s:%d: %s: %d days is not longer than --renew-within %s: it is renewed on every run%s",
		m.File, first.Line, first.Name, days, given, more)
}

// batchCAs are the CAs of a manifest, checked: every CA and SSH CA it
// names exists in the store, and the CA of the entries that name none.
type batchCAs struct {
	defaultCA string // the store's only CA, for entries without ca ("" when none needs it)
}

// resolveCAs checks the CAs m names against the store, every problem as a
// FILE:LINE line (exit 1, nothing written). An entry without ca uses the
// store's only CA, as issue does; batch never makes a local-ca (a batch
// that made one would sign a fleet with a CA nobody chose): with no CA or
// several, the manifest must name one.
func resolveCAs(e *Env, m *Manifest) (batchCAs, error) {
	var out batchCAs
	problems := &manifestError{File: m.File}
	st := e.Store()
	for _, ref := range m.CAs {
		if err := checkCA(e, ref.Name); err != nil {
			problems.addf(ref.Line, "ca %q: %s", ref.Name, message(err))
		}
	}
	for _, ref := range m.SSHCAs {
		if err := checkSSHCA(st, ref.Name); err != nil {
			problems.addf(ref.Line, "ssh ca %q: %s", ref.Name, err)
		}
	}
	if n := m.NoCA; n > 0 {
		line := m.NoCALine
		name, err := onlyCA(e)
		if err != nil {
			problems.addf(line, "no ca (this entry and %d more): %s", n-1, err)
		} else if err := checkCA(e, name); err != nil {
			problems.addf(line, "ca %q (the store's only CA, for this entry and %d more): %s", name, n-1, message(err))
		}
		out.defaultCA = name
	}
	return out, problems.orNil()
}

// joinManifestErrors puts the problems of the manifest and those of the
// CAs it names into one list, in line order, so one run reports them all.
func joinManifestErrors(errs ...error) error {
	var all *manifestError
	for _, err := range errs {
		var me *manifestError
		switch {
		case err == nil:
		case !errors.As(err, &me):
			return err
		case all == nil:
			all = me
		default:
			all.merge(me)
		}
	}
	if all == nil {
		return nil
	}
	return all.orNil()
}

// checkCA: name is a CA of the store with its key, that may sign now (not
// revoked, expired or not yet valid).
func checkCA(e *Env, name string) error {
	st := e.Store()
	p, err := ca.PathsFor(st, name)
	if err != nil {
		return err
	}
	if !store.Exists(p.Cert) {
		return errorf("%s does not exist; make the CA with: keywright ca init %s", p.Cert, name)
	}
	a, err := ca.Load(e.Ctx, st, name)
	if err != nil {
		return err
	}
	if !store.Exists(p.Key) {
		return errorf("%s: the CA's key is not in the store, so it cannot sign", p.Key)
	}
	return a.CanSign(e.Now())
}

// checkSSHCA: ssh/NAME, an SSH CA's private key, exists.
func checkSSHCA(st *store.Store, name string) error {
	p, err := st.Path(name, store.SSHPrivate)
	if err != nil {
		return err
	}
	if !store.Exists(p) {
		return errorf("%s does not exist; make the SSH CA with: keywright ssh ca init %s", p, name)
	}
	return nil
}

// onlyCA is the store's one CA, or why there is none to choose.
func onlyCA(e *Env) (string, error) {
	cas, err := ca.CAs(e.Ctx, e.Store())
	if err != nil {
		return "", err
	}
	switch len(cas) {
	case 1:
		return cas[0].Name, nil
	case 0:
		return "", errorf("store %s has no CA; make one with 'keywright ca init NAME' and name it with ca: (in the entry or in defaults)", storeName(e))
	}
	names := make([]string, len(cas))
	for i, s := range cas {
		names[i] = s.Name
	}
	return "", errorf("store %s has %d CAs (%s): choose one with ca: (in the entry or in defaults)", storeName(e), len(cas), strings.Join(names, ", "))
}
