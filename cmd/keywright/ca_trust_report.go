package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keywright/keywright/trust"
)

// trustDoc is the --json document of the ca trust commands; the field
// names are stable.
type trustDoc struct {
	CA       string       `json:"ca"`
	Cert     string       `json:"cert"`
	Subject  string       `json:"subject"`
	SHA256   string       `json:"sha256_fingerprint"`
	Nickname string       `json:"nickname"`
	Stores   []trustStore `json:"stores"`
}

// trustStore is one trust store's line.
type trustStore struct {
	Store    string `json:"store"`
	Location string `json:"location"`
	Result   string `json:"result"`
	Detail   string `json:"detail"`
	Fix      string `json:"fix"`
}

// printTrust prints one line per store on stdout (the command's answer,
// so -q does not silence it), or the JSON document.
func printTrust(e *Env, root trust.Root, results []trust.Result) error {
	if e.Globals.JSON {
		doc := trustDoc{CA: root.Name, Cert: root.Path, Subject: root.Cert.Subject.String(), SHA256: root.Fingerprint(),
			Nickname: root.Nickname(), Stores: []trustStore{}}
		for _, r := range results {
			doc.Stores = append(doc.Stores, trustStore{Store: r.Store, Location: r.Location, Result: string(r.State), Detail: r.Detail, Fix: r.Fix})
		}
		return writeJSON(e, doc)
	}
	for _, r := range results {
		fmt.Fprintln(e.Stdout, trustLine(r))
	}
	return nil
}

// trustLine is "STORE LOCATION: RESULT (DETAIL)", or "...: failed: WHY".
func trustLine(r trust.Result) string {
	where := r.Store
	if r.Location != "" {
		where += " " + r.Location
	}
	state := strings.ReplaceAll(string(r.State), "_", " ")
	switch {
	case r.Detail == "":
		return where + ": " + state
	case r.State == trust.Failed:
		return where + ": failed: " + r.Detail
	}
	return fmt.Sprintf("%s: %s (%s)", where, state, r.Detail)
}

// trustOutcome is the command's error: for install and uninstall one error
// line per store that failed, with the commands that would do it as hints
// (exit 1); for status, exit 3 when the root is not trusted somewhere.
func trustOutcome(e *Env, op string, results []trust.Result) error {
	var lines, fixes []string
	for _, r := range results {
		if !r.Problem() {
			continue
		}
		lines = append(lines, fmt.Sprintf("ca trust %s: %s %s: %s", op, r.Store, r.Location, r.Detail))
		if r.Fix != "" && !slices.Contains(fixes, r.Fix) {
			fixes = append(fixes, r.Fix)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	if op == "status" {
		for _, f := range fixes {
			e.UI.Hintf("run: %s", f)
		}
		return &checkFailed{n: len(lines)}
	}
	var err error = &trustFailed{lines: lines}
	for i := len(fixes) - 1; i >= 0; i-- { // the outermost hint is printed first
		err = withHint(err, "run: %s", fixes[i])
	}
	return err
}

// trustFailed: some stores could not be changed; each is an error line.
type trustFailed struct{ lines []string }

func (e *trustFailed) Error() string        { return strings.Join(e.lines, "; ") }
func (e *trustFailed) ErrorLines() []string { return e.lines }
