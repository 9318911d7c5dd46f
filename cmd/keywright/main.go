// Command keywright manages keys, certificate requests, certificates, a local
// certificate authority and SSH keys in one store. See README.md.
package main

import "os"

func main() {
	exitOnSignal()
	os.Exit(run(os.Args[1:], processEnv()))
}
