// Package archtest holds no code: its test checks that the dependencies
// between keywright's packages point the way README "Development" says (the CLI depends
// on the libraries, never the reverse, and no library reaches for the CLI
// or prompt layers). repo_test.go checks the repository itself: no executable
// is committed, and builds and release output are ignored.
package archtest
