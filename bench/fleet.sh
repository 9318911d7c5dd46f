#!/usr/bin/env bash
# Commands at fleet size (README "Performance"): the cost of each command in a
# store of 10, 1,000 and 10,000 certificates, as wall milliseconds per
# run, the ratio of the largest store to the smallest (1.00 = the store's size
# costs nothing), and the peak memory at the largest size. The store is grown
# in-process by bench/fill (the library, one CA, P-256 leaves), not by one
# process per certificate.
#
# Each figure is the minimum over RUNS runs (noise on a shared machine only
# ever adds time; the minimum is what the command itself costs), wall time
# and CPU time (perf's task-clock) measured apart.
#
# Usage: bench/fleet.sh [MAX] [RUNS]   (default 10000 certificates, 31 runs)
# Filling 10,000 certificates takes a few minutes: each one is fsynced.
set -euo pipefail
max=${1:-10000}
runs=${2:-31}
[ "$max" -gt 1000 ] || { echo "usage: bench/fleet.sh [MAX > 1000] [RUNS]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Built as goreleaser builds the release.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/keywright" "$root/cmd/keywright"
go build -o "$work/fill" "$root/bench/fill"
cd "$work"
kw() { ./keywright --store pki -q "$@"; }
kw ca init root --no-passphrase
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
	-subj "/CN=bench openssl CA" -days 365 -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# least_ms CMD...: runs CMD $runs times ({r} in it becomes the run number,
# so each run can name a new certificate) and prints the least wall ms.
least_ms() {
	local times=() r start
	for r in $(seq "$runs"); do
		local cmd=("${@//\{r\}/$r}")
		start=$(date +%s%N)
		"${cmd[@]}" >/dev/null 2>&1 || true
		times+=($(($(date +%s%N) - start)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk 'NR == 1 { printf "%.1f", $1 / 1e6 }'
}
# least_cpu CMD...: the least CPU milliseconds (user + system, perf's
# task-clock) of $runs more runs, or "-" without perf. CPU time is what a
# busy machine does not inflate; wall time includes waiting for the disk.
least_cpu() {
	command -v perf >/dev/null || { echo -; return; }
	local cpu=() r
	for r in $(seq "$runs"); do
		local cmd=("${@//\{r\}/x$r}")
		cpu+=("$(perf stat -x, -e task-clock -- "${cmd[@]}" 2>&1 >/dev/null | awk -F, '/task-clock/ { print $1 }')")
	done
	printf '%s\n' "${cpu[@]}" | sort -n | awk 'NR == 1 { printf "%.1f", $1 }'
}
# peak_mib CMD...: the peak resident memory of one more run, MiB.
peak_mib() {
	local cmd=("${@//\{r\}/$((runs + 1))}")
	/usr/bin/time -f %M -o rss.txt "${cmd[@]}" >/dev/null 2>&1 || true
	tail -n 1 rss.txt | awk '{ printf "%.1f", $1 / 1024 }' # after any "exited with" line
}

declare -A ms cpu mib
measure() { # NAME CMD...
	local name=$1 size=$2
	shift 2
	ms[$name,$size]=$(least_ms "$@")
	mib[$name,$size]=$(peak_mib "$@")
	cpu[$name,$size]=$(least_cpu "$@")
}
commands=(issue issue_ca verify renew revoke list expiring openssl_ca)
run_all() { # SIZE
	local s=$1
	measure issue "$s" ./keywright --store pki -q issue "a$s-{r}" --san "a$s-{r}.example.test"
	measure issue_ca "$s" ./keywright --store pki -q issue "b$s-{r}" --ca root --san "b$s-{r}.example.test"
	measure verify "$s" ./keywright --store pki -q verify f000001
	# renews the certificates issue just made ({r} and, for CPU, x{r})
	measure renew "$s" ./keywright --store pki -q renew "a$s-{r}"
	# revokes the certificates issue --ca just made, one per run
	measure revoke "$s" ./keywright --store pki -q ca revoke "b$s-{r}" --ca root
	measure list "$s" ./keywright --store pki list
	measure expiring "$s" ./keywright --store pki list --expiring 30d
	measure openssl_ca "$s" openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "o$s-{r}.key" -out "o$s-{r}.crt" -CA ca.crt -CAkey ca.key -subj "/CN=o$s-{r}.example.test" \
		-addext "subjectAltName=DNS:o$s-{r}.example.test" -days 90
	# every run must have done its work: a failing command is not a fast one
	[ "$(ls pki/b"$s"-*.crt | wc -l)" -eq $((2 * runs + 1)) ] || { echo "issue --ca failed at $s" >&2; exit 1; }
	[ "$(./keywright --store pki --json ca log root | grep -c '"event":"revoked"')" -ge $((runs + 1)) ] ||
		{ echo "ca revoke failed at $s" >&2; exit 1; }
}

sizes=(10 1000 "$max")
for s in "${sizes[@]}"; do
	start=$(date +%s)
	./fill -store pki -ca root -to "$s" -days 90
	echo "store at $s certificates (filled in $(($(date +%s) - start)) s)" >&2
	run_all "$s"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
big=$max
printf '%-12s %8s %8s %8s %8s | %8s %8s %8s %8s | %8s\n' command ms@10 ms@1k "ms@$big" ratio cpu@10 cpu@1k "cpu@$big" ratio "MiB@$big"
for c in "${commands[@]}"; do
	printf '%-12s %8s %8s %8s %8s | %8s %8s %8s %8s | %8s\n' "$c" "${ms[$c,10]}" "${ms[$c,1000]}" "${ms[$c,$big]}" \
		"$(ratio "${ms[$c,$big]}" "${ms[$c,10]}")" "${cpu[$c,10]}" "${cpu[$c,1000]}" "${cpu[$c,$big]}" \
		"$(ratio "${cpu[$c,$big]}" "${cpu[$c,10]}")" "${mib[$c,$big]}"
done
echo "(ratio: the cost at $big certificates over the cost at 10; ms is wall, cpu is perf's task-clock)"
echo
echo "list at $big / list at 1000: wall $(ratio "${ms[list,$big]}" "${ms[list,1000]}"), cpu $(ratio "${cpu[list,$big]}" "${cpu[list,1000]}") (linear: $(ratio "$big" 1000))"
echo "issue --ca / openssl req -x509 -new -CA at $big: wall $(ratio "${ms[issue_ca,$big]}" "${ms[openssl_ca,$big]}"), cpu $(ratio "${cpu[issue_ca,$big]}" "${cpu[openssl_ca,$big]}")"

# Every other command, once, on the largest store: its peak memory.
printf 'defaults:\n  ca: root\ncertificates:\n' >small.yaml
for i in $(seq 10); do printf '  - name: m%d\n    sans: [m%d.example.test]\n' "$i" "$i" >>small.yaml; done
others=(
	"store check|./keywright --store pki store check"
	"ca log|./keywright --store pki ca log root"
	"ca log --json|./keywright --store pki --json ca log root"
	"ca crl|./keywright --store pki ca crl root"
	"renew --expiring (none due)|./keywright --store pki renew --expiring 30d"
	"list --expiring (all)|./keywright --store pki list --expiring 1000d"
	"list --json|./keywright --store pki --json list"
	"inspect|./keywright --store pki inspect f000001"
	"key new|./keywright --store pki key new k1"
	"csr new|./keywright --store pki csr new k1 --san k1.example.test"
	"cert self-sign|./keywright --store pki cert self-sign k1"
	"export p12|./keywright --store pki export p12 f000001 --passout env:P12PASS"
	"ssh keygen|./keywright --store pki ssh keygen s1"
	"batch (10 new)|./keywright --store pki batch small.yaml"
)
echo
echo "peak memory at $big certificates, MiB:"
export P12PASS=bench-only-passphrase
for o in "${others[@]}"; do
	read -r -a cmd <<<"${o#*|}"
	# each must succeed (list --expiring exits 3 when it lists any): a
	# command that failed early is not a small one
	code=0
	/usr/bin/time -f %M -o rss.txt "${cmd[@]}" >/dev/null 2>err.txt || code=$?
	[ "$code" -eq 0 ] || { [ "$code" -eq 3 ] && [ "${cmd[3]}" = list ]; } ||
		{ echo "${o%%|*} failed (exit $code):" >&2; cat err.txt >&2; exit 1; }
	printf '  %-28s %6s\n' "${o%%|*}" "$(tail -n 1 rss.txt | awk '{ printf "%.1f", $1 / 1024 }')"
done
