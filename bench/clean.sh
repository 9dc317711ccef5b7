#!/usr/bin/env bash
# Benchmark of the clean phase: generates the demo old CRM at 1M contacts and 100k companies
# (sizes from CONTACTS, COMPANIES, DEALS), runs `crmigrate clean` on it and prints records/s,
# peak RSS and the share of time per stage, then the lower bound measured in the same run (every source
# read once with COPY into files, written once with COPY into the control database) and the ratio of
# clean to it. Needs the PostgreSQL server binaries, like the tests.
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

# The lower bound, in the same run: every source read once with COPY into files, and those files
# written once with COPY into the control database (logged tables, as crash-safe staging would be).
echo "bench: measuring the lower bound" >&2
OLD_URL=$("$WORK/crmigrate" db url --plan "$WORK/project/crmigrate.yaml" demo_old)
CTL_URL=$("$WORK/crmigrate" db url --plan "$WORK/project/crmigrate.yaml")
echo "== lower bound =="
go run ./bench/report clean-lower-bound "$WORK/project/crmigrate.yaml" "$OLD_URL" "$CTL_URL" "$WORK/lower-bound" | tee "$WORK/lower-bound.txt"
rm -rf "$WORK/lower-bound"
lb=$(sed -n 's/^lower bound *\([0-9.]*\) s.*/\1/p' "$WORK/lower-bound.txt")
first=$(go run ./bench/report clean "$WORK/demo.json" | sed -n 's/^wall time *\([0-9.]*\) s/\1/p')
again=$(go run ./bench/report clean "$WORK/clean.json" | sed -n 's/^wall time *\([0-9.]*\) s/\1/p')
awk -v f="$first" -v a="$again" -v l="$lb" 'BEGIN { printf "ratio %.2f (first run %.1f s / lower bound %.1f s; target <= 2.0)\nratio %.2f (re-run %.1f s / lower bound)\n", f/l, f, l, a/l, a }'
