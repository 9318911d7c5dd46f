package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/internal/fault"
)

// ListCmd is `list`.
type ListCmd struct {
	Expiring *string `help:"Only certificates that expire within DURATION (30d, 2w, 12h, 90m); exit 3 if there are any." placeholder:"DURATION"`
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
	Error    string    `json:"error,omitempty"` // why the status is unknown
}

func (c *ListCmd) Run(e *Env) error {
	if _, err := e.ReadStore(); err != nil {
		return err
	}
	var window time.Duration
	if c.Expiring != nil { // given empty, it is refused, not a list of everything (exit 0)
		var err error
		if window, err = durationFlag("--expiring", *c.Expiring); err != nil {
			return err
		}
	}
	now := e.Now()
	var problems []error
	var err error
	defer lowerHeapGoal()()
	if c.Expiring != nil {
		out := &listWriter{e: e}
		head := func(width int) error { out.width = max(len("NAME"), width); return nil }
		problems, err = ca.ExpiringTable(e.Ctx, e.Store(), now, window, head, func(it ca.Item) error { return out.item(it, now) })
		return c.finish(e, out, problems, err)
	}
	names, err := ca.CertNames(e.Store().Dir)
	if err != nil {
		return err
	}
	out := newListWriter(e, names)
	problems, err = ca.InventoryOf(e.Ctx, e.Store(), names, now, func(it ca.Item) error { return out.item(it, now) })
	return c.finish(e, out, problems, err)
}

// finish reports the problems, ends the output and sets the exit code: a
// record that could not be read completely (a status unknown) or a listing
// cut short is an error (exit 1), after the output, which carries the
// problems too (--json: "problems", and "error" in each row affected).
func (c *ListCmd) finish(e *Env, out *listWriter, problems []error, err error) error {
	for _, p := range problems {
		e.UI.Warnf("%s", message(p))
		out.problems = append(out.problems, message(p))
	}
	if err != nil {
		out.problems = append(out.problems, message(err))
	}
	for _, p := range out.record {
		out.problems = append(out.problems, message(p))
	}
	if cerr := out.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if len(out.record) > 0 {
		return withHint(problemList(out.record), "'keywright store check' looks at the whole record; the statuses it affects are unknown")
	}
	if c.Expiring != nil && out.n > 0 {
		e.UI.Failf("%d certificate(s) expire within %s", out.n, *c.Expiring)
		return &checkFailed{n: out.n}
	}
	return nil
}

// problemList is several errors, each its own "keywright: error:" line.
type problemList []error

func (p problemList) Error() string   { return errors.Join(p...).Error() }
func (p problemList) Unwrap() []error { return p }

// ErrorLines implements errorLines.
func (p problemList) ErrorLines() []string {
	lines := make([]string, len(p))
	for i, e := range p {
		lines[i] = fault.Text(e)
	}
	return lines
}

func rowOf(it ca.Item, now time.Time) listRow {
	r := listRow{Name: it.Name, File: displayPath(it.Path), Subject: it.Cert.Subject.String(), CA: it.CA, IsCA: it.Cert.IsCA,
		Serial: ca.FormatSerial(it.Cert.SerialNumber), NotAfter: it.Cert.NotAfter.UTC(),
		DaysLeft: int(it.Cert.NotAfter.Sub(now).Hours() / 24), Status: it.Status, Recorded: it.Entry != nil}
	if it.Problem != nil {
		r.Error = message(it.Problem)
	}
	return r
}

// listWriter prints list's rows as they come: JSON row by row (the same
// document writeJSON would make), or a table whose NAME and CA columns are
// as wide as the longest NAME it will print (the store's for list, the
// window's for list --expiring: ca.ExpiringTable), so rows go out at once
// and nothing is held.
type listWriter struct {
	e        *Env
	width    int // the NAME and CA columns
	n        int
	record   []error // record entries that could not be read, once each
	seen     map[string]bool
	problems []string // --json: everything that went wrong
}

// serialWidth is the width of the SERIAL column: 20 octets (40 hex
// digits), the most RFC 5280 allows (keywright's own are 17), so a
// certificate another CA issued keeps the columns aligned too.
const serialWidth = 40

func newListWriter(e *Env, names []string) *listWriter {
	w := &listWriter{e: e}
	w.width = len("NAME")
	for _, n := range names {
		w.width = max(w.width, len(n))
	}
	return w
}

// line prints one row of the table.
func (w *listWriter) line(name, ca, serial, notAfter, status string) error {
	_, err := fmt.Fprintf(w.e.Stdout, "%-*s  %-*s  %-*s  %-16s  %s\n", w.width, name, w.width, ca, serialWidth, serial, notAfter, status)
	return err
}

// item prints a row, and keeps the problem of a status unknown (once).
func (w *listWriter) item(it ca.Item, now time.Time) error {
	if p := it.Problem; p != nil && !w.seen[p.Error()] {
		if w.seen == nil {
			w.seen = map[string]bool{}
		}
		w.seen[p.Error()] = true
		w.record = append(w.record, p)
	}
	return w.row(rowOf(it, now))
}

func (w *listWriter) row(r listRow) error {
	w.n++
	if w.e.Globals.JSON {
		return w.jsonRow(r)
	}
	if w.n == 1 {
		if err := w.line("NAME", "CA", "SERIAL", "NOT AFTER", "STATUS"); err != nil {
			return err
		}
	}
	caName := r.CA
	if caName == "" {
		caName = "-"
	}
	return w.line(r.Name, caName, r.Serial, r.NotAfter.Format("2006-01-02 15:04"), r.Status)
}

func (w *listWriter) jsonRow(r listRow) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return err
	}
	sep := ",\n"
	if w.n == 1 {
		sep = "{\n  \"certificates\": [\n"
	}
	_, err := fmt.Fprintf(w.e.Stdout, "%s    %s", sep, bytes.TrimRight(b.Bytes(), "\n"))
	return err
}

func (w *listWriter) close() error {
	switch {
	case !w.e.Globals.JSON:
		return nil
	case w.n == 0:
		return writeJSON(w.e, map[string]any{"certificates": []listRow{}, "problems": append([]string{}, w.problems...)})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("  ", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(append([]string{}, w.problems...)); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w.e.Stdout, "\n  ],\n  \"problems\": %s\n}\n", bytes.TrimRight(b.Bytes(), "\n"))
	return err
}
