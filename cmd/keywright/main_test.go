package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	_ "modernc.org/sqlite" // recordsql

	"github.com/keywright/keywright/internal/interop"
)

// TestMain lets testscript run this test binary as `keywright`: scripts
// `exec keywright ...` and get main in a subprocess. KEYWRIGHT_TEST_UMASK
// (octal) sets the child's umask, so scripts can check modes under any umask;
// KEYWRIGHT_TEST_ITERATIONS sets the PBKDF2 count of keys written (scripts
// get openssl's 2048 unless they clear it to test the real default).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"keywright": func() {
			if v := os.Getenv("KEYWRIGHT_TEST_UMASK"); v != "" {
				mask, err := strconv.ParseUint(v, 8, 32)
				if err != nil {
					panic(err)
				}
				syscall.Umask(int(mask))
			}
			if v := os.Getenv("KEYWRIGHT_TEST_ITERATIONS"); v != "" {
				testOnlyIterations, _ = strconv.Atoi(v)
			}
			main()
		},
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			env.Setenv("COLUMNS", "100")
			env.Setenv("KEYWRIGHT_TEST_ITERATIONS", "2048")
			env.Setenv("KEYWRIGHT_REQUIRE_INTEROP", os.Getenv("KEYWRIGHT_REQUIRE_INTEROP"))
			// A newline and a carriage return, which a script cannot
			// otherwise put inside an argument (ssh_bad_input).
			env.Setenv("NL", "\n")
			env.Setenv("CR", "\r")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"kw":        cmdKW,
			"mode":      cmdMode,
			"snapshot":  cmdSnapshot,
			"unchanged": cmdUnchanged,
			"jsondoc":   cmdJSONDoc,
			"recordsql": cmdRecordSQL,
		},
		Condition:     interopCondition,
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
	})
}

// kw CODE ARGS...: run keywright with ARGS and require exit code CODE
// (testscript's exec only tells zero from non-zero).
func cmdKW(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: kw CODE ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("kw: bad exit code %q", args[0])
	}
	err = ts.Exec("keywright", args[1:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("kw: %v", err)
	}
	if got != want {
		ts.Fatalf("keywright %v: exit code %d, want %d", args[1:], got, want)
	}
	checkErrorRule(ts)
}

// mode FILE PERM: FILE (not followed if a link) has exactly octal PERM.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	fi, err := os.Lstat(ts.MkAbs(args[0]))
	ts.Check(err)
	got := fmt.Sprintf("%o", fi.Mode().Perm())
	if (got == args[1]) == neg {
		ts.Fatalf("%s: mode %s, want %s%s", args[0], got, map[bool]string{true: "not "}[neg], args[1])
	}
}

// snapshot DIR: remember the names, modes and contents of everything in DIR.
func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: snapshot DIR")
	}
	ts.Setenv("SNAPSHOT_"+sanitize(args[0]), treeDigest(ts, args[0]))
}

// unchanged DIR: DIR is byte for byte as at the last snapshot.
func cmdUnchanged(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: unchanged DIR")
	}
	before := ts.Getenv("SNAPSHOT_" + sanitize(args[0]))
	if before == "" {
		ts.Fatalf("unchanged %s: no snapshot taken", args[0])
	}
	if (treeDigest(ts, args[0]) == before) == neg {
		ts.Fatalf("%s changed since the snapshot (neg=%v)", args[0], neg)
	}
}

// jsondoc: the last command's stdout is exactly one JSON object.
func cmdJSONDoc(ts *testscript.TestScript, neg bool, args []string) {
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile("stdout")))
	var v map[string]any
	err := dec.Decode(&v)
	if err == nil && dec.More() {
		err = fmt.Errorf("more than one JSON document")
	}
	if (err == nil) == neg {
		ts.Fatalf("stdout is not one JSON object: %v", err)
	}
}

// recordsql DB STATEMENT: run SQL on a record database, as a broken tool
// or disk might (the scripts of a damaged record).
func cmdRecordSQL(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: recordsql DB STATEMENT")
	}
	db, err := sql.Open("sqlite", ts.MkAbs(args[0]))
	ts.Check(err)
	defer db.Close()
	_, err = db.Exec(args[1])
	ts.Check(err)
}

// interopCondition answers [interop:TOOL]: true when TOOL is on PATH. A
// missing tool is an error (the script fails) when KEYWRIGHT_REQUIRE_INTEROP=1,
// else false, so `[!interop:openssl] skip` skips with the reason.
func interopCondition(cond string) (bool, error) {
	tool, ok := strings.CutPrefix(cond, "interop:")
	if !ok {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	if interop.Find(tool) != "" {
		return true, nil
	}
	if interop.Required() {
		return false, fmt.Errorf("interop: %s not found and KEYWRIGHT_REQUIRE_INTEROP=1", tool)
	}
	return false, nil
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// treeDigest hashes every path, mode and content under dir (a missing dir
// hashes as "absent").
func treeDigest(ts *testscript.TestScript, dir string) string {
	root := ts.MkAbs(dir)
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				lines = append(lines, "absent")
				return nil
			}
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		line := fmt.Sprintf("%s %v", rel, fi.Mode())
		// SQLite's own -wal and -shm files change on a read (the record's
		// contents are in record.sqlite once a command has closed it).
		sqliteScratch := strings.HasSuffix(rel, ".sqlite-wal") || strings.HasSuffix(rel, ".sqlite-shm")
		if fi.Mode().IsRegular() && !sqliteScratch {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x", sha256.Sum256(data))
		}
		lines = append(lines, line)
		return nil
	})
	ts.Check(err)
	sort.Strings(lines)
	return fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(lines))))
}
