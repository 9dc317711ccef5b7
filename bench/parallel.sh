#!/usr/bin/env bash
# Benchmark of the parallel run's snapshots on the demo project at DEMO_CONTACTS contacts (default
# 1,000,000; generated, cleaned, migrated and validated on the first run, as bench/diff.sh does):
#   1. a full snapshot with nothing cached (`parallel-run diff --full`, the cache folder removed);
#   2. 1 % of the rows of every table of both CRMs changed (updated_at moved, as CRMs do);
#   3. an incremental snapshot (`parallel-run diff`);
#   4. a full snapshot again (`--full`, with the files of step 3: only changed records are
#      normalized again).
# It prints each snapshot's time, peak RSS and reads, the ratio incremental / full (step 3 / step
# 1) and the size of the cache. Snapshots use --force (the demo's checks fail at this size).
# Needs the PostgreSQL server binaries, like the tests.
#
#   bash bench/parallel.sh
#   DEMO_CONTACTS=100000 bash bench/parallel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO_CONTACTS=${DEMO_CONTACTS:-1000000}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/crmigrate-bench-parallel.XXXXXX)}
mkdir -p "$WORK" && chmod 755 "$WORK"
DEMO=${DEMO_DIR:-$WORK/demo-$DEMO_CONTACTS}
PLAN="$DEMO/crmigrate.yaml"
BIN="$WORK/crmigrate"
trap '"$BIN" db stop --plan "$PLAN" >/dev/null 2>&1 || true' EXIT
go build -o "$BIN" ./cmd/crmigrate
if [ ! -f "$PLAN" ]; then
	echo "bench: generating, cleaning, migrating and validating the demo at $DEMO_CONTACTS contacts in $DEMO" >&2
	"$BIN" demo --dir "$DEMO" --contacts "$DEMO_CONTACTS" --companies $((DEMO_CONTACTS / 10)) --deals $((DEMO_CONTACTS * 3 / 10)) --keep > /dev/null || true
fi
"$BIN" db start --plan "$PLAN" > /dev/null
ADMIN=$("$BIN" db url --plan "$PLAN" postgres)
OLD=${ADMIN/\/postgres\?//demo_old?}
NEW=${ADMIN/\/postgres\?//demo_new?}
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

snapshot() { # NAME FLAGS...: one snapshot, timed
	local name=$1
	shift
	local code=0
	/usr/bin/time -v -o "$WORK/$name-time.txt" "$BIN" parallel-run diff --plan "$PLAN" --force --limit 1 --format json "$@" > "$WORK/$name.json" || code=$?
	if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then
		echo "parallel-run diff $* exited $code" >&2
		exit 1
	fi
	local rss secs
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$WORK/$name-time.txt")
	secs=$(jq .seconds "$WORK/$name.json")
	echo "$name: $secs s, peak RSS $((rss / 1024)) MiB, incremental $(jq .incremental "$WORK/$name.json")"
	jq -r '.objects[] | "  \(.object): " + ([.reads[]? | "\(.system) \(if .incremental then "incremental" else "full" end) read \(.read) reused \(.reused)"] | join(", "))' "$WORK/$name.json"
	echo "$secs" > "$WORK/$name.seconds"
}

CACHE=$(dirname "$PLAN")/.crmigrate/parallel-run
rm -rf "$CACHE"
snapshot full-cold --full
echo "bench: changing 1 % of the rows of both CRMs" >&2
psql "$OLD" <<'SQL'
UPDATE accounts SET industry = coalesce(industry, '') || ' (bench)', modified_at = (now() AT TIME ZONE 'Europe/Stockholm') WHERE account_id % 100 = 7;
UPDATE contacts SET title = coalesce(title, '') || ' (bench)', modified_at = (now() AT TIME ZONE 'Europe/Stockholm') WHERE contact_id % 100 = 7;
UPDATE leads SET modified_at = (now() AT TIME ZONE 'Europe/Stockholm') WHERE lead_id % 100 = 7;
UPDATE opportunities SET amount = '12345', modified_at = (now() AT TIME ZONE 'Europe/Stockholm') WHERE abs(hashtext(opp_id)) % 100 = 7;
UPDATE activities SET outcome = 'held', modified_at = (now() AT TIME ZONE 'Europe/Stockholm') WHERE activity_id % 100 = 7;
SQL
psql "$NEW" <<'SQL'
UPDATE companies SET industry = coalesce(industry, '') || ' (new)', updated_at = now() WHERE id % 100 = 3;
UPDATE people SET job_title = coalesce(job_title, '') || ' (new)', updated_at = now() WHERE id % 100 = 3;
UPDATE opportunities SET amount = 54321, updated_at = now() WHERE id % 100 = 3;
UPDATE activities SET outcome = 'no_show', updated_at = now() WHERE id % 100 = 3;
SQL
snapshot incremental
snapshot full-warm --full
echo "cache: $(du -sh "$CACHE" | cut -f1) in $CACHE"
awk -v i="$(cat "$WORK/incremental.seconds")" -v f="$(cat "$WORK/full-cold.seconds")" 'BEGIN { printf "ratio %.3f (incremental / full)\n", i / f }'
