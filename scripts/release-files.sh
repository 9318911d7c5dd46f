#!/bin/sh
# The completion scripts and the manual page every release archive carries,
# written by keywright itself: goreleaser runs this as a before hook
# (goreleaser.yaml) with the release version, which the man page shows.
# The files are generated, never committed (.gitignore).
#
# Usage: scripts/release-files.sh [VERSION]
set -eu
cd "$(dirname "$0")/.."
version=${1:-}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ldflags=""
if [ -n "$version" ]; then
	ldflags="-X main.version=v$version"
fi
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin/keywright" ./cmd/keywright
rm -rf completions manpages
mkdir completions manpages
for shell in bash zsh fish; do
	"$bin/keywright" completion "$shell" >"completions/keywright.$shell"
done
"$bin/keywright" man >manpages/keywright.1
