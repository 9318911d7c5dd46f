package sshkeys

import (
	"crypto"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// MaxCertDays bounds an SSH certificate's validity (30 years, as a CA's):
// far below where a count of days overflows a time.Duration (README "Certificate authority": no
// overflow ever reaches a certificate).
const MaxCertDays = 30 * 365

// ErrBadCert: a certificate request keywright will not sign.
var ErrBadCert = newError("bad certificate request")

// DefaultUserExtensions are the extensions ssh-keygen puts in a user
// certificate unless told otherwise (ssh-keygen(1), -O clear).
var DefaultUserExtensions = []string{
	"permit-X11-forwarding",
	"permit-agent-forwarding",
	"permit-port-forwarding",
	"permit-pty",
	"permit-user-rc",
}

// Backdate is how far before now a certificate becomes valid, for clocks
// that run a little behind.
const Backdate = 5 * time.Minute

// CertRequest describes the certificate to sign.
type CertRequest struct {
	Key          ssh.PublicKey // the key to certify (not a certificate)
	Host         bool          // a host certificate; else a user certificate
	Identity     string        // key id, logged by sshd
	Principals   []string      // user names, or host names for Host
	ValidFor     time.Duration // from Now-Backdate to Now+ValidFor
	Now          time.Time
	ForceCommand string    // critical option force-command (user only)
	SourceAddrs  []string  // critical option source-address: CIDRs (user only)
	NoExtensions bool      // leave out DefaultUserExtensions
	Rand         io.Reader // serial and nonce; nil means crypto/rand
}

// SignCert signs req with the CA key and returns the certificate.
func SignCert(ca crypto.Signer, req CertRequest) (*ssh.Certificate, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	rnd := req.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var serial [8]byte
	if _, err := io.ReadFull(rnd, serial[:]); err != nil {
		return nil, errorf("%w", err)
	}
	cert := &ssh.Certificate{
		Key:             req.Key,
		Serial:          binary.BigEndian.Uint64(serial[:]),
		CertType:        ssh.UserCert,
		KeyId:           req.Identity,
		ValidPrincipals: uniqueStrings(req.Principals),
		ValidAfter:      uint64(req.Now.Add(-Backdate).Unix()),
		ValidBefore:     uint64(req.Now.Add(req.ValidFor).Unix()),
		Permissions:     req.permissions(),
	}
	if req.Host {
		cert.CertType = ssh.HostCert
	}
	signer, err := ssh.NewSignerFromSigner(ca)
	if err != nil {
		return nil, errorf("CA key: %w", err)
	}
	if err := cert.SignCert(rnd, signer); err != nil {
		return nil, errorf("signing: %w", err)
	}
	if err := verifySigned(cert); err != nil {
		return nil, err
	}
	return cert, nil
}

// ErrDamagedCAKey: a certificate signed with the CA key does not verify
// with the CA's public key (its private and public halves do not match).
var ErrDamagedCAKey = newError("the CA key is damaged: a signature made with it does not verify with its public key")

// verifySigned checks cert's signature with the key that signed it, as
// sshd will: a damaged private key (an OpenSSH key file whose private half
// was changed) signs certificates that no server accepts.
func verifySigned(cert *ssh.Certificate) error {
	unsigned := *cert
	unsigned.Signature = nil
	data := unsigned.Marshal()
	data = data[:len(data)-4] // the signed bytes end before the signature's (empty) length
	if cert.SignatureKey.Verify(data, cert.Signature) != nil {
		return ErrDamagedCAKey
	}
	return nil
}

func (r CertRequest) check() error {
	if r.Key == nil {
		return errorf("%w: no key to certify", ErrBadCert)
	}
	if _, ok := r.Key.(*ssh.Certificate); ok {
		return errorf("%w: the key is a certificate already; give the plain public key", ErrBadCert)
	}
	if err := CheckKey(r.Key); err != nil {
		return err
	}
	if strings.TrimSpace(r.Identity) == "" {
		return errorf("%w: an identity (key id) is required", ErrBadCert)
	}
	if err := checkText("identity", r.Identity); err != nil {
		return errorf("%w: %w", ErrBadCert, err)
	}
	if len(r.Principals) == 0 {
		// An empty list means "any principal" to sshd: never by accident.
		return errorf("%w: at least one principal is required", ErrBadCert)
	}
	for _, p := range r.Principals {
		if err := CheckPrincipal(p); err != nil {
			return errorf("%w: %w", ErrBadCert, err)
		}
	}
	if r.ValidFor <= 0 {
		return errorf("%w: validity must be positive", ErrBadCert)
	}
	if r.ValidFor > MaxCertDays*24*time.Hour {
		return errorf("%w: validity over %d days", ErrBadCert, MaxCertDays)
	}
	if r.Host && (r.ForceCommand != "" || len(r.SourceAddrs) > 0) {
		return errorf("%w: force-command and source-address apply to user certificates only", ErrBadCert)
	}
	if err := checkText("force-command", r.ForceCommand); err != nil {
		return errorf("%w: %w", ErrBadCert, err)
	}
	for _, a := range r.SourceAddrs {
		if err := checkSourceAddress(a); err != nil {
			return errorf("%w: source-address %q: %w", ErrBadCert, a, err)
		}
	}
	return nil
}

// checkSourceAddress: an address or a CIDR block without host bits.
func checkSourceAddress(a string) error {
	if !strings.Contains(a, "/") {
		if _, err := netip.ParseAddr(a); err != nil {
			return newError("not an IP address or CIDR block")
		}
		return nil
	}
	p, err := netip.ParsePrefix(a)
	if err != nil {
		return newError("not an IP address or CIDR block")
	}
	if p.Masked() != p {
		return errorf("host bits set; did you mean %s", p.Masked())
	}
	return nil
}

func (r CertRequest) permissions() ssh.Permissions {
	p := ssh.Permissions{CriticalOptions: map[string]string{}, Extensions: map[string]string{}}
	if r.Host {
		return p
	}
	if r.ForceCommand != "" {
		p.CriticalOptions["force-command"] = r.ForceCommand
	}
	if len(r.SourceAddrs) > 0 {
		p.CriticalOptions["source-address"] = strings.Join(r.SourceAddrs, ",")
	}
	if !r.NoExtensions {
		for _, e := range DefaultUserExtensions {
			p.Extensions[e] = ""
		}
	}
	return p
}

// MarshalCert is the -cert.pub line: "TYPE-cert-v01@openssh.com BASE64 COMMENT\n".
func MarshalCert(cert *ssh.Certificate, comment string) ([]byte, error) {
	return MarshalPublic(cert, comment)
}

// uniqueStrings is list with each value once, in first-seen order (a
// principal given twice is listed once, as sshd would match it).
func uniqueStrings(list []string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
