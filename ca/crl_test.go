package ca

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A CRL's thisUpdate is backdated for clocks that lag, but never to before
// a revocation it lists: a CRL signed a minute after a revocation once
// said it was issued four minutes before it.
func TestCRLThisUpdateNotBeforeRevocations(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	web := issueLeaf(t, st, root, "web")
	ctx := context.Background()
	revokedAt := testNow.Add(time.Hour)
	if _, err := root.Revoke(ctx, RevokeRequest{Serial: web.Cert.SerialNumber, Reason: "key-compromise", Now: revokedAt, LockTimeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(st.Dir, "root.crl")
	for _, tt := range []struct {
		now, want time.Time
	}{
		{revokedAt, revokedAt},                                      // at once: as old as the revocation
		{revokedAt.Add(time.Minute), revokedAt},                     // within the backdate
		{revokedAt.Add(time.Hour), revokedAt.Add(55 * time.Minute)}, // later: backdated as ever
	} {
		crl, err := root.CRL(ctx, CRLRequest{Path: path, Days: 7, Now: tt.now, LockTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		l := crl.List
		if len(l.RevokedCertificateEntries) != 1 || !l.RevokedCertificateEntries[0].RevocationTime.Equal(revokedAt) {
			t.Fatalf("revoked entries %+v", l.RevokedCertificateEntries)
		}
		if !l.ThisUpdate.Equal(tt.want) || l.ThisUpdate.Before(revokedAt) {
			t.Errorf("CRL at %s: thisUpdate %s, want %s (revoked at %s)", tt.now, l.ThisUpdate, tt.want, revokedAt)
		}
		if !l.NextUpdate.Equal(l.ThisUpdate.Add(7 * 24 * time.Hour)) {
			t.Errorf("nextUpdate %s, want thisUpdate + 7 days", l.NextUpdate)
		}
	}
}
