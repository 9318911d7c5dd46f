package main

// The survey of a batch (README "Many at once: batch"): while the manifest
// is checked, each entry that passes is planned, and only what the work
// will need before it starts is kept (the CAs and SSH CAs whose keys sign,
// whether any key is written), so that every passphrase is asked once,
// before the progress bar, and only when needed, without keeping the
// entries.

import (
	"slices"
	"sync"
	"time"
)

// batchNeeds is what the work of a manifest needs before it starts: the
// CAs that sign (in order of first need), the SSH CAs, and whether any key
// is written (--passout).
type batchNeeds struct {
	cas, sshCAs []string
	keys        bool
}

// batchSurvey plans each entry as the manifest's check passes it, keeping only
// what the work needs (batchNeeds), so the manifest is read once for the
// check and the survey and once more for the work. It plans against the
// store's only CA for entries that name none (when the store has one:
// otherwise resolveCAs reports it).
type batchSurvey struct {
	p       *planner
	need    batchNeeds
	onlyCA  func() string
	entries manifestSink
}

func newSurvey(e *Env, now time.Time, window time.Duration) *batchSurvey {
	sv := &batchSurvey{}
	sv.p = newPlanner(e, batchCAs{}, now, window)
	sv.onlyCA = sync.OnceValue(func() string { name, _ := onlyCA(e); return name })
	sv.entries = manifestSink{cert: sv.cert, ssh: sv.ssh}
	return sv
}

// note adds name to list once (a manifest names a few CAs).
func note(list *[]string, name string) {
	if !slices.Contains(*list, name) {
		*list = append(*list, name)
	}
}

func (sv *batchSurvey) cert(_ int, ent *CertEntry) {
	if ent.CA == "" && sv.p.cas.defaultCA == "" {
		sv.p.cas.defaultCA = sv.onlyCA()
	}
	if pl := sv.p.cert(ent); sv.p.dbErr == nil && (pl.action == actIssued || pl.action == actRenewed) {
		sv.need.keys = true
		note(&sv.need.cas, pl.ca)
	}
}

func (sv *batchSurvey) ssh(_ int, ent *SSHEntry) {
	pl := sv.p.ssh(ent)
	sv.need.keys = sv.need.keys || pl.genKey || pl.pubOnly
	if pl.sign && ent.Cert != nil {
		note(&sv.need.sshCAs, ent.Cert.CA)
	}
}

// done closes the survey's planner and returns what the work needs; a
// record that could not be read stops the batch before anything is
// written.
func (sv *batchSurvey) done() (batchNeeds, error) {
	sv.p.close()
	if sv.p.dbErr != nil {
		return sv.need, busyHint(sv.p.dbErr)
	}
	return sv.need, nil
}
