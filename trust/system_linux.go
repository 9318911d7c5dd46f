package trust

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keywright/keywright/internal/fault"
)

// layout is one Linux family's system trust store: the directory of local
// anchors, the extension its update command reads, the command after an
// anchor is added and after one is removed, and the bundle it writes (what
// OpenSSL, curl and Go read). Looked for in truststore's order.
type layout struct {
	dir, ext        string
	update, removed []string
	bundle          string
	pkg             string // the package of the update command
}

var linuxLayouts = []layout{
	{"/etc/pki/ca-trust/source/anchors", ".pem", []string{"update-ca-trust", "extract"}, []string{"update-ca-trust", "extract"},
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "ca-certificates"},
	// Debian's update-ca-certificates leaves the links (and Java's copy) of
	// a removed local anchor unless --fresh, as its manual page says.
	{"/usr/local/share/ca-certificates", ".crt", []string{"update-ca-certificates"}, []string{"update-ca-certificates", "--fresh"},
		"/etc/ssl/certs/ca-certificates.crt", "ca-certificates"},
	{"/usr/share/pki/trust/anchors", ".pem", []string{"update-ca-certificates"}, []string{"update-ca-certificates"},
		"/var/lib/ca-certificates/ca-bundle.pem", "ca-certificates"},
	{"/etc/ca-certificates/trust-source/anchors", ".crt", []string{"trust", "extract-compat"}, []string{"trust", "extract-compat"},
		"/etc/ca-certificates/extracted/tls-ca-bundle.pem", "p11-kit"},
}

// linuxSystem is the system store of a Linux machine.
type linuxSystem struct{ l layout }

func systemStore() target {
	var dirs []string
	for _, l := range linuxLayouts {
		if fi, err := os.Stat(l.dir); err == nil && fi.IsDir() {
			return &linuxSystem{l}
		}
		dirs = append(dirs, l.dir)
	}
	return absent{System, "no system trust store keywright knows (none of " + strings.Join(dirs, ", ") + ")"}
}

func (s *linuxSystem) file(r Root) string { return filepath.Join(s.l.dir, r.Label()+s.l.ext) }

// probe says whether keywright's anchor file holds r and whether the
// bundle the update command writes does.
func (s *linuxSystem) probe(r Root) (inFile, inBundle bool, err error) {
	data, err := readIfExists(s.file(r))
	if err != nil {
		return false, false, errorf("%w", err)
	}
	bundle, err := readIfExists(s.l.bundle)
	if err != nil {
		return false, false, errorf("%w", err)
	}
	return r.holds(data), r.holds(bundle), nil
}

func (s *linuxSystem) result(r Root, st State, detail string) Result {
	return Result{Store: System, Location: s.file(r), State: st, Detail: detail}
}

func (s *linuxSystem) status(_ context.Context, r Root) Result {
	inFile, inBundle, err := s.probe(r)
	switch {
	case err != nil:
		return s.result(r, Unknown, fault.Text(err))
	case inBundle && !inFile:
		return s.result(r, Installed, "trusted through "+s.l.bundle+", from a file keywright did not write")
	case inBundle:
		return s.result(r, Installed, "")
	case inFile:
		res := s.result(r, NotInstalled, fmt.Sprintf("the file is there, but %s does not hold it yet", s.l.bundle))
		res.Fix = sudo(s.l.update...)
		return res
	}
	return s.result(r, NotInstalled, "")
}

// cannot fills res with why this process cannot change the store and the
// commands that would (asRoot, then then), and reports whether it did.
func (s *linuxSystem) cannot(res *Result, asRoot string, then []string) bool {
	switch {
	case !writable(s.l.dir) && !isRoot():
		res.State, res.Detail = Failed, "needs root: "+s.l.dir+" is writable by root only"
		res.Fix = asRoot + " && " + sudo(then...)
	case !writable(s.l.dir):
		res.State, res.Detail = Failed, s.l.dir+" is not writable (a read-only file system?)"
	case lookPath(s.l.update[0]) == "":
		res.State, res.Detail = Failed, s.l.update[0]+" is not installed"
		res.Fix = installPackage(s.l.pkg, s.l.pkg, s.l.pkg, s.l.pkg, "")
	default:
		return false
	}
	return true
}

func (s *linuxSystem) install(ctx context.Context, r Root) Result {
	inFile, inBundle, err := s.probe(r)
	res := s.result(r, Installed, "")
	switch {
	case err != nil:
		res.State, res.Detail = Failed, fault.Text(err)
		return res
	case inBundle && inFile:
		res.State, res.Detail = Unchanged, "already trusted"
		return res
	case inBundle:
		res.State, res.Detail = Unchanged, "already trusted through "+s.l.bundle+", from a file keywright did not write"
		return res
	case s.cannot(&res, sudo("install", "-m", "644", absPath(r.Path), s.file(r)), s.l.update):
		return res
	}
	if !inFile {
		if err := writeAnchor(s.file(r), r.PEM()); err != nil {
			res.State, res.Detail = Failed, fault.Text(err)
			return res
		}
	}
	err = s.run(ctx, s.l.update)
	if err == nil {
		if _, inBundle, err = s.probe(r); err == nil && !inBundle {
			err = errorf("%s does not hold the root after %s", s.l.bundle, s.l.update[0])
		}
	}
	if err != nil {
		if !inFile { // take back what this install wrote
			_ = removeAnchor(s.file(r))
			_ = s.run(context.WithoutCancel(ctx), s.l.removed)
		}
		res.State, res.Detail = Failed, fault.Text(err)
	}
	return res
}

func (s *linuxSystem) uninstall(ctx context.Context, r Root) Result {
	res := s.result(r, Removed, "")
	data, err := readIfExists(s.file(r))
	switch {
	case err != nil:
		res.State, res.Detail = Failed, fault.Text(err)
		return res
	case data == nil:
		res.State, res.Detail = Unchanged, "not installed"
		if _, inBundle, _ := s.probe(r); inBundle {
			res.Detail = "keywright did not install it; it is still trusted through " + s.l.bundle + ", from another file"
		}
		return res
	case !r.holds(data):
		res.State, res.Detail = Failed, "the file holds another certificate; left as it is"
		return res
	case s.cannot(&res, sudo("rm", "-f", s.file(r)), s.l.removed):
		return res
	}
	if err := removeAnchor(s.file(r)); err != nil {
		res.State, res.Detail = Failed, fault.Text(err)
		return res
	}
	if err := s.run(ctx, s.l.removed); err != nil {
		_ = writeAnchor(s.file(r), data) // put it back: nothing half removed
		_ = s.run(context.WithoutCancel(ctx), s.l.update)
		res.State, res.Detail = Failed, fault.Text(err)
		return res
	}
	if _, inBundle, _ := s.probe(r); inBundle {
		res.Detail = "still trusted through " + s.l.bundle + ", from another file"
	}
	return res
}

// run runs one of the layout's update commands.
func (s *linuxSystem) run(ctx context.Context, argv []string) error {
	_, err := run(ctx, nil, nil, lookPath(argv[0]), argv[1:]...)
	return err
}
