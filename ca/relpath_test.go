package ca

import (
	"path/filepath"
	"strings"
	"testing"
)

// relativeTo answers as the working-directory reference does, for
// relative, absolute and mixed paths, inside and outside the store.
func TestRelativeTo(t *testing.T) {
	reference := func(dir, path string) string {
		abs, _ := filepath.Abs(path)
		absDir, _ := filepath.Abs(dir)
		if rel, err := filepath.Rel(absDir, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return rel
		}
		return abs
	}
	cwd, _ := filepath.Abs(".")
	dirs := []string{"pki", "./pki/", "a/../pki", ".", "..", "/srv/pki", cwd + "/pki"}
	paths := []string{"pki/web.crt", "pki/sub/web.crt", "other/web.crt", "pki/../x.crt", "../up.crt",
		"web.crt", "/srv/pki/web.crt", "/srv/other.crt", cwd + "/pki/web.crt", cwd + "/web.crt"}
	for _, d := range dirs {
		for _, p := range paths {
			if got, want := relativeTo(d, p), reference(d, p); got != want {
				t.Errorf("relativeTo(%q, %q) = %q, want %q", d, p, got, want)
			}
		}
	}
}
