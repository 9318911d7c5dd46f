package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/store"
)

// CAKeyFlags are how a command reaches a CA's key and lock.
type CAKeyFlags struct {
	CAPassin    string        `name:"ca-passin" help:"Passphrase source for the CA key: env:VAR, file:PATH, fd:N or stdin." placeholder:"SRC" type:"source"`
	LockTimeout time.Duration `name:"lock-timeout" help:"How long to wait for another keywright process using the same CA." default:"30s"`
}

// loadAuthority reads CA ref (certificate, chain, root) and its key.
func loadAuthority(e *Env, ref string, f CAKeyFlags) (*ca.Authority, error) {
	a, err := loadCACert(e, ref)
	if err != nil {
		return nil, err
	}
	k, err := loadKey(e, a.Paths.Key, "--ca-passin", f.CAPassin)
	if err != nil {
		return nil, err
	}
	if err := a.SetKey(k.Key); err != nil {
		return nil, err
	}
	return a, nil
}

// loadCACert reads CA ref without its key.
func loadCACert(e *Env, ref string) (*ca.Authority, error) {
	if _, err := e.ReadStore(); err != nil {
		return nil, err
	}
	p, err := ca.PathsFor(e.Store(), ref)
	if err != nil {
		return nil, err
	}
	if !store.Exists(p.Cert) {
		err := withHint(errorf("no CA %q: %s does not exist", ref, p.Cert), "%s", caListHint(e))
		if v, ok := e.fromConfig("ca"); ok && v.text == ref {
			err = withHint(err, "the CA is the default of %s; give another with --ca", e.configWhere("ca"))
		}
		return nil, err
	}
	a, err := ca.Load(e.Ctx, e.Store(), ref)
	if errors.Is(err, ca.ErrNotCA) {
		return nil, withHint(err, "%s", caListHint(e))
	}
	return a, err
}

// caListHint names the CAs in the store, or says how to make one.
func caListHint(e *Env) string {
	names := caNames(e)
	if len(names) == 0 {
		return fmt.Sprintf("store %s has no CA; make one with: keywright ca init NAME", storeName(e))
	}
	return "CAs in store " + storeName(e) + ": " + strings.Join(names, ", ")
}

func caNames(e *Env) []string {
	var names []string
	cas, _ := ca.CAs(e.Ctx, e.Store())
	for _, s := range cas {
		names = append(names, s.Name)
	}
	return names
}

// warnAll prints library warnings.
func warnAll(e *Env, warnings []string) {
	for _, w := range warnings {
		e.UI.Warnf("%s", w)
	}
}

// chainSummary says who signed a certificate, for messages.
func chainSummary(a *ca.Authority) string {
	if a.IsRoot() {
		return fmt.Sprintf("CA %s", a.Paths.Name)
	}
	return fmt.Sprintf("CA %s (root %q)", a.Paths.Name, a.Root.Subject.CommonName)
}

// day is a date as messages show it.
func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// storeName is the store directory as messages show it.
func storeName(e *Env) string { return filepath.Clean(e.Globals.Store) }

// busyHint adds advice to a lock that could not be had.
func busyHint(err error) error {
	if errors.Is(err, store.ErrBusy) {
		return withHint(err, "another keywright command is using this CA; try again, or wait longer with --lock-timeout")
	}
	return err
}

// caHints say what to do when a CA may not sign, or a certificate would
// take a CA's place or key (README "Certificate authority", Policy).
func caHints(err error) []string {
	var rev *ca.RevokedCAError
	switch {
	case errors.As(err, &rev) && rev.Revoked == rev.By:
		return []string{fmt.Sprintf("root CA %s revoked itself on %s: make a new root (keywright ca init NEW) and issue from it", rev.By, day(rev.At))}
	case errors.As(err, &rev):
		return []string{fmt.Sprintf("CA %s was revoked by CA %s on %s: make a new CA (keywright ca init NEW --parent %s) and issue from it",
			rev.Revoked, rev.By, day(rev.At), rev.By)}
	case errors.Is(err, ca.ErrCAExpired):
		return []string{"a CA is not renewed in place: make a new one with 'keywright ca init NEW' (with --parent for an intermediate) and issue from it (--ca NEW)"}
	case errors.Is(err, ca.ErrCANotYetValid):
		return []string{"check this machine's clock (date -u): the CA's validity starts later"}
	case errors.Is(err, ca.ErrReplacesCA):
		return []string{"choose another NAME: only 'keywright ca init NAME --force' remakes a CA"}
	case errors.Is(err, ca.ErrOutlivesIssuer):
		return []string{"--days sets the lifetime: give at most the days above, or leave --days out and the certificate ends with its CA"}
	case errors.Is(err, ca.ErrCAKey):
		return []string{"make the request with a new key of its own (keywright csr new NAME, or issue NAME)"}
	}
	return nil
}
