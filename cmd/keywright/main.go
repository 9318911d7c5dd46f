// Command keywright manages keys, certificate requests, certificates, a local
// certificate authority and SSH keys in one store. See README.md.
package main

import (
	"context"
	"os"
)

func main() {
	// The signal handler is installed once the arguments parse into a
	// command, before it runs: os/signal starts OS threads (about 0.5 ms), and
	// --version, --help and usage errors write nothing (issue 8).
	afterParse = func(e *Env) { e.Ctx = handleSignals() }
	os.Exit(settle(run(os.Args[1:], processEnv(context.Background()))))
}
