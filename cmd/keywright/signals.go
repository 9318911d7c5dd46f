package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/keywright/keywright/store"
)

// exitOnSignal makes SIGINT exit 130 (and SIGTERM 143) only after the store
// writes in flight have finished, so an interrupt leaves either the old files
// or the complete new group, never part of it. (Prompts read Ctrl-C as a key
// in raw mode and return ErrAborted instead.)
func exitOnSignal() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		store.Quiesce()
		os.Stderr.WriteString("keywright: interrupted\n")
		if sig == syscall.SIGTERM {
			os.Exit(128 + int(syscall.SIGTERM))
		}
		os.Exit(exitInterrupted)
	}()
}
