package main

import (
	"crypto"
	"crypto/x509/pkix"
	"errors"
	"strings"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// localCA is the CA the zero-config path creates (README "Certificate authority", issue).
const localCA = "local-ca"

// IssueCmd is `issue NAME`: key, request, certificate and chain at once.
type IssueCmd struct {
	Name       string   `arg:"" help:"Name of the files to write: NAME.key, NAME.csr, NAME.crt, NAME.pem."`
	CA         string   `name:"ca" help:"The CA that signs (default: the only CA in the store; with none, a new local-ca)." placeholder:"CA" completion-predictor:"ca" type:"nonempty"`
	SAN        []string `name:"san" sep:"none" help:"Subject alternative name (repeat): DNS name, IP address, email or URI (default: NAME)." placeholder:"VALUE"`
	CN         string   `name:"cn" help:"Subject common name (default: the first DNS name)." placeholder:"CN"`
	Profile    string   `help:"server, client, server-client, code-signing or email." default:"server" enum:"server,client,server-client,code-signing,email"`
	Days       *int     `help:"Validity in days (default 90, at most 825)." placeholder:"N"`
	KeyFlags   `embed:""`
	Encrypt    bool   `help:"Encrypt the new key; the passphrase comes from --passout or a prompt."`
	Passout    string `help:"Encrypt the new key with the passphrase from SRC." placeholder:"SRC" type:"source"`
	CAPassout  string `name:"ca-passout" help:"When a new local-ca is made: encrypt its key with the passphrase from SRC." placeholder:"SRC" type:"source"`
	CAKeyFlags `embed:""`
}

// issueFiles are the four files of NAME.
type issueFiles struct{ key, csr, cert, chain string }

func (c *IssueCmd) Run(e *Env) error {
	spec, subject, sans, err := c.check()
	if err != nil {
		return err
	}
	files, err := c.files(e)
	if err != nil {
		return err
	}
	pass, err := passphraseIf(e, c.Encrypt || c.Passout != "", "--passout", c.Passout, files.key)
	if err != nil {
		return err
	}
	a, newCA, err := c.authority(e)
	if err != nil {
		return err
	}
	key, keyPEM, csrPEM, err := newKeyAndRequest(spec, pass, csr.Request{Subject: subject, SANs: sans})
	if err != nil {
		return err
	}
	profile, _ := ca.ProfileByName(c.Profile)
	req := ca.IssueRequest{
		Store: e.Store(), CertPath: files.cert, ChainPath: files.chain, Force: e.Globals.Force, LockTimeout: c.LockTimeout,
		Sign:  ca.SignRequest{Subject: subject, SANs: sans, PublicKey: key.Public(), Profile: profile, Days: intOr0(c.Days), Now: e.Now()},
		Extra: []store.File{{Path: files.key, Data: keyPEM, Mode: store.Key.Mode}, {Path: files.csr, Data: csrPEM, Mode: store.CSR.Mode}},
	}
	a, is, err := c.issue(e, a, newCA, req)
	if err != nil {
		return busyHint(err)
	}
	e.UI.Infof("wrote %s key to %s", spec, files.key)
	e.Result().add("key", files.key).add("csr", files.csr)
	reportIssued(e, a, is, files.cert, files.chain)
	return nil
}

// issue signs req with a, or makes the zero-config CA newCA and signs with
// it in the same commit (a failed issue leaves no CA behind). If another
// keywright made the CA meanwhile, that one signs.
func (c *IssueCmd) issue(e *Env, a *ca.Authority, newCA *ca.CreateRequest, req ca.IssueRequest) (*ca.Authority, *ca.Issued, error) {
	if newCA != nil {
		made, is, err := ca.CreateAndIssue(e.Ctx, *newCA, req)
		if !errors.Is(err, ca.ErrCAExists) {
			if err == nil {
				c.madeLocalCA(e, newCA.Paths)
			}
			return made, is, err
		}
		// CreateAndIssue waited for the keywright that made it.
		if a, err = loadAuthority(e, localCA, c.CAKeyFlags); err != nil {
			return nil, nil, err
		}
	}
	is, err := a.Issue(e.Ctx, req)
	return a, is, err
}

// newKeyAndRequest generates a key for r (PEM, encrypted when pass is not
// nil) and r's request signed by it.
func newKeyAndRequest(spec keygen.Spec, pass []byte, r csr.Request) (key crypto.Signer, keyPEM, csrPEM []byte, err error) {
	if key, keyPEM, err = newKey(spec, pass); err != nil {
		return nil, nil, nil, err
	}
	r.Key = key
	if csrPEM, err = csr.Build(r); err != nil {
		return nil, nil, nil, err
	}
	return key, keyPEM, csrPEM, nil
}

// check validates everything that needs no file, before anything happens.
func (c *IssueCmd) check() (keygen.Spec, pkix.Name, csr.SANs, error) {
	spec, err := c.spec()
	if err != nil {
		return spec, pkix.Name{}, csr.SANs{}, err
	}
	if _, err := leafDays.check(c.Days); err != nil {
		return spec, pkix.Name{}, csr.SANs{}, err
	}
	values := c.SAN
	fromName := len(values) == 0 && c.CN == ""
	if fromName {
		values = []string{store.BaseName(c.Name)}
	}
	sans, err := csr.ParseSANs(values)
	if err != nil && fromName {
		return spec, pkix.Name{}, sans, &usageError{withHint(err, "give the names with --san (a NAME is used as the DNS name when there is no --san or --cn)")}
	} else if err != nil {
		return spec, pkix.Name{}, sans, &usageError{errorf("--san: %w", err)}
	}
	subject, sans, err := leafSubject(c.CN, sans)
	if err != nil {
		return spec, subject, sans, &usageError{err}
	}
	return spec, subject, sans, nil
}

// leafSubject is the subject of a leaf with these SANs, and the SANs with
// its CN among them (README "Certificate authority"): the CN is cn, else the first DNS name when it
// fits in a CN (64 characters, RFC 5280 ub-common-name), and one that is not
// a SAN yet is added (csr.AddCommonName). Shared by issue and batch.
func leafSubject(cn string, sans csr.SANs) (pkix.Name, csr.SANs, error) {
	subject := pkix.Name{CommonName: cn}
	if cn == "" && len(sans.DNS) > 0 && len(sans.DNS[0]) <= 64 {
		subject.CommonName = sans.DNS[0]
	}
	sans, err := csr.AddCommonName(subject, sans)
	return subject, sans, err
}

// files are NAME's four files; none may exist unless --force.
func (c *IssueCmd) files(e *Env) (issueFiles, error) {
	var f issueFiles
	if c.Name == "-" {
		return f, usagef("issue writes NAME.key, NAME.csr, NAME.crt and NAME.pem; give a NAME or a path, not '-'")
	}
	st := e.Store()
	for _, x := range []struct {
		dst  *string
		kind store.Kind
	}{{&f.key, store.Key}, {&f.csr, store.CSR}, {&f.cert, store.Cert}, {&f.chain, store.Chain}} {
		p, err := st.Sibling(c.Name, x.kind)
		if err != nil {
			return f, err
		}
		if err := refuseExisting(e, p); err != nil {
			return f, err
		}
		*x.dst = p
	}
	return f, nil
}

// authority picks the CA: --ca, the only CA in the store, or (newCA) a
// local-ca to make with the certificate (README "The zero-config path").
func (c *IssueCmd) authority(e *Env) (a *ca.Authority, newCA *ca.CreateRequest, err error) {
	if c.CA != "" {
		a, err = loadAuthority(e, c.CA, c.CAKeyFlags)
		return a, nil, err
	}
	cas, err := ca.CAs(e.Ctx, e.Store())
	if err != nil {
		return nil, nil, busyHint(err)
	}
	var names []string
	for _, s := range cas {
		names = append(names, s.Name)
	}
	switch len(names) {
	case 0:
		newCA, err = c.localCA(e)
		if errors.Is(err, store.ErrExists) { // made by another keywright meanwhile
			a, err = c.loadLocalCA(e)
			return a, nil, err
		}
		return nil, newCA, err
	case 1:
		a, err = loadAuthority(e, names[0], c.CAKeyFlags)
		return a, nil, err
	}
	return nil, nil, usagef("store %s has %d CAs (%s): choose one with --ca", storeName(e), len(names), strings.Join(names, ", "))
}

// loadLocalCA loads the local-ca another keywright made meanwhile, once
// that keywright's commit is over: it holds the CA's lock from before the
// CA's first file is placed until its record entry is committed.
func (c *IssueCmd) loadLocalCA(e *Env) (*ca.Authority, error) {
	paths, err := ca.PathsFor(e.Store(), localCA)
	if err != nil {
		return nil, err
	}
	lock, err := paths.LockCA(e.Ctx, c.LockTimeout)
	if err != nil {
		return nil, busyHint(err)
	}
	lock.Unlock()
	return loadAuthority(e, localCA, c.CAKeyFlags)
}

// localCA is the zero-config root to make, unencrypted unless --ca-passout
// is given. NAME may not be the CA's own.
func (c *IssueCmd) localCA(e *Env) (*ca.CreateRequest, error) {
	if store.BaseName(c.Name) == localCA && !store.IsPath(c.Name) {
		return nil, withHint(errorf("%s: %w (issue would make CA %s for it first)", c.Name, ca.ErrReplacesCA, localCA),
			"choose another NAME for the certificate")
	}
	init := CAInitCmd{Name: localCA, CN: "keywright local CA", KeyFlags: KeyFlags{Type: keygen.ECDSA},
		NoPassphrase: c.CAPassout == "", Passout: c.CAPassout, CAKeyFlags: c.CAKeyFlags, passoutFlag: "--ca-passout"}
	req, err := init.request(e)
	if err != nil {
		return nil, err
	}
	req.Force = false // a CA is made, never forced over anything
	if req.Root.Key, req.KeyPEM, err = init.newKey(e, req.Paths.Key); err != nil {
		return nil, err
	}
	return &req, nil
}

// madeLocalCA says where the zero-config CA is and how to trust it.
func (c *IssueCmd) madeLocalCA(e *Env, p ca.Paths) {
	if c.CAPassout == "" {
		e.UI.Infof("made a local root CA: %s (its key %s is NOT encrypted; protect it, or remake it with --ca-passout)", p.Cert, p.Key)
	} else {
		e.UI.Infof("made a local root CA: %s (key %s, encrypted)", p.Cert, p.Key)
	}
	e.UI.Hintf("to make browsers, curl and the system trust what it signs, run: keywright%s ca trust install %s", storeFlag(e), localCA)
}
