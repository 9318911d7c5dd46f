package trust

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/keywright/keywright/internal/fault"
)

// nssDB is one NSS database, changed through certutil: Chrome's and
// Chromium's ~/.pki/nssdb and each Firefox profile.
type nssDB struct {
	certutil string // "" when certutil is not installed
	db       string // "sql:DIR" (cert9.db) or "dbm:DIR" (cert8.db)
}

// nssTrust are the trust flags keywright gives a root: a CA trusted to
// issue TLS server certificates (as mkcert).
const nssTrust = "C,,"

// nssStores are the NSS databases under home, or one absent store.
func nssStores(home string) []target {
	if runtime.GOOS == "windows" {
		return []target{absent{NSS, "certutil does not exist on Windows; Firefox there reads the system store"}}
	}
	dbs := nssDatabases(home)
	if len(dbs) == 0 {
		return []target{absent{NSS, "no NSS database under " + home + ": no Firefox profile, no .pki/nssdb"}}
	}
	certutil := certutilPath()
	var out []target
	for _, db := range dbs {
		out = append(out, &nssDB{certutil: certutil, db: db})
	}
	return out
}

// nssDatabases finds the databases Chrome and Firefox read under home.
func nssDatabases(home string) []string {
	if home == "" {
		return nil
	}
	patterns := []string{".pki/nssdb", "snap/chromium/current/.pki/nssdb", ".mozilla/firefox/*",
		"snap/firefox/common/.mozilla/firefox/*", ".var/app/org.mozilla.firefox/.mozilla/firefox/*"}
	if runtime.GOOS == "darwin" {
		patterns = []string{"Library/Application Support/Firefox/Profiles/*"}
	}
	var dbs []string
	for _, p := range patterns {
		dirs, _ := filepath.Glob(filepath.Join(home, p))
		for _, dir := range dirs {
			switch {
			case isFile(filepath.Join(dir, "cert9.db")):
				dbs = append(dbs, "sql:"+dir)
			case isFile(filepath.Join(dir, "cert8.db")):
				dbs = append(dbs, "dbm:"+dir)
			}
		}
	}
	return dbs
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func certutilPath() string {
	if p := lookPath("certutil"); p != "" {
		return p
	}
	if runtime.GOOS == "darwin" { // Homebrew's nss does not link certutil
		for _, p := range []string{"/opt/homebrew/opt/nss/bin/certutil", "/usr/local/opt/nss/bin/certutil"} {
			if isFile(p) {
				return p
			}
		}
	}
	return ""
}

func (d *nssDB) result(st State, detail string) Result {
	res := Result{Store: NSS, Location: d.db, State: st, Detail: detail}
	if d.certutil == "" {
		res.Detail = "certutil is not installed"
		res.Fix = installPackage("libnss3-tools", "nss-tools", "mozilla-nss-tools", "nss", "nss")
	}
	return res
}

// entry is what the database holds under keywright's nickname for a root.
type entry struct {
	found bool   // the nickname is there
	holds bool   // with this root's certificate
	flags string // its trust flags ("C,,")
}

func (e entry) trusted() bool {
	ssl, _, _ := strings.Cut(e.flags, ",")
	return e.holds && strings.Contains(ssl, "C")
}

// lookup finds the root's nickname in the list of the database and, when
// there, the certificates it names.
func (d *nssDB) lookup(ctx context.Context, r Root) (entry, error) {
	var e entry
	out, err := run(ctx, nil, nil, d.certutil, "-L", "-d", d.db)
	if err != nil {
		return e, err
	}
	sc := bufio.NewScanner(bytes.NewReader(out.stdout))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t")
		i := strings.LastIndexAny(line, " \t")
		if i > 0 && strings.TrimSpace(line[:i]) == r.Nickname() {
			e.found, e.flags = true, line[i+1:]
		}
	}
	if !e.found {
		return e, nil
	}
	out, err = run(ctx, nil, nil, d.certutil, "-L", "-d", d.db, "-n", r.Nickname(), "-a")
	if err != nil {
		return e, err
	}
	e.holds = r.holds(out.stdout)
	return e, nil
}

func (d *nssDB) status(ctx context.Context, r Root) Result {
	if d.certutil == "" {
		return d.result(Unknown, "")
	}
	e, err := d.lookup(ctx, r)
	switch {
	case err != nil:
		return d.result(Unknown, fault.Text(err))
	case e.trusted():
		return d.result(Installed, "")
	case e.holds:
		return d.result(NotInstalled, "there, but not trusted for TLS (trust flags "+e.flags+")")
	case e.found:
		return d.result(NotInstalled, "the nickname "+r.Nickname()+" holds another certificate")
	}
	return d.result(NotInstalled, "")
}

func (d *nssDB) install(ctx context.Context, r Root) Result {
	if d.certutil == "" {
		return d.result(Failed, "")
	}
	e, err := d.lookup(ctx, r)
	switch {
	case err != nil:
		return d.result(Failed, fault.Text(err))
	case e.trusted():
		return d.result(Unchanged, "already trusted")
	case e.found && !e.holds:
		return d.result(Failed, "the nickname "+r.Nickname()+" holds another certificate; left as it is")
	case e.found: // there, but its trust was taken away: give it back
		_, err = run(ctx, nil, nil, d.certutil, "-M", "-d", d.db, "-n", r.Nickname(), "-t", nssTrust, "-f", os.DevNull)
	default:
		_, err = run(ctx, r.PEM(), nil, d.certutil, "-A", "-d", d.db, "-n", r.Nickname(), "-t", nssTrust, "-f", os.DevNull)
	}
	if err == nil {
		if e, err = d.lookup(ctx, r); err == nil && !e.trusted() {
			return d.result(Failed, "certutil added nothing under "+r.Nickname()+" (is the root in the database under another nickname?)")
		}
	}
	if err != nil {
		return d.failedAdd(ctx, r, e.found, err)
	}
	return d.result(Installed, "")
}

// failedAdd takes back a certificate certutil added untrusted (it does
// that when the database has a password) and says what to do.
func (d *nssDB) failedAdd(ctx context.Context, r Root, wasThere bool, err error) Result {
	if !wasThere {
		if now, lerr := d.lookup(context.WithoutCancel(ctx), r); lerr == nil && now.found && now.holds {
			_, _ = run(context.WithoutCancel(ctx), nil, nil, d.certutil, "-D", "-d", d.db, "-n", r.Nickname())
		}
	}
	res := d.result(Failed, fault.Text(err))
	if msg := fault.Text(err); strings.Contains(msg, "SEC_ERROR_BAD_PASSWORD") || strings.Contains(msg, "authenticate") {
		res.Detail = "the database has a password (Firefox's primary password), which keywright does not ask for"
		res.Fix = commandLine(d.certutil, "-A", "-d", d.db, "-n", r.Nickname(), "-t", nssTrust, "-i", absPath(r.Path))
	}
	return res
}

func (d *nssDB) uninstall(ctx context.Context, r Root) Result {
	if d.certutil == "" {
		return d.result(Failed, "")
	}
	e, err := d.lookup(ctx, r)
	switch {
	case err != nil:
		return d.result(Failed, fault.Text(err))
	case !e.found:
		return d.result(Unchanged, "not installed")
	case !e.holds:
		return d.result(Failed, "the nickname "+r.Nickname()+" holds another certificate; left as it is")
	}
	if _, err := run(ctx, nil, nil, d.certutil, "-D", "-d", d.db, "-n", r.Nickname()); err != nil {
		return d.result(Failed, fault.Text(err))
	}
	return d.result(Removed, "")
}
