// Package keywright carries the project's documents into the binary:
// README.md, from which `keywright man` takes the sections on the store,
// passphrases, the configuration file, and output and exit codes, so the
// manual page and the README say the same thing. The commands are in cmd/keywright.
package keywright

import _ "embed"

// README is README.md as it was when the binary was built.
//
//go:embed README.md
var README string
