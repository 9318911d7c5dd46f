package trust

import (
	"context"
	"unsafe"

	"github.com/keywright/keywright/internal/fault"
	"github.com/smallstep/truststore"
	"golang.org/x/sys/windows"
)

// windowsSystem is the current user's root store ("ROOT"): truststore adds
// the certificate (Windows asks the user to confirm); keywright finds and
// deletes exactly that certificate.
type windowsSystem struct{}

func systemStore() target { return windowsSystem{} }

const userRootStore = `CurrentUser\Root`

func (windowsSystem) result(st State, detail string) Result {
	return Result{Store: System, Location: userRootStore, State: st, Detail: detail}
}

// find opens the user's root store and looks for the root's exact
// certificate; done closes what find opened. found is nil when absent.
func find(r Root) (found *windows.CertContext, done func(), err error) {
	name, _ := windows.UTF16PtrFromString("ROOT")
	st, err := windows.CertOpenSystemStore(0, name)
	if err != nil {
		return nil, nil, errorf("opening the user's root store: %w", err)
	}
	enc := uint32(windows.X509_ASN_ENCODING | windows.PKCS_7_ASN_ENCODING)
	mine, err := windows.CertCreateCertificateContext(enc, &r.Cert.Raw[0], uint32(len(r.Cert.Raw)))
	if err != nil {
		_ = windows.CertCloseStore(st, 0)
		return nil, nil, errorf("%w", err)
	}
	found, _ = windows.CertFindCertificateInStore(st, enc, 0, windows.CERT_FIND_EXISTING, unsafe.Pointer(mine), nil)
	return found, func() {
		_ = windows.CertFreeCertificateContext(mine)
		_ = windows.CertCloseStore(st, 0)
	}, nil
}

func present(r Root) (bool, error) {
	found, done, err := find(r)
	if err != nil {
		return false, err
	}
	defer done()
	if found != nil {
		_ = windows.CertFreeCertificateContext(found)
	}
	return found != nil, nil
}

func (s windowsSystem) status(_ context.Context, r Root) Result {
	ok, err := present(r)
	switch {
	case err != nil:
		return s.result(Unknown, fault.Text(err))
	case ok:
		return s.result(Installed, "")
	}
	return s.result(NotInstalled, "")
}

func (s windowsSystem) install(_ context.Context, r Root) Result {
	ok, err := present(r)
	switch {
	case err != nil:
		return s.result(Failed, fault.Text(err))
	case ok:
		return s.result(Unchanged, "already in the user's root store")
	}
	if err := truststore.Install(r.Cert); err != nil {
		return s.result(Failed, "truststore: "+fault.Text(err))
	}
	return s.result(Installed, "")
}

func (s windowsSystem) uninstall(_ context.Context, r Root) Result {
	found, done, err := find(r)
	if err != nil {
		return s.result(Failed, fault.Text(err))
	}
	defer done()
	if found == nil {
		return s.result(Unchanged, "not installed")
	}
	if err := windows.CertDeleteCertificateFromStore(found); err != nil { // frees found
		return s.result(Failed, "deleting the certificate: "+fault.Text(err))
	}
	return s.result(Removed, "")
}
