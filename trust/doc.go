// Package trust puts a root CA into the trust stores this machine's
// programs read, takes it out again, and says whether it is there (README
// "Trusting the local CA"):
//
//   - the system store: on Linux an anchors directory and its update
//     command (Debian/Ubuntu /usr/local/share/ca-certificates and
//     update-ca-certificates, Fedora/RHEL /etc/pki/ca-trust/source/anchors
//     and update-ca-trust, openSUSE, Arch), on macOS the System keychain, on
//     Windows the current user's root store;
//   - every NSS database Firefox and Chrome read (~/.pki/nssdb and the
//     Firefox profiles), through certutil;
//   - Java's cacerts, through keytool.
//
// The per-platform work on macOS (the keychain and its trust settings) and
// Windows (the crypt32 root store) is github.com/smallstep/truststore's. The
// rest is here, because truststore cannot do it the way keywright must: it
// runs sudo itself (a password prompt inside a command) where keywright says
// which command to run as root; it writes Linux anchors with tee (not
// atomic, mode by umask); it names entries by common name and serial, with
// a package-wide prefix; it finds NSS databases from the process's HOME once
// at start-up; and it has no way to ask whether a certificate is installed.
//
// Every entry is named after keywright, the CA's NAME and a short
// fingerprint (Root.Label, Root.Nickname), so the roots of two stores never
// collide and uninstall removes exactly what install added: a file, NSS
// nickname or Java alias of that name holding that certificate, nothing
// else. Installing twice changes nothing. A store that cannot be changed
// (not root, a tool missing, a database with a password) is reported with
// the reason and the command that would do it; nothing is left half done in
// it (a written anchor whose update command fails is removed again).
//
// The package never prints or prompts: each operation returns one Result
// per store. It writes only outside keywright stores (anchor files, through
// a synced temporary file and rename, mode 0644); each change of one trust
// store runs as one store.Critical section, so an interrupt lets it finish.
package trust
