package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/keywright/keywright/ca"
)

// CALogCmd is `ca log CA`: the record's events, oldest first.
type CALogCmd struct {
	CA string `arg:"" name:"ca" help:"The CA whose record to print." completion-predictor:"ca"`
}

func (c *CALogCmd) Run(e *Env) error {
	a, err := loadCACert(e, c.CA)
	if err != nil {
		return err
	}
	defer lowerHeapGoal()()
	// --json: JSON Lines, one event per line, as the record was kept before
	// it became a database (README "The record"), so pipelines read it with
	// jq -c or line by line.
	enc := json.NewEncoder(e.Stdout)
	enc.SetEscapeHTML(false)
	return busyHint(a.Log(e.Ctx, func(ev ca.Event) error {
		if e.Globals.JSON {
			return enc.Encode(ev)
		}
		_, err := fmt.Fprintln(e.Stdout, logLine(ev))
		return err
	}))
}

// logLine is one event for a person: time, kind, then what it is about.
func logLine(ev ca.Event) string {
	at := ev.Time.UTC().Format(time.RFC3339)
	switch ev.Event {
	case ca.EventIssued:
		line := fmt.Sprintf("%s  issued   %s  %s  %s  %s until %s", at, ev.Serial, ev.File, ev.Subject, ev.Profile, day(ev.NotAfter))
		if len(ev.SANs) > 0 {
			line += "  [" + strings.Join(ev.SANs, ", ") + "]"
		}
		if ev.Renews != "" {
			line += "  renews " + ev.Renews
		}
		return line
	case ca.EventRevoked:
		return fmt.Sprintf("%s  revoked  %s  %s", at, ev.Serial, ev.Reason)
	}
	return fmt.Sprintf("%s  crl      number %d, next update %s", at, ev.CRLNumber, ev.NextUpdate.UTC().Format(time.RFC3339))
}
