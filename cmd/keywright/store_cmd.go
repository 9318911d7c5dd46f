package main

import (
	"errors"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/store"
)

// StoreCmd groups the commands about the store itself.
type StoreCmd struct {
	Check StoreCheckCmd `cmd:"" help:"Check the store: the record against the files, temporary files a killed process left, modes, chains; exit 3 on findings."`
}

// StoreCheckCmd is `store check [--fix]`.
type StoreCheckCmd struct {
	Fix bool `help:"Repair what is safe to repair: remove stale temporary files, set private keys to 0600 and store directories to 0700."`
}

// storeCheckReport is store check's --json document.
type storeCheckReport struct {
	Store    string          `json:"store"`
	OK       bool            `json:"ok"`
	Findings []store.Finding `json:"findings"`
}

func (c *StoreCheckCmd) Run(e *Env) error {
	st := e.Store()
	if _, err := st.Check(true); err != nil && !errors.Is(err, store.ErrStoreMode) {
		return e.storeError(err) // missing or not a directory; modes are findings below
	}
	defer lowerHeapGoal()()
	findings, err := st.CheckFiles(c.Fix)
	if err != nil {
		return err
	}
	recorded, err := ca.CheckRecord(e.Ctx, st, e.Now())
	findings = append(findings, recorded...)
	if err != nil {
		return busyHint(err)
	}
	open := c.report(e, findings)
	if e.Globals.JSON {
		if findings == nil {
			findings = []store.Finding{}
		}
		if err := writeJSON(e, storeCheckReport{Store: storeName(e), OK: open == 0, Findings: findings}); err != nil {
			return err
		}
	}
	if open > 0 {
		e.UI.Failf("store %s: %d finding(s)", storeName(e), open)
		return &checkFailed{n: open}
	}
	e.UI.Infof("store %s: ok", storeName(e))
	return nil
}

// report prints one line per finding and returns how many remain.
func (c *StoreCheckCmd) report(e *Env, findings []store.Finding) (open int) {
	for _, f := range findings {
		where := f.Path
		if where == "" {
			where = storeName(e)
		} else {
			where = displayPath(where)
		}
		if f.Fixed {
			e.UI.Infof("%s: %s: %s (fixed)", where, f.Kind, oneLine(f.Detail))
			continue
		}
		open++
		e.UI.Failf("%s: %s: %s", where, f.Kind, oneLine(f.Detail))
	}
	return open
}
