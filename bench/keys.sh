#!/usr/bin/env bash
# Key generation, end to end: `keywright key new` against `openssl genpkey`,
# per key type, as mean wall milliseconds per key and the ratio to openssl.
# The in-process limit (no process start, no file) is
#   go test -run '^$' -bench 'BenchmarkGenerate' ./keygen
# Usage: bench/keys.sh [N]   (N keys per tool and type, default 20)
set -euo pipefail
n=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/keywright" "$root/cmd/keywright"

# mean_ms CMD...: run CMD with the run number appended, n times.
mean_ms() {
	local start end i
	start=$(date +%s%N)
	for i in $(seq "$n"); do "$@" "$i" >/dev/null 2>&1; done
	end=$(date +%s%N)
	echo $(((end - start) / n / 1000000))
}
kw() { "$work/keywright" --store "$work/pki" --force -q key new "k$2" $1; }
ossl() { openssl genpkey $1 -out "$work/o$2.key"; }

printf '%-12s %12s %12s %8s\n' type keywright_ms openssl_ms ratio
while IFS='|' read -r name kwflags osflags; do
	a=$(mean_ms kw "$kwflags")
	b=$(mean_ms ossl "$osflags")
	printf '%-12s %12s %12s %8s\n' "$name" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
done <<'TYPES'
ecdsa-p256|--type ecdsa|-algorithm EC -pkeyopt ec_paramgen_curve:P-256
ed25519|--type ed25519|-algorithm ED25519
rsa-3072|--type rsa --bits 3072|-algorithm RSA -pkeyopt rsa_keygen_bits:3072
TYPES
