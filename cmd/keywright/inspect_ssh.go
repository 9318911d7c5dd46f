package main

import (
	"encoding/pem"
	"errors"
	"sort"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/sshkeys"
)

// describeOpenSSHPrivateBlock describes an "OPENSSH PRIVATE KEY" block. The
// format keeps the public key in clear, so an encrypted key is described
// fully without its passphrase.
func describeOpenSSHPrivateBlock(e *Env, c *InspectCmd, file string, block *pem.Block) (*report, error) {
	data := pem.EncodeToMemory(block)
	r := (&report{}).add("file", file).add("kind", "SSH private key").add("format", "openssh")
	_, err := ssh.ParseRawPrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) && c.Passin == "" && !e.CanPrompt() {
		r.add("encrypted", true)
		if missing.PublicKey == nil {
			return r, nil
		}
		return addSSHPublicKey(r, missing.PublicKey)
	}
	k, err := withPassphraseTries(e, "--passin", c.Passin, file, func(pass keygen.PassphraseFunc) (*sshkeys.PrivateKey, error) {
		return sshkeys.ParsePrivate(data, pass)
	})
	if err != nil {
		return nil, keyError(file, err)
	}
	r.add("encrypted", k.Encrypted)
	return addPublicKey(r, k.Key.Public())
}

// describeSSHText describes non-PEM input that holds OpenSSH one-line
// public keys or certificates (a .pub, -cert.pub or authorized_keys file).
// It returns nil, nil when there is none, so the caller reports its own error.
func describeSSHText(e *Env, file string, data []byte) ([]*report, error) {
	f := sshkeys.ParseAuthorizedKeys(data)
	entries := f.Entries()
	if len(entries) == 0 {
		return nil, nil
	}
	for _, bad := range f.Invalid() {
		e.UI.Warnf("%s:%d: %v", file, bad.Line, bad.Err)
	}
	var reports []*report
	for _, le := range entries {
		r := (&report{}).add("file", file)
		if len(entries) > 1 {
			r.add("line", le.Line)
		}
		var err error
		if cert, ok := le.Key.(*ssh.Certificate); ok {
			r, err = describeSSHCert(r, cert)
		} else {
			r, err = addSSHPublicKey(r.add("kind", "SSH public key"), le.Key)
		}
		if err != nil {
			return nil, err
		}
		var opts []string
		for _, o := range le.Options {
			opts = append(opts, o.Name+map[bool]string{true: "=" + o.Value}[o.HasValue])
		}
		reports = append(reports, r.add("comment", le.Comment).add("options", opts))
	}
	return reports, nil
}

func describeSSHCert(r *report, cert *ssh.Certificate) (*report, error) {
	kind := "user"
	if cert.CertType == ssh.HostCert {
		kind = "host"
	}
	r.add("kind", "SSH certificate").add("cert_type", kind).add("key_id", cert.KeyId).
		add("serial", cert.Serial).add("principals", cert.ValidPrincipals).
		add("valid_after", sshTime(cert.ValidAfter)).add("valid_before", sshTime(cert.ValidBefore)).
		add("critical_options", sortedPairs(cert.CriticalOptions)).add("extensions", sortedPairs(cert.Extensions)).
		add("signing_ca", sshkeys.Fingerprint(cert.SignatureKey)).add("signing_ca_type", cert.SignatureKey.Type())
	return addSSHPublicKey(r, cert.Key)
}

// addSSHPublicKey adds type, size and fingerprints; key types with no crypto
// equivalent (security keys) get the SSH fingerprint only.
func addSSHPublicKey(r *report, k ssh.PublicKey) (*report, error) {
	if ck, ok := k.(ssh.CryptoPublicKey); ok {
		if r2, err := addPublicKey(r, ck.CryptoPublicKey()); err == nil {
			return r2, nil
		}
	}
	return r.add("key_type", k.Type()).add("ssh_sha256", sshkeys.Fingerprint(k)), nil
}

func sshTime(t uint64) string {
	switch t {
	case 0:
		return "always"
	case ssh.CertTimeInfinity:
		return "forever"
	}
	return time.Unix(int64(t), 0).UTC().Format(time.RFC3339)
}

func sortedPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		if v != "" {
			k += "=" + v
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
