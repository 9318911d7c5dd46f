package remote

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/keywright/keywright/sshkeys"
)

// HostKeyError: the server's host key is not one known_hosts vouches for.
type HostKeyError struct {
	Host        string // as known_hosts names it: host or [host]:port
	File        string
	Fingerprint string // of the key the server offered
	Changed     bool   // known_hosts holds another key for the host
	Revoked     bool
	// Offered and Listed: the server offers no key of the types known_hosts
	// lists for the host (Fingerprint is then unknown).
	Offered, Listed []string
}

func (e *HostKeyError) Error() string {
	switch {
	case len(e.Offered) > 0:
		return fmt.Sprintf("host key of %s has CHANGED: the server offers only %s keys, and %s lists only %s for it (someone may be intercepting the connection)",
			e.Host, strings.Join(e.Offered, ", "), e.File, strings.Join(e.Listed, ", "))
	case e.Revoked:
		return fmt.Sprintf("host key %s of %s is marked revoked in %s", e.Fingerprint, e.Host, e.File)
	case e.Changed:
		return fmt.Sprintf("host key of %s has CHANGED: the server offered %s, which %s does not list for it (someone may be intercepting the connection)", e.Host, e.Fingerprint, e.File)
	}
	return fmt.Sprintf("host %s is not in %s (host key %s); check the fingerprint, then use --accept-new", e.Host, e.File, e.Fingerprint)
}

// hostKeys checks one connection's host key against known_hosts.
type hostKeys struct {
	file      string
	hostport  string // the target's address, as known_hosts is searched
	acceptNew bool
	record    func(file, line string) error
	// What the check saw.
	key     ssh.PublicKey
	newHost bool
	listed  []string // key types known_hosts lists for the host
}

// check builds the host key callback and the host key algorithms to offer:
// those of the keys known_hosts lists for the host, so that a server with
// several host keys shows one that can be checked.
func (h *hostKeys) check(remote net.Addr) (ssh.HostKeyCallback, []string, error) {
	known, err := knownhosts.New(h.file)
	if errors.Is(err, os.ErrNotExist) {
		known = func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }
	} else if err != nil {
		return nil, nil, knownHostsError(h.file, err)
	}
	var algos []string
	_, probe, _ := ed25519.GenerateKey(nil)
	probeKey, _ := ssh.NewPublicKey(probe.Public())
	var ke *knownhosts.KeyError
	if errors.As(known(h.hostport, remote, probeKey), &ke) {
		for _, k := range ke.Want {
			if !slices.Contains(h.listed, k.Key.Type()) {
				h.listed = append(h.listed, k.Key.Type())
				algos = append(algos, algorithmsFor(k.Key.Type())...)
			}
		}
	}
	cb := func(_ string, addr net.Addr, key ssh.PublicKey) error {
		h.key = key
		return h.verdict(known(h.hostport, addr, key), key)
	}
	return cb, algos, nil
}

func (h *hostKeys) verdict(err error, key ssh.PublicKey) error {
	if err == nil {
		return nil
	}
	hk := &HostKeyError{Host: knownhosts.Normalize(h.hostport), File: h.file, Fingerprint: sshkeys.Fingerprint(key)}
	var revoked *knownhosts.RevokedError
	var ke *knownhosts.KeyError
	switch {
	case errors.As(err, &revoked):
		hk.Revoked = true
	case errors.As(err, &ke) && len(ke.Want) > 0:
		hk.Changed = true
	case errors.As(err, &ke) && h.acceptNew:
		h.newHost = true
		if h.record == nil {
			return nil
		}
		return h.record(h.file, knownhosts.Line([]string{knownhosts.Normalize(h.hostport)}, key))
	case !errors.As(err, &ke):
		return err
	}
	return hk
}

// otherType turns a handshake that found no host key algorithm in common
// with those known_hosts lists for the host into a changed host key.
func (h *hostKeys) otherType(err error) error {
	var neg *ssh.AlgorithmNegotiationError
	if len(h.listed) == 0 || !errors.As(err, &neg) || neg.What != "host key" {
		return err
	}
	return &HostKeyError{Host: knownhosts.Normalize(h.hostport), File: h.file, Changed: true,
		Offered: neg.RequestedAlgorithms, Listed: h.listed}
}

func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// knownHostsError: the known_hosts file could not be read (the system's
// reason), or a line of it does not parse (knownhosts' own words name its
// package and the decoder's).
func knownHostsError(file string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return errorf("known_hosts %s: %w", file, pe.Err)
	}
	return errorf("known_hosts %s: a line does not parse (ssh-keygen -F HOST -f %s shows the lines for a host)", file, file)
}
