package ca

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func issuedEv(serial string) Event {
	return Event{Event: EventIssued, Time: testNow, Serial: serial, Subject: "CN=web", SANs: []string{"dns:web.test"},
		NotBefore: testNow, NotAfter: testNow.Add(24 * time.Hour), Profile: "server", File: "web.crt", SHA256: "00"}
}

func TestRecordRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.db")
	rec, err := ReadRecord(path)
	if err != nil || len(rec.Entries) != 0 {
		t.Fatalf("missing record: %v, %d entries", err, len(rec.Entries))
	}
	for _, ev := range []Event{
		issuedEv("01aa"), issuedEv("01bb"),
		{Event: EventRevoked, Time: testNow, Serial: "01aa", Reason: "key-compromise"},
		{Event: EventCRL, Time: testNow, CRLNumber: 1, NextUpdate: testNow.Add(time.Hour)},
	} {
		if _, err := rec.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("record mode: %v %v", fi.Mode(), err)
	}
	again, err := ReadRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Entries) != 2 || again.CRLNumber != 1 || len(again.Warnings) != 0 {
		t.Fatalf("re-read: %d entries, CRL %d, warnings %v", len(again.Entries), again.CRLNumber, again.Warnings)
	}
	a := again.Lookup("01aa")
	if !a.Revoked || a.Reason != "key-compromise" || !a.RevokedAt.Equal(testNow) || a.SANs[0] != "dns:web.test" {
		t.Fatalf("entry 01aa: %+v", a)
	}
	if again.Lookup("01bb").Revoked {
		t.Fatal("01bb revoked")
	}
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 4 {
		t.Fatalf("%d lines, want 4:\n%s", n, data)
	}
}

func TestRecordUndo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.db")
	rec, _ := ReadRecord(path)
	undo, err := rec.Append(issuedEv("01aa"))
	if err != nil {
		t.Fatal(err)
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a new record undone should be gone: %v", err)
	}
	rec, _ = ReadRecord(path)
	if _, err := rec.Append(issuedEv("01aa")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	undo, err = rec.Append(issuedEv("01bb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatalf("undo left\n%s\nwant\n%s", after, before)
	}
}

// A crash in the middle of an append leaves a torn last line: it is
// ignored with a warning, and the next append starts on a new line.
func TestRecordTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.db")
	rec, _ := ReadRecord(path)
	if _, err := rec.Append(issuedEv("01aa")); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"event":"issued","serial":"01`)
	f.Close()
	rec, err := ReadRecord(path)
	if err != nil || len(rec.Entries) != 1 || len(rec.Warnings) != 1 {
		t.Fatalf("torn: %v, %d entries, warnings %v", err, len(rec.Entries), rec.Warnings)
	}
	if !strings.Contains(rec.Warnings[0], "line 2 is incomplete") {
		t.Fatalf("warning %q", rec.Warnings[0])
	}
	if _, err := rec.Append(issuedEv("01bb")); err != nil {
		t.Fatal(err)
	}
	rec, err = ReadRecord(path)
	if err != nil || len(rec.Entries) != 2 || len(rec.Warnings) != 0 {
		t.Fatalf("after the next append: %v, %d entries, warnings %v", err, len(rec.Entries), rec.Warnings)
	}
}

func TestRecordBadLines(t *testing.T) {
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
			_, err := ReadRecord(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzRecord(f *testing.F) {
	f.Add([]byte(`{"event":"issued","time":"2026-06-01T12:00:00Z","serial":"01aa","subject":"CN=a","sans":["dns:a"],"profile":"server","file":"a.crt"}` + "\n"))
	f.Add([]byte(`{"event":"revoked","serial":"01aa","reason":"superseded"}` + "\n"))
	f.Add([]byte(`{"event":"crl","crl_number":3}`))
	f.Add([]byte("\n\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "ca.db")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rec, err := ReadRecord(path)
		if err != nil {
			return
		}
		// Whatever was read, one more event appends and reads back.
		if _, err := rec.Append(Event{Event: EventCRL, CRLNumber: rec.CRLNumber + 1}); err != nil {
			t.Fatal(err)
		}
		again, err := ReadRecord(path)
		if err != nil {
			t.Fatalf("after append: %v", err)
		}
		if again.CRLNumber != rec.CRLNumber || len(again.Entries) != len(rec.Entries) {
			t.Fatalf("re-read differs: CRL %d/%d entries %d/%d", again.CRLNumber, rec.CRLNumber, len(again.Entries), len(rec.Entries))
		}
	})
}
