#!/usr/bin/env bash
# Benchmark of `crmigrate report parity` on a month of snapshots of the 1M-contact demo: the
# project's control database is copied (CREATE DATABASE … TEMPLATE), its last snapshot repeated
# as one a day for DAYS days (default 30, as-of times a day apart, with their drift history), and
# the report rendered in each format from the copy (--state-url). Reports read the control
# database only, never the CRMs. Needs a demo project made by bench/parallel.sh (DEMO_DIR).
#
#   DEMO_DIR=/tmp/bc1m-new/project bash bench/report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${DAYS:-30}
DEMO=${DEMO_DIR:?set DEMO_DIR to a demo project with parallel-run snapshots (bench/parallel.sh makes one)}
PLAN="$DEMO/crmigrate.yaml"
WORK=${BENCH_DIR:-$(mktemp -d /tmp/crmigrate-bench-report.XXXXXX)}
BIN="$WORK/crmigrate"
go build -o "$BIN" ./cmd/crmigrate
"$BIN" db start --plan "$PLAN" > /dev/null
trap '"$BIN" db stop --plan "$PLAN" >/dev/null 2>&1 || true' EXIT
"$BIN" status --plan "$PLAN" > /dev/null # brings the control database to this version
ADMIN=$("$BIN" db url --plan "$PLAN" postgres)
STATE=$("$BIN" db url --plan "$PLAN")
COPY=${STATE/\/crmigrate\?//crmigrate_report_bench?}
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql "$ADMIN" -c 'DROP DATABASE IF EXISTS crmigrate_report_bench' -c 'CREATE DATABASE crmigrate_report_bench TEMPLATE crmigrate'
# The last snapshot becomes day 1 … DAYS: its run, its body and its drift history, a day apart.
psql "$COPY" <<SQL
DO \$\$
DECLARE s crmigrate.pr_snapshots; r crmigrate.runs; d int; nid bigint;
BEGIN
  SELECT * INTO s FROM crmigrate.pr_snapshots ORDER BY as_of DESC, run_id DESC LIMIT 1;
  SELECT * INTO r FROM crmigrate.runs WHERE id = s.run_id;
  UPDATE crmigrate.pr_drift SET first_day = 1, first_seen = s.as_of - ($DAYS - 1) * interval '1 day', last_day = $DAYS
    WHERE plan = s.plan AND closed_at IS NULL;
  DELETE FROM crmigrate.pr_snapshots WHERE run_id <> s.run_id;
  UPDATE crmigrate.pr_snapshots SET day = $DAYS WHERE run_id = s.run_id;
  FOR d IN 1 .. $DAYS - 1 LOOP
    INSERT INTO crmigrate.runs (plan, plan_hash, phase, status, started_at, ended_at, os_user, host, pid, args, counts)
      SELECT plan, plan_hash, phase, status, started_at - ($DAYS - d) * interval '1 day', ended_at - ($DAYS - d) * interval '1 day',
        os_user, host, pid, args, counts FROM crmigrate.runs WHERE id = s.run_id RETURNING id INTO nid;
    INSERT INTO crmigrate.pr_snapshots (run_id, plan, day, as_of, incremental, dedup, drift, body, summary)
      VALUES (nid, s.plan, d, s.as_of - ($DAYS - d) * interval '1 day', s.incremental, s.dedup, s.drift,
        jsonb_set(s.body, '{day}', to_jsonb(d)), jsonb_set(s.summary, '{day}', to_jsonb(d)));
  END LOOP;
END \$\$;
SQL
echo "== report parity: $DAYS days of snapshots, $(psql "$COPY" -Atc 'SELECT count(*) FROM crmigrate.pr_drift WHERE closed_at IS NULL') open drift rows, snapshot body $(psql "$COPY" -Atc 'SELECT pg_size_pretty(max(pg_column_size(body))::bigint) FROM crmigrate.pr_snapshots') =="
for f in json md html csv table; do
  /usr/bin/time -f "$f: %e s, peak RSS %M kB" "$BIN" report parity --plan "$PLAN" --state-url "$COPY" --format "$f" > "$WORK/parity.$f"
done
/usr/bin/time -f "--out-dir (every day, 3 formats each): %e s, peak RSS %M kB" "$BIN" report parity --plan "$PLAN" --state-url "$COPY" --out-dir "$WORK/out" > /dev/null
psql "$ADMIN" -c 'DROP DATABASE crmigrate_report_bench'
