package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywright/keywright/store"
)

// fleetYAML is a block-style manifest of n certificates, about 60 bytes
// each.
func fleetYAML(n int) string { return paddedFleetYAML(n, 0) }

// paddedFleetYAML is fleetYAML with a comment of pad bytes on each entry's
// first line (a large file of few entries).
func paddedFleetYAML(n, pad int) string {
	var b strings.Builder
	comment := ""
	if pad > 0 {
		comment = "  # " + strings.Repeat("x", pad)
	}
	b.WriteString("defaults:\n  ca: fleet\ncertificates:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: h%d%s\n    sans: [h%d.example.test, 10.%d.%d.%d]\n", i, comment, i, i>>16, i>>8&255, i&255)
	}
	return b.String()
}

func writeManifest(t *testing.T, name, doc string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// A manifest in a file larger than the files keywright reads whole is
// taken when it can be read in parts (block-style YAML, CSV), every entry
// counted and read again; one that must be read whole is refused with
// what to change.
func TestManifestLargerThanReadWhole(t *testing.T) {
	n := store.MaxFileSize/60 + 1000
	doc := fleetYAML(n)
	if len(doc) <= store.MaxFileSize {
		t.Fatalf("the manifest is %d bytes: not over %d", len(doc), store.MaxFileSize)
	}
	m := mustRead(t, writeManifest(t, "big.yaml", doc))
	if m.NCerts != n {
		t.Fatalf("%d entries checked, want %d", m.NCerts, n)
	}
	var csv strings.Builder
	csv.WriteString("name,sans,ca\n")
	for i := range n {
		fmt.Fprintf(&csv, "h%d,h%d.example.test 10.%d.%d.%d,fleet\n", i, i, i>>16, i>>8&255, i&255)
	}
	if m := mustRead(t, writeManifest(t, "big.csv", csv.String())); m.NCerts != n {
		t.Fatalf("CSV: %d entries checked, want %d", m.NCerts, n)
	}
	// The same entries as a flow list, an entry a line: not in parts.
	var flow strings.Builder
	flow.WriteString("certificates: [\n")
	for i := range n {
		fmt.Fprintf(&flow, "  {name: h%d, sans: [h%d.example.test, 10.%d.%d.%d], ca: fleet},\n", i, i, i>>16, i>>8&255, i&255)
	}
	flow.WriteString("]\n")
	flowFile := writeManifest(t, "flow.yaml", flow.String())
	_, err := readManifest(manifestEnv(nil), flowFile, nil)
	if want := flowFile + ":1: a manifest over 4 MiB is read in parts, which needs CSV or YAML in block style"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("a large manifest that must be read whole: %v\nwant %s...", err, want)
	}
}

// Whatever is done to the file between the check and the work, the work
// reads what the check passed or stops with errManifestChanged; the
// entries before the change are read.
func TestManifestChangedBetweenReadings(t *testing.T) {
	const n = 1000 // about four blocks
	doc := fleetYAML(n)
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, file string)
		// whether the entries before the last block are read again
		earlyRead bool
	}{
		{"an entry edited in place near the end", func(t *testing.T, file string) {
			at := strings.Index(doc, "h990.example.test")
			f, err := os.OpenFile(file, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte("x"), int64(at)); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"truncated", func(t *testing.T, file string) {
			if err := os.Truncate(file, int64(len(doc)-100)); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"the first entry edited", func(t *testing.T, file string) {
			f, err := os.OpenFile(file, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte("h9"), int64(strings.Index(doc, "h0."))); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeManifest(t, "fleet.yaml", doc)
			m, err := readManifest(manifestEnv(nil), file, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			tc.change(t, file)
			var names []string
			err = m.forEachEntry(manifestSink{cert: func(_ int, e *CertEntry) { names = append(names, e.Name) }})
			if !errors.Is(err, errManifestChanged) || !strings.HasPrefix(err.Error(), file+": ") {
				t.Fatalf("read again after a change: %v", err)
			}
			if len(names) >= n {
				t.Fatalf("all %d entries read again from a changed file", len(names))
			}
			if tc.earlyRead != (len(names) > 0) {
				t.Fatalf("%d entries read before the change", len(names))
			}
			for i, name := range names {
				if name != fmt.Sprintf("h%d", i) {
					t.Fatalf("entry %d is %s", i, name)
				}
			}
		})
	}
	// A file of one block is read from disk again too.
	small := writeManifest(t, "small.yaml", fleetYAML(3))
	m, err := readManifest(manifestEnv(nil), small, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := os.WriteFile(small, []byte(strings.Replace(fleetYAML(3), "h2.", "x2.", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.forEachEntry(manifestSink{cert: func(int, *CertEntry) {}}); !errors.Is(err, errManifestChanged) {
		t.Fatalf("a one-block file edited between the readings: %v", err)
	}
	// Replaced by another file (rename): the batch reads the file it opened.
	file := writeManifest(t, "fleet.yaml", doc)
	m, err = readManifest(manifestEnv(nil), file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	other := writeManifest(t, "other.yaml", fleetYAML(3))
	if err := os.Rename(other, file); err != nil {
		t.Fatal(err)
	}
	count := 0
	if err := m.forEachEntry(manifestSink{cert: func(int, *CertEntry) { count++ }}); err != nil || count != n {
		t.Fatalf("after a rename over the file: %d entries, %v", count, err)
	}
}

// A file that grows while it is checked is refused: what was appended
// was not checked.
func TestManifestGrowsWhileChecked(t *testing.T) {
	doc := fleetYAML(1000)
	file := writeManifest(t, "fleet.yaml", doc)
	grown := false
	sink := manifestSink{cert: func(pos int, _ *CertEntry) {
		if pos == 500 && !grown {
			grown = true
			f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("  - name: late\n    sans: [late.example.test]\n"); err != nil {
				t.Fatal(err)
			}
		}
	}}
	_, err := readManifest(manifestEnv(nil), file, &sink)
	if !grown || !errors.Is(err, errManifestChanged) {
		t.Fatalf("a manifest appended to while checked: %v", err)
	}
}

// A manifest too large to read whole that is not all in block style gets
// the problem at its line, not "too large": a syntax error in one entry
// (as the same error in a small file would read), a tab; CRLF line ends
// and a byte order mark are read in parts.
func TestLargeManifestProblemsAtTheirLine(t *testing.T) {
	const n = 20000
	doc := paddedFleetYAML(n, 200)
	if len(doc) <= store.MaxFileSize {
		t.Fatalf("the manifest is %d bytes: not over %d", len(doc), store.MaxFileSize)
	}
	entryLine := func(i int) int { return 4 + 2*i } // its "- name:" line
	for _, tc := range []struct{ name, doc, want string }{
		{"syntax error", strings.Replace(doc, "10.0.58.152]", "10.0.58.152", 1),
			fmt.Sprintf(":%d: not valid YAML: ", entryLine(15000)+1)},
		{"tab", strings.Replace(doc, "  - name: h12000 ", "  - name: h12000\t", 1),
			fmt.Sprintf(":%d: a manifest over 4 MiB is read in parts, which needs CSV or YAML in block style (\"certificates:\" then one \"- name: ...\" item per entry): a tab", entryLine(12000))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeManifest(t, "big.yaml", tc.doc)
			_, err := readManifest(manifestEnv(nil), file, nil)
			if err == nil || !strings.Contains(err.Error(), file+tc.want) {
				t.Fatalf("got %v\nwant %s%s...", err, file, tc.want)
			}
		})
	}
	for name, doc := range map[string]string{"CRLF": strings.ReplaceAll(doc, "\n", "\r\n"), "byte order mark": utf8BOM + doc} {
		if m := mustRead(t, writeManifest(t, "big.yaml", doc)); m.NCerts != n {
			t.Fatalf("%s: %d entries, want %d", name, m.NCerts, n)
		}
	}
}
