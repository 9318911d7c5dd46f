package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/keywright/keywright/store"
)

// The errors of issue 10 map to their exit codes and carry their fix.
func TestInterruptAndModeErrors(t *testing.T) {
	tests := []struct {
		err  error
		code int
		out  []string
	}{
		{fmt.Errorf("ca: issue: %w", store.ErrInterrupted), exitInterrupted, []string{"keywright: interrupted\n"}},
		{fmt.Errorf("dial: %w", context.Canceled), exitInterrupted, []string{"keywright: interrupted\n"}},
		{errorf("x: %w", &store.SecretModeError{Path: "my keys/web.key", Mode: 0o640}), exitError, []string{
			"keywright: error: x: my keys/web.key: mode 0640 lets group or others access a private key\n",
			"keywright: hint: make it readable by its owner only: chmod 600 'my keys/web.key'\n"}},
		{&store.DirModeError{Dir: "pki", Mode: 0o777}, exitError, []string{
			"keywright: error: pki: mode 0777 lets group or others write in the store\n",
			"keywright: hint: make it the owner's only: chmod 700 pki\n"}},
		{fmt.Errorf("store: pki: %w: no such directory (from --store)", store.ErrNoStore), exitError, []string{
			"keywright: hint: a command that writes (key new, issue, ca init) creates the store"}},
	}
	for _, tc := range tests {
		if got := exitCode(tc.err); got != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.err, got, tc.code)
		}
		var b strings.Builder
		reportError(&b, tc.err)
		for _, want := range tc.out {
			if !strings.Contains(b.String(), want) {
				t.Errorf("%v: printed %q, want %q in it", tc.err, b.String(), want)
			}
		}
	}
}
