package main

import (
	"fmt"
	"runtime/debug"

	"github.com/alecthomas/kong"
)

// version is the release version, stamped by goreleaser
// (-ldflags "-X main.version=v{{.Version}}", goreleaser.yaml). Without it,
// --version reports what the go command recorded in the binary: the module
// version (`go install ...@v1.2.3` gives v1.2.3) and the VCS revision of a
// build in a clone, with ", modified" for uncommitted changes.
var version string

// buildVersionFlag is --version. The build information is read only when it is
// given, never at start-up.
type buildVersionFlag bool

// BeforeReset prints the version and exits before anything else is parsed
// (as kong.VersionFlag).
func (buildVersionFlag) BeforeReset(app *kong.Kong) error {
	info, _ := debug.ReadBuildInfo() // nil when the binary carries none
	fmt.Fprintln(app.Stdout, versionString(version, info))
	app.Exit(0)
	return nil
}

// versionString is the line --version prints: "keywright VERSION", then
// "(commit REV[, modified])" when the go command recorded a VCS revision.
func versionString(stamped string, info *debug.BuildInfo) string {
	v := stamped
	if v == "" && info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	if v == "" {
		v = "devel"
	}
	if info == nil {
		return "keywright " + v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "keywright " + v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += ", modified"
	}
	return fmt.Sprintf("keywright %s (commit %s)", v, rev)
}
