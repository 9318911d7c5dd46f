package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/keywright/keywright/store"
)

// handleSignals installs the SIGINT and SIGTERM handler (main has it called
// once the arguments are parsed, before the command) and returns the
// command's context, cancelled when a signal stops the process. An
// interrupted command either completes or leaves nothing (README "Output and
// exit codes"):
//
//   - The first signal waits for the store's critical sections in flight
//     (store.Interrupt). If none has completed, nothing of the command is on
//     disk and none can start any more: it prints "interrupted" and exits 130
//     (143 for SIGTERM) at once.
//   - Otherwise the command has written part of its work and finishing it is
//     the only way to leave no half-done state: it runs to its end and its
//     own result decides the exit code (0 when it completes).
//   - A second signal stops it at once (store.Halt: after the section in
//     flight, if any), whatever it has done.
//
// Prompts read Ctrl-C as a key in raw mode and return ErrAborted instead.
func handleSignals() context.Context {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		sig := <-sigs
		signals.begin(sig)
		store.Interrupt()
		if store.Committed() || finishInFlight.Load() {
			signals.goOn()
			if say, _ := onFinishing.Load().(func(io.Writer)); say != nil {
				say(os.Stderr)
			} else {
				reportFinishing(os.Stderr)
			}
			sig = <-sigs
			signals.stop()
			store.Halt()
		} else {
			signals.stop()
		}
		cancel()
		if end, _ := onStopping.Load().(func()); end != nil {
			end()
		}
		reportInterrupted(os.Stderr)
		os.Exit(signalExitCode(sig))
	}()
	return ctx
}

// finishInFlight, set by a command that works on independent items with
// nothing to undo (ssh install on many hosts), makes the first signal let
// the items in flight finish even when nothing was written: the command
// starts no new one (store.Interrupted) and returns errInterrupted.
var finishInFlight atomic.Bool

// onFinishing, when a command stores a func(io.Writer) in it, replaces
// reportFinishing: batch, interrupted, finishes the entries in flight and
// starts no new one, instead of finishing the whole command.
var onFinishing atomic.Value

// onStopping, when a command stores a func() in it, is called before the
// handler stops the process: batch ends its --json document there, so
// what it printed is whole.
var onStopping atomic.Value

// keepGoingOnBrokenPipe makes a write to a closed pipe on stdout or stderr
// fail with EPIPE instead of killing the process (Go's default for fd 1
// and 2): batch, whose --json report is written as it works, finishes its
// work when the reader of its output has gone.
func keepGoingOnBrokenPipe() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}

// signals is what the handler has decided, for settle.
var signals = signalState{decided: make(chan struct{})}

type signalState struct {
	mu       sync.Mutex
	handling bool          // a signal arrived
	sig      os.Signal     // the first one
	decided  chan struct{} // closed once the first signal's outcome is known
	stopping bool          // the handler is stopping the process
	closed   bool
}

func (s *signalState) begin(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handling, s.sig = true, sig
}

func (s *signalState) goOn() { s.decide(false) }

func (s *signalState) stop() { s.decide(true) }

func (s *signalState) decide(stop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping = stop
	if !s.closed {
		s.closed = true
		close(s.decided)
	}
}

// signalled reports whether a signal is being handled: an interrupted
// command then leaves its report and exit to the handler (reportError).
func (s *signalState) signalled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handling
}

func (s *signalState) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// settle is the exit code of a command that returned code. When it stopped
// because of a signal (store.ErrInterrupted once the handler has shut the
// gate), the handler reports it and exits with the signal's code (143 for
// SIGTERM), so main waits for that instead of racing it.
func settle(code int) int {
	if code != exitInterrupted || !signals.signalled() {
		return code
	}
	<-signals.decided
	if signals.isStopping() {
		select {} // the handler is printing "interrupted" and exiting
	}
	reportInterrupted(os.Stderr) // reportError left it to the handler
	signals.mu.Lock()
	defer signals.mu.Unlock()
	return signalExitCode(signals.sig) // 143 for SIGTERM
}

// signalExitCode is 128 + the signal number: 130 for SIGINT, 143 for SIGTERM.
func signalExitCode(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return 128 + int(syscall.SIGTERM)
	}
	return exitInterrupted
}
