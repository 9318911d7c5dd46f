package main

// The README's walkthroughs are run as written, and every keywright command
// line it shows parses (README "Walkthroughs", "From other tools",
// "Development"). readme_env_test.go provides what some walkthroughs need
// (root, a trust store, sshd servers); readme_prompt_test.go types the csr
// transcript into the prompt.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keywright/keywright"
	"github.com/keywright/keywright/internal/interop"
)

// readmeBlock is a fenced code block of the README: ```LANG KEY=VALUE...
type readmeBlock struct {
	lang string
	attr map[string]string
	line int // the README line of its first content line
	body []string
}

func readmeBlocks(readme string) []readmeBlock {
	var blocks []readmeBlock
	var cur *readmeBlock
	for i, l := range strings.Split(readme, "\n") {
		switch {
		case !strings.HasPrefix(l, "```"):
			if cur != nil {
				cur.body = append(cur.body, l)
			}
		case cur != nil:
			blocks, cur = append(blocks, *cur), nil
		default:
			cur = &readmeBlock{attr: map[string]string{}, line: i + 2}
			for j, w := range strings.Fields(strings.TrimPrefix(l, "```")) {
				if k, v, ok := strings.Cut(w, "="); ok {
					cur.attr[k] = v
				} else if j == 0 {
					cur.lang = w
				}
			}
		}
	}
	return blocks
}

// readmeBlocksBy maps the value of attribute key to its block, failing on
// a name used twice.
func readmeBlocksBy(t *testing.T, key string) map[string]readmeBlock {
	t.Helper()
	named := map[string]readmeBlock{}
	for _, b := range readmeBlocks(keywright.README) {
		if name, ok := b.attr[key]; ok {
			if _, dup := named[name]; dup {
				t.Fatalf("README.md:%d: a second block %s=%s", b.line-1, key, name)
			}
			named[name] = b
		}
	}
	return named
}

// shellCommand is one command of a sh block.
type shellCommand struct {
	line int    // the README line it starts on
	text string // as written, with its continuation lines and here-document
	want int    // its exit code: N of a "# exit N" comment, else 0
}

var (
	exitComment = regexp.MustCompile(`\s#\s*exit (\d+)\b`)
	hereDoc     = regexp.MustCompile(`<<-?\s*['"]?(\w+)['"]?`)
)

// shellCommands splits a block into commands: a line, the lines a trailing
// backslash continues it with, and the here-document it opens. Blank and
// comment lines are skipped.
func shellCommands(b readmeBlock) []shellCommand {
	var cmds []shellCommand
	for i := 0; i < len(b.body); i++ {
		if l := strings.TrimSpace(b.body[i]); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c := shellCommand{line: b.line + i}
		lines := []string{b.body[i]}
		for strings.HasSuffix(lines[len(lines)-1], `\`) && i+1 < len(b.body) {
			i++
			lines = append(lines, b.body[i])
		}
		head := strings.Join(lines, "\n")
		if m := exitComment.FindStringSubmatch(head); m != nil {
			c.want, _ = strconv.Atoi(m[1])
		}
		if m := hereDoc.FindStringSubmatch(head); m != nil {
			for i+1 < len(b.body) {
				i++
				lines = append(lines, b.body[i])
				if strings.TrimSpace(b.body[i]) == m[1] {
					break
				}
			}
		}
		c.text = strings.Join(lines, "\n")
		cmds = append(cmds, c)
	}
	return cmds
}

// walkScript runs cmds in order with sh, each echoed first, and stops at
// the first whose exit code is not the README's. As root, sudo is the
// command itself (a root shell may have no sudo).
func walkScript(cmds []shellCommand, subst *strings.Replacer) string {
	var b strings.Builder
	b.WriteString("if [ \"$(id -u)\" = 0 ]; then sudo() { \"$@\"; }; fi\n")
	for _, c := range cmds {
		first, _, _ := strings.Cut(c.text, "\n")
		fmt.Fprintf(&b, "printf '%%s\\n' %s\n%s\n", shellQuote("$ "+first), subst.Replace(c.text))
		fmt.Fprintf(&b, "kw_rc=$?; if [ $kw_rc -ne %d ]; then echo \"README.md:%d: exit $kw_rc, want %d\"; exit 99; fi\n",
			c.want, c.line, c.want)
	}
	return b.String()
}

// walkRun is where, as whom and with what a walkthrough runs.
type walkRun struct {
	dir   string            // the working directory, empty at first
	env   map[string]string // the whole environment
	cred  *syscall.Credential
	subst *strings.Replacer  // applied to the commands (a free port for a fixed one)
	after func(t *testing.T) // checks, when every command ran
}

// newWalkRun is an empty directory and home, with this test binary as
// keywright on PATH and no configuration file, agent or proxy.
func newWalkRun(t *testing.T) *walkRun {
	bin, err := exec.LookPath("keywright") // testscript.Main put it on PATH
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	w := &walkRun{dir: filepath.Join(base, "work"), subst: strings.NewReplacer()}
	for _, d := range []string{w.dir, filepath.Join(base, "home")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	w.setEnv(filepath.Join(base, "home"), filepath.Dir(bin)+":"+os.Getenv("PATH"))
	return w
}

func (w *walkRun) setEnv(home, path string) {
	w.env = map[string]string{
		"HOME": home, "PATH": path, "XDG_CONFIG_HOME": filepath.Join(home, ".config"), "LC_ALL": "C", "NO_COLOR": "1",
		// PBKDF2 rounds of the keys written, as the testscript scripts use
		// (reading a key costs a fraction of a second at the default).
		"KEYWRIGHT_TEST_ITERATIONS": "2048",
	}
}

// run runs the commands in a new session (no terminal to ask on); what
// they leave running in the background is killed when the shell ends.
func (w *walkRun) run(t *testing.T, cmds []shellCommand) string {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "output") // a file: a background process holds no pipe open
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", walkScript(cmds, w.subst))
	cmd.Dir, cmd.Stdout, cmd.Stderr = w.dir, out, out
	for k, v := range w.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: w.cred}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	log := readFile(t, out.Name())
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	return log
}

// Every walkthrough block runs; a command exits as its comment says. One
// that needs what this machine cannot give (readme_env_test.go) runs up to
// there, names the commands it did not run, and skips (fails under
// KEYWRIGHT_REQUIRE_INTEROP=1).
func TestReadmeWalkthroughs(t *testing.T) {
	blocks := readmeBlocksBy(t, "walkthrough")
	for name := range walkNeeds {
		if _, ok := blocks[name]; !ok {
			t.Errorf("README has no walkthrough %q, which readme_env_test.go prepares", name)
		}
	}
	if len(blocks) < 7 {
		t.Errorf("README has %d walkthroughs, want 7 or more", len(blocks))
	}
	for name, b := range blocks {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runWalkthrough(t, name, b)
		})
	}
}

func runWalkthrough(t *testing.T, name string, b readmeBlock) {
	if b.lang != "sh" {
		t.Fatalf("README.md:%d: walkthrough %s is not a sh block", b.line-1, name)
	}
	cmds := shellCommands(b)
	w, need := newWalkRun(t), walkNeeds[name]
	why := ""
	if need.prepare != nil {
		why = need.prepare(t, w)
	}
	if why == "" {
		t.Log(w.run(t, cmds))
		if w.after != nil {
			w.after(t)
		}
		return
	}
	n := len(cmds)
	for i, c := range cmds {
		if need.from.MatchString(c.text) {
			n = i
			break
		}
	}
	if n == len(cmds) {
		t.Fatalf("no command of walkthrough %s matches %s", name, need.from)
	}
	t.Log(w.run(t, cmds[:n]))
	var rest []string
	for _, c := range cmds[n:] {
		first, _, _ := strings.Cut(c.text, "\n")
		rest = append(rest, fmt.Sprintf("  README.md:%d: %s", c.line, first))
	}
	msg := fmt.Sprintf("walkthrough %s: ran %d of %d commands; the rest, not run, %s:\n%s",
		name, n, len(cmds), why, strings.Join(rest, "\n"))
	if interop.Required() {
		t.Fatal(msg + "\nand KEYWRIGHT_REQUIRE_INTEROP=1")
	}
	t.Skip(msg)
}

// keywrightCommands are the keywright command lines in a shell command:
// after &&, |, ;, $( or <(, up to a comment; sudo's and go run's too.
func keywrightCommands(text string) []string {
	if hereDoc.MatchString(text) {
		text, _, _ = strings.Cut(text, "\n")
	}
	text = strings.NewReplacer("\\\n", " ", `sudo "$(command -v keywright)"`, "keywright",
		"go run ./cmd/keywright", "keywright").Replace(text)
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, " #")
		for _, seg := range regexp.MustCompile(`&&|\|\||\||;|\$\(|<\(`).Split(line, -1) {
			seg = strings.TrimRight(strings.TrimSpace(seg), ")")
			if strings.HasPrefix(seg, "keywright ") {
				out = append(out, seg)
			}
		}
	}
	return out
}

// Every keywright command line of the README's sh blocks, and of the table
// "From other tools", parses: commands, flags, enum values, arguments.
func TestReadmeCommandsParse(t *testing.T) {
	check := func(where, line string) {
		if code, _, errOut := parseExample(t, exampleArgs(t, line)); code != 0 {
			t.Errorf("%s: %s: %s", where, line, errOut)
		}
	}
	n := 0
	for _, b := range readmeBlocks(keywright.README) {
		if b.lang != "sh" {
			continue
		}
		for _, c := range shellCommands(b) {
			for _, line := range keywrightCommands(c.text) {
				n++
				check(fmt.Sprintf("README.md:%d", c.line), line)
			}
		}
	}
	table, err := readmeSection(keywright.README, "From other tools")
	if err != nil {
		t.Fatal(err)
	}
	m := 0
	for _, span := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(table, -1) {
		if strings.HasPrefix(span[1], "keywright ") {
			m++
			check(`README "From other tools"`, span[1])
		}
	}
	if n < 100 || m < 45 {
		t.Errorf("checked %d command lines in sh blocks and %d in the table: the extraction is broken", n, m)
	}
}

// The splitting the two tests above rely on.
func TestReadmeShellSplitting(t *testing.T) {
	b := readmeBlock{line: 10, body: []string{
		"# a comment", "keywright a \\", "  --b c   # exit 3: why", "",
		"cat > f <<'EOF'", "x: 1 # exit 4", "EOF", "x && keywright d | keywright e; source <(keywright f)  # exit 2",
	}}
	cmds := shellCommands(b)
	if len(cmds) != 3 || cmds[0].line != 11 || cmds[0].want != 3 || cmds[1].want != 0 ||
		cmds[1].text != "cat > f <<'EOF'\nx: 1 # exit 4\nEOF" || cmds[2].line != 17 || cmds[2].want != 2 {
		t.Fatalf("%+v", cmds)
	}
	if got := strings.Join(keywrightCommands(cmds[0].text), "|"); got != "keywright a    --b c" {
		t.Errorf("%q", got)
	}
	if got := strings.Join(keywrightCommands(cmds[2].text), "|"); got != "keywright d|keywright e|keywright f" {
		t.Errorf("%q", got)
	}
}
