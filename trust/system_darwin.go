package trust

import (
	"context"
	"crypto/sha1" //nolint:gosec // the keychain names certificates by their SHA-1 hash
	"encoding/hex"
	"strings"

	"github.com/keywright/keywright/internal/fault"
	"github.com/smallstep/truststore"
)

// systemKeychain is where truststore installs a root on macOS, for every
// user of the machine.
const systemKeychain = "/Library/Keychains/System.keychain"

// darwinSystem is the System keychain: truststore adds the certificate and
// its trust settings (as root); keywright asks the keychain whether it is
// there and deletes exactly that certificate on uninstall.
type darwinSystem struct{}

func systemStore() target { return darwinSystem{} }

func (darwinSystem) result(st State, detail string) Result {
	return Result{Store: System, Location: systemKeychain, State: st, Detail: detail}
}

func sha1Hex(r Root) string {
	sum := sha1.Sum(r.Cert.Raw) //nolint:gosec // an identifier, as the keychain uses it
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// present asks the keychain for certificates with the root's common name
// and looks for its SHA-1 hash among them.
func (darwinSystem) present(ctx context.Context, r Root) (bool, error) {
	args := []string{"find-certificate", "-a", "-Z"}
	if cn := r.Cert.Subject.CommonName; cn != "" {
		args = append(args, "-c", cn)
	}
	out, err := run(ctx, nil, nil, "/usr/bin/security", append(args, systemKeychain)...)
	if err != nil && out.code != 44 { // 44: no such certificate
		return false, err
	}
	return strings.Contains(strings.ToUpper(string(out.stdout)), sha1Hex(r)), nil
}

func (s darwinSystem) status(ctx context.Context, r Root) Result {
	ok, err := s.present(ctx, r)
	switch {
	case err != nil:
		return s.result(Unknown, fault.Text(err))
	case ok:
		return s.result(Installed, "")
	}
	return s.result(NotInstalled, "")
}

func (s darwinSystem) install(ctx context.Context, r Root) Result {
	ok, err := s.present(ctx, r)
	switch {
	case err != nil:
		return s.result(Failed, fault.Text(err))
	case ok:
		return s.result(Unchanged, "already in the System keychain")
	case !isRoot():
		res := s.result(Failed, "needs root to change the System keychain")
		res.Fix = sudo("security", "add-trusted-cert", "-d", "-r", "trustRoot", "-k", systemKeychain, absPath(r.Path))
		return res
	}
	if err := truststore.Install(r.Cert); err != nil {
		return s.result(Failed, "truststore: "+fault.Text(err))
	}
	return s.result(Installed, "")
}

func (s darwinSystem) uninstall(ctx context.Context, r Root) Result {
	ok, err := s.present(ctx, r)
	switch {
	case err != nil:
		return s.result(Failed, fault.Text(err))
	case !ok:
		return s.result(Unchanged, "not installed")
	case !isRoot():
		res := s.result(Failed, "needs root to change the System keychain")
		res.Fix = sudo("security", "delete-certificate", "-Z", sha1Hex(r), "-t", systemKeychain)
		return res
	}
	// truststore takes back the trust settings; the certificate itself
	// stays in the keychain unless deleted by its hash.
	if err := truststore.Uninstall(r.Cert); err != nil {
		return s.result(Failed, "truststore: "+fault.Text(err))
	}
	if _, err := run(ctx, nil, nil, "/usr/bin/security", "delete-certificate", "-Z", sha1Hex(r), systemKeychain); err != nil {
		return s.result(Failed, fault.Text(err))
	}
	return s.result(Removed, "")
}
