#!/usr/bin/env bash
# Start-up cost (issue 8): short keywright commands against their openssl /
# ssh-keygen peers, per run, with peak RSS. keywright is built as goreleaser
# builds it (CGO_ENABLED=0, -trimpath, -ldflags "-s -w"); a hello-world Go
# program built the same way is the floor for any Go binary (runtime start-up
# only), and /bin/true the cost of bash starting a process at all.
#
# Timing: the runs of keywright and of its peer alternate, so both see the
# same machine; each run is timed by bash ($EPOCHREALTIME, fork+exec
# included, as a user sees it). The table reports the MINIMUM per run, not the
# mean or median: noise on a shared machine (other processes, scheduler,
# page-cache writeback) only ever adds time, so the minimum over many runs is
# the most repeatable estimate of what the program itself costs, and the
# ratio of minimums compares programs rather than moments. STAT=median prints
# medians instead (what a typical run costs on this machine right now).
# Peak RSS is the median of 5 runs of GNU time's %M ("-" without
# /usr/bin/time).
#
# The files are written in a temporary directory under $BENCH_DIR (default
# $TMPDIR or /tmp): keywright fsyncs every file and its directory (README,
# "The store") and openssl and ssh-keygen do not, so on a disk the
# key-writing rows include that durability; BENCH_DIR=/dev/shm measures
# without it.
#
# Usage: bench/startup.sh [N]   (N runs per command and tool, default 200;
# about 20 s at the default on a 2-core machine, with a warm build cache)
set -euo pipefail
export LC_ALL=C # $EPOCHREALTIME and awk with a decimal point
for tool in go openssl ssh-keygen; do
	command -v "$tool" >/dev/null || { echo "bench/startup.sh needs $tool" >&2; exit 1; }
done
n=${1:-200}
stat=${STAT:-min}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/keywright-startup.XXXXXX")
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0
(cd "$root" && go build -trimpath -ldflags "-s -w" -o "$work/keywright" ./cmd/keywright)
mkdir "$work/hello" "$work/out"
printf 'module hello\n\ngo 1.26\n' >"$work/hello/go.mod"
printf 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("hello\\n") }\n' >"$work/hello/main.go"
(cd "$work/hello" && GOFLAGS= go build -trimpath -ldflags "-s -w" -o "$work/hello-go" .)

# One function per row and tool; $1 is the run number (a fresh file each
# run). $pre is empty when timing, GNU time when measuring RSS.
pre=()
kw() { "${pre[@]}" "$work/keywright" --store "$work/pki" -q "$@"; }
kw_version() { "${pre[@]}" "$work/keywright" --version; }
os_version() { "${pre[@]}" openssl version; }
kw_p256() { kw key new "p$1" --type ecdsa --curve p256; }
os_p256() { "${pre[@]}" openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/out/p$1.key"; }
kw_ed25519() { kw key new "e$1" --type ed25519; }
os_ed25519() { "${pre[@]}" openssl genpkey -algorithm ED25519 -out "$work/out/e$1.key"; }
kw_ssh() { kw ssh keygen "s$1" --type ed25519; }
os_ssh() { "${pre[@]}" ssh-keygen -q -t ed25519 -N '' -f "$work/out/s$1"; }
go_hello() { "${pre[@]}" "$work/hello-go"; }
bin_true() { "${pre[@]}" /bin/true; }

# timed A B: run A and B alternately n times; per-run microseconds to
# $work/A.us and $work/B.us.
timed() {
	local i t0 t1 t2
	: >"$work/$1.us"
	: >"$work/$2.us"
	for ((i = 1; i <= n; i++)); do
		t0=$EPOCHREALTIME
		"$1" "$i" </dev/null >/dev/null 2>&1 || { echo "$1 failed (run $i)" >&2; exit 1; }
		t1=$EPOCHREALTIME
		"$2" "$i" </dev/null >/dev/null 2>&1 || { echo "$2 failed (run $i)" >&2; exit 1; }
		t2=$EPOCHREALTIME
		echo $((${t1/./} - ${t0/./})) >>"$work/$1.us"
		echo $((${t2/./} - ${t1/./})) >>"$work/$2.us"
	done
}
# ms FILE: the minimum (or median) of the microsecond counts in FILE, in ms.
ms() {
	sort -n "$1" | awk -v stat="$stat" '{ v[NR] = $1 } END {
		x = (stat == "median") ? (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) : v[1]
		printf "%.2f", x / 1000 }'
}
# rss FN: median peak RSS of 5 runs of FN, in MiB.
rss() {
	local i
	if [ ! -x /usr/bin/time ]; then echo -; return; fi
	for i in 1 2 3 4 5; do
		pre=(/usr/bin/time -f %M -o "$work/rss")
		"$1" "rss$i" </dev/null >/dev/null 2>&1
		pre=()
		tail -n 1 "$work/rss"
	done | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[3] / 1024 }'
}

printf '%-22s %8s %8s %7s %9s %9s   (%s of %d runs; peer in brackets)\n' \
	command kw_ms peer_ms ratio kw_MiB peer_MiB "$stat" "$n"
while IFS='|' read -r label a b peer; do
	timed "$a" "$b"
	x=$(ms "$work/$a.us")
	y=$(ms "$work/$b.us")
	printf '%-22s %8s %8s %7s %9s %9s   [%s]\n' "$label" "$x" "$y" \
		"$(awk -v a="$x" -v b="$y" 'BEGIN { printf "%.2f", a / b }')" "$(rss "$a")" "$(rss "$b")" "$peer"
done <<'ROWS'
--version|kw_version|os_version|openssl version
key new p256|kw_p256|os_p256|openssl genpkey EC P-256
key new ed25519|kw_ed25519|os_ed25519|openssl genpkey ED25519
ssh keygen ed25519|kw_ssh|os_ssh|ssh-keygen -t ed25519 -N ''
floor: go hello-world|go_hello|os_version|openssl version
floor: /bin/true|bin_true|os_version|openssl version
ROWS
