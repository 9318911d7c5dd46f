//go:build !windows

package store

// checkModes: Unix modes say who may read a file, so secrets' modes are
// checked.
const checkModes = true
