// Package archtest holds no code: its test checks that the dependencies
// between keywright's packages point the way STYLE.md says (the CLI depends
// on the libraries, never the reverse, and no library reaches for the CLI
// or prompt layers).
package archtest
