package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Entries added in any order come out in manifest order, each as soon as
// those before it are out; gaps (a batch that stopped early) are skipped
// at the end; the document is JSON with every count.
func TestJSONStreamOrder(t *testing.T) {
	var out bytes.Buffer
	j := newJSONStream(&out)
	for _, pos := range []int{2, 0, 1, 5, 3} { // 4 never comes
		j.add(pos, fleetEntry{Name: fmt.Sprintf("e%d", pos), Kind: "certificate", Action: actIssued})
		if pos == 0 && len(j.held) != 1 {
			t.Fatalf("after 2 and 0: %d held, want 1 (e2)", len(j.held))
		}
		if pos == 1 && len(j.held) != 0 {
			t.Fatalf("after 2, 0, 1: %d held, want none", len(j.held))
		}
	}
	if err := j.finish(fleetReport{Issued: 5}); err != nil {
		t.Fatal(err)
	}
	var doc fleetReport
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	var names []string
	for _, e := range doc.Entries {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); got != "e0 e1 e2 e3 e5" || doc.Issued != 5 {
		t.Fatalf("entries %q, issued %d", got, doc.Issued)
	}
	out.Reset()
	if err := newJSONStream(&out).finish(fleetReport{}); err != nil || !json.Valid(out.Bytes()) || !strings.Contains(out.String(), `"entries": []`) {
		t.Fatalf("no entries: %v\n%s", err, out.String())
	}
}

// batch --json holds few entries however the CAs of a manifest
// interleave and whatever is already done: a CA named once at the top, or
// one new SSH key before many done, does not keep every later entry
// waiting until the end of the manifest.
func TestBatchJSONHoldsAWindow(t *testing.T) {
	defer func(lag int) { batchLag = lag }(batchLag)
	batchLag = 2 * batchChunk
	limit := batchLag + 3*batchChunk
	const n = 1000
	if n <= limit {
		t.Fatalf("%d entries cannot show a window of %d", n, limit)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	for _, name := range []string{"rare", "main"} {
		if code, _, errOut := runInProcess(t, "", nil, "--store", dir, "-q", "ca", "init", name, "--no-passphrase"); code != 0 {
			t.Fatalf("ca init %s: %s", name, errOut)
		}
	}
	manifest := func(certs, ssh []string) string {
		var m strings.Builder
		m.WriteString("certificates:\n")
		for _, c := range certs {
			name, ca, _ := strings.Cut(c, "@")
			fmt.Fprintf(&m, "  - name: %s\n    sans: [%s.example.test]\n    ca: %s\n", name, name, ca)
		}
		if len(ssh) > 0 {
			m.WriteString("ssh:\n")
			for _, name := range ssh {
				fmt.Fprintf(&m, "  - name: %s\n", name)
			}
		}
		file := filepath.Join(t.TempDir(), "fleet.yaml")
		if err := os.WriteFile(file, []byte(m.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	var certs, keys []string
	for i := range n {
		certs = append(certs, fmt.Sprintf("m%d@main", i))
		keys = append(keys, fmt.Sprintf("s%d", i))
	}
	for _, tc := range []struct {
		name        string
		certs, keys []string
		first       string
		slowRare    bool // its commit outlasts the planning of the rest
	}{
		{"all new, a rare CA first", append([]string{"r0@rare"}, certs...), keys, "r0", false},
		{"one new entry of a rare CA, then entries done", append([]string{"r1@rare"}, certs...), append([]string{"snew"}, keys...), "r1", false},
		{"the same, its commit slow", append([]string{"r2@rare"}, certs...), append([]string{"snew2"}, keys...), "r2", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			held := -1
			testHookJSONHeld = func(n int) { held = n }
			defer func() { testHookJSONHeld = nil }()
			if tc.slowRare {
				// The rare CA's commit waits until the planner, which
				// reports the skipped entries at once, is held by the
				// window or has planned everything: as a commit slower
				// than all the planning would.
				planned := make(chan struct{}, 1)
				testHookPlannerHeld = func() {
					select {
					case planned <- struct{}{}:
					default:
					}
				}
				testHookCommit = func(ca string) {
					if ca == "rare" {
						<-planned
					}
				}
				defer func() { testHookPlannerHeld, testHookCommit = nil, nil }()
			}
			code, out, errOut := runInProcess(t, "", map[string]string{"KEYWRIGHT_TEST_ITERATIONS": "2048"},
				"--store", dir, "--json", "batch", manifest(tc.certs, tc.keys))
			if code != 0 {
				t.Fatalf("batch: exit %d\n%s", code, errOut)
			}
			var doc fleetReport
			all := len(tc.certs) + len(tc.keys)
			if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Entries) != all || doc.Entries[0].Name != tc.first ||
				doc.Entries[all-1].Name != tc.keys[len(tc.keys)-1] {
				t.Fatalf("the JSON document: %v, %d entries", err, len(doc.Entries))
			}
			if held < 0 || held > limit {
				t.Fatalf("%d entries held at once for the JSON report, want at most %d", held, limit)
			}
		})
	}
}
