package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keywright/keywright/ca"
)

// ListCmd is `list`.
type ListCmd struct {
	Expiring string `help:"Only certificates that expire within DURATION (30d, 12h, 2w); exit 3 if there are any." placeholder:"DURATION"`
}

// listRow is one certificate in list's output; the JSON field names are stable.
type listRow struct {
	Name     string    `json:"name"`
	File     string    `json:"file"`
	Subject  string    `json:"subject"`
	CA       string    `json:"ca"`
	IsCA     bool      `json:"is_ca"`
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"not_after"`
	DaysLeft int       `json:"days_left"`
	Status   string    `json:"status"`
	Recorded bool      `json:"recorded"`
}

func (c *ListCmd) Run(e *Env) error {
	var window time.Duration
	if c.Expiring != "" {
		var err error
		if window, err = parseWindow(c.Expiring); err != nil {
			return err
		}
	}
	now := e.Now()
	items, problems := ca.Inventory(e.Store(), now)
	for _, p := range problems {
		e.UI.Warnf("%s", oneLine(p.Error()))
	}
	var rows []listRow
	for _, it := range items {
		if c.Expiring != "" && (it.Status == ca.StatusRevoked || it.Cert.NotAfter.After(now.Add(window))) {
			continue
		}
		rows = append(rows, rowOf(it, now))
	}
	if err := writeList(e, rows); err != nil {
		return err
	}
	if c.Expiring != "" && len(rows) > 0 {
		e.UI.Failf("%d certificate(s) expire within %s", len(rows), c.Expiring)
		return &checkFailed{n: len(rows)}
	}
	return nil
}

func rowOf(it ca.Item, now time.Time) listRow {
	r := listRow{Name: it.Name, File: displayPath(it.Path), Subject: it.Cert.Subject.String(), IsCA: it.Cert.IsCA,
		Serial: ca.FormatSerial(it.Cert.SerialNumber), NotAfter: it.Cert.NotAfter.UTC(),
		DaysLeft: int(it.Cert.NotAfter.Sub(now).Hours() / 24), Status: it.Status, Recorded: it.Entry != nil}
	if it.Issuer != nil {
		r.CA = it.Issuer.Name
	}
	return r
}

func writeList(e *Env, rows []listRow) error {
	if e.Globals.JSON {
		if rows == nil {
			rows = []listRow{}
		}
		return writeJSON(e, map[string]any{"certificates": rows})
	}
	if len(rows) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCA\tSERIAL\tNOT AFTER\tSTATUS")
	for _, r := range rows {
		caName := r.CA
		if caName == "" {
			caName = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, caName, r.Serial, r.NotAfter.Format("2006-01-02 15:04"), r.Status)
	}
	return tw.Flush()
}

// parseWindow reads a duration with day and week units: 30d, 2w, 12h, 1h30m.
func parseWindow(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 {
				break
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usagef("--expiring %q: give a duration such as 30d, 2w or 12h", s)
	}
	return d, nil
}
