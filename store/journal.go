package store

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A forced replace of several files (renew: NAME.key, .csr, .crt and .pem
// at once) is a series of rename(2)s, and a process killed between two of
// them would leave some files new and some old: a key that does not match
// its certificate. So before the first rename such a Tx writes a journal in
// each directory it writes into, naming the staged file that goes to each
// target, synced with the directory. The next writer in that directory
// (which sweeps what a killed writer left: prepareDir, RemoveStale)
// finishes the renames a journal lists before it does anything else, so
// the group ends all new, as the record already says it is. A journal that
// is not whole was being written when its writer died, before any rename:
// it is dropped, and the group stays all old.

// journalSuffix ends a journal's name (a temporary file's name otherwise).
const journalSuffix = ".journal"

// journalVersion marks the format of journalDoc.
const journalVersion = 1

type journalDoc struct {
	Version int         `json:"keywright_journal"`
	Files   [][2]string `json:"files"` // {temporary name, target name}, both in the journal's directory
}

// journal is the journals of one Tx, one per directory.
type journal struct {
	paths []string
	files []*os.File // open with their flock (nil where temporary files are not held)
}

// testHookPlaced runs before each file of a Tx is placed and after the
// last, with the number placed so far; tests replace it to kill a writer
// at an exact point.
var testHookPlaced = func(placed int) {}

// writeJournal writes the journals of files when a crash between their
// renames could mix old and new ones: with Force, for more than one file.
// (Without Force a file is linked into a name that was free, and a crash
// leaves at most the first files of the group, the key before its
// certificate.)
func (tx *Tx) writeJournal(files []*staged) (*journal, error) {
	if !tx.Force || len(files) < 2 {
		return nil, nil
	}
	var dirs []string
	pairs := map[string][][2]string{}
	for _, f := range files {
		d := filepath.Dir(f.Path)
		if _, ok := pairs[d]; !ok {
			dirs = append(dirs, d)
		}
		pairs[d] = append(pairs[d], [2]string{filepath.Base(f.temp), filepath.Base(f.Path)})
	}
	j := &journal{}
	for _, d := range dirs {
		if err := j.write(d, pairs[d]); err != nil {
			j.remove()
			return nil, err
		}
	}
	return j, nil
}

// write adds the journal of dir. It and the names of the staged files are
// on disk (the directory synced) before it returns, so a power cut after
// the first rename still finds it.
func (j *journal) write(dir string, pairs [][2]string) error {
	data, err := json.Marshal(journalDoc{Version: journalVersion, Files: pairs})
	if err != nil {
		return errorf("%w", err)
	}
	f, err := createTempSuffix(dir, journalSuffix)
	if err != nil {
		return errorf("%w", err)
	}
	j.paths = append(j.paths, f.Name())
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if holdTemps {
		j.files = append(j.files, f)
	} else if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return errorf("%s: %w", f.Name(), err)
	}
	return nil
}

// remove deletes the journals, once the renames are done or undone.
func (j *journal) remove() {
	if j == nil {
		return
	}
	for _, p := range j.paths {
		_ = os.Remove(p)
	}
	for _, f := range j.files {
		f.Close()
	}
	j.paths, j.files = nil, nil
}

// finishJournals completes the renames of the journals a killed writer
// left in dir; the caller holds dir's lock. On an error the journal stays
// (the staged files it names must not be swept), and the next writer tries
// again.
func finishJournals(dir string, names []string) error {
	var errs []error
	for _, name := range names {
		if !strings.HasSuffix(name, journalSuffix) {
			continue
		}
		p := filepath.Join(dir, name)
		f := claimStale(p)
		if f == nil {
			continue // its writer is alive (store check's look, without the lock)
		}
		err := replay(dir, f)
		if err == nil {
			if rerr := os.Remove(p); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = rerr
			}
		}
		f.Close()
		if err != nil {
			errs = append(errs, errorf("journal %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// replay renames each staged file a journal names into its target, unless
// it is gone (placed before the crash), and syncs the directory.
func replay(dir string, f *os.File) error {
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize))
	if err != nil {
		return err
	}
	var doc journalDoc
	if json.Unmarshal(data, &doc) != nil || doc.Version != journalVersion {
		return nil // not whole: its writer died writing it, before any rename
	}
	for _, pair := range doc.Files {
		temp, target := pair[0], pair[1]
		if !plainName(temp) || !plainName(target) || !strings.HasPrefix(temp, tempPrefix) || strings.HasSuffix(temp, journalSuffix) {
			return errorf("names a file it may not: %q -> %q", temp, target)
		}
		src := filepath.Join(dir, temp)
		fi, err := os.Lstat(src)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // placed before the crash
		case err != nil:
			return err
		case !fi.Mode().IsRegular():
			return errorf("%s: not a regular file", src)
		}
		if err := os.Rename(src, filepath.Join(dir, target)); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// plainName reports whether s names a file in a directory, not a path.
func plainName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsRune(s, '/') && !strings.ContainsRune(s, filepath.Separator)
}
