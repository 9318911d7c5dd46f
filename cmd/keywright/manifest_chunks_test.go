package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// wholeManifest reads data with the whole-document reader alone.
func wholeManifest(data []byte) (*Manifest, error) {
	m := &Manifest{File: "m.yaml", Kind: manifestYAML}
	c := newManifestChecker(m, keepEntries(m))
	readYAMLManifest(c, data)
	if err := c.errs.orNil(); err != nil {
		return nil, err
	}
	return m, nil
}

// The chunked reader gives what the whole reader gives, entries and
// problems alike, across chunk boundaries; shapes it does not handle fall
// back to the whole reader.
func TestManifestChunkedMatchesWhole(t *testing.T) {
	var fleet strings.Builder
	fleet.WriteString("# a fleet\n---\ndefaults:\n  ca: fleet-ca\n  days: 30\ncertificates:\n")
	for i := 0; i < 3*yamlChunkEntries+7; i++ {
		fmt.Fprintf(&fleet, "  - name: h%d   # host %d\n    sans:\n      - h%d.example.test\n      - 10.0.%d.%d\n", i, i, i, i/256, i%256)
		if i%100 == 0 {
			fleet.WriteString("\n# a comment at column 0\n")
		}
	}
	fleet.WriteString("ssh:\n- name: deploy\n  type: ecdsa\n- name: ci\n  certificate:\n    ca: users\n    identity: ci\n    principals: [ci]\n")
	good := fleet.String()
	bad := strings.Replace(good, "h300.example.test", "bad_name!.example.test", 1)
	bad = strings.Replace(bad, "name: h700 ", "name: H5 ", 1) // a duplicate in another chunk
	cases := map[string]string{
		"good":             good,
		"problems":         bad,
		"flow list":        "certificates: [{name: a, sans: [a.example.test]}]\n",
		"second document":  good + "---\ncertificates: []\n",
		"anchor":           "certificates:\n- &x\n  name: a\n  sans: [a.example.test]\n- *x\n",
		"top-level scalar": "certificates:\n  - name: a\n    sans: [a.example.test]\nbogus: 1\n",
		"odd indentation":  "certificates:\n    - name: a\n      sans: [a.example.test]\n  - name: b\n",
		"syntax error":     "certificates:\n  - name: a\n    sans: [a.example.test\n  - name: b\n",
		"duplicate key":    "certificates:\n  - name: a\n    sans: [a.example.test]\ncertificates:\n  - name: b\n",
		"CRLF":             strings.ReplaceAll(good, "\n", "\r\n"),
		"CRLF, problems":   strings.ReplaceAll(bad, "\n", "\r\n"),
		"byte order mark":  utf8BOM + good,
		"lone CR":          strings.Replace(good, "\n", "\r", 1),
	}
	for name, doc := range cases {
		for _, from := range []string{"memory", "file"} {
			t.Run(name+" from "+from, func(t *testing.T) {
				var got *Manifest
				var gotErr error
				if from == "memory" {
					got, gotErr = parseManifest("m.yaml", manifestYAML, []byte(doc))
				} else {
					got, gotErr = parseManifestFile(t, doc)
				}
				want, wantErr := wholeManifest([]byte(doc))
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					t.Fatalf("problems differ:\nchunked: %v\nwhole:   %v", gotErr, wantErr)
				}
				if got != nil && want != nil {
					got.src, got.split, got.whole, want.whole = nil, nil, false, false
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("entries differ")
				}
			})
		}
	}
	m, err := parseManifest("m.yaml", manifestYAML, []byte(good))
	if err != nil || len(m.Certs) != 3*yamlChunkEntries+7 || len(m.SSH) != 2 {
		t.Fatalf("good fleet: %v, %d certs", err, len(m.Certs))
	}
	for _, doc := range []string{good, strings.ReplaceAll(good, "\n", "\r\n"), utf8BOM + good} {
		if split, err := splitYAML(memManifest("m.yaml", []byte(doc))); err != nil || split.sections["certificates"].items != len(m.Certs) {
			t.Fatalf("the good fleet was not read in chunks: %v", err)
		}
	}
	if _, err := parseManifest("m.yaml", manifestYAML, []byte(bad)); err == nil || !strings.Contains(err.Error(), "m.yaml:") {
		t.Fatalf("problems lost their FILE:LINE: %v", err)
	}
}

// parseManifestFile writes doc to m.yaml and checks it from there, keeping
// its entries, as parseManifest does from memory.
func parseManifestFile(t *testing.T, doc string) (*Manifest, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := openManifest(manifestEnv(nil), file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	src.name = "m.yaml"
	m, err := checkManifest(manifestYAML, src, keepEntries)
	if err != nil {
		return nil, err
	}
	return m, nil
}
