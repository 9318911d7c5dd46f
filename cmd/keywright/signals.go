package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/keywright/keywright/store"
)

// handleSignals installs the SIGINT and SIGTERM handler (main calls it
// before anything else) and returns the command's context, cancelled when a
// signal stops the process. An interrupted command either completes or
// leaves nothing (README "Output and exit codes"):
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
		store.Interrupt()
		if store.Committed() {
			reportFinishing(os.Stderr)
			sig = <-sigs
			store.Halt()
		}
		cancel()
		reportError(os.Stderr, errInterrupted)
		os.Exit(signalExitCode(sig))
	}()
	return ctx
}

// signalExitCode is 128 + the signal number: 130 for SIGINT, 143 for SIGTERM.
func signalExitCode(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return 128 + int(syscall.SIGTERM)
	}
	return exitInterrupted
}
