package keygen

import "github.com/keywright/keywright/internal/fault"

// errorf and newError make this package's errors: its name in front once,
// however deep the error is wrapped (internal/fault).
func errorf(format string, args ...any) error { return fault.Errorf("keygen", format, args...) }

func newError(text string) error { return fault.New("keygen", text) }
