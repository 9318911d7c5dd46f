package main

import (
	"fmt"
	"time"
)

// checkLockTimeout checks a --lock-timeout value (README "The record"): 0
// tries the lock once, a negative value is a usage error (exit 2).
func checkLockTimeout(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("--lock-timeout %s: must not be negative (0 tries the lock once)", d)
	}
	return nil
}

// Validate is run by kong, before the command, for every command that
// embeds CAKeyFlags; its error is a usage error.
func (f CAKeyFlags) Validate() error { return checkLockTimeout(f.LockTimeout) }

// Validate: ca revoke declares its own --lock-timeout.
func (c *CARevokeCmd) Validate() error { return checkLockTimeout(c.LockTimeout) }
