package ca

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A crash in the middle of an append left a torn last line: it is ignored
// with a warning.
func TestLegacyTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.db")
	good := `{"event":"issued","time":"2026-06-01T12:00:00Z","serial":"01aa","subject":"CN=a","profile":"server","file":"a.crt"}`
	os.WriteFile(path, []byte(good+"\n"+`{"event":"issued","serial":"01`), 0o644)
	rec, err := readLegacy(path)
	if err != nil || len(rec.Events) != 1 || len(rec.Warnings) != 1 || !strings.Contains(rec.Warnings[0], "line 2 is incomplete") {
		t.Fatalf("torn: %v, %d events, warnings %v", err, len(rec.Events), rec.Warnings)
	}
}

func TestLegacyBadLines(t *testing.T) {
	good := `{"event":"issued","time":"2026-06-01T12:00:00Z","serial":"01aa","subject":"CN=a","profile":"server","file":"a.crt"}`
	tests := []struct {
		name, data, want string
	}{
		{"not json", "hello\n", "line 1: not a record event"},
		{"unknown event", `{"event":"deleted","time":"2026-06-01T12:00:00Z"}` + "\n", `unknown event "deleted"`},
		{"unknown field", `{"event":"crl","bogus":1}` + "\n", "unknown field"},
		{"bad serial", `{"event":"issued","serial":"zz"}` + "\n", "not a serial number"},
		{"issued twice", good + "\n" + good + "\n", "line 2: serial 01aa issued twice"},
		{"revoke unknown", `{"event":"revoked","serial":"01bb"}` + "\n", "which this CA did not issue"},
		{"crl number back", `{"event":"crl","crl_number":2}` + "\n" + `{"event":"crl","crl_number":2}` + "\n", "does not increase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ca.db")
			os.WriteFile(path, []byte(tt.data), 0o644)
			_, err := readLegacy(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzLegacyRecord(f *testing.F) {
	f.Add([]byte(`{"event":"issued","time":"2026-06-01T12:00:00Z","serial":"01aa","subject":"CN=a","sans":["dns:a"],"profile":"server","file":"a.crt"}` + "\n"))
	f.Add([]byte(`{"event":"revoked","serial":"01aa","reason":"superseded"}` + "\n"))
	f.Add([]byte(`{"event":"crl","crl_number":3}`))
	f.Add([]byte("\n\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "ca.db")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rec, err := readLegacy(path)
		if err != nil {
			return
		}
		// Whatever was accepted imports into a database, event for event.
		r := &legacyRecord{Path: path, issued: map[string]bool{}}
		for _, ev := range rec.Events {
			line, _ := json.Marshal(ev)
			if err := r.apply(line); err != nil {
				t.Fatalf("event %s does not read back: %v", line, err)
			}
		}
		if len(r.Events) != len(rec.Events) || r.CRLNumber != rec.CRLNumber {
			t.Fatalf("re-read differs")
		}
	})
}
