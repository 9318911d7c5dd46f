package main

import (
	"crypto"
	"encoding/pem"
	"strings"
	"time"

	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/sshkeys"
	"github.com/keywright/keywright/store"
)

// InspectCmd is `inspect NAME|FILE`.
type InspectCmd struct {
	Ref     string        `arg:"" name:"name-or-file" help:"Store NAME (its key, request and certificate), a file ('-' for stdin), or https://HOST[:PORT]: the chain that TLS server presents." completion-predictor:"name"`
	Passin  string        `help:"Passphrase source for an encrypted key (without one, an encrypted key is described without its contents)." placeholder:"SRC" type:"source"`
	Timeout time.Duration `help:"With https://HOST[:PORT]: how long to wait for the server." default:"10s"`
}

// inspectKinds are the store files `inspect NAME` describes, in this order.
var inspectKinds = []store.Kind{store.Cert, store.CSR, store.Key, store.SSHCert, store.SSHPublic}

// pemDescriber describes one PEM block of the type it is registered for.
type pemDescriber func(e *Env, c *InspectCmd, file string, block *pem.Block) (*report, error)

// pemDescribers maps a PEM block type to the code that describes it.
var pemDescribers = map[string]pemDescriber{
	keygen.BlockPKCS8:     describePrivateKeyBlock,
	keygen.BlockEncrypted: describePrivateKeyBlock,
	keygen.BlockPKCS1:     describePrivateKeyBlock,
	keygen.BlockSEC1:      describePrivateKeyBlock,
	keygen.BlockPublic:    describePublicKeyBlock,
	csr.BlockCert:         describeCertBlock, // inspect_x509.go
	csr.BlockCSR:          describeCSRBlock,
	csr.BlockCSRLegacy:    describeCSRBlock,
	sshkeys.BlockOpenSSH:  describeOpenSSHPrivateBlock,
	blockCRL:              describeCRLBlock, // inspect_ca.go
}

func (c *InspectCmd) Run(e *Env) error {
	if strings.HasPrefix(c.Ref, "https://") {
		return c.inspectTLS(e) // tls_fetch.go
	}
	files, err := c.files(e)
	if err != nil {
		return err
	}
	var reports []*report
	for _, f := range files {
		data, err := store.ReadSecretIf(f, e.Stdin, holdsSecret)
		if err != nil {
			return err
		}
		rs, err := c.describe(e, displayPath(f), data)
		if err != nil {
			return err
		}
		reports = append(reports, rs...)
	}
	return writeReports(e, reports)
}

// files lists what to read: the path given, or the store files of NAME.
func (c *InspectCmd) files(e *Env) ([]string, error) {
	if store.IsPath(c.Ref) {
		return []string{c.Ref}, nil
	}
	var files []string
	for _, k := range inspectKinds {
		p, err := e.Store().Path(c.Ref, k)
		if err != nil {
			return nil, err
		}
		if store.Exists(p) {
			files = append(files, p)
		}
	}
	if len(files) == 0 && store.Exists(c.Ref) {
		// Not in the store, but a file of that name is here: read-only
		// commands may take it (`inspect cert.txt`).
		return []string{c.Ref}, nil
	}
	if len(files) == 0 {
		if _, err := e.ReadStore(); err != nil {
			return nil, err // no store at all, rather than no NAME in it
		}
		return nil, errorf("%s: no key, request or certificate named %q in store %s", c.Ref, c.Ref, e.Globals.Store)
	}
	return files, nil
}

// describe recognises data by content and reports every object in it.
func (c *InspectCmd) describe(e *Env, file string, data []byte) ([]*report, error) {
	var reports []*report
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		d, ok := pemDescribers[block.Type]
		if !ok {
			return nil, errorf("%s: PEM block of type %q is not something keywright reads", file, block.Type)
		}
		r, err := d(e, c, file, block)
		if err != nil {
			return nil, err
		}
		reports = append(reports, r)
	}
	if len(reports) == 0 && !isPEM(data) {
		// Not PEM: OpenSSH one-line keys and certificates (inspect_ssh.go).
		if rs, err := describeSSHText(e, file, data); rs != nil || err != nil {
			return rs, err
		}
	}
	if len(reports) == 0 && !isPEM(data) {
		// Not PEM: a DER certificate or request (inspect_x509.go).
		if rs, err := describeDER(e, file, data); rs != nil || err != nil {
			return rs, err
		}
		if rs, err := describePKCS12(e, c, file, data); rs != nil || err != nil {
			return rs, err // inspect_p12.go
		}
		if len(data) > 0 && data[0] == 0x30 { // an ASN.1 SEQUENCE: DER
			return nil, errorf("%s: DER that parses as no certificate, request or PKCS#12 file (truncated or damaged?)", file)
		}
	}
	if len(reports) == 0 {
		return nil, errorf("%s: %w", file, keygen.ErrNoPEM)
	}
	if tree := chainReport(e, file, data); tree != nil { // inspect_ca.go
		reports = append(reports, tree)
	}
	return reports, nil
}

func describePrivateKeyBlock(e *Env, c *InspectCmd, file string, block *pem.Block) (*report, error) {
	data := pem.EncodeToMemory(block)
	encrypted := keygen.IsEncrypted(data)
	r := (&report{}).add("file", file).add("kind", "private key")
	if encrypted && c.Passin == "" && !e.CanPrompt() {
		// Without the passphrase nothing but the fact is visible.
		return r.add("encrypted", true), nil
	}
	d, err := withPassphraseTries(e, "--passin", c.Passin, file, func(pass keygen.PassphraseFunc) (*keygen.Decoded, error) {
		return keygen.ParsePEM(data, pass)
	})
	if err != nil {
		return nil, keyError(file, err)
	}
	r.add("format", d.Format).add("encrypted", d.Encrypted)
	return addPublicKey(r, d.Key.Public())
}

func describePublicKeyBlock(_ *Env, _ *InspectCmd, file string, block *pem.Block) (*report, error) {
	pub, err := parsePublicKeyDER(block.Bytes)
	if err != nil {
		return nil, errorf("%s: %w", file, err)
	}
	r := (&report{}).add("file", file).add("kind", "public key")
	return addPublicKey(r, pub)
}

// addPublicKey adds the key type, size and fingerprints of pub.
func addPublicKey(r *report, pub crypto.PublicKey) (*report, error) {
	spec, err := keygen.SpecOf(pub)
	if err != nil {
		return nil, err
	}
	fp, err := keygen.FingerprintOf(pub)
	if err != nil {
		return nil, err
	}
	r.add("key_type", spec.Type).add("key_size", spec.Size())
	if spec.Type == keygen.ECDSA {
		r.add("curve", spec.Curve)
	}
	r.add("spki_sha256", fp.Hex())
	if fpSSH, err := sshFingerprint(pub); err == nil {
		r.add("ssh_sha256", fpSSH)
	}
	return r, nil
}
