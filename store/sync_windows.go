//go:build windows

package store

// syncDir is a no-op on Windows, which cannot open a directory for fsync;
// NTFS journals the metadata of a rename itself.
func syncDir(string) error { return nil }
