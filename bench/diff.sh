#!/usr/bin/env bash
# Benchmark of validate's identity mode (a table diff) on the anchor-contacts data: two databases
# of ROWS contacts (default 1,000,000) with identical schemas, the new one changed by
# anchor-contacts/mutate.sql (1,000 updated, 500 deleted, 500 inserted rows, listed in
# expected_changes). It runs `crmigrate validate --old-url … --new-url … --table contacts --key id`,
# checks that the differences found are exactly the expected changes, and measures in the same run
# the lower bound: both tables copied out ordered by id at the same time (COPY … TO STDOUT into
# files), then `diff` of the two files. The last line is `ratio X.XX` (diff / lower bound).
# Needs the PostgreSQL server binaries, like the tests.
#
#   bash bench/diff.sh
#   ROWS=100000 bash bench/diff.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
DEMO_CONTACTS=${DEMO_CONTACTS:-1000000}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/crmigrate-bench-diff.XXXXXX)}
mkdir -p "$WORK" && chmod 755 "$WORK"
PLAN="$WORK/project/crmigrate.yaml"
trap '"$WORK/crmigrate" db stop --plan "$PLAN" >/dev/null 2>&1 || true' EXIT

go build -o "$WORK/crmigrate" ./cmd/crmigrate
# A private PostgreSQL: the smallest demo project brings one up; the benchmark's two databases
# live beside the demo's.
if [ ! -f "$PLAN" ]; then
	"$WORK/crmigrate" demo --dir "$WORK/project" --companies 5 --contacts 20 --deals 5 --migrate=false --keep > /dev/null
fi
"$WORK/crmigrate" db start --plan "$PLAN" > /dev/null
ADMIN=$("$WORK/crmigrate" db url --plan "$PLAN" postgres)
OLD=${ADMIN/\/postgres\?//crm_old?}
NEW=${ADMIN/\/postgres\?//crm_new?}
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

if [ "$DEMO_CONTACTS" -gt 0 ]; then
	DEMO="$WORK/demo-$DEMO_CONTACTS"
	if [ ! -f "$DEMO/crmigrate.yaml" ]; then
		echo "bench: generating, cleaning and migrating the demo CRMs at $DEMO_CONTACTS contacts in $DEMO" >&2
		"$WORK/crmigrate" demo --dir "$DEMO" --contacts "$DEMO_CONTACTS" --companies $((DEMO_CONTACTS / 10)) --deals $((DEMO_CONTACTS * 3 / 10)) --keep > /dev/null
	fi
	"$WORK/crmigrate" db start --plan "$DEMO/crmigrate.yaml" > /dev/null
	echo "bench: validating the demo through its plan" >&2
	vcode=0
	/usr/bin/time -v -o "$WORK/validate-plan-time.txt" "$WORK/crmigrate" validate --plan "$DEMO/crmigrate.yaml" --json > "$WORK/validate-plan.json" || vcode=$?
	"$WORK/crmigrate" db stop --plan "$DEMO/crmigrate.yaml" > /dev/null || true
	if [ "$vcode" -ne 0 ] && [ "$vcode" -ne 3 ]; then
		echo "validate --plan exited $vcode" >&2
		exit 1
	fi
	vrss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$WORK/validate-plan-time.txt")
	echo "== validate through the plan: the demo at $DEMO_CONTACTS contacts, $(nproc) cores =="
	go run ./bench/report validate "$WORK/validate-plan.json" "$vrss"
fi

echo "bench: generating $ROWS contacts in crm_old and crm_new" >&2
psql "$ADMIN" -c 'DROP DATABASE IF EXISTS crm_new' -c 'DROP DATABASE IF EXISTS crm_old' -c 'CREATE DATABASE crm_old'
sed "s/generate_series(1, 1000000)/generate_series(1, $ROWS)/" bench/anchor-contacts/gen.sql | psql "$OLD" > /dev/null
psql "$ADMIN" -c 'CREATE DATABASE crm_new TEMPLATE crm_old'
psql "$NEW" -f bench/anchor-contacts/mutate.sql > /dev/null
psql "$OLD" -c 'VACUUM ANALYZE contacts'

echo "bench: diffing" >&2
start=$(date +%s.%N)
code=0
/usr/bin/time -v -o "$WORK/time.txt" "$WORK/crmigrate" validate --old-url "$OLD" --new-url "$NEW" --table contacts --key id \
	--json --differences "$WORK/differences.csv" > "$WORK/validate.json" || code=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
if [ "$code" -ne 3 ]; then
	echo "validate exited $code, want 3 (the tables differ)" >&2
	exit 1
fi
rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$WORK/time.txt")

# The differences found, against the expected changes.
tail -n +2 "$WORK/differences.csv" | awk -F, '{k = ($2 == "field_mismatch") ? "U" : ($2 == "missing_in_new") ? "D" : ($2 == "missing_in_old") ? "I" : $2; print $1 "," k}' | sort > "$WORK/found.txt"
psql "$NEW" -At -c "COPY (SELECT id, kind FROM expected_changes) TO STDOUT WITH (FORMAT csv)" | sort > "$WORK/expected.txt"
if ! cmp -s "$WORK/found.txt" "$WORK/expected.txt"; then
	echo "the differences found are not the expected changes:" >&2
	diff "$WORK/expected.txt" "$WORK/found.txt" | head -20 >&2
	exit 1
fi

# The lower bound: both sides copied out ordered by id at the same time, then diff of the files.
lstart=$(date +%s.%N)
psql "$OLD" -c "COPY (SELECT * FROM contacts ORDER BY id) TO STDOUT" > "$WORK/old.txt" &
psql "$NEW" -c "COPY (SELECT * FROM contacts ORDER BY id) TO STDOUT" > "$WORK/new.txt" &
wait
diff "$WORK/old.txt" "$WORK/new.txt" > /dev/null || true
lower=$(awk -v a="$lstart" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
rm -f "$WORK/old.txt" "$WORK/new.txt"

echo "== validate, identity mode: $ROWS contacts, $(nproc) cores =="
awk -F, '{n[$2]++} END {printf "differences         %d updated, %d deleted, %d inserted (the expected changes, exactly)\n", n["U"], n["D"], n["I"]}' "$WORK/found.txt"
echo "diff                $took s"
echo "peak RSS            $((rss / 1024)) MiB"
echo "lower bound         $lower s (both tables copied out ordered by id at once, then diff of the files)"
awk -v d="$took" -v l="$lower" 'BEGIN { printf "ratio %.2f (diff %.2f s / lower bound %.2f s; target <= 1.5)\n", d/l, d, l }'
