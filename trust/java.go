package trust

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/keywright/keywright/internal/fault"
)

// javaKeystore is a Java runtime's cacerts, changed through keytool.
type javaKeystore struct {
	keytool  string
	keystore string
}

// javaStorePass is the password of every JDK's cacerts ("changeit"); it
// reaches keytool in its environment, not in argv.
const (
	javaStorePass    = "changeit"
	javaStorePassVar = "KEYWRIGHT_JAVA_STOREPASS"
)

// javaStore finds keytool ($JAVA_HOME/bin, else PATH) and the cacerts of
// $JAVA_HOME, else of the JDK keytool belongs to.
func javaStore(getenv func(string) string) target {
	exe := "keytool"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	home, keytool := getenv("JAVA_HOME"), ""
	if p := filepath.Join(home, "bin", exe); home != "" && isFile(p) {
		keytool = p
	} else if keytool = lookPath("keytool"); keytool != "" && home == "" {
		if real, err := filepath.EvalSymlinks(keytool); err == nil {
			home = filepath.Dir(filepath.Dir(real))
		}
	}
	if keytool == "" {
		return absent{Java, "no Java: JAVA_HOME is not set and keytool is not on PATH"}
	}
	for _, ks := range []string{filepath.Join(home, "lib", "security", "cacerts"), filepath.Join(home, "jre", "lib", "security", "cacerts")} {
		if isFile(ks) {
			return &javaKeystore{keytool: keytool, keystore: ks}
		}
	}
	return absent{Java, "no cacerts under " + home}
}

func (j *javaKeystore) result(st State, detail string) Result {
	return Result{Store: Java, Location: j.keystore, State: st, Detail: detail}
}

// keytoolRun runs keytool on the keystore, in English (its output is parsed).
func (j *javaKeystore) keytoolRun(ctx context.Context, stdin []byte, args ...string) (cmdResult, error) {
	// English, for the output parsed here; a small JVM that starts fast.
	args = append([]string{"-J-Duser.language=en", "-J-Duser.country=US", "-J-XX:+UseSerialGC", "-J-XX:TieredStopAtLevel=1"}, args...)
	args = append(args, "-keystore", j.keystore, "-storepass:env", javaStorePassVar)
	return run(ctx, stdin, []string{javaStorePassVar + "=" + javaStorePass}, j.keytool, args...)
}

// entries maps each certificate's SHA-256 fingerprint (as keytool prints
// it) to its alias, and each alias to its fingerprint.
func (j *javaKeystore) entries(ctx context.Context) (byFP, byAlias map[string]string, err error) {
	out, err := j.keytoolRun(ctx, nil, "-list")
	if err != nil {
		return nil, nil, err
	}
	byFP, byAlias = map[string]string{}, map[string]string{}
	alias := ""
	sc := bufio.NewScanner(bytes.NewReader(out.stdout))
	for sc.Scan() {
		line := sc.Text()
		if fp, ok := strings.CutPrefix(line, "Certificate fingerprint (SHA-256): "); ok && alias != "" {
			byFP[strings.TrimSpace(fp)], byAlias[alias] = alias, strings.TrimSpace(fp)
			continue
		}
		if strings.Contains(line, "Entry,") {
			alias, _, _ = strings.Cut(line, ",")
		}
	}
	return byFP, byAlias, nil
}

// keytoolFP is the root's SHA-256 fingerprint as keytool prints it.
func keytoolFP(r Root) string {
	sum := sha256.Sum256(r.Cert.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

func (j *javaKeystore) status(ctx context.Context, r Root) Result {
	byFP, _, err := j.entries(ctx)
	switch alias, ok := byFP[keytoolFP(r)]; {
	case err != nil:
		return j.result(Unknown, fault.Text(err))
	case ok && alias != r.Label():
		return j.result(Installed, "as alias "+alias)
	case ok:
		return j.result(Installed, "")
	}
	return j.result(NotInstalled, "")
}

// cannot fills res when this process cannot write the keystore, with the
// keytool commands (run as root) that would do the change.
func (j *javaKeystore) cannot(res *Result, cmds ...[]string) bool {
	if writable(j.keystore) {
		return false
	}
	res.State, res.Detail = Failed, j.keystore+" is not writable"
	if !isRoot() {
		res.Detail = "needs root: " + j.keystore + " is writable by root only"
		var fix []string
		for _, c := range cmds {
			fix = append(fix, sudo(append(append([]string{j.keytool}, c...), "-keystore", j.keystore, "-storepass", javaStorePass)...))
		}
		res.Fix = strings.Join(fix, " && ")
	}
	return true
}

func (j *javaKeystore) install(ctx context.Context, r Root) Result {
	byFP, byAlias, err := j.entries(ctx)
	res := j.result(Installed, "")
	switch alias, ok := byFP[keytoolFP(r)]; {
	case err != nil:
		res.State, res.Detail = Failed, fault.Text(err)
	case ok && alias != r.Label():
		res.State, res.Detail = Unchanged, "already trusted, as alias "+alias
	case ok:
		res.State, res.Detail = Unchanged, "already trusted"
	case byAlias[r.Label()] != "":
		res.State, res.Detail = Failed, "the alias "+r.Label()+" holds another certificate; left as it is"
	case j.cannot(&res, []string{"-importcert", "-noprompt", "-alias", r.Label(), "-file", absPath(r.Path)}):
	default:
		if _, err := j.keytoolRun(ctx, r.PEM(), "-importcert", "-noprompt", "-alias", r.Label()); err != nil {
			res.State, res.Detail = Failed, fault.Text(err)
		}
	}
	return res
}

// debianAlias is the alias Debian's ca-certificates-java gives the root
// when update-ca-certificates adds keywright's anchor file. Its
// update-ca-certificates --fresh can leave it behind once the anchor is
// gone; then it is keywright's to remove.
func debianAlias(r Root) string { return "debian:" + r.Label() + ".pem" }

// staleDebianAlias reports whether the keystore keeps debianAlias for the
// root although the system store no longer has keywright's anchor.
func staleDebianAlias(r Root, byAlias map[string]string) bool {
	_, err := os.Lstat(filepath.Join("/etc/ssl/certs", r.Label()+".pem"))
	return byAlias[debianAlias(r)] == keytoolFP(r) && errors.Is(err, fs.ErrNotExist)
}

func (j *javaKeystore) uninstall(ctx context.Context, r Root) Result {
	byFP, byAlias, err := j.entries(ctx)
	if err != nil {
		return j.result(Failed, fault.Text(err))
	}
	var aliases []string
	switch fp, ok := byAlias[r.Label()]; {
	case ok && fp != keytoolFP(r):
		return j.result(Failed, "the alias "+r.Label()+" holds another certificate; left as it is")
	case ok:
		aliases = append(aliases, r.Label())
	}
	if staleDebianAlias(r, byAlias) {
		aliases = append(aliases, debianAlias(r))
	}
	if len(aliases) == 0 {
		switch alias := byFP[keytoolFP(r)]; {
		case alias == debianAlias(r):
			return j.result(Unchanged, "trusted through the system store, as alias "+alias)
		case alias != "":
			return j.result(Unchanged, "keywright did not install it; it is trusted as alias "+alias)
		}
		return j.result(Unchanged, "not installed")
	}
	res := j.result(Removed, "")
	var cmds [][]string
	for _, a := range aliases {
		cmds = append(cmds, []string{"-delete", "-alias", a})
	}
	if j.cannot(&res, cmds...) {
		return res
	}
	for _, c := range cmds {
		if _, err := j.keytoolRun(ctx, nil, c...); err != nil {
			return j.result(Failed, fault.Text(err))
		}
	}
	return res
}
