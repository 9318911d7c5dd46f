package main

// The progress bar of batch (README "Many at once: batch": on a terminal, on stderr; nothing
// when stderr is not a terminal). This file is the only one that knows
// the library that draws it (github.com/schollz/progressbar/v3), so it can
// be swapped.

import (
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far a batch is. Its callers serialise the calls.
type progress interface {
	add(n int)
	// above prints lines (errors, warnings) above the bar: fn writes them
	// while the bar is cleared.
	above(fn func())
	// finish removes the bar, leaving the line free for the summary.
	finish()
}

// newProgress is a bar of n entries when stderr is a terminal (and
// --quiet is not given), else nothing.
func newProgress(e *Env, n int) progress {
	f, ok := e.Stderr.(*os.File)
	if !ok || e.Globals.Quiet || n == 0 || !term.IsTerminal(int(f.Fd())) {
		return noProgress{}
	}
	return &bar{b: progressbar.NewOptions(n,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("keywright: batch"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionEnableColorCodes(false),
	)}
}

type bar struct{ b *progressbar.ProgressBar }

func (p *bar) add(n int) { _ = p.b.Add(n) }

func (p *bar) above(fn func()) {
	_ = p.b.Clear()
	fn()
	_ = p.b.RenderBlank()
}

func (p *bar) finish() { _ = p.b.Finish() }

// noProgress draws nothing.
type noProgress struct{}

func (noProgress) add(int)         {}
func (noProgress) above(fn func()) { fn() }
func (noProgress) finish()         {}
