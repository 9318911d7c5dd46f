//go:build windows

package store

import (
	"io/fs"
	"os"
)

// keepOwner: owners are not kept on Windows (see owner_unix.go).
func keepOwner(*os.File, fs.FileInfo) error { return nil }
