package main

import (
	"crypto"
	"errors"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/sshkeys"
	"github.com/keywright/keywright/store"
)

// SSHCACmd groups the SSH CA commands.
type SSHCACmd struct {
	Init SSHCAInitCmd `cmd:"" help:"Create an SSH CA key pair: ssh/NAME (encrypted) and ssh/NAME.pub."`
}

// SSHCAInitCmd is `ssh ca init NAME`.
type SSHCAInitCmd struct {
	Name         string `arg:"" help:"CA name (ssh/NAME in the store) or a path."`
	sshKeyFlags  `embed:""`
	NoPassphrase bool   `help:"Write the CA key unencrypted."`
	Passout      string `help:"Encrypt with the passphrase from SRC: env:VAR, file:PATH, fd:N or stdin." placeholder:"SRC" type:"source"`
}

func (c *SSHCAInitCmd) Run(e *Env) error {
	if c.NoPassphrase && c.Passout != "" {
		return usagef("--no-passphrase and --passout cannot be used together")
	}
	if c.Comment == "" {
		c.Comment = store.BaseName(c.Name) + " SSH CA"
	}
	path, err := newSSHPair(e, c.Name, c.sshKeyFlags, !c.NoPassphrase, c.Passout, sshCAPair)
	if err != nil {
		return err
	}
	trustSSHCAHints(e, c.Name, path+".pub")
	return nil
}

// trustSSHCAHints say how servers trust the CA's user certificates
// (sshd_config TrustedUserCAKeys) and clients its host certificates
// (@cert-authority in known_hosts), and how to sign each.
func trustSSHCAHints(e *Env, ref, pub string) {
	ca := shellQuote(ref)
	e.UI.Hintf("users: on each server, TrustedUserCAKeys FILE in sshd_config, FILE holding %s; then: keywright ssh sign KEY --ca %s --identity ID --principal USER", pub, ca)
	e.UI.Hintf(`hosts: on each client, echo "@cert-authority *.example.com $(cat %s)" >> ~/.ssh/known_hosts (your hosts' pattern for *.example.com); then: keywright ssh sign HOST.pub --ca %s --host --identity HOST --principal HOST.example.com`, shellQuote(pub), ca)
}

// SSHSignCmd is `ssh sign PUBKEY --ca NAME --identity ID --principal P...`.
type SSHSignCmd struct {
	Key           string   `arg:"" name:"pubkey" help:"SSH key NAME (its ssh/NAME.pub) or a public key file." completion-predictor:"ssh"`
	CA            string   `name:"ca" required:"" help:"SSH CA NAME (ssh/NAME) or private key file." placeholder:"NAME" completion-predictor:"ssh"`
	Identity      string   `required:"" help:"Key id, logged by sshd on every use." placeholder:"ID"`
	Principal     []string `required:"" help:"User name (or host name with --host) the certificate is valid for; repeat or comma-separate." placeholder:"P"`
	Host          bool     `help:"Make a host certificate (default: a user certificate)."`
	Days          int      `help:"Validity in days from now (it starts 5 minutes ago)." default:"90"`
	ForceCommand  string   `name:"force-command" help:"User certificates: critical option force-command." placeholder:"CMD" type:"option"`
	SourceAddress []string `name:"source-address" help:"User certificates: critical option source-address (CIDRs, comma-separated)." placeholder:"CIDR,..." type:"option"`
	NoExtensions  bool     `name:"no-extensions" help:"User certificates: leave out permit-pty, permit-port-forwarding and the other default extensions."`
	CAPassin      string   `name:"ca-passin" help:"Passphrase source for the CA key." placeholder:"SRC" type:"source"`
}

// checkFlags refuses what can be refused before reading anything.
func (c *SSHSignCmd) checkFlags() error {
	if _, err := sshCertDays.checkInt(c.Days); err != nil {
		return err
	}
	if err := checkNoNewline("--force-command", c.ForceCommand); err != nil {
		return err
	}
	return checkNoNewline("--identity", c.Identity)
}

func (c *SSHSignCmd) Run(e *Env) error {
	if err := c.checkFlags(); err != nil {
		return err
	}
	k, certPath, err := c.subject(e)
	if err != nil {
		return err
	}
	ca, err := loadSSHCAKey(e, c.CA, c.CAPassin)
	if err != nil {
		return err
	}
	cert, out, err := signSSHCert(ca, sshkeys.CertRequest{
		Key: k.Key, Host: c.Host, Identity: c.Identity, Principals: c.Principal,
		ValidFor: sshCertValidity(c.Days), Now: e.Now(),
		ForceCommand: c.ForceCommand, SourceAddrs: c.SourceAddress, NoExtensions: c.NoExtensions,
	}, k.Comment)
	var refused *sshCertRefused
	if errors.As(err, &refused) {
		return &usageError{refused.err}
	} else if err != nil {
		return err
	}
	if err := store.WriteFile(certPath, out, store.SSHCert.Mode, e.Globals.Force); err != nil {
		return err
	}
	kind := map[bool]string{true: "host", false: "user"}[c.Host]
	e.Result().add("cert", certPath).add("cert_type", kind).add("serial", cert.Serial).add("key_id", c.Identity).
		add("principals", cert.ValidPrincipals).
		add("valid_after", time.Unix(int64(cert.ValidAfter), 0).UTC().Format(time.RFC3339)).
		add("valid_before", time.Unix(int64(cert.ValidBefore), 0).UTC().Format(time.RFC3339))
	e.UI.Infof("wrote %s certificate %s (serial %d, principals %s, valid until %s)", kind, certPath,
		cert.Serial, strings.Join(c.Principal, ","), time.Unix(int64(cert.ValidBefore), 0).UTC().Format(time.RFC3339))
	return nil
}

// sshCertValidity is how long an SSH certificate of days lasts (from its
// start, 5 minutes back).
func sshCertValidity(days int) time.Duration { return time.Duration(days) * 24 * time.Hour }

// sshCertRefused is a certificate request sshkeys refused (a flag's value,
// for ssh sign a usage error), as opposed to a failure to encode it.
type sshCertRefused struct{ err error }

func (e *sshCertRefused) Error() string { return e.err.Error() }
func (e *sshCertRefused) Unwrap() error { return e.err }

// signSSHCert signs req with the CA key and encodes the certificate as
// ssh/NAME-cert.pub holds it (with comment). Shared by ssh sign and batch.
func signSSHCert(ca crypto.Signer, req sshkeys.CertRequest, comment string) (*ssh.Certificate, []byte, error) {
	cert, err := sshkeys.SignCert(ca, req)
	if errors.Is(err, sshkeys.ErrBadCert) {
		return nil, nil, &sshCertRefused{err} // the request's values: a usage error
	} else if err != nil {
		return nil, nil, err // the CA key or the signing: exit 1
	}
	out, err := sshkeys.MarshalCert(cert, comment)
	return cert, out, err
}

// subject loads the public key to certify (refusing a weak one) and says
// where its certificate goes (which must not exist unless --force).
func (c *SSHSignCmd) subject(e *Env) (k *sshkeys.PublicKey, certPath string, err error) {
	k, pubPath, err := loadSSHPublicKey(e, c.Key, "")
	if err != nil {
		return nil, "", err
	}
	if err := sshkeys.CheckKey(k.Key); err != nil {
		return nil, "", errorf("%s: %w", displayPath(pubPath), err)
	}
	if certPath, err = sshCertPath(e, c.Key, pubPath); err != nil {
		return nil, "", err
	}
	if err := refuseExisting(e, certPath); err != nil {
		return nil, "", err
	}
	return k, certPath, nil
}

// sshCertPath is where the certificate of ref goes: ssh/NAME-cert.pub, or
// next to a public key file (id.pub gives id-cert.pub).
func sshCertPath(e *Env, ref, pubPath string) (string, error) {
	if !store.IsPath(ref) {
		return e.Store().Path(ref, store.SSHCert)
	}
	if pubPath == "-" {
		return "", usagef("ssh sign writes the certificate next to the public key; give a NAME or a file, not '-'")
	}
	return strings.TrimSuffix(pubPath, ".pub") + "-cert.pub", nil
}

// loadSSHCAKey reads the CA private key: ssh/NAME, or a file.
func loadSSHCAKey(e *Env, ref, passin string) (crypto.Signer, error) {
	path, err := e.Store().Resolve(ref, store.SSHPrivate)
	if err != nil {
		return nil, err
	}
	return loadSSHPrivate(e, path, "--ca-passin", passin)
}
