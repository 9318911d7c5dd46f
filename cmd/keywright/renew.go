package main

import (
	"crypto"
	"errors"
	"runtime"
	"sync"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// The renewal of one certificate, shared by `renew` and `batch` (README "Certificate authority" for renew, "Many at once: batch"):
// package ca decides what the new certificate keeps (ca.Renewal); this file
// makes its key and request, reads passphrases and loads CAs.

// renewOptions are what renewing takes from the command line.
type renewOptions struct {
	Days     int    // 0: the old lifetime
	ReuseKey bool   // keep NAME.key (byte for byte) instead of a new key
	Passin   string // NAME.key's passphrase source, with ReuseKey
	Passout  string // the new keys' passphrase source (when the old key was encrypted)
	CAKeys   CAKeyFlags
}

// renewOutcome is what became of one certificate: Issued, or Err.
type renewOutcome struct {
	Name     string
	Plan     *ca.Renewal // nil when the certificate was not found or refused
	Issued   *ca.Issued
	Warnings []string
	Err      error
}

// renewer renews certificates for one command. It is safe for concurrent
// use: each CA is loaded (its key's passphrase asked) once, and the new
// keys' passphrase is asked at most once, for all of them.
type renewer struct {
	e   *Env
	opt renewOptions

	mu        sync.Mutex // guards the fields below, and every prompt
	cas       map[string]caLoaded
	pass      []byte
	passErr   error
	passAsked bool
}

type caLoaded struct {
	a   *ca.Authority
	err error
}

func newRenewer(e *Env, opt renewOptions) *renewer {
	return &renewer{e: e, opt: opt, cas: map[string]caLoaded{}}
}

// renew renews certificate ref (a NAME or a path) with one Issue.
func (r *renewer) renew(ref string) renewOutcome {
	out := renewOutcome{Name: store.BaseName(ref)}
	if out.Plan, out.Err = ca.FindRenewal(r.e.Ctx, r.e.Store(), ref); out.Err != nil {
		out.Err = renewHint(out.Err, out.Name)
		return out
	}
	a, req, warnings, err := r.prepare(out.Plan)
	out.Warnings = warnings
	if err != nil {
		out.Err = err
		return out
	}
	is, err := a.Issue(r.e.Ctx, req)
	return r.issued(out, is, err)
}

// renewGroup renews plans as one group commit per CA (ca.IssueGroup): keys
// are made in parallel, then each CA's group is signed, recorded and
// written. Each plan succeeds or fails on its own; outcomes come in the
// order of plans.
func (r *renewer) renewGroup(plans []*ca.Renewal) []renewOutcome {
	byCA := map[string][]int{}
	for i, p := range plans {
		byCA[p.Entry.CA] = append(byCA[p.Entry.CA], i)
	}
	if len(byCA) < 2 {
		return r.renewWithOneCA(plans)
	}
	outs := make([]renewOutcome, len(plans))
	for _, idx := range byCA {
		part := make([]*ca.Renewal, len(idx))
		for k, i := range idx {
			part[k] = plans[i]
		}
		for k, out := range r.renewWithOneCA(part) {
			outs[idx[k]] = out
		}
	}
	return outs
}

// renewWithOneCA is renewGroup for plans of one CA.
func (r *renewer) renewWithOneCA(plans []*ca.Renewal) []renewOutcome {
	outs := make([]renewOutcome, len(plans))
	reqs := make([]ca.IssueRequest, len(plans))
	auths := make([]*ca.Authority, len(plans))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(plans)) {
		wg.Go(func() {
			for i := range jobs {
				outs[i] = renewOutcome{Name: plans[i].Name, Plan: plans[i]}
				auths[i], reqs[i], outs[i].Warnings, outs[i].Err = r.prepare(plans[i])
			}
		})
	}
	for i := range plans {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	var ready []int
	for i := range plans {
		if outs[i].Err == nil {
			ready = append(ready, i)
		}
	}
	if len(ready) == 0 {
		return outs
	}
	group := make([]ca.IssueRequest, len(ready))
	for k, i := range ready {
		group[k] = reqs[i]
	}
	for k, res := range auths[ready[0]].IssueGroup(r.e.Ctx, group, r.opt.CAKeys.LockTimeout) {
		outs[ready[k]] = r.issued(outs[ready[k]], res.Issued, res.Err)
	}
	return outs
}

// issued completes out with the result of Issue.
func (r *renewer) issued(out renewOutcome, is *ca.Issued, err error) renewOutcome {
	if err != nil {
		out.Err = busyHint(errorf("%s: %w", out.Plan.Paths.Cert, err))
		return out
	}
	out.Issued = is
	out.Warnings = append(out.Warnings, is.Warnings...)
	return out
}

// prepare is everything before signing: the CA (loaded once), the key (new,
// like the old one; or NAME.key itself) and its request, and the
// IssueRequest for a.Issue or a.IssueGroup.
func (r *renewer) prepare(p *ca.Renewal) (*ca.Authority, ca.IssueRequest, []string, error) {
	a, err := r.authority(p.Entry.CA)
	if err != nil {
		return nil, ca.IssueRequest{}, nil, err
	}
	pub, extra, err := r.keyAndRequest(p)
	if err != nil {
		return nil, ca.IssueRequest{}, nil, err
	}
	req, warnings, err := p.Request(r.e.Store(), a, ca.RenewRequest{PublicKey: pub, Days: r.opt.Days, Now: r.e.Now(),
		Extra: extra, LockTimeout: r.opt.CAKeys.LockTimeout})
	return a, req, warnings, err
}

// authority loads CA name with its key, once per command (a failure too:
// a wrong passphrase is not asked again for every certificate).
func (r *renewer) authority(name string) (*ca.Authority, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.cas[name]
	if !ok {
		l.a, l.err = loadAuthority(r.e, name, r.opt.CAKeys)
		r.cas[name] = l
	}
	return l.a, l.err
}

// keyAndRequest makes the renewal's key and request: the files to write
// with the certificate, and the public key to certify.
func (r *renewer) keyAndRequest(p *ca.Renewal) (crypto.PublicKey, []store.File, error) {
	req := csr.Request{Subject: p.Subject(), SANs: p.SANs()}
	if r.opt.ReuseKey {
		key, err := r.oldKey(p)
		if err != nil {
			return nil, nil, err
		}
		req.Key = key
		csrPEM, err := csr.Build(req)
		if err != nil {
			return nil, nil, err
		}
		return key.Public(), []store.File{{Path: p.Paths.CSR, Data: csrPEM, Mode: store.CSR.Mode}}, nil
	}
	spec, err := p.KeySpec()
	if err != nil {
		return nil, nil, err
	}
	pass, err := r.newPassphrase(p.Paths.Key)
	if err != nil {
		return nil, nil, err
	}
	key, keyPEM, csrPEM, err := newKeyAndRequest(spec, pass, req)
	if err != nil {
		return nil, nil, err
	}
	return key.Public(), []store.File{{Path: p.Paths.Key, Data: keyPEM, Mode: store.Key.Mode},
		{Path: p.Paths.CSR, Data: csrPEM, Mode: store.CSR.Mode}}, nil
}

// oldKey reads NAME.key (--passin) for --reuse-key: it must be the key of
// the certificate renewed. It is not written again, so it stays byte for
// byte as it is.
func (r *renewer) oldKey(p *ca.Renewal) (crypto.Signer, error) {
	r.mu.Lock() // a prompt at a time
	defer r.mu.Unlock()
	k, err := loadKey(r.e, p.Paths.Key, "--passin", r.opt.Passin)
	if err != nil {
		return nil, err
	}
	pub, ok := k.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(p.Cert.PublicKey) {
		// The new key of another renewal, rather than a damaged store?
		if err := p.InPlace(); err != nil {
			return nil, err
		}
		return nil, errorf("%s and %s: %w", p.Paths.Key, p.Paths.Cert, ca.ErrKeyMismatch)
	}
	return k.Key, nil
}

// newPassphrase is the passphrase of a new key whose predecessor at path
// was encrypted (nil when it was not, or there was none): --passout or a
// prompt, asked once for all the keys of the command.
func (r *renewer) newPassphrase(path string) ([]byte, error) {
	encrypted, err := wasEncrypted(path)
	if err != nil || !encrypted {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.passAsked {
		r.pass, r.passErr = passphraseNew(r.e, "--passout", r.opt.Passout, path)
		r.passAsked = true
	}
	return r.pass, r.passErr
}

// wasEncrypted reports whether the key at path is encrypted (false when
// there is none). Only the PEM armour is read, no passphrase is needed.
func wasEncrypted(path string) (bool, error) {
	if !store.Exists(path) {
		return false, nil
	}
	data, err := store.ReadSecretIf(path, nil, holdsSecret)
	if err != nil {
		return false, err
	}
	return keygen.IsEncrypted(data), nil
}

// renewHint says what to do instead when renew refuses a certificate.
func renewHint(err error, name string) error {
	switch {
	case errors.Is(err, ca.ErrNoCertificate):
		return withHint(err, "'keywright list' shows the certificates in the store")
	case errors.Is(err, ca.ErrNotRecorded), errors.Is(err, ca.ErrFileReplaced), errors.Is(err, ca.ErrRenewRevoked):
		return withHint(err, "to make a new certificate for %s signed by a CA: keywright issue %s --force (with its --san)", name, name)
	case errors.Is(err, ca.ErrRenewSelfSigned):
		return withHint(err, "re-sign it with: keywright cert self-sign %s --force; or have a CA issue it: keywright issue %s --force", name, name)
	case errors.Is(err, ca.ErrRenewCA):
		return withHint(err, "a CA is made anew with 'keywright ca init'")
	}
	return err
}
