package ca

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/keywright/keywright/store"
)

// What a write in progress made look wrong is looked at again under the
// directory's lock and dropped when it no longer holds; the rest is kept.
func TestConfirmedDropsWhatNoLongerHolds(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	web := issueLeaf(t, st, root, "web")
	chain, _ := st.Path("web", store.Chain)
	gone := filepath.Join(st.Dir, "gone.crt")
	findings := []store.Finding{
		{Kind: store.FindingMissing, Path: web.Entry.File},                                  // there now
		{Kind: store.FindingMissing, Path: gone},                                            // still gone
		{Kind: store.FindingChain, Path: chain},                                             // starts with web.crt now
		{Kind: store.FindingPending, Path: filepath.Join(st.Dir, ".keywright-pending-1-x")}, // placed since
		{Kind: store.FindingMode, Path: chain},                                              // not transient
	}
	if !filepath.IsAbs(web.Entry.File) {
		findings[0].Path = filepath.Join(st.Dir, web.Entry.File)
	}
	if _, err := os.Stat(findings[0].Path); err != nil {
		t.Fatalf("the test's certificate is not where it says: %v", err)
	}
	got := confirmed(st.Dir, slices.Clone(findings))
	var paths []string
	for _, f := range got {
		paths = append(paths, f.Kind+" "+f.Path)
	}
	want := []string{store.FindingMissing + " " + gone, store.FindingMode + " " + chain}
	if !slices.Equal(paths, want) {
		t.Fatalf("confirmed %q, want %q", paths, want)
	}
}
