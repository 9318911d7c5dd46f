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
// interleave: a CA named once at the top does not keep every later entry
// waiting until the end of the manifest.
func TestBatchJSONHoldsAWindow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	for _, name := range []string{"rare", "main"} {
		if code, _, errOut := runInProcess(t, "", nil, "--store", dir, "-q", "ca", "init", name, "--no-passphrase"); code != 0 {
			t.Fatalf("ca init %s: %s", name, errOut)
		}
	}
	const n = 2000
	var m strings.Builder
	m.WriteString("certificates:\n  - name: r0\n    sans: [r0.example.test]\n    ca: rare\n")
	for i := range n {
		fmt.Fprintf(&m, "  - name: m%d\n    sans: [m%d.example.test]\n    ca: main\n", i, i)
	}
	manifest := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(manifest, []byte(m.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	held := -1
	testHookJSONHeld = func(n int) { held = n }
	defer func() { testHookJSONHeld = nil }()
	code, out, errOut := runInProcess(t, "", map[string]string{"KEYWRIGHT_TEST_ITERATIONS": "2048"}, "--store", dir, "--json", "batch", manifest)
	if code != 0 {
		t.Fatalf("batch: exit %d\n%s", code, errOut)
	}
	var doc fleetReport
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Entries) != n+1 || doc.Entries[0].Name != "r0" || doc.Entries[n].Name != fmt.Sprintf("m%d", n-1) {
		t.Fatalf("the JSON document: %v, %d entries", err, len(doc.Entries))
	}
	if limit := batchLag + 3*batchChunk; held < 0 || held > limit {
		t.Fatalf("%d entries held at once for the JSON report, want at most %d", held, limit)
	}
}
