//go:build linux

package main

// A pseudo-terminal harness for the prompts: keywright runs in-process with
// the slave side of a pty as its terminal (stdin and stderr), a go-expect
// console types on the master side, and a vt10x terminal emulator draws the
// screen and answers survey's cursor-position queries (ESC[6n), as survey's
// own tests do. testscript's ttyin cannot do this.

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	expect "github.com/Netflix/go-expect"
	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
	"golang.org/x/sys/unix"
)

// Keys as a terminal sends them.
const (
	keyEnter = "\r"
	keyCtrlC = "\x03"
	keyDown  = "\x1b[B"
)

// ptySession is one keywright run on a pseudo-terminal.
type ptySession struct {
	t      *testing.T
	c      *expect.Console
	screen vt10x.Terminal
	raw    *lockedBuffer // every byte keywright wrote to the terminal
	stdout *lockedBuffer
	done   chan int
	pos    int // how far expect has matched in raw
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startPTY runs `keywright args...` in-process on a new pty; env holds the
// environment variables it sees (NO_COLOR is set).
func startPTY(t *testing.T, env map[string]string, args ...string) *ptySession {
	t.Helper()
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Fatalf("pty.Open: %v", err)
	}
	s := &ptySession{t: t, raw: &lockedBuffer{}, stdout: &lockedBuffer{}, done: make(chan int, 1)}
	s.screen = vt10x.New(vt10x.WithWriter(pts))
	s.c, err = expect.NewConsole(
		expect.WithStdin(ptm),
		expect.WithStdout(s.screen, s.raw),
		expect.WithCloser(ptm, pts),
		expect.WithDefaultTimeout(15*time.Second),
	)
	if err != nil {
		t.Fatalf("NewConsole: %v", err)
	}
	t.Cleanup(func() { s.c.Close() })
	tty := s.c.Tty()
	e := &Env{
		Ctx:    context.Background(),
		Stdin:  tty,
		Stdout: s.stdout,
		Stderr: tty,
		Getenv: func(k string) string {
			if k == "NO_COLOR" {
				return "1"
			}
			return env[k]
		},
		Now:      time.Now,
		Terminal: true,
		NewPrompter: func(noColor bool) Prompter {
			return newSurveyPrompter(tty, tty, noColor)
		},
	}
	go func() { s.done <- run(args, e) }()
	return s
}

// expect waits for want on the terminal output, after what earlier calls
// matched. The console reads output only inside Expect, and the emulator
// answers survey's cursor-position queries only when it sees them: so keys
// sent right after a prompt's text are in the input before that answer,
// where survey keeps them (keys arriving just after the answer, in the same
// read, would be dropped by survey's cursor code).
func (s *ptySession) expect(want string) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := s.raw.String()
		if i := strings.Index(out[s.pos:], want); i >= 0 {
			s.pos += i + len(want)
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			s.t.Fatalf("waiting for %q: not seen\noutput after the last match: %q\nscreen:\n%s", want, out[s.pos:], s.screenText())
		}
		s.c.Expect(expect.String(want), expect.WithTimeout(left))
	}
}

// waitRaw blocks until the prompt has switched the terminal to raw mode.
// survey draws a prompt before it does, and keys sent in that window go
// through the cooked line discipline (a Ctrl-C becomes SIGINT for nobody).
func (s *ptySession) waitRaw() {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tio, err := unix.IoctlGetTermios(int(s.c.Tty().Fd()), unix.TCGETS)
		if err != nil {
			s.t.Fatalf("TCGETS: %v", err)
		}
		if tio.Lflag&unix.ICANON == 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.t.Fatalf("the terminal never switched to raw mode; screen:\n%s", s.screenText())
}

// answer waits for the prompt text, then types keys once the terminal is raw.
func (s *ptySession) answer(prompt, keys string) {
	s.t.Helper()
	s.expect(prompt)
	s.send(keys)
}

func (s *ptySession) send(keys string) {
	s.t.Helper()
	s.waitRaw()
	if _, err := s.c.Send(keys); err != nil {
		s.t.Fatalf("send %q: %v", keys, err)
	}
}

// wait returns keywright's exit code, reading its output meanwhile (so
// the emulator answers any question it asks the terminal).
func (s *ptySession) wait() int {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-s.done:
			return code
		default:
		}
		s.c.Expect(expect.EOF, expect.WithTimeout(20*time.Millisecond))
	}
	s.t.Fatalf("keywright did not finish; screen:\n%s", s.screenText())
	return -1
}

func (s *ptySession) screenText() string {
	return expect.StripTrailingEmptyLines(s.screen.String())
}
