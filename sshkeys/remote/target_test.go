package remote

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	for in, want := range map[string]Spec{
		"root@host":            {"root", "host", 0},
		"host":                 {"", "host", 0},
		"web:2222":             {"", "web", 2222},
		"root@host:2222":       {"root", "host", 2222},
		"a@b@10.0.0.1:22":      {"a@b", "10.0.0.1", 22},
		"u@[::1]:2222":         {"u", "::1", 2222},
		"u@[::1]":              {"u", "::1", 0},
		"u@fe80::1":            {"u", "fe80::1", 0},
		"deploy@web.example.x": {"deploy", "web.example.x", 0},
	} {
		got, err := ParseSpec(in)
		if err != nil || got != want {
			t.Errorf("ParseSpec(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "@host", "u@", "u@host:0", "u@host:x", "u@ho st", "u@host:70000", "-oProxyCommand=x", "u@-host", "h:",
		"u@[::1", "u@::1]", "u@[web", "u@host:+22", "u@host:-0", "u@ho\x1bst", "u\x1b[2J@host", "\ufeffu@host", "u@host\u00a0"} {
		if _, err := ParseSpec(in); err == nil {
			t.Errorf("ParseSpec(%q) accepted", in)
		}
	}
}

func write(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadHostsFile(t *testing.T) {
	p := write(t, "hosts", "# fleet\n\nroot@a:2201\n  b   # second\nc:2203\n")
	got, err := ReadHostsFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []HostLine{{"root@a:2201", 3}, {"b", 4}, {"c:2203", 5}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %v, want %v", i, got[i], want[i])
		}
	}
	bad := write(t, "bad", "ok@a\nu@host:99999\nx y\nfine\n")
	_, err = ReadHostsFile(bad)
	if err == nil {
		t.Fatal("a malformed hosts file was accepted")
	}
	for _, want := range []string{bad + ":2: ", bad + ":3: one target per line"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// As Notepad saves it: a byte order mark, CRLF line endings.
	got, err = ReadHostsFile(write(t, "bom", "\ufeffroot@a:2201\r\n# c\r\nb\r\n"))
	if err != nil || len(got) != 2 || got[0] != (HostLine{"root@a:2201", 1}) || got[1] != (HostLine{"b", 3}) {
		t.Errorf("BOM and CRLF: %v, %v", got, err)
	}
	if _, err := ReadHostsFile(write(t, "empty", "# nothing\n")); err == nil || !strings.Contains(err.Error(), "no targets") {
		t.Errorf("empty hosts file: %v", err)
	}
}

func TestResolveWithConfig(t *testing.T) {
	home := t.TempDir()
	cfgPath := write(t, "config", `Host web
  HostName 127.0.0.1
  User deploy
  Port 2222
  IdentityFile ~/.ssh/web_%r
  UserKnownHostsFile ~/.ssh/known_web

Host jump
  ProxyJump bastion

Host *
  User fallback
`)
	cfg, err := LoadConfig(home, []string{cfgPath}, []string{filepath.Join(home, "missing")})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := cfg.Resolve("web", "me")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Addr() != "127.0.0.1:2222" || tg.User != "deploy" || tg.Spec != "web" {
		t.Errorf("alias resolved to %+v", tg)
	}
	if len(tg.IdentityFiles) != 1 || tg.IdentityFiles[0] != filepath.Join(home, ".ssh", "web_deploy") {
		t.Errorf("IdentityFile = %v", tg.IdentityFiles)
	}
	if tg.KnownHosts != filepath.Join(home, ".ssh", "known_web") {
		t.Errorf("UserKnownHostsFile = %q", tg.KnownHosts)
	}
	// What the target says beats the config; Host * fills in the user.
	if tg, _ = cfg.Resolve("root@web:22", "me"); tg.User != "root" || tg.Port != 22 {
		t.Errorf("explicit user and port lost: %+v", tg)
	}
	if tg, _ = cfg.Resolve("other", "me"); tg.User != "fallback" || tg.Addr() != "other:22" {
		t.Errorf("Host * not applied: %+v", tg)
	}
	if _, err := cfg.Resolve("jump", "me"); err == nil || !strings.Contains(err.Error(), "ProxyJump") {
		t.Errorf("ProxyJump not refused: %v", err)
	}
	// No config: the local user name.
	if tg, _ = (*Config)(nil).Resolve("host", "me"); tg.User != "me" || tg.Port != 22 {
		t.Errorf("no config: %+v", tg)
	}
	if _, err := LoadConfig(home, []string{filepath.Join(home, "nope")}, nil); err == nil {
		t.Error("a missing --ssh-config file was accepted")
	}
	if _, err := LoadConfig(home, []string{write(t, "bad", "Match exec true\n")}, nil); err == nil {
		t.Error("an ssh_config with Match exec was accepted")
	}
	badPort := write(t, "badport", "Host x\n  Port abc\n")
	cfg, err = LoadConfig(home, []string{badPort}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Resolve("x", "me"); err == nil || !strings.Contains(err.Error(), badPort) {
		t.Errorf("bad Port: %v", err)
	}
}
