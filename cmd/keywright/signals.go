package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/keywright/keywright/store"
)

// exitOnSignal handles SIGINT and SIGTERM (README "Output and exit codes"):
// an interrupted command either completes or leaves nothing. The handler
// waits for the store's critical sections in flight (store.Interrupt); if
// none has completed, nothing of the command is on disk and it exits 130
// (143 for SIGTERM) at once. Otherwise the command runs to its end and its
// own result decides the exit code. (Prompts read Ctrl-C as a key in raw
// mode and return ErrAborted instead.)
func exitOnSignal() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		store.Interrupt()
		if store.Committed() {
			return
		}
		os.Stderr.WriteString("keywright: interrupted\n")
		if sig == syscall.SIGTERM {
			os.Exit(128 + int(syscall.SIGTERM))
		}
		os.Exit(exitInterrupted)
	}()
}
