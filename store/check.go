package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Finding is one problem `store check` reports: what kind, which file, what
// is wrong, and whether --fix repaired it.
type Finding struct {
	Kind   string `json:"kind"` // one of the Finding* kinds
	Path   string `json:"path"`
	Detail string `json:"detail"`
	Fixed  bool   `json:"fixed"`
}

// The kinds of finding.
const (
	FindingTemp       = "temporary-file" // left by a killed process
	FindingMode       = "mode"           // a secret or the store others can reach
	FindingUnrecorded = "unrecorded"     // a certificate a store CA issued that its record lacks
	FindingMissing    = "missing-file"   // a recorded certificate whose file is gone
	FindingChain      = "chain"          // a certificate or chain that no longer verifies
	FindingRecord     = "record"         // the record database itself
	FindingUnreadable = "unreadable"     // a certificate file that does not parse
	FindingPending    = "pending"        // a recorded file a killed command left to place
)

// CheckFiles reports what is wrong with the store's files themselves:
// temporary files a killed process left (removed with fix), private keys
// group or others can read and store directories they can write (both set
// right with fix: 0600 and 0700). It reads the directory listing, not the
// files.
func (s *Store) CheckFiles(fix bool) ([]Finding, error) {
	var out []Finding
	root := filepath.Clean(s.Dir)
	for _, dir := range []string{root, filepath.Join(root, SSHPrivate.Sub)} {
		fi, err := os.Lstat(dir)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.IsDir()) {
			continue
		}
		if err != nil {
			return out, errorf("%w", err)
		}
		temps, err := checkTemps(dir, fix)
		if err != nil {
			return out, err
		}
		out = append(out, temps...)
		if checkModes {
			out = append(out, checkDirMode(dir, fi.Mode(), fix)...)
			modes, err := checkKeyModes(dir, dir != root, fix)
			if err != nil {
				return out, err
			}
			out = append(out, modes...)
		}
	}
	return out, nil
}

func checkTemps(dir string, fix bool) ([]Finding, error) {
	stale, err := StaleTemps(dir)
	if err != nil || len(stale) == 0 {
		return nil, err
	}
	if fix {
		if _, err := RemoveStale(dir); err != nil {
			return nil, err
		}
	}
	var out []Finding
	for _, p := range stale {
		out = append(out, Finding{Kind: FindingTemp, Path: p, Fixed: fix && !Exists(p),
			Detail: "a temporary file a killed keywright left (it may hold a private key)"})
	}
	return out, nil
}

func checkDirMode(dir string, mode fs.FileMode, fix bool) []Finding {
	if mode.Perm()&0o077 == 0 {
		return nil
	}
	f := Finding{Kind: FindingMode, Path: dir,
		Detail: fmt.Sprintf("directory mode %04o lets group or others in; want %04o", uint32(mode.Perm()), uint32(DirMode))}
	if fix {
		f.Fixed = os.Chmod(dir, DirMode) == nil
	}
	return []Finding{f}
}

// checkKeyModes finds private keys (NAME.key, NAME.p12, and in ssh/ every
// file that is not a .pub) that group or others can read. The directory is
// read a chunk of entries at a time (a fleet's store holds four files per
// certificate); the findings are sorted by path.
func checkKeyModes(dir string, sshDir, fix bool) ([]Finding, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, errorf("%w", err)
	}
	defer d.Close()
	var out []Finding
	for {
		entries, err := d.ReadDir(1024)
		for _, e := range entries {
			if f, ok := keyModeFinding(dir, e, sshDir, fix); ok {
				out = append(out, f)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errorf("%w", err)
		}
	}
	slices.SortFunc(out, func(a, b Finding) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// keyModeFinding is the finding about entry e of dir, if it is a private
// key that group or others can read.
func keyModeFinding(dir string, e fs.DirEntry, sshDir, fix bool) (Finding, bool) {
	name := e.Name()
	if !isPrivateFile(name, sshDir) || !e.Type().IsRegular() {
		return Finding{}, false
	}
	fi, err := e.Info()
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return Finding{}, false
	}
	p := filepath.Join(dir, name)
	f := Finding{Kind: FindingMode, Path: p,
		Detail: fmt.Sprintf("private key mode %04o lets group or others read it; want 0600", uint32(fi.Mode().Perm()))}
	if fix {
		f.Fixed = os.Chmod(p, Key.Mode) == nil
	}
	return f, true
}

func isPrivateFile(name string, sshDir bool) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	if sshDir {
		return !strings.HasSuffix(name, SSHPublic.Suffix)
	}
	return strings.HasSuffix(name, Key.Suffix) || strings.HasSuffix(name, P12.Suffix)
}
