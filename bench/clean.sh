#!/usr/bin/env bash
# Benchmark of the clean phase: generates the demo old CRM at 1M contacts and 100k companies
# (sizes from CONTACTS, COMPANIES, DEALS), runs `crmigrate clean` on it and prints records/s,
# peak RSS and the share of time per stage. Needs the PostgreSQL server binaries, like the tests.
#
#   bash bench/clean.sh                 # 1,000,000 contacts, 100,000 companies, 300,000 deals
#   CONTACTS=100000 COMPANIES=10000 DEALS=30000 bash bench/clean.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONTACTS=${CONTACTS:-1000000}
COMPANIES=${COMPANIES:-100000}
DEALS=${DEALS:-300000}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/crmigrate-bench-clean.XXXXXX)}
mkdir -p "$WORK" && chmod 755 "$WORK"
trap '"$WORK/crmigrate" db stop --plan "$WORK/project/crmigrate.yaml" >/dev/null 2>&1 || true' EXIT

go build -o "$WORK/crmigrate" ./cmd/crmigrate
echo "bench: generating the demo CRM ($CONTACTS contacts, $COMPANIES companies, $DEALS deals) in $WORK/project" >&2
start=$(date +%s.%N)
# The demo generates the CRM and runs the first clean (its summary is in demo.json).
"$WORK/crmigrate" demo --dir "$WORK/project" --contacts "$CONTACTS" --companies "$COMPANIES" --deals "$DEALS" --migrate=false --keep --json > "$WORK/demo.json"
echo "bench: demo (generation and first clean) took $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s" >&2
echo "== crmigrate clean, first run: $CONTACTS contacts, $COMPANIES companies, $DEALS deals, $(nproc) cores =="
go run ./bench/report clean "$WORK/demo.json"

echo "bench: running clean again on unchanged data" >&2
"$WORK/crmigrate" clean --plan "$WORK/project/crmigrate.yaml" --json > "$WORK/clean.json" || test $? -eq 3
echo "== crmigrate clean, re-run on the same data =="
go run ./bench/report clean "$WORK/clean.json"
