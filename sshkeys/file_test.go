package sshkeys

import (
	"strings"
	"testing"
)

func TestAuthorizedKeysAddRemove(t *testing.T) {
	a, b := testKey(t), testECKey(t)
	original := "# managed by hand\r\n\n" + keyText(a) + " alice\r\n" + "garbage line\n" + "  # trailing comment"
	f := ParseAuthorizedKeys([]byte(original))
	if got := string(f.Bytes()); got != original {
		t.Fatalf("parse/bytes not identity: %q", got)
	}
	if inv := f.Invalid(); len(inv) != 1 || inv[0].Line != 4 || !strings.Contains(inv[0].Error(), "line 4: ") {
		t.Fatalf("invalid = %v", inv)
	}
	if es := f.Entries(); len(es) != 1 || es[0].Line != 3 || es[0].Comment != "alice" {
		t.Fatalf("entries = %v", es)
	}

	// A new key goes at the end, after the newline the file lacked.
	eb, _ := NewEntry(b, Options{Restrict: true}, "bob")
	change, line, err := f.Add(eb)
	if err != nil || change != Added || line != 6 {
		t.Fatalf("add b: %v %d %v", change, line, err)
	}
	lineB, _ := eb.Marshal()
	want := original + "\n" + lineB + "\n"
	if got := string(f.Bytes()); got != want {
		t.Fatalf("after add:\n%q\nwant\n%q", got, want)
	}

	// The same entry again changes nothing.
	if change, _, _ := f.Add(eb); change != Unchanged || string(f.Bytes()) != want {
		t.Fatalf("second add: %v", change)
	}

	// Same key, other options: its line is replaced, CRLF kept.
	ea, _ := NewEntry(a, Options{NoPTY: true}, "alice")
	change, line, err = f.Add(ea)
	if err != nil || change != Updated || line != 3 {
		t.Fatalf("update a: %v %d %v", change, line, err)
	}
	lineA, _ := ea.Marshal()
	want = strings.Replace(want, keyText(a)+" alice\r\n", lineA+"\r\n", 1)
	if got := string(f.Bytes()); got != want {
		t.Fatalf("after update:\n%q\nwant\n%q", got, want)
	}

	// Remove by fingerprint, then by key; other lines stay byte for byte.
	if removed := f.Remove(MatchFingerprint(Fingerprint(b))); len(removed) != 1 || removed[0] != 6 {
		t.Fatalf("remove b: %v", removed)
	}
	if removed := f.Remove(MatchPublicKey(a)); len(removed) != 1 || removed[0] != 3 {
		t.Fatalf("remove a: %v", removed)
	}
	want = "# managed by hand\r\n\n" + "garbage line\n" + "  # trailing comment\n"
	if got := string(f.Bytes()); got != want {
		t.Fatalf("after removes:\n%q\nwant\n%q", got, want)
	}
	if removed := f.Remove(MatchPublicKey(a)); len(removed) != 0 {
		t.Fatalf("second remove: %v", removed)
	}
}

func TestAuthorizedKeysEmpty(t *testing.T) {
	f := ParseAuthorizedKeys(nil)
	e, _ := NewEntry(testKey(t), Options{}, "")
	if change, line, err := f.Add(e); change != Added || line != 1 || err != nil {
		t.Fatalf("%v %d %v", change, line, err)
	}
	text, _ := e.Marshal()
	if got := string(f.Bytes()); got != text+"\n" {
		t.Fatalf("got %q", got)
	}
}

func TestParseKeepsDuplicatesAndRemovesAll(t *testing.T) {
	k := testKey(t)
	data := keyText(k) + " one\n" + "restrict " + keyText(k) + " two\n"
	f := ParseAuthorizedKeys([]byte(data))
	if removed := f.Remove(MatchPublicKey(k)); len(removed) != 2 {
		t.Fatalf("removed %v", removed)
	}
	if len(f.Bytes()) != 0 {
		t.Fatalf("left %q", f.Bytes())
	}
}
