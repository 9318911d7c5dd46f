package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/store"
	"github.com/keywright/keywright/trust"
)

// CATrustCmd is `ca trust install|uninstall|status [CA]` (README "Trusting
// the local CA").
type CATrustCmd struct {
	Install   CATrustInstallCmd   `cmd:"" help:"Add the root to this machine's trust stores: the system store, the NSS databases of Firefox and Chrome, Java's cacerts."`
	Uninstall CATrustUninstallCmd `cmd:"" help:"Take out of the trust stores what install added."`
	Status    CATrustStatusCmd    `cmd:"" help:"Say, store by store, whether the root is trusted (exit 3 when it is not everywhere)."`
}

// trustArgs are what every ca trust command takes.
type trustArgs struct {
	CA string   `arg:"" optional:"" help:"The root CA: a NAME in the store or a certificate file (default: the store's only root)." placeholder:"CA" completion-predictor:"ca"`
	In []string `name:"in" help:"Only these trust stores: system, nss, java (default: all)." placeholder:"STORE,..." type:"option"`
}

// CATrustInstallCmd is `ca trust install [CA]`.
type CATrustInstallCmd struct{ trustArgs }

// CATrustUninstallCmd is `ca trust uninstall [CA]`.
type CATrustUninstallCmd struct{ trustArgs }

// CATrustStatusCmd is `ca trust status [CA]`.
type CATrustStatusCmd struct{ trustArgs }

func (c *CATrustInstallCmd) Run(e *Env) error {
	return runTrust(e, c.trustArgs, "install", trust.Install)
}

func (c *CATrustUninstallCmd) Run(e *Env) error {
	return runTrust(e, c.trustArgs, "uninstall", trust.Uninstall)
}

func (c *CATrustStatusCmd) Run(e *Env) error {
	return runTrust(e, c.trustArgs, "status", trust.Status)
}

// runTrust finds the root, runs op on the selected stores and reports.
func runTrust(e *Env, a trustArgs, op string, fn func(context.Context, trust.Root, trust.Options) []trust.Result) error {
	for _, k := range a.In {
		if !slices.Contains(trust.Kinds, k) {
			return usagef("--in %s: a trust store is one of %s", k, strings.Join(trust.Kinds, ", "))
		}
	}
	root, err := trustRoot(e, a.CA)
	if err != nil {
		return err
	}
	e.UI.Infof("root CA %s (%s, SHA-256 %s)", root.Name, root.Cert.Subject.String(), root.Fingerprint())
	results := fn(e.Ctx, root, trust.Options{Home: homeDir(e), Getenv: e.Getenv, Kinds: a.In})
	if err := printTrust(e, root, results); err != nil {
		return err
	}
	return trustOutcome(e, op, results)
}

// trustRoot is the root CA ref names, or the store's only root.
func trustRoot(e *Env, ref string) (trust.Root, error) {
	if _, err := e.ReadStore(); err != nil {
		return trust.Root{}, err
	}
	if ref == "" {
		return onlyRoot(e)
	}
	p, err := ca.PathsFor(e.Store(), ref)
	if err != nil {
		return trust.Root{}, err
	}
	if !store.Exists(p.Cert) {
		return trust.Root{}, withHint(errorf("no CA %q: %s does not exist", ref, p.Cert), "%s", caListHint(e))
	}
	certs, err := ca.ReadCerts(p.Cert)
	if err != nil {
		return trust.Root{}, err
	}
	root, err := trust.NewRoot(p.Name, p.Cert, certs[0])
	switch {
	case errors.Is(err, trust.ErrIntermediate):
		if a, lerr := ca.Load(e.Ctx, e.Store(), ref); lerr == nil {
			if name := storeNameOf(e, a.Root); name != "" {
				return root, withHint(err, "trust its root instead: keywright%s ca trust install %s", storeFlag(e), name)
			}
		}
		return root, withHint(err, "trust the root it chains to")
	case errors.Is(err, trust.ErrLeaf):
		return root, withHint(err, "%s", rootsHint(e))
	}
	return root, err
}

// onlyRoot is the one root CA of the store.
func onlyRoot(e *Env) (trust.Root, error) {
	roots, err := storeRoots(e)
	if err != nil {
		return trust.Root{}, err
	}
	switch len(roots) {
	case 0:
		return trust.Root{}, withHint(errorf("store %s has no root CA", storeName(e)),
			"make one with: keywright issue NAME (it creates local-ca), or keywright ca init NAME")
	case 1:
		return roots[0], nil
	}
	var names []string
	for _, r := range roots {
		names = append(names, r.Name)
	}
	return trust.Root{}, usagef("store %s has %d root CAs (%s): name the one to trust", storeName(e), len(roots), strings.Join(names, ", "))
}

// storeRoots are the root CAs the store knows.
func storeRoots(e *Env) ([]trust.Root, error) {
	known, err := ca.KnownCAs(e.Ctx, e.Store())
	if err != nil {
		return nil, busyHint(err)
	}
	var roots []trust.Root
	for _, s := range known {
		if r, err := trust.NewRoot(s.Name, s.Path, s.Cert); err == nil {
			roots = append(roots, r)
		}
	}
	return roots, nil
}

// rootsHint names the store's roots.
func rootsHint(e *Env) string {
	roots, _ := storeRoots(e)
	if len(roots) == 0 {
		return fmt.Sprintf("store %s has no root CA; make one with: keywright ca init NAME", storeName(e))
	}
	var names []string
	for _, r := range roots {
		names = append(names, r.Name)
	}
	return "root CAs in store " + storeName(e) + ": " + strings.Join(names, ", ")
}

// storeNameOf is the NAME of the store's CA whose certificate is c.
func storeNameOf(e *Env, c *x509.Certificate) string {
	known, _ := ca.KnownCAs(e.Ctx, e.Store())
	for _, s := range known {
		if s.Cert.Equal(c) {
			return s.Name
		}
	}
	return ""
}

// storeFlag is " --store DIR" when the store is not the default one, for
// commands a message suggests.
func storeFlag(e *Env) string {
	if e.Globals.Store == "./pki" {
		return ""
	}
	return " --store " + shellQuote(e.Globals.Store)
}
