package main

import "github.com/keywright/keywright/internal/fault"

// errorf and newError make the command line's own errors: no package name,
// and the keywright errors inside read as their Text (internal/fault), so
// a message shows no package name however deep the cause.
func errorf(format string, args ...any) error { return fault.Errorf("", format, args...) }

func newError(text string) error { return fault.New("", text) }
