#!/usr/bin/env bash
# Benchmark of the migrate phase: generates the demo old CRM (CONTACTS contacts, CONTACTS/10
# companies, 3*CONTACTS/10 deals), runs clean, then migrate into the empty new CRM, then migrate
# again with nothing changed. In the same run it measures the lower bound: a plain COPY of the
# rows migrate wrote (same number, same width) into an empty copy of each target table with the
# same indexes and constraints (foreign keys included). Prints both times and their ratio.
# Needs the PostgreSQL server binaries and psql, like the tests.
#
#   bash bench/migrate.sh                     # 1,000,000 contacts
#   CONTACTS=100000 bash bench/migrate.sh
#   BENCH_DIR=/tmp/b bash bench/migrate.sh    # keeps its work in /tmp/b; run again to reuse the cleaned CRM
set -euo pipefail
cd "$(dirname "$0")/.."
CONTACTS=${CONTACTS:-1000000}
COMPANIES=${COMPANIES:-$((CONTACTS / 10))}
DEALS=${DEALS:-$((CONTACTS * 3 / 10))}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/crmigrate-bench-migrate.XXXXXX)}
mkdir -p "$WORK" && chmod 755 "$WORK"
PLAN="$WORK/project/crmigrate.yaml"
trap '"$WORK/crmigrate" db stop --plan "$PLAN" >/dev/null 2>&1 || true' EXIT
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}'; }

go build -o "$WORK/crmigrate" ./cmd/crmigrate
if [ -f "$WORK/demo.json" ] && [ -z "${REGENERATE:-}" ]; then
  # BENCH_DIR from an earlier run: start from its cleaned CRM, with an empty new CRM again.
  echo "bench: reusing the cleaned demo CRM in $WORK/project; emptying the new CRM" >&2
  "$WORK/crmigrate" db start --plan "$PLAN" >/dev/null # kept running until the end (the trap stops it)
  CTL=$("$WORK/crmigrate" db url --plan "$PLAN")
  psql -qX "${CTL/crmigrate\?/demo_new?}" -c "TRUNCATE activities, opportunities, people, companies RESTART IDENTITY"
  psql -qX "$CTL" -c "DELETE FROM crmigrate.crosswalk; DELETE FROM crmigrate.checkpoints; DELETE FROM crmigrate.journal; DELETE FROM crmigrate.rejects WHERE phase = 'migrate'"
else
  echo "bench: generating the demo CRM ($CONTACTS contacts, $COMPANIES companies, $DEALS deals) and cleaning it, in $WORK/project" >&2
  "$WORK/crmigrate" demo --dir "$WORK/project" --contacts "$CONTACTS" --companies "$COMPANIES" --deals "$DEALS" --migrate=false --keep --json > "$WORK/demo.json"
fi

echo "bench: migrate into the empty new CRM" >&2
"$WORK/crmigrate" migrate --plan "$PLAN" --json > "$WORK/migrate1.json"
echo "bench: migrate again, nothing changed" >&2
"$WORK/crmigrate" migrate --plan "$PLAN" --json > "$WORK/migrate2.json"

# The lower bound: COPY the rows migrate wrote into empty copies of the tables.
CTL=$("$WORK/crmigrate" db url --plan "$PLAN")
NEW=${CTL/crmigrate\?/demo_new?}
echo "bench: lower bound: plain COPY of the same rows into empty copies of the target tables" >&2
lower=0
for t in companies people opportunities activities; do
  psql -qX "$NEW" -v ON_ERROR_STOP=1 -c "DROP TABLE IF EXISTS lb_$t" -c "CREATE TABLE lb_$t (LIKE $t INCLUDING ALL)" >/dev/null
  # Foreign keys too, pointing at the same parent tables.
  psql -qXAt "$NEW" -c "SELECT 'ALTER TABLE lb_$t ADD ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '$t'::regclass AND contype = 'f'" |
    while read -r ddl; do [ -n "$ddl" ] && psql -qX "$NEW" -v ON_ERROR_STOP=1 -c "$ddl" >/dev/null; done
  psql -qX "$NEW" -v ON_ERROR_STOP=1 -c "\\copy $t TO '$WORK/$t.copy'"
  start=$(date +%s.%N)
  psql -qX "$NEW" -v ON_ERROR_STOP=1 -c "\\copy lb_$t FROM '$WORK/$t.copy'"
  s=$(secs "$start")
  rows=$(psql -qXAt "$NEW" -c "SELECT count(*) FROM lb_$t")
  echo "  COPY $rows rows into lb_$t: $s s"
  lower=$(awk -v a="$lower" -v b="$s" 'BEGIN{printf "%.2f", a+b}')
  psql -qX "$NEW" -c "DROP TABLE lb_$t" >/dev/null
  rm -f "$WORK/$t.copy"
done

first=$(python3 -c "import json;print(round(json.load(open('$WORK/migrate1.json'))['seconds'],2))" 2>/dev/null || go run ./bench/report migrate "$WORK/migrate1.json" | awk '/wall time/{print $3}')
second=$(python3 -c "import json;print(round(json.load(open('$WORK/migrate2.json'))['seconds'],2))" 2>/dev/null || go run ./bench/report migrate "$WORK/migrate2.json" | awk '/wall time/{print $3}')
echo "== crmigrate migrate, first run: $CONTACTS contacts, $COMPANIES companies, $DEALS deals, $(nproc) cores =="
go run ./bench/report migrate "$WORK/migrate1.json"
echo "== crmigrate migrate, re-run with nothing changed =="
go run ./bench/report migrate "$WORK/migrate2.json"
echo "== lower bound =="
awk -v m="$first" -v l="$lower" 'BEGIN{printf "migrate %.1f s, plain COPY %.1f s: ratio %.2f (target <= 3)\n", m, l, m/l}'
awk -v a="$first" -v b="$second" 'BEGIN{printf "re-run %.1f s, first run %.1f s: ratio %.2f (target <= 0.5)\n", b, a, b/a}'
