package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestSSHScripts runs the SSH scripts in testdata/ssh with the commands and
// conditions of TestScripts, plus $NL and $CR (a newline and a carriage
// return), which a script cannot otherwise put inside an argument.
func TestSSHScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/ssh",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			env.Setenv("COLUMNS", "100")
			env.Setenv("KEYWRIGHT_REQUIRE_INTEROP", os.Getenv("KEYWRIGHT_REQUIRE_INTEROP"))
			env.Setenv("NL", "\n")
			env.Setenv("CR", "\r")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"kw":        cmdKW,
			"mode":      cmdMode,
			"snapshot":  cmdSnapshot,
			"unchanged": cmdUnchanged,
		},
		Condition:     interopCondition,
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
	})
}
