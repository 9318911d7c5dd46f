//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	expect "github.com/Netflix/go-expect"
	"github.com/creack/pty"
	"github.com/hinshun/vt10x"

	"github.com/keywright/keywright/internal/interop"
)

// Completion in a real interactive bash on a pseudo-terminal: the script
// `keywright completion bash` prints is sourced, and TAB completes a
// command, a flag, a NAME of the store and its CAs. bash runs keywright
// from PATH, where TestMain (testscript) put this test binary as keywright.
func TestCompletionInBash(t *testing.T) {
	bash := interop.Tool(t, "bash")
	dir := t.TempDir()
	store := filepath.Join(dir, "pki")
	for _, args := range [][]string{
		{"issue", "web", "--san", "web.example.test"}, // and the local-ca
		{"ca", "init", "second", "--no-passphrase"},
		{"key", "new", "other"},
	} {
		if code, _, stderr := runInProcess(t, "", nil, append([]string{"--store", store, "-q"}, args...)...); code != 0 {
			t.Fatalf("%s: %s", strings.Join(args, " "), stderr)
		}
	}
	s := startBash(t, bash, dir)
	s.typeLine("source <(keywright completion bash)\r", "PROMPT> ")
	s.typeLine("bind 'set show-all-if-ambiguous on'\r", "PROMPT> ")

	s.complete("keywright ca s\t", "PROMPT> keywright ca sign ")
	s.complete("keywright key new x --ty\t", "PROMPT> keywright key new x --type ")
	s.complete("keywright verify w\t", "PROMPT> keywright verify web ")
	s.complete("keywright key pub o\t", "PROMPT> keywright key pub other ")
	s.complete("keywright --store pki ca crl s\t", "PROMPT> keywright --store pki ca crl second ")
	// Two candidates: show-all-if-ambiguous lists them at the first TAB.
	s.list("keywright key new x --type e\t", "ecdsa", "ed25519")
	s.list("keywright issue x --ca \t", "local-ca", "second") // not web, the certificate, nor other, the key
}

// The zsh script, in an interactive zsh with its completion system.
func TestCompletionInZsh(t *testing.T) {
	zsh := interop.Tool(t, "zsh")
	dir := t.TempDir()
	if code, _, stderr := runInProcess(t, "", nil, "--store", filepath.Join(dir, "pki"), "-q", "issue", "web", "--san", "web.example.test"); code != 0 {
		t.Fatal(stderr)
	}
	s := startShell(t, dir, zsh, "-f", "-i")
	s.typeLine("autoload -U compinit && compinit -u && source <(keywright completion zsh)\r", "PROMPT> ")
	s.complete("keywright ca s\t", "PROMPT> keywright ca sign ")
	s.complete("keywright key new x --ty\t", "PROMPT> keywright key new x --type ")
	s.complete("keywright verify w\t", "PROMPT> keywright verify web ")
}

// startBash runs an interactive bash, without start-up files.
func startBash(t *testing.T, bash, dir string) *ptySession {
	return startShell(t, dir, bash, "--norc", "--noprofile", "-i")
}

// startShell runs an interactive shell (argv) on a new pty 200 columns
// wide, in dir, with the prompt "PROMPT> " and no start-up files.
func startShell(t *testing.T, dir string, argv ...string) *ptySession {
	t.Helper()
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Fatalf("pty.Open: %v", err)
	}
	if err := pty.Setsize(ptm, &pty.Winsize{Rows: 40, Cols: 200}); err != nil {
		t.Fatal(err)
	}
	s := &ptySession{t: t, raw: &lockedBuffer{}, stdout: &lockedBuffer{}, done: make(chan int, 1)}
	s.screen = vt10x.New(vt10x.WithWriter(pts), vt10x.WithSize(200, 40))
	s.c, err = expect.NewConsole(expect.WithStdin(ptm), expect.WithStdout(s.screen, s.raw),
		expect.WithCloser(ptm, pts), expect.WithDefaultTimeout(15*time.Second))
	if err != nil {
		t.Fatalf("NewConsole: %v", err)
	}
	t.Cleanup(func() { s.c.Close() })
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "COMP_LINE", "COMP_POINT", "KEYWRIGHT_STORE", "BASH_ENV", "ENV", "PROMPT_COMMAND", "HOME", "TERM", "PS1", "INPUTRC", "HISTFILE":
			continue
		}
		env = append(env, kv)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(env, "HOME="+dir, "TERM=vt100", "PS1=PROMPT> ", "INPUTRC=/dev/null", "HISTFILE=/dev/null")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.c.Tty(), s.c.Tty(), s.c.Tty()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("bash: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	s.waitCursorLine("PROMPT> ")
	return s
}

// typeLine types keys, then waits for the cursor line to read want.
func (s *ptySession) typeLine(keys, want string) {
	s.t.Helper()
	if _, err := s.c.Send(keys); err != nil {
		s.t.Fatalf("send %q: %v", keys, err)
	}
	s.waitCursorLine(want)
}

// complete types a command line ending in TAB and waits for the line the
// completion makes; then it clears the screen.
func (s *ptySession) complete(keys, want string) {
	s.t.Helper()
	s.typeLine(keys, want)
	s.clearScreen()
}

// list types a command line ending in TAB, waits for the candidates listed
// on one line and checks that nothing else is listed; then it clears the
// screen.
func (s *ptySession) list(keys string, candidates ...string) {
	s.t.Helper()
	if _, err := s.c.Send(keys); err != nil {
		s.t.Fatalf("send %q: %v", keys, err)
	}
	s.waitFor(func() bool { return s.screenHasLine(candidates...) }, "a line listing "+strings.Join(candidates, " "))
	for _, line := range strings.Split(s.screenText(), "\n") {
		if !strings.HasPrefix(line, "PROMPT>") && strings.TrimSpace(line) != "" &&
			strings.Join(strings.Fields(line), " ") != strings.Join(candidates, " ") {
			s.t.Fatalf("TAB listed %q, want %q; screen:\n%s", line, candidates, s.screenText())
		}
	}
	s.clearScreen()
}

// clearScreen empties the command line (Ctrl-U) and the screen (Ctrl-L),
// and waits for the screen to show the prompt alone.
func (s *ptySession) clearScreen() {
	s.t.Helper()
	if _, err := s.c.Send("\x15\x0c"); err != nil {
		s.t.Fatal(err)
	}
	s.waitFor(func() bool { return strings.TrimSpace(s.screenText()) == "PROMPT>" && s.cursorLine() == "PROMPT> " }, "a clear screen")
}

// waitFor reads the terminal until done reports true.
func (s *ptySession) waitFor(done func() bool, what string) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			s.t.Fatalf("waiting for %s; screen:\n%s", what, s.screenText())
		}
		s.c.Expect(expect.EOF, expect.WithTimeout(20*time.Millisecond))
	}
}

// waitCursorLine waits until the screen's line up to the cursor is want
// (the cursor right after it).
func (s *ptySession) waitCursorLine(want string) {
	s.t.Helper()
	s.waitFor(func() bool { return s.cursorLine() == want }, "the cursor line "+strconv.Quote(want))
}

// cursorLine is the text of the cursor's line before the cursor.
func (s *ptySession) cursorLine() string {
	s.screen.Lock()
	defer s.screen.Unlock()
	cur := s.screen.Cursor()
	var b strings.Builder
	for x := 0; x < cur.X; x++ {
		b.WriteRune(s.screen.Cell(x, cur.Y).Char)
	}
	return b.String()
}

// screenHasLine reports whether one line of the screen holds every word.
func (s *ptySession) screenHasLine(words ...string) bool {
	for _, line := range strings.Split(s.screenText(), "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(" "+line+" ", " "+w+" ")
		}
		if all {
			return true
		}
	}
	return false
}
