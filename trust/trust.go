package trust

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"path/filepath"
	"strings"

	"github.com/keywright/keywright/store"
)

// Errors of NewRoot: the certificate is not one a trust store should hold.
var (
	ErrLeaf         = newError("a leaf certificate, not a root CA")
	ErrIntermediate = newError("an intermediate CA, not a root")
)

// Root is the certificate to trust and the names keywright gives it.
type Root struct {
	Name string            // the CA's NAME in its store
	Path string            // its certificate file, for the commands a Result suggests
	Cert *x509.Certificate // a self-signed CA certificate
}

// NewRoot checks that cert is a root CA (CA:TRUE, self-signed) and returns
// it as a Root; a leaf is ErrLeaf, an intermediate ErrIntermediate.
func NewRoot(name, path string, cert *x509.Certificate) (Root, error) {
	switch {
	case !cert.IsCA || !cert.BasicConstraintsValid:
		return Root{}, errorf("%s is %w (%s, CA:FALSE)", path, ErrLeaf, subjectOf(cert))
	case !bytes.Equal(cert.RawIssuer, cert.RawSubject) || cert.CheckSignatureFrom(cert) != nil:
		return Root{}, errorf("%s is %w (issued by %q)", path, ErrIntermediate, cert.Issuer.String())
	}
	return Root{Name: name, Path: path, Cert: cert}, nil
}

func subjectOf(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	if s := c.Subject.String(); s != "" {
		return s
	}
	return "no subject"
}

// Fingerprint is the SHA-256 of the certificate's DER, in lower-case hex.
func (r Root) Fingerprint() string {
	sum := sha256.Sum256(r.Cert.Raw)
	return hex.EncodeToString(sum[:])
}

// shortFP is the part of the fingerprint the names carry.
func (r Root) shortFP() string { return r.Fingerprint()[:12] }

// Label names the root's file in a system anchors directory and its Java
// alias: "keywright-NAME-FINGERPRINT12" (lower case, as keytool keeps
// aliases).
func (r Root) Label() string {
	return strings.ToLower("keywright-" + safeName(r.Name) + "-" + r.shortFP())
}

// Nickname is the root's nickname in an NSS database:
// "keywright NAME FINGERPRINT12".
func (r Root) Nickname() string { return "keywright " + safeName(r.Name) + " " + r.shortFP() }

// PEM is the certificate alone, PEM-encoded.
func (r Root) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Cert.Raw})
}

// holds reports whether PEM data has the root among its certificates.
func (r Root) holds(data []byte) bool {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return false
		}
		if block.Type == "CERTIFICATE" && bytes.Equal(block.Bytes, r.Cert.Raw) {
			return true
		}
	}
}

// safeName keeps a CA name usable in a file name and a nickname: anything
// but letters, digits, '.', '_' and '-' becomes '-'.
func safeName(name string) string {
	name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "ca"
	}
	return string(b)
}

// The kinds of trust store.
const (
	System = "system"
	NSS    = "nss"
	Java   = "java"
)

// Kinds are the kinds of trust store, in the order they are done.
var Kinds = []string{System, NSS, Java}

// State is what happened to one store, or what it holds.
type State string

// States: Install gives Installed, Unchanged, Failed or Absent; Uninstall
// Removed, Unchanged, Failed or Absent; Status Installed, NotInstalled,
// Unknown or Absent.
const (
	Installed    State = "installed"
	Removed      State = "removed"
	Unchanged    State = "unchanged"
	NotInstalled State = "not_installed"
	Failed       State = "failed"
	Unknown      State = "unknown"
	Absent       State = "absent"
)

// Result is one trust store's outcome.
type Result struct {
	Store    string // System, NSS or Java
	Location string // the file, database or keystore ("" when Absent)
	State    State
	Detail   string // what was so, or why it could not be done
	Fix      string // a command line that does what could not be done here
}

// Problem reports whether the result leaves the store other than asked:
// Failed, or (for Status) NotInstalled or Unknown.
func (r Result) Problem() bool {
	return r.State == Failed || r.State == NotInstalled || r.State == Unknown
}

// Options say where to look.
type Options struct {
	// Home is the user's home directory, where the NSS databases are.
	Home string
	// Getenv reads the environment (JAVA_HOME); nil means none.
	Getenv func(string) string
	// Kinds limits the stores to these kinds (System, NSS, Java); empty
	// means all.
	Kinds []string
}

// target is one trust store.
type target interface {
	status(ctx context.Context, r Root) Result
	install(ctx context.Context, r Root) Result
	uninstall(ctx context.Context, r Root) Result
}

// Status says, store by store, whether r is trusted there.
func Status(ctx context.Context, r Root, o Options) []Result {
	var out []Result
	for _, t := range targets(o) {
		out = append(out, t.status(ctx, r))
	}
	return out
}

// Install adds r to every store that does not trust it yet.
func Install(ctx context.Context, r Root, o Options) []Result {
	return change(ctx, r, o, target.install, Installed)
}

// Uninstall removes what Install added for r from every store.
func Uninstall(ctx context.Context, r Root, o Options) []Result {
	return change(ctx, r, o, target.uninstall, Removed)
}

var errNoChange = newError("no change")

// change runs op on each store as one critical section (an interrupt waits
// for the store in hand, and stops before the next).
func change(ctx context.Context, r Root, o Options, op func(target, context.Context, Root) Result, changed State) []Result {
	var out []Result
	for _, t := range targets(o) {
		var res Result
		err := store.Critical(func() error {
			if res = op(t, ctx, r); res.State != changed {
				return errNoChange
			}
			return nil
		})
		if errors.Is(err, store.ErrInterrupted) {
			res = Result{Store: storeOf(t), State: Failed, Detail: "interrupted before this store"}
		}
		out = append(out, res)
	}
	return out
}

// targets are the stores o selects, in the order of Kinds.
func targets(o Options) []target {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	var out []target
	for _, k := range Kinds {
		if !selected(o.Kinds, k) {
			continue
		}
		switch k {
		case System:
			out = append(out, systemStore())
		case NSS:
			out = append(out, nssStores(o.Home)...)
		case Java:
			out = append(out, javaStore(o.Getenv))
		}
	}
	return out
}

func selected(kinds []string, k string) bool {
	if len(kinds) == 0 {
		return true
	}
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// absent is a store this machine does not have.
type absent struct{ kind, why string }

func (a absent) result() Result                         { return Result{Store: a.kind, State: Absent, Detail: a.why} }
func (a absent) status(context.Context, Root) Result    { return a.result() }
func (a absent) install(context.Context, Root) Result   { return a.result() }
func (a absent) uninstall(context.Context, Root) Result { return a.result() }

// storeOf is the kind of t, for a result t did not make.
func storeOf(t target) string {
	switch v := t.(type) {
	case absent:
		return v.kind
	case *nssDB:
		return NSS
	case *javaKeystore:
		return Java
	}
	return System
}
