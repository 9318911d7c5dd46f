package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/keywright/keywright/ca"
)

// renewChunk is how many certificates of one CA `renew --expiring` renews
// as one group commit (ca.IssueGroup): the syncs of a chunk are shared,
// and memory stays bounded however many certificates expire.
const renewChunk = 256

// RenewCmd is `renew NAME...` and `renew --expiring DURATION` (README "Certificate authority").
type RenewCmd struct {
	Names      []string `arg:"" optional:"" name:"name" help:"Certificates to renew: NAME (NAME.crt in the store) or a path to one." completion-predictor:"cert"`
	Expiring   string   `help:"Renew every certificate of the store's CAs that ends within DURATION (30d, 2w, 12h)." placeholder:"DURATION"`
	Days       *int     `help:"Validity in days (default: the old certificate's lifetime; at most 825)." placeholder:"N"`
	ReuseKey   bool     `name:"reuse-key" help:"Keep NAME.key as it is (read with --passin) instead of making a new key."`
	Passin     string   `help:"Passphrase source for an encrypted NAME.key, with --reuse-key." placeholder:"SRC" type:"source"`
	Passout    string   `help:"Passphrase source for the new keys that replace encrypted ones (default: asked once)." placeholder:"SRC" type:"source"`
	CAKeyFlags `embed:""`
}

func (c *RenewCmd) Run(e *Env) error {
	window, err := c.check()
	if err != nil {
		return err
	}
	if _, err := e.ReadStore(); err != nil {
		return err
	}
	r := newRenewer(e, renewOptions{Days: intOr0(c.Days), ReuseKey: c.ReuseKey, Passin: c.Passin, Passout: c.Passout, CAKeys: c.CAKeyFlags})
	out := newRenewReport(e)
	out.expiring = c.Expiring != ""
	if c.Expiring != "" {
		err = c.renewExpiring(e, r, out, window)
	} else {
		for _, name := range c.Names {
			out.add(r.renew(name))
		}
	}
	return out.finish(err)
}

// check validates the command line before anything is read.
func (c *RenewCmd) check() (time.Duration, error) {
	switch {
	case len(c.Names) > 0 && c.Expiring != "":
		return 0, usagef("give NAMEs or --expiring, not both")
	case len(c.Names) == 0 && c.Expiring == "":
		return 0, usagef("renew what? give one or more NAMEs, or --expiring DURATION")
	case c.ReuseKey && c.Passout != "":
		return 0, usagef("--passout is for new keys; --reuse-key keeps NAME.key as it is")
	case slices.Contains(c.Names, "-"):
		return 0, usagef("renew writes NAME.key, NAME.csr, NAME.crt and NAME.pem; give a NAME or a path, not '-'")
	}
	if _, err := leafDays.check(c.Days); err != nil {
		return 0, err
	}
	if c.Expiring == "" {
		return 0, nil
	}
	return durationFlag("--expiring", c.Expiring)
}

// renewExpiring renews what ends within window, one group per CA in chunks
// of renewChunk, flushed as they fill while the record is read.
func (c *RenewCmd) renewExpiring(e *Env, r *renewer, out *renewReport, window time.Duration) error {
	groups := map[string][]*ca.Renewal{}
	problems, err := ca.ExpiringRenewals(e.Ctx, e.Store(), e.Now(), window, func(name string, p *ca.Renewal, err error) error {
		if err != nil {
			out.add(renewOutcome{Name: name, Err: renewHint(err, name)})
			return nil
		}
		g := append(groups[p.Entry.CA], p)
		if len(g) == renewChunk {
			out.add(r.renewGroup(g)...)
			g = nil
		}
		groups[p.Entry.CA] = g
		return nil
	})
	for _, p := range problems {
		e.UI.Warnf("%s", message(p))
	}
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		out.add(r.renewGroup(groups[name])...)
	}
	if err == nil && out.doc.Renewed+out.doc.Skipped+out.doc.Failed == 0 {
		e.UI.Infof("no certificate of the store's CAs ends within %s", c.Expiring)
	}
	return err
}

// fleetReport is the --json document of commands that act on many
// certificates (renew; batch's shape, README "Many at once: batch").
type fleetReport struct {
	Issued  int          `json:"issued"`
	Renewed int          `json:"renewed"`
	Skipped int          `json:"skipped"`
	Failed  int          `json:"failed"`
	Entries []fleetEntry `json:"entries"`
}

// fleetEntry is one entry of a fleetReport.
type fleetEntry struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`   // certificate, ssh
	Action   string    `json:"action"` // issued, renewed, skipped, failed
	Serial   string    `json:"serial,omitempty"`
	NotAfter time.Time `json:"not_after,omitzero"`
	Error    string    `json:"error,omitempty"`
}

// renewReport prints renew's outcomes as they come: a line per renewed
// certificate on stdout (or the JSON document at the end), warnings and
// errors on stderr. The last error is the command's (printed by run); the
// earlier ones are printed as they happen. The JSON document's entries are
// written as they come (jsonStream), so that renewing a whole fleet holds
// no list of it.
type renewReport struct {
	e       *Env
	doc     fleetReport // the counts
	json    *jsonStream // with --json
	pending error
	// expiring: renew --expiring, where a certificate another keywright
	// renewed meanwhile is done, not failed (the two converge).
	expiring bool
}

func newRenewReport(e *Env) *renewReport {
	o := &renewReport{e: e}
	if e.Globals.JSON {
		o.json = newJSONStream(e.Stdout)
		keepGoingOnBrokenPipe() // a reader that goes away does not stop the renewals
	}
	return o
}

// entry adds fe to the JSON document.
func (o *renewReport) entry(fe fleetEntry) {
	if o.json != nil {
		o.json.add(o.doc.Renewed+o.doc.Skipped+o.doc.Failed-1, fe)
	}
}

func (o *renewReport) add(outs ...renewOutcome) {
	for _, out := range outs {
		warnAll(o.e, out.Warnings)
		if o.expiring && errors.Is(out.Err, ca.ErrRenewedMeanwhile) {
			o.doc.Skipped++
			o.entry(fleetEntry{Name: out.Name, Kind: "certificate", Action: "skipped"})
			o.e.UI.Infof("%s: skipped: another keywright renewed it meanwhile", out.Name)
			continue
		}
		if out.Err != nil {
			o.failed(out)
			continue
		}
		o.doc.Renewed++
		is := out.Issued
		o.entry(fleetEntry{Name: out.Name, Kind: "certificate", Action: "renewed",
			Serial: is.Entry.Serial, NotAfter: is.Cert.NotAfter.UTC()})
		if !o.e.Globals.JSON {
			fmt.Fprintf(o.e.Stdout, "%s: renewed (serial %s, renews %s, valid until %s)\n",
				out.Name, is.Entry.Serial, out.Plan.Entry.Serial, is.Cert.NotAfter.UTC().Format(time.RFC3339))
		}
	}
}

func (o *renewReport) failed(out renewOutcome) {
	o.doc.Failed++
	o.entry(fleetEntry{Name: out.Name, Kind: "certificate", Action: "failed", Error: message(out.Err)})
	if o.pending != nil {
		reportError(o.e.Stderr, o.pending)
	}
	o.pending = out.Err
}

// finish prints the JSON document and returns the command's error: err,
// else the last failure (exit 1 if any certificate failed).
func (o *renewReport) finish(err error) error {
	if o.json != nil {
		if jerr := o.json.finish(o.doc); jerr != nil && err == nil {
			err = errorf("the JSON report could not be written: %w", jerr)
		}
	}
	switch {
	case err != nil && o.pending != nil:
		reportError(o.e.Stderr, o.pending)
	case err == nil:
		err = o.pending
	}
	return err
}
