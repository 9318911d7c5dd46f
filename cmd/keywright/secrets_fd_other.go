//go:build !unix

package main

// readFD: on Windows a descriptor number names no inherited handle a user
// could pass, so fd:N is refused there.
func readFD(flag, src string, n int) ([]byte, error) {
	return nil, usagef("%s %s: fd:N sources work on Unix only; use file:PATH, env:VAR or stdin", flag, src)
}
