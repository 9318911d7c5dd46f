package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/keywright/keywright/store"
)

// Env is everything a command reaches outside itself: the streams, the
// environment, the clock and the terminal. main fills it from the process;
// tests fill it with buffers, fixed times and pseudo-terminals.
type Env struct {
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

func processEnv() *Env {
	interactive := term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stderr.Fd()))
	return &Env{
		Ctx:      context.Background(),
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

// stdinLines reads stdin line by line, shared by every passphrase source
// "stdin" in one command (the first is the first line, and so on, as openssl).
func (e *Env) stdinLines() *bufio.Reader {
	if e.lines == nil {
		e.lines = bufio.NewReader(e.Stdin)
	}
	return e.lines
}
