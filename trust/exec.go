package trust

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/keywright/keywright/internal/fault"
)

// toolTimeout bounds one run of an outside tool (certutil, keytool,
// update-ca-certificates with its hooks).
const toolTimeout = 3 * time.Minute

// cmdResult is what a tool said.
type cmdResult struct {
	stdout, stderr []byte
	code           int // exit code; -1 when it did not run or was killed
}

// run runs name with args, stdin as its input (none when nil) and extra
// environment variables, and waits at most toolTimeout. err is set when
// the tool could not be started, was stopped, or exited non-zero.
func run(ctx context.Context, stdin []byte, env []string, name string, args ...string) (cmdResult, error) {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	err := cmd.Run()
	res := cmdResult{stdout: out.Bytes(), stderr: errOut.Bytes(), code: -1}
	if cmd.ProcessState != nil {
		res.code = cmd.ProcessState.ExitCode()
	}
	if err != nil {
		return res, &toolError{tool: filepath.Base(name), err: err, said: lastLine(errOut.Bytes(), out.Bytes())}
	}
	return res, nil
}

// toolError is a tool that failed, with the last thing it said.
type toolError struct {
	tool string
	err  error
	said string
}

func (e *toolError) Error() string {
	var ee *exec.ExitError
	what := fault.Text(e.err)
	if errors.As(e.err, &ee) && ee.Exited() {
		what = fmt.Sprintf("exit %d", ee.ExitCode())
	}
	if e.said != "" {
		return fmt.Sprintf("%s failed (%s): %s", e.tool, what, e.said)
	}
	return fmt.Sprintf("%s failed (%s)", e.tool, what)
}

func (e *toolError) Unwrap() error { return e.err }

// lastLine is the last non-empty line of the first output that has one.
func lastLine(outputs ...[]byte) string {
	for _, o := range outputs {
		lines := strings.Split(strings.TrimSpace(string(o)), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if l := strings.TrimSpace(lines[i]); l != "" {
				return l
			}
		}
	}
	return ""
}

// lookPath finds a tool on PATH, then in the sbin directories a user's
// PATH often lacks (update-ca-certificates lives in /usr/sbin).
func lookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if runtime.GOOS == "windows" {
		return ""
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commandLine is argv as one shell command line.
func commandLine(argv ...string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// sudo is argv run as root, as a command line; on Windows (no sudo) argv
// as it is.
func sudo(argv ...string) string {
	if runtime.GOOS == "windows" {
		return commandLine(argv...)
	}
	return commandLine(append([]string{"sudo"}, argv...)...)
}

// absPath makes a path in a suggested command work from any directory.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// installPackage is the command that installs a package, by the package
// manager this machine has (pkgs: apt, dnf, zypper, pacman, brew names).
func installPackage(apt, dnf, zypper, pacman, brew string) string {
	if runtime.GOOS == "darwin" {
		return "brew install " + brew
	}
	for _, pm := range []struct{ tool, cmd, pkg string }{
		{"apt-get", "sudo apt-get install -y", apt},
		{"dnf", "sudo dnf install -y", dnf},
		{"yum", "sudo yum install -y", dnf},
		{"zypper", "sudo zypper install -y", zypper},
		{"pacman", "sudo pacman -S --noconfirm", pacman},
	} {
		if lookPath(pm.tool) != "" {
			return pm.cmd + " " + pm.pkg
		}
	}
	return fmt.Sprintf("install %s (Debian/Ubuntu), %s (Fedora/RHEL) or %s (openSUSE)", apt, dnf, zypper)
}
