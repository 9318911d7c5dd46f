// Command keywright manages keys, certificate requests, certificates, a local
// certificate authority and SSH keys in one store. See README.md.
package main

import "os"

func main() {
	ctx := handleSignals() // first, before any work
	os.Exit(settle(run(os.Args[1:], processEnv(ctx))))
}
