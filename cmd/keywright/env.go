package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"golang.org/x/term"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/store"
)

// Env is everything a command reaches outside itself: the streams, the
// environment, the clock and the terminal. main fills it from the process;
// tests fill it with buffers, fixed times and pseudo-terminals.
type Env struct {
	// Ctx is cancelled when a signal stops the command (signals.go).
	Ctx    context.Context
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time
	// Terminal is true when stdin and stderr are both terminals, so a
	// person can answer prompts.
	Terminal bool
	// NewPrompter makes the Prompter for a terminal session; nil means
	// nobody can be asked.
	NewPrompter func(noColor bool) Prompter

	UI       *UI
	Globals  *Globals
	prompter Prompter
	lines    *bufio.Reader // stdin read line by line for passphrases
	result   *report       // what a writing command did, for --json
	// storeFrom says where the store directory came from, for messages.
	storeFrom string
	// config is the configuration file, if there is one (config.go).
	config     *config
	configRead bool
}

// Result is the report of what the command wrote (files, serials, ...),
// printed as the JSON document when --json is given and the command prints
// no other. Commands fill it as they go; without --json it is not printed
// (the same facts are in the stderr messages).
func (e *Env) Result() *report {
	if e.result == nil {
		e.result = &report{}
	}
	return e.result
}

// processEnv is the Env of the process; ctx is the one handleSignals gave.
func processEnv(ctx context.Context) *Env {
	interactive := term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stderr.Fd()))
	return &Env{
		Ctx:      ctx,
		Stdin:    os.Stdin,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Getenv:   os.Getenv,
		Now:      time.Now,
		Terminal: interactive,
		NewPrompter: func(noColor bool) Prompter {
			return newSurveyPrompter(os.Stdin, os.Stderr, noColor)
		},
	}
}

// Prompter returns the Prompter to ask with: a real one only on a terminal
// and without --no-input.
func (e *Env) Prompter() Prompter {
	if e.prompter == nil {
		if e.Terminal && !e.Globals.NoInput && e.NewPrompter != nil {
			e.prompter = e.NewPrompter(e.noColor())
		} else {
			e.prompter = noPrompter{}
		}
	}
	return e.prompter
}

// CanPrompt reports whether questions can be asked.
func (e *Env) CanPrompt() bool {
	_, no := e.Prompter().(noPrompter)
	return !no
}

func (e *Env) noColor() bool {
	return e.Getenv("NO_COLOR") != "" || e.Getenv("TERM") == "dumb"
}

// Store is the store the global flags select.
func (e *Env) Store() *store.Store { return store.New(e.Globals.Store) }

// begin runs once before every command (cli.go): it notes where the store
// directory came from and refuses a store group or others can write, or
// warns, once, when they can read it. A store that does not exist yet is
// fine here: writing commands create it, reading ones call ReadStore.
func (e *Env) begin(ctx *kong.Context) error {
	e.storeFrom = e.storeSource(ctx)
	if cmd := ctx.Command(); strings.HasPrefix(cmd, "completion ") || cmd == "man" {
		return nil // they print text and never touch a store
	}
	if e.Globals.Store == "" {
		return usagef("the store directory is empty (--store or KEYWRIGHT_STORE)")
	}
	if strings.HasPrefix(ctx.Command(), "store check") {
		return nil // reports (and with --fix repairs) the modes refused here
	}
	warnings, err := e.Store().Check(false)
	if err != nil {
		return e.storeError(err)
	}
	for _, w := range warnings {
		e.UI.Warnf("%s", w)
	}
	e.settle(ctx.Args)
	return nil
}

// settle puts in place what a killed keywright recorded but did not place,
// before the command reads anything: in the store, and in the directory of
// each file the arguments name (issue ./out/web recorded its files in the
// store's record). It never waits: while a writer holds a directory, or on
// a read-only one, the command reads what is there, and a later command
// finishes it. On a clean directory it is one stat.
func (e *Env) settle(args []string) {
	ca.RecordFilesOutside(e.Globals.Store)
	dirs := []string{e.Globals.Store}
	for _, a := range args {
		if a != "-" && !strings.HasPrefix(a, "-") && store.IsPath(a) {
			dirs = append(dirs, filepath.Dir(a))
		}
	}
	for _, err := range store.Settle(dirs...) {
		e.UI.Warnf("%v", err)
	}
}

// ReadStore is the store for a command that only reads one (list, verify,
// inspect NAME, the ca commands but init): it must exist and be a
// directory, and is never created by a read.
func (e *Env) ReadStore() (*store.Store, error) {
	s := e.Store()
	if _, err := s.Check(true); err != nil {
		return nil, e.storeError(err)
	}
	return s, nil
}

// storeError adds where the store directory came from.
func (e *Env) storeError(err error) error {
	if e.storeFrom == "" {
		return err
	}
	return errorf("%w (%s)", err, e.storeFrom)
}

// storeSource: --store on the command line, else KEYWRIGHT_STORE (which
// kong reads from the process environment), else the configuration file,
// else the default ./pki.
func (e *Env) storeSource(ctx *kong.Context) string {
	for _, p := range ctx.Path {
		if p.Flag != nil && p.Flag.Name == "store" && !p.Resolved {
			return "from --store"
		}
	}
	if _, ok := os.LookupEnv("KEYWRIGHT_STORE"); ok {
		return "from KEYWRIGHT_STORE"
	}
	if _, ok := e.fromConfig("store"); ok {
		return "from " + e.configWhere("store")
	}
	return "the default store; none given with --store, KEYWRIGHT_STORE or the configuration file"
}

// stdinLines reads stdin line by line, shared by every passphrase source
// "stdin" in one command (the first is the first line, and so on, as openssl).
func (e *Env) stdinLines() *bufio.Reader {
	if e.lines == nil {
		e.lines = bufio.NewReader(e.Stdin)
	}
	return e.lines
}
