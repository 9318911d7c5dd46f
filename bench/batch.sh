#!/usr/bin/env bash
# A fleet of N server certificates (P-256, 3 DNS names and 1 IP each, one
# P-256 CA) three ways, as wall milliseconds per certificate and the ratios:
#   batch    one `keywright batch` of the N entries (group commits);
#   issue    N `keywright issue` processes, one after another;
#   openssl  a loop of one-process `openssl req -x509 -new -CA` (OpenSSL 3.0+;
#            without it: genpkey + req + x509 -req), writing key and
#            certificate, no record, no fsync.
# The peak memory of the batch (GNU time, when present) is printed too.
# Usage: bench/batch.sh [N]   (default 1000)
set -euo pipefail
n=${1:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/keywright" "$root/cmd/keywright"
kw() { "$work/keywright" --store "$1" -q "${@:2}"; }

names() { for i in $(seq "$n"); do echo "h$i"; done; }
ip() { echo "10.$(($1 / 65536 % 256)).$(($1 / 256 % 256)).$(($1 % 256))"; }
{
	printf 'defaults:\n  ca: bench-ca\ncertificates:\n'
	for i in $(seq "$n"); do
		printf '  - name: h%d\n    sans: [h%d.example.test, www.h%d.example.test, api.h%d.example.test, %s]\n' "$i" "$i" "$i" "$i" "$(ip "$i")"
	done
} >"$work/fleet.yaml"
kw "$work/b" ca init bench-ca --no-passphrase
kw "$work/i" ca init bench-ca --no-passphrase
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" \
	-out "$work/ca.crt" -subj "/CN=bench openssl CA" -days 365 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
mkdir -p "$work/o"

now() { date +%s%N; }
perms() { awk -v t="$1" -v n="$n" 'BEGIN { printf "%.2f", t / n / 1e6 }'; }

start=$(now)
if command -v /usr/bin/time >/dev/null; then
	/usr/bin/time -f '%M' -o "$work/rss" "$work/keywright" --store "$work/b" batch "$work/fleet.yaml" 2>"$work/batch.err"
else
	"$work/keywright" --store "$work/b" batch "$work/fleet.yaml" 2>"$work/batch.err"
fi
batch=$(perms $(($(now) - start)))
grep -q "batch: $n issued, 0 renewed, 0 skipped, 0 failed" "$work/batch.err" || { cat "$work/batch.err" >&2; exit 1; }

start=$(now)
for i in $(seq "$n"); do
	kw "$work/i" issue "h$i" --san "h$i.example.test" --san "www.h$i.example.test" --san "api.h$i.example.test" --san "$(ip "$i")"
done
issue=$(perms $(($(now) - start)))

new_ca=yes
openssl req -help 2>&1 | grep -q -- '-CA ' || new_ca=
start=$(now)
for i in $(seq "$n"); do
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
ossl=$(perms $(($(now) - start)))

for d in b i; do
	[ "$(ls "$work/$d"/h*.crt | wc -l)" -eq "$n" ] || { echo "$d: fewer than $n certificates" >&2; exit 1; }
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
printf 'N=%d on %d CPUs\n' "$n" "$(nproc)"
printf '%-34s %10s\n' "what" "ms/cert"
printf '%-34s %10s\n' "keywright batch" "$batch" "keywright issue, one process each" "$issue" "openssl req -x509 -CA, one each" "$ossl"
printf 'issue loop / batch:   %sx\n' "$(ratio "$issue" "$batch")"
printf 'openssl loop / batch: %sx\n' "$(ratio "$ossl" "$batch")"
[ -f "$work/rss" ] && printf 'batch peak RSS: %s KiB\n' "$(cat "$work/rss")"
exit 0
