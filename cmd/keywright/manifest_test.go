package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/store"
)

const manifestDir = "testdata/manifests"

// certView and sshView are what a test compares of an entry.
type certView struct {
	Line     int
	Name     string
	SANs     []string // canonical, with kind
	CN       string
	Profile  string
	Days     int
	CA       string
	Key      string
	Template string // the CN as Subject() has it
}

type sshView struct {
	Line    int
	Name    string
	Type    string
	Bits    int
	Key     string
	Comment string
	Cert    *SSHCertEntry
}

func viewCerts(m *Manifest) []certView {
	var out []certView
	for _, c := range m.Certs {
		out = append(out, certView{c.Line, c.Name, c.SANs.Values(), c.CN, c.Profile, c.Days, c.CA,
			c.Key.String(), c.Subject().CommonName})
	}
	return out
}

func viewSSH(m *Manifest) []sshView {
	var out []sshView
	for _, s := range m.SSH {
		out = append(out, sshView{s.Line, s.Name, s.Type, s.Bits, s.Key.String(), s.Comment, s.Cert})
	}
	return out
}

func manifestEnv(stdin io.Reader) *Env { return &Env{Stdin: stdin} }

// mustRead reads file as batch does, then its entries again (forEachEntry), which
// must come as many as the check counted.
func mustRead(t *testing.T, file string) *Manifest {
	t.Helper()
	m, err := readManifest(manifestEnv(strings.NewReader("")), file, nil)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(m.Certs)+len(m.SSH) != 0 {
		t.Fatalf("%s: readManifest kept %d entries; batch reads them again with forEachEntry", file, len(m.Certs)+len(m.SSH))
	}
	m.forEachEntry(keepEntries(m))
	if len(m.Certs) != m.NCerts || len(m.SSH) != m.NSSH {
		t.Fatalf("%s: each read %d+%d entries, the check counted %d+%d", file, len(m.Certs), len(m.SSH), m.NCerts, m.NSSH)
	}
	return m
}

func TestManifestGoodYAML(t *testing.T) {
	file := filepath.Join(manifestDir, "good.yaml")
	m := mustRead(t, file)
	if m.File != file || m.Kind != manifestYAML {
		t.Errorf("file %q kind %q", m.File, m.Kind)
	}
	wantCerts := []certView{
		{7, "web1", []string{"dns:web1.example.com", "ip:10.0.0.1"},
			"web1.example.com", "server", 90, "int", "ecdsa p256", "web1.example.com"},
		// The CN defaults to the first DNS name, in canonical form; days and
		// ca from defaults.
		{13, "web2", []string{"dns:web2.example.com", "email:ops@example.com"},
			"web2.example.com", "server", 30, "int", "ecdsa p256", "web2.example.com"},
		// One string where a list goes is a list of one.
		{17, "api", []string{"dns:api.example.com"},
			"api.example.com", "server-client", 30, "other", "rsa 4096", "api.example.com"},
		// No DNS name: no CN; an IPv4-mapped address is written as IPv4.
		{23, "ip-only", []string{"ip:192.0.2.7"}, "", "server", 30, "int", "ecdsa p384", ""},
	}
	if got := viewCerts(m); !reflect.DeepEqual(got, wantCerts) {
		t.Errorf("certificates:\n got %+v\nwant %+v", got, wantCerts)
	}
	wantSSH := []sshView{
		{28, "deploy", "ed25519", 0, "ed25519", "deploy@ci", &SSHCertEntry{Line: 32, CA: "users", Identity: "deploy", Principals: []string{"deploy"}, Days: 7}},
		{37, "legacy", "rsa", 3072, "rsa 3072", "", nil},
		{40, "host1", "ecdsa", 384, "ecdsa p384", "", &SSHCertEntry{Line: 44, CA: "hosts", Identity: "host1.example.com",
			Principals: []string{"host1.example.com"}, Days: sshCertDefaultDays, Host: true}},
	}
	if got := viewSSH(m); !reflect.DeepEqual(got, wantSSH) {
		t.Errorf("ssh:\n got %+v\nwant %+v", got, wantSSH)
	}
	if want := []CARef{{"int", 3}, {"other", 20}}; !reflect.DeepEqual(m.CAs, want) {
		t.Errorf("CAs %v, want %v", m.CAs, want)
	}
	if want := []CARef{{"users", 32}, {"hosts", 44}}; !reflect.DeepEqual(m.SSHCAs, want) {
		t.Errorf("SSH CAs %v, want %v", m.SSHCAs, want)
	}
	if f := m.SSH[1].flags(); f.Type != "rsa" || f.Bits != 3072 {
		t.Errorf("flags %+v", f)
	}
}

func TestManifestGoodCSV(t *testing.T) {
	file := filepath.Join(manifestDir, "good.csv")
	m := mustRead(t, file)
	if m.Kind != manifestCSV || len(m.SSH) != 0 {
		t.Errorf("kind %q, %d ssh entries", m.Kind, len(m.SSH))
	}
	// A byte order mark, a comment, blank lines, a header in another order
	// and case, quoted cells, sans split at ';' and spaces.
	want := []certView{
		{4, "web1", []string{"dns:web1.example.com", "ip:10.0.0.1"},
			"web1.example.com", "server", 90, "int", "ecdsa p256", "web1.example.com"},
		{5, "web2", []string{"dns:web2.example.com", "dns:www.example.com"},
			"www.example.com", "client", 0, "", "rsa 2048", "www.example.com"}, // days left out: the default, fitted to the CA
		{7, "db1", []string{"dns:db1.example.com", "ip:10.0.0.5"},
			"db1.example.com", "server-client", 825, "int", "ecdsa p521", "db1.example.com"},
	}
	if got := viewCerts(m); !reflect.DeepEqual(got, want) {
		t.Errorf("certificates:\n got %+v\nwant %+v", got, want)
	}
	if want := []CARef{{"int", 4}}; !reflect.DeepEqual(m.CAs, want) {
		t.Errorf("CAs %v, want %v", m.CAs, want)
	}
}

func TestManifestDefaultsKey(t *testing.T) {
	m := mustRead(t, filepath.Join(manifestDir, "defaults_key.yaml"))
	got := map[string]string{}
	for _, c := range m.Certs {
		got[c.Name] = c.Key.String() + " " + c.Profile
	}
	want := map[string]string{
		"inherits":   "rsa 4096 client",
		"smaller":    "rsa 2048 client",
		"other-type": "ecdsa p256 client", // another type takes no bits from defaults
		"same-type":  "rsa 4096 server",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// The kind comes from the content for another extension and for stdin.
func TestManifestKindByContent(t *testing.T) {
	for _, tc := range []struct{ file, kind string }{
		{"yaml_content.txt", manifestYAML},
		{"csv_content.txt", manifestCSV},
	} {
		m := mustRead(t, filepath.Join(manifestDir, tc.file))
		if m.Kind != tc.kind || len(m.Certs) != 1 || m.Certs[0].SANs.Len() != 2 {
			t.Errorf("%s: kind %q, %+v", tc.file, m.Kind, m.Certs)
		}
		data, err := os.ReadFile(filepath.Join(manifestDir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		m, err = readManifest(manifestEnv(strings.NewReader(string(data))), "-", nil)
		if err != nil || m.Kind != tc.kind || m.File != "stdin" {
			t.Errorf("stdin %s: %v %+v", tc.file, err, m)
		}
	}
	_, err := readManifest(manifestEnv(strings.NewReader("name,sans\nweb1,web..example\n")), "-", nil)
	if err == nil || err.Error() != `stdin:2: sans: invalid subject alternative name "web..example": a DNS name must not have an empty label` {
		t.Errorf("stdin: %v", err)
	}
}

// manifestLines are the problems of reading file, one line each.
func manifestLines(t *testing.T, file string) []string {
	t.Helper()
	_, err := readManifest(manifestEnv(strings.NewReader("")), file, nil)
	var me *manifestError
	if !errors.As(err, &me) {
		t.Fatalf("%s: error %v (%T), want a *manifestError", file, err, err)
	}
	if err.Error() != strings.Join(me.ErrorLines(), "\n") {
		t.Errorf("Error() %q is not the lines", err.Error())
	}
	return me.ErrorLines()
}

func TestManifestProblems(t *testing.T) {
	tests := map[string]string{
		"unknown_field.yaml":           `4: certificates[0]: unknown field "colour" (want name, sans, cn, profile, days, ca, type, bits, curve)`,
		"unknown_section.yaml":         `1: manifest: unknown field "certificate" (want defaults, certificates, ssh)`,
		"duplicate_name.yaml":          `6: certificates[2]: duplicate name "web1" (first on line 2)`,
		"duplicate_name_case.yaml":     `4: certificates[1]: duplicate name "WEB1" (first on line 2 as "web1"; names that differ only in case are one file on macOS and Windows)`,
		"duplicate_ssh_name.yaml":      `6: ssh[1]: duplicate name "deploy" (first on line 5)`,
		"duplicate_key.yaml":           `4: certificates[0].name: duplicate field (first on line 2)`,
		"bad_san.yaml":                 `5: certificates[0].sans: invalid subject alternative name "web..example": a DNS name must not have an empty label`,
		"bad_name.yaml":                `2: certificates[0].name: invalid name "../web1": must not start with '.' or '-'`,
		"missing_name.yaml":            `2: certificates[0]: no name: every entry needs a NAME`,
		"missing_sans.yaml":            `2: certificates[0].sans: missing: at least one DNS name, IP address, email or URI`,
		"empty_sans.yaml":              `3: certificates[0].sans: missing: at least one DNS name, IP address, email or URI`,
		"sans_mapping.yaml":            `4: certificates[0].sans: want a list of strings, got a mapping`,
		"ca_profile.yaml":              `4: certificates[0].profile: unknown profile "ca" for a certificate: use client, code-signing, email, server, server-client`,
		"unknown_profile.yaml":         `4: certificates[0].profile: unknown profile "web" for a certificate: use client, code-signing, email, server, server-client`,
		"days_over.yaml":               `4: certificates[0].days: invalid validity: 826 days is over the 825-day limit for leaf certificates`,
		"days_zero.yaml":               `4: certificates[0].days: 0 days: give at least 1, or leave days out for the default (90)`,
		"days_string.yaml":             `4: certificates[0].days: want a whole number, got the string "30d"`,
		"key_curve_rsa.yaml":           `5: certificates[0].curve: unsupported key: a curve is only for ecdsa keys, not rsa`,
		"key_rsa_small.yaml":           `5: certificates[0].bits: unsupported key: rsa key of 1024 bits: must be 2048 to 8192 bits`,
		"cn_not_san.yaml":              `4: certificates[0].cn: CN "Web Server" must be one of the SANs, and it is not a DNS name or an IP address to add as one`,
		"bad_ca_name.yaml":             `4: certificates[0].ca: invalid name "ca/int": only letters, digits, '.', '_' and '-' are allowed`,
		"defaults_sans.yaml":           `2: defaults.sans: not allowed in defaults: it names one certificate, and a default would give every certificate the same name`,
		"defaults_bad_profile.yaml":    `2: defaults.profile: unknown profile "servr" for a certificate: use client, code-signing, email, server, server-client`,
		"not_mapping.yaml":             `1: want a mapping with certificates:, ssh: and defaults:, got a list`,
		"certificates_mapping.yaml":    `2: certificates: want a list of entries (- name: ...), got a mapping`,
		"two_documents.yaml":           `4: a second YAML document: a manifest is one document`,
		"syntax.yaml":                  `3: not valid YAML: did not find expected ',' or ']'`,
		"syntax_key.yaml":              `4: not valid YAML: could not find expected ':'`,
		"alias.yaml":                   `5: alias *names: aliases are not supported (repeat the value, or use defaults:)`,
		"empty.yaml":                   `: empty manifest`,
		"no_entries.yaml":              `: no entries: a manifest lists certificates or ssh keys`,
		"ssh_no_principals.yaml":       `4: ssh[0].certificate.principals: missing: at least one principal (user, or host name for host: true)`,
		"ssh_bad_principal.yaml":       `6: ssh[0].certificate.principals: principal "ops team": no spaces, commas, quotes or control characters`,
		"ssh_ecdsa_bits.yaml":          `4: ssh[0].bits: unsupported key: an ecdsa key of 224 bits: use 256, 384 or 521`,
		"ssh_unknown_type.yaml":        `3: ssh[0].type: unsupported key: type "dsa": use ecdsa, rsa or ed25519`,
		"ssh_days_zero.yaml":           `7: ssh[0].certificate.days: 0: an SSH certificate is valid for 1 to 10950 days (30 years)`,
		"ssh_comment_newline.yaml":     `3: ssh[0].comment: newline, carriage return or NUL is not allowed`,
		"ssh_no_identity.yaml":         `4: ssh[0].certificate.identity: missing: the key id that sshd logs (ssh sign --identity)`,
		"ssh_host_string.yaml":         `7: ssh[0].certificate.host: want true or false, got the string "yes"`,
		"ssh_certificate_list.yaml":    `3: ssh[0].certificate: want a mapping (ca:, identity:, principals:, ...), got a list`,
		"csv_unknown_column.csv":       `1: unknown column "colour" (want name, sans, cn, profile, days, ca, type, bits, curve)`,
		"csv_no_sans.csv":              `1: no sans column: a CSV manifest needs name and sans`,
		"csv_duplicate_column.csv":     `1: column "name" twice (columns 1 and 3)`,
		"csv_field_count.csv":          `2: 2 fields, but the header has 3`,
		"csv_bits.csv":                 `2: bits: want a whole number, got "lots"`,
		"csv_bare_quote.csv":           `3: not valid CSV: bare " in non-quoted-field (column 4)`,
		"csv_duplicate_name.csv":       `3: duplicate name "web1" (first on line 2)`,
		"csv_bad_san.csv":              `2: sans: invalid subject alternative name "10.0.0.0/8": an IP SAN is one address, not a network (CIDR)`,
		"csv_missing_name.csv":         `2: no name: every entry needs a NAME`,
		"csv_header_only.csv":          `: no entries: a manifest lists certificates or ssh keys`,
		"syntax_line1.yaml":            `2: not valid YAML: did not find expected ',' or ']'`,
		"syntax_indent.yaml":           `2: not valid YAML: did not find expected key`,
		"ssh_days_overflow.yaml":       `7: ssh[0].certificate.days: 106752: an SSH certificate is valid for 1 to 10950 days (30 years)`,
		"defaults_name.yaml":           `2: defaults.name: not allowed in defaults: it names one certificate, and a default would give every certificate the same name`,
		"certificate_not_mapping.yaml": `2: certificates[0]: want a mapping (name: ...), got the string "web1"`,
	}
	files, err := filepath.Glob(filepath.Join(manifestDir, "bad", "*"))
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		want, ok := tests[name]
		if !ok {
			t.Errorf("%s: not in the table", name)
			continue
		}
		delete(tests, name)
		t.Run(name, func(t *testing.T) {
			if want[0] != ':' {
				want = ":" + want // FILE:LINE: ...; FILE: ... for the whole file
			}
			got := manifestLines(t, file)
			if len(got) != 1 || got[0] != file+want {
				t.Errorf("got %q\nwant %q", got, file+want)
			}
		})
	}
	for name := range tests {
		t.Errorf("%s: no such file in %s/bad", name, manifestDir)
	}
}

// Every problem is reported, in line order, not just the first.
func TestManifestAllProblems(t *testing.T) {
	file := filepath.Join(manifestDir, "five_problems.yaml")
	want := []string{
		file + `:3: defaults.profile: unknown profile "servr" for a certificate: use client, code-signing, email, server, server-client`,
		file + `:7: certificates[1]: duplicate name "web1" (first on line 5)`,
		file + `:10: certificates[2].sans: invalid subject alternative name "web3..example.com": a DNS name must not have an empty label`,
		file + `:11: certificates[2].days: invalid validity: 1000 days is over the 825-day limit for leaf certificates`,
		file + `:14: ssh[0].type: unsupported key: type "dsa": use ecdsa, rsa or ed25519`,
	}
	if got := manifestLines(t, file); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Past maxManifestProblems, the rest are counted.
func TestManifestProblemCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("name,sans\n")
	for i := 0; i < maxManifestProblems+25; i++ {
		fmt.Fprintf(&b, "bad/%d,web%d.example\n", i, i)
	}
	_, err := parseManifest("many.csv", "", []byte(b.String()))
	var me *manifestError
	if !errors.As(err, &me) {
		t.Fatalf("%v", err)
	}
	lines := me.ErrorLines()
	if len(lines) != maxManifestProblems+1 || lines[len(lines)-1] != "many.csv: ... and 25 more" ||
		!strings.HasPrefix(lines[0], `many.csv:2: name: invalid name "bad/0"`) {
		t.Errorf("%d lines: first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	// A problem merged later (an unknown CA, found after the check) but
	// earlier in the file is among those listed.
	me.merge(&manifestError{File: "many.csv", Problems: []manifestProblem{{Line: 1, Msg: "ca: no CA \"x\""}}})
	lines = me.orNil().(*manifestError).ErrorLines()
	if len(lines) != maxManifestProblems+1 || lines[0] != `many.csv:1: ca: no CA "x"` || lines[len(lines)-1] != "many.csv: ... and 26 more" {
		t.Errorf("after a merge, %d lines: first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}

// The UI prints each problem as its own error line (README "Output and exit codes"), exit 1.
func TestManifestErrorReport(t *testing.T) {
	_, err := readManifest(manifestEnv(nil), filepath.Join(manifestDir, "five_problems.yaml"), nil)
	var b strings.Builder
	reportError(&b, fmt.Errorf("batch: %w", err))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 5 || exitCode(err) != exitError {
		t.Fatalf("exit %d, printed:\n%s", exitCode(err), b.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "keywright: error: "+filepath.Join(manifestDir, "five_problems.yaml")+":") {
			t.Errorf("line %q", l)
		}
	}
}

// An alias bomb is refused without expanding it: reading it allocates
// about what the text does, not 9^9 names.
func TestManifestAliasBomb(t *testing.T) {
	file := filepath.Join(manifestDir, "bomb.yaml")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	lines := manifestLines(t, file)
	runtime.ReadMemStats(&after)
	if len(lines) != 64 || lines[0] != file+":3: alias *a: aliases are not supported (repeat the value, or use defaults:)" {
		t.Errorf("%d lines, first %q", len(lines), lines[0])
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("reading the bomb allocated %d bytes", alloc)
	}
}

// endless is an input with no end, counting what is read of it.
type endless struct{ n int64 }

func (r *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '#'
	}
	r.n += int64(len(p))
	return len(p), nil
}

// A file over maxManifestFile, and stdin over store.MaxFileSize, are
// refused before they are parsed, and no more of stdin is read than the
// cap.
func TestManifestTooLarge(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, maxManifestFile+1); err != nil { // sparse: nothing written
		t.Fatal(err)
	}
	if _, err := readManifest(manifestEnv(nil), big, nil); !errors.Is(err, store.ErrTooLarge) || !strings.Contains(err.Error(), "over 64 MiB") {
		t.Errorf("file: %v", err)
	}
	in := &endless{}
	_, err := readManifest(manifestEnv(in), "-", nil)
	if !errors.Is(err, store.ErrTooLarge) || !strings.HasPrefix(fault.Text(err), "stdin: ") {
		t.Errorf("stdin: %v", err)
	}
	if in.n > store.MaxFileSize+1<<20 {
		t.Errorf("read %d bytes of stdin", in.n)
	}
	if _, err := readManifest(manifestEnv(nil), filepath.Join(t.TempDir(), "none.yaml"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzReadManifest: no input makes the reader panic, and what it accepts
// or refuses has the shape its callers rely on.
func FuzzReadManifest(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(manifestDir, "*.*"))
	bad, _ := filepath.Glob(filepath.Join(manifestDir, "bad", "*"))
	for _, file := range append(seeds, bad...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, strings.HasSuffix(file, ".csv"))
	}
	f.Fuzz(func(t *testing.T, data []byte, isCSV bool) {
		kind := map[bool]string{true: manifestCSV, false: manifestYAML}[isCSV]
		m, err := parseManifest("fuzz", kind, data)
		if err != nil {
			var me *manifestError
			if !errors.As(err, &me) || len(me.Problems) == 0 || len(me.Problems) > maxManifestProblems {
				t.Fatalf("error %T %v", err, err)
			}
			for _, l := range me.ErrorLines() {
				if !strings.HasPrefix(l, "fuzz:") {
					t.Fatalf("line %q", l)
				}
			}
			return
		}
		if len(m.Certs)+len(m.SSH) == 0 {
			t.Fatal("accepted a manifest with no entry")
		}
		for _, c := range m.Certs {
			if store.ValidateName(c.Name) != nil || c.SANs.Empty() || c.Line < 1 || c.Days < 0 || c.Key.Type == "" {
				t.Fatalf("accepted %+v", c)
			}
			if c.CN != "" && !c.SANs.Contains(c.CN) {
				t.Fatalf("CN %q not among %v", c.CN, c.SANs.Values())
			}
		}
		for _, s := range m.SSH {
			if store.ValidateName(s.Name) != nil || s.Line < 1 || (s.Cert != nil && len(s.Cert.Principals) == 0) {
				t.Fatalf("accepted %+v", s)
			}
		}
	})
}

// manifestOf makes a manifest of n certificates (3 DNS names and an IP
// each, as the batch benchmark of issue 9) in kind.
func manifestOf(kind string, n int) []byte {
	var b strings.Builder
	if kind == manifestCSV {
		b.WriteString("name,sans,ca\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "host%d,host%d.example.com;api%d.example.com;www%d.example.com;10.%d.%d.%d,int\n",
				i, i, i, i, i>>16&255, i>>8&255, i&255)
		}
		return []byte(b.String())
	}
	b.WriteString("defaults:\n  ca: int\ncertificates:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - name: host%d\n    sans: [host%d.example.com, api%d.example.com, www%d.example.com, 10.%d.%d.%d]\n",
			i, i, i, i, i>>16&255, i>>8&255, i&255)
	}
	return []byte(b.String())
}

// BenchmarkReadManifest10k parses and checks 10,000 entries (it should
// take well under a second).
func BenchmarkReadManifest10k(b *testing.B) {
	for _, kind := range []string{manifestYAML, manifestCSV} {
		data := manifestOf(kind, 10000)
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				m, err := parseManifest("bench", kind, data)
				if err != nil || len(m.Certs) != 10000 {
					b.Fatal(err)
				}
			}
		})
	}
}

// The benchmark's manifests are good ones (so it measures the whole check).
func TestManifestOf(t *testing.T) {
	for _, kind := range []string{manifestYAML, manifestCSV} {
		m, err := parseManifest("gen", "", manifestOf(kind, 300))
		if err != nil || m.Kind != kind || len(m.Certs) != 300 || m.Certs[299].SANs.Len() != 4 {
			t.Fatalf("%s: %v", kind, err)
		}
	}
}
