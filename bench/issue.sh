#!/usr/bin/env bash
# Issuing a server certificate, end to end: `keywright issue` (key, CSR,
# certificate, chain, record, under the CA lock) against the openssl
# equivalent (genpkey + req + x509 -req with an extfile), as mean wall
# milliseconds per certificate and the ratio to openssl.
# Usage: bench/issue.sh [N]   (N certificates per tool, default 20)
set -euo pipefail
n=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/keywright" "$root/cmd/keywright"
kw() { "$work/keywright" --store "$work/pki" -q "$@"; }

kw ca init bench-ca --no-passphrase >/dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" \
	-out "$work/ca.crt" -subj "/CN=bench openssl CA" -days 365 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
cat >"$work/ext.cnf" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:host.example.test
EXT

ms() { echo $((($2 - $1) / n / 1000000)); }
start=$(date +%s%N)
for i in $(seq "$n"); do kw issue "h$i" --san "h$i.example.test" >/dev/null 2>&1; done
kwms=$(ms "$start" "$(date +%s%N)")
start=$(date +%s%N)
for i in $(seq "$n"); do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/o$i.key" 2>/dev/null
	openssl req -new -key "$work/o$i.key" -subj "/CN=h$i.example.test" -out "$work/o$i.csr" 2>/dev/null
	openssl x509 -req -in "$work/o$i.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
		-days 90 -extfile "$work/ext.cnf" -out "$work/o$i.crt" 2>/dev/null
done
osms=$(ms "$start" "$(date +%s%N)")
[ "$(ls "$work"/pki/h*.crt | wc -l)" -eq "$n" ] || { echo "keywright issued fewer than $n certificates" >&2; exit 1; }
printf '%-22s %12s %12s %8s\n' what keywright_ms openssl_ms ratio
printf '%-22s %12s %12s %8s\n' "issue (ecdsa p256)" "$kwms" "$osms" "$(awk -v a="$kwms" -v b="$osms" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
