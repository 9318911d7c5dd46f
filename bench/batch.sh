#!/usr/bin/env bash
# A fleet of N server certificates (P-256, 3 DNS names and 1 IP each, one
# P-256 CA) four ways, as wall milliseconds per certificate, certificates per
# second and the ratios:
#   batch    one `keywright batch` of the N entries (group commits);
#   floor    bench/floor: the same work with the Go standard library alone and
#            the same durability (the in-process floor);
#   issue    `keywright issue` processes, one after another, for a sample of
#            S entries, extrapolated;
#   openssl  a loop of one-process `openssl req -x509 -new -CA` (OpenSSL 3.0+;
#            without it: genpkey + req + x509 -req) for the sample, writing key
#            and certificate, no record, no fsync.
# The peak memory of batch and floor (GNU time, when present) is printed too.
# Usage: bench/batch.sh [N] [S] [RUNS]   (default 10000 entries, a sample of
# 200, 3 runs of batch and floor)
set -euo pipefail
n=${1:-10000}
sample=${2:-200}
runs=${3:-3}
[ "$sample" -le "$n" ] || sample=$n
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/keywright" "$root/cmd/keywright"
go build -o "$work/floor" "$root/bench/floor"
kw() { "$work/keywright" --store "$1" -q "${@:2}"; }

names() { for i in $(seq "$n"); do echo "h$i"; done; }
ip() { echo "10.$(($1 / 65536 % 256)).$(($1 / 256 % 256)).$(($1 % 256))"; }
{
	printf 'defaults:\n  ca: bench-ca\ncertificates:\n'
	for i in $(seq "$n"); do
		printf '  - name: h%d\n    sans: [h%d.example.test, www.h%d.example.test, api.h%d.example.test, %s]\n' "$i" "$i" "$i" "$i" "$(ip "$i")"
	done
} >"$work/fleet.yaml"
kw "$work/i" ca init bench-ca --no-passphrase
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" \
	-out "$work/ca.crt" -subj "/CN=bench openssl CA" -days 365 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
mkdir -p "$work/o"

now() { date +%s%N; }

# What one file costs here: creating an empty file in a new directory of the
# work area. On tmpfs it is about 10 µs; on the development machine's ext4 it
# varied from 30 µs to 1 ms with the directory's place on the disk, and
# every certificate creates four (batch and floor alike).
mkdir "$work/probe"
probe_start=$(now)
for i in $(seq 500); do : >"$work/probe/f$i"; done
create_us=$(awk -v t="$(($(now) - probe_start))" 'BEGIN { printf "%.0f", t / 500 / 1000 }')
rm -rf "$work/probe"
perms() { awk -v t="$1" -v n="${2:-$n}" 'BEGIN { printf "%.2f", t / n / 1e6 }'; }
timed() { # RSSFILE CMD...: runs CMD under GNU time when there is one
	local out=$1
	shift
	if command -v /usr/bin/time >/dev/null; then /usr/bin/time -f '%M' -o "$out" "$@"; else "$@"; fi
}

# batch and floor run RUNS times each, alternately and in turns first (the
# file system's state after the last run's files weighs on whichever runs
# next); each figure is the least, each peak the largest.
run_batch() { # STORE
	kw "$1" ca init bench-ca --no-passphrase
	local start=$(now)
	timed "$work/rss.$2" "$work/keywright" --store "$1" batch "$work/fleet.yaml" 2>"$work/batch.err"
	echo $(($(now) - start))
	grep -q "batch: $n issued, 0 renewed, 0 skipped, 0 failed" "$work/batch.err" || { cat "$work/batch.err" >&2; exit 1; }
}
run_floor() { # DIR
	local start=$(now)
	timed "$work/floor.rss.$2" "$work/floor" -dir "$1" -n "$n"
	echo $(($(now) - start))
}
least() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }
bt= ft=
for r in $(seq "$runs"); do
	if [ $((r % 2)) -eq 1 ]; then
		bt=$(least "$bt" "$(run_batch "$work/b$r" "$r")"); ft=$(least "$ft" "$(run_floor "$work/f$r" "$r")")
	else
		ft=$(least "$ft" "$(run_floor "$work/f$r" "$r")"); bt=$(least "$bt" "$(run_batch "$work/b$r" "$r")")
	fi
done
batch=$(perms "$bt")
floor=$(perms "$ft")
maxrss() { # the largest peak of the runs' GNU time files NAME.*, or -
	local f best=-
	for f in "$work/$1".*; do
		[ -f "$f" ] || continue
		local v=$(tail -n 1 "$f")
		if [ "$best" = - ] || [ "$v" -gt "$best" ]; then best=$v; fi
	done
	echo "$best"
}

# Memory must not grow with the manifest: the peak of a batch of the
# first 1,000 entries (when N is larger), beside the peak at N.
small=
if [ "$n" -gt 1000 ] && command -v /usr/bin/time >/dev/null; then
	head -n $((3 + 2 * 1000)) "$work/fleet.yaml" >"$work/fleet1k.yaml"
	kw "$work/s" ca init bench-ca --no-passphrase
	/usr/bin/time -f '%M' -o "$work/small.rss" "$work/keywright" --store "$work/s" batch "$work/fleet1k.yaml" 2>/dev/null
	small=$(tail -n 1 "$work/small.rss")
	rm -rf "$work/s"
fi

start=$(now)
for i in $(seq "$sample"); do
	kw "$work/i" issue "h$i" --san "h$i.example.test" --san "www.h$i.example.test" --san "api.h$i.example.test" --san "$(ip "$i")"
done
issue=$(perms $(($(now) - start)) "$sample")

new_ca=yes
openssl req -help 2>&1 | grep -q -- '-CA ' || new_ca=
start=$(now)
for i in $(seq "$sample"); do
	san="subjectAltName=DNS:h$i.example.test,DNS:www.h$i.example.test,DNS:api.h$i.example.test,IP:$(ip "$i")"
	if [ -n "$new_ca" ]; then
		openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/o/h$i.key" \
			-out "$work/o/h$i.crt" -subj "/CN=h$i.example.test" -days 90 -CA "$work/ca.crt" -CAkey "$work/ca.key" \
			-addext "$san" -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
	else
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/o/h$i.key" \
			-subj "/CN=h$i.example.test" -addext "$san" -out "$work/o/h$i.csr" 2>/dev/null
		openssl x509 -req -in "$work/o/h$i.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
			-days 90 -copy_extensions copy -out "$work/o/h$i.crt" 2>/dev/null
	fi
done
ossl=$(perms $(($(now) - start)) "$sample")

[ "$(ls "$work/b1"/h*.crt | wc -l)" -eq "$n" ] || { echo "batch: fewer than $n certificates" >&2; exit 1; }
[ "$(ls "$work/f1"/h*.crt | wc -l)" -eq "$n" ] || { echo "floor: fewer than $n certificates" >&2; exit 1; }
[ "$(ls "$work/i"/h*.crt | wc -l)" -eq "$sample" ] || { echo "issue: fewer than $sample certificates" >&2; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
persec() { awk -v ms="$1" 'BEGIN { printf "%.0f", 1000 / ms }'; }
printf 'N=%d (batch and floor: least of %d runs; loops: a sample of %d, extrapolated) on %d CPUs\n' "$n" "$runs" "$sample" "$(nproc)"
printf 'creating an empty file in the work area (%s): %s us\n' "$work" "$create_us"
printf '%-36s %8s %10s %12s\n' what ms/cert certs/s "peak KiB"
printf '%-36s %8s %10s %12s\n' "keywright batch" "$batch" "$(persec "$batch")" "$(maxrss rss)"
printf '%-36s %8s %10s %12s\n' "floor (stdlib, same durability)" "$floor" "$(persec "$floor")" "$(maxrss floor.rss)"
printf '%-36s %8s %10s %12s\n' "keywright issue, one process each" "$issue" "$(persec "$issue")" -
printf '%-36s %8s %10s %12s\n' "openssl req -x509 -CA, one each" "$ossl" "$(persec "$ossl")" -
if [ -n "$small" ]; then
	printf 'batch peak memory: %s KiB at 1,000 entries, %s KiB at %d (x%s)\n' "$small" "$(maxrss rss)" "$n" "$(ratio "$(maxrss rss)" "$small")"
fi
printf 'batch speed / floor speed:  %s  (target >= 0.8)\n' "$(ratio "$floor" "$batch")"
printf 'batch speed / openssl loop: %s  (target >= 15)\n' "$(ratio "$ossl" "$batch")"
printf 'batch speed / issue loop:   %s\n' "$(ratio "$issue" "$batch")"
exit 0
