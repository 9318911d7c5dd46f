package main

import (
	"bytes"
	"crypto"
	"slices"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/sshkeys"
	"github.com/keywright/keywright/store"
)

// sshPlan is what batch will do with one SSH entry: its key pair as ssh
// keygen makes it, and its certificate as ssh sign makes it.
type sshPlan struct {
	action   string
	priv     string // ssh/NAME
	pub      string // ssh/NAME.pub
	cert     string // ssh/NAME-cert.pub
	genKey   bool   // make the pair
	keyForce bool   // replacing files that exist (--force)
	pubOnly  bool   // ssh/NAME exists alone (a killed batch): write ssh/NAME.pub from it
	sign     bool   // sign the certificate
	signForc bool   // replacing the certificate
	serial   string // the certificate kept (actSkipped)
	notAfter time.Time
	err      error
}

func (pl sshPlan) fail(err error) sshPlan {
	pl.action, pl.err = actFailed, err
	return pl
}

// ssh plans an SSH entry: a missing pair is made, an existing one kept; a
// missing certificate is signed; one for the same key, CA, identity,
// principals and kind is kept until it ends before renewBy (then signed
// again: renewed); one that differs fails the entry, or with --force is
// signed again (as is the pair that differs: a new key).
func (p *planner) ssh(ent *SSHEntry) sshPlan {
	var pl sshPlan
	var err error
	for _, f := range []struct {
		dst  *string
		kind store.Kind
	}{{&pl.priv, store.SSHPrivate}, {&pl.pub, store.SSHPublic}, {&pl.cert, store.SSHCert}} {
		if *f.dst, err = p.st.Path(ent.Name, f.kind); err != nil {
			return pl.fail(err)
		}
	}
	havePriv, havePub := store.Exists(pl.priv), store.Exists(pl.pub)
	switch {
	case havePriv && havePub:
	case !havePriv && !havePub:
		pl.genKey = true
	case p.force:
		if err := refuseSSHCA(p.e, pl.priv, pl.pub); err != nil {
			return pl.fail(err)
		}
		pl.genKey, pl.keyForce = true, true
	case havePriv:
		pl.pubOnly = true
	default:
		return pl.fail(withHint(errorf("%s exists without %s", pl.pub, pl.priv), "--force makes a new key pair"))
	}
	if ent.Cert != nil {
		pl = p.sshCert(ent, pl)
	}
	if pl.action == "" {
		pl.action = actSkipped
		if pl.genKey || pl.pubOnly || pl.sign {
			pl.action = actIssued
		}
	}
	return pl
}

// sshCert plans the certificate of an SSH entry.
func (p *planner) sshCert(ent *SSHEntry, pl sshPlan) sshPlan {
	if !store.Exists(pl.cert) {
		pl.sign = true
		return pl
	}
	if pl.genKey {
		if !p.force {
			return pl.fail(withHint(errorf("%s exists without its key %s", pl.cert, pl.priv), "--force makes a new key pair and certificate"))
		}
		pl.sign, pl.signForc = true, true
		return pl
	}
	cert, err := p.sshCertDiffers(ent, pl)
	if err != nil {
		if !p.force {
			return pl.fail(withHint(err, "--force signs it anew as the manifest says"))
		}
		pl.sign, pl.signForc = true, true
		return pl
	}
	pl.notAfter = time.Unix(int64(min(cert.ValidBefore, uint64(1)<<62)), 0).UTC()
	if pl.notAfter.Before(p.renewBy) {
		pl.action, pl.sign, pl.signForc = actRenewed, true, true
		return pl
	}
	pl.serial = strconv.FormatUint(cert.Serial, 10)
	return pl
}

// sshCertDiffers reads ssh/NAME-cert.pub and says how it differs from what
// the entry asks for (nil error: it is that certificate).
func (p *planner) sshCertDiffers(ent *SSHEntry, pl sshPlan) (*ssh.Certificate, error) {
	c := ent.Cert
	cert, err := readSSHCert(pl.cert)
	if err != nil {
		return nil, err
	}
	key, err := readSSHPub(pl.pub)
	if err != nil {
		return nil, err
	}
	caPub, err := p.st.Path(c.CA, store.SSHPublic)
	if err != nil {
		return nil, err
	}
	caKey, err := readSSHPub(caPub)
	if err != nil {
		return nil, err
	}
	kind := map[bool]uint32{true: ssh.HostCert, false: ssh.UserCert}[c.Host]
	have, want := slices.Sorted(slices.Values(cert.ValidPrincipals)), slices.Sorted(slices.Values(c.Principals))
	switch {
	case !bytes.Equal(cert.Key.Marshal(), key.Marshal()):
		return nil, errorf("%s certifies another key than %s", pl.cert, pl.pub)
	case !bytes.Equal(cert.SignatureKey.Marshal(), caKey.Marshal()):
		return nil, errorf("%s is not signed by SSH CA %s", pl.cert, c.CA)
	case cert.CertType != kind:
		return nil, errorf("%s is a %s certificate; the manifest asks for a %s certificate", pl.cert, certKind(cert.CertType), certKind(kind))
	case cert.KeyId != c.Identity:
		return nil, errorf("%s has identity %q; the manifest says %q", pl.cert, cert.KeyId, c.Identity)
	case !slices.Equal(have, want):
		return nil, errorf("%s has principals %q; the manifest says %q", pl.cert, have, want)
	}
	return cert, nil
}

func certKind(t uint32) string {
	return map[bool]string{true: "host", false: "user"}[t == ssh.HostCert]
}

// readSSHCert reads an OpenSSH certificate file.
func readSSHCert(path string) (*ssh.Certificate, error) {
	k, err := readSSHPub(path)
	if err != nil {
		return nil, err
	}
	cert, ok := k.(*ssh.Certificate)
	if !ok {
		return nil, errorf("%s: not an SSH certificate", path)
	}
	return cert, nil
}

// readSSHPub reads a one-line OpenSSH public key or certificate.
func readSSHPub(path string) (ssh.PublicKey, error) {
	data, err := store.ReadFile(path, nil)
	if err != nil {
		return nil, err
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil, errorf("%s: %v", path, err)
	}
	return k, nil
}

// sshWork is one SSH entry made ready to write: its files, and the
// certificate signed (for the report).
type sshWork struct {
	files []store.File
	force bool
	cert  *ssh.Certificate
}

// prepareSSH makes an SSH entry's files: the pair (or the missing .pub),
// then its certificate signed by caKey.
func prepareSSH(ent *SSHEntry, pl sshPlan, pass []byte, caKey crypto.Signer, now time.Time) (sshWork, error) {
	w := sshWork{force: pl.keyForce || pl.signForc}
	comment := ent.Comment
	if comment == "" {
		comment = ent.Name
	}
	var pub ssh.PublicKey
	var err error
	switch {
	case pl.genKey:
		pair, err := newSSHPairFiles(ent.Key, comment, pass)
		if err != nil {
			return w, err
		}
		w.files = append(w.files, store.File{Path: pl.priv, Data: pair.Private, Mode: store.SSHPrivate.Mode},
			store.File{Path: pl.pub, Data: pair.Public, Mode: store.SSHPublic.Mode})
		pub = pair.Key
	case pl.pubOnly:
		if pub, err = publicOfSSHPrivate(pl.priv, pass); err != nil {
			return w, err
		}
		line, err := sshkeys.MarshalPublic(pub, comment)
		if err != nil {
			return w, err
		}
		w.files = append(w.files, store.File{Path: pl.pub, Data: line, Mode: store.SSHPublic.Mode})
	case pl.sign:
		if pub, err = readSSHPub(pl.pub); err != nil {
			return w, err
		}
	}
	if !pl.sign {
		return w, nil
	}
	c := ent.Cert
	cert, data, err := signSSHCert(caKey, sshkeys.CertRequest{Key: pub, Host: c.Host, Identity: c.Identity,
		Principals: c.Principals, ValidFor: sshCertValidity(c.Days), Now: now}, comment)
	if err != nil {
		return w, err
	}
	w.cert = cert
	w.files = append(w.files, store.File{Path: pl.cert, Data: data, Mode: store.SSHCert.Mode})
	return w, nil
}

// publicOfSSHPrivate is the public key of ssh/NAME (read with the batch's
// passphrase when it is encrypted: a killed batch wrote it so).
func publicOfSSHPrivate(path string, pass []byte) (ssh.PublicKey, error) {
	data, err := store.ReadSecretIf(path, nil, holdsSecret)
	if err != nil {
		return nil, err
	}
	k, err := sshkeys.ParsePublic(data, func() ([]byte, error) {
		if pass == nil {
			return nil, errorf("%s is encrypted: give its passphrase with --passout", path)
		}
		return pass, nil
	})
	if err != nil {
		return nil, errorf("%s: %w", path, err)
	}
	return k.Key, nil
}
