package trust

// isRoot: Windows has no root; the user's root store needs no elevation.
func isRoot() bool { return false }

// writable: Windows keeps no mode bits keywright can ask; the write says.
func writable(string) bool { return true }
