#!/usr/bin/env bash
# The workbook of a programme with 100,000 events and 1,000,000 attendance rows (issue 14):
# Outreach's export (reading the database and writing the workbook), rust_xlsxwriter alone
# writing the same cells (examples/xlsx_ceiling.rs) and Python's XlsxWriter in
# constant-memory mode writing them (benches/xlsx_python.py), in the same run; each timed
# three times, the median reported, with Outreach's peak memory.
# Usage: benches/workbook.sh [sqlite|postgres] [EVENTS] [ROWS_PER_EVENT]
# Needs /usr/bin/time, python3 with xlsxwriter (`pip install xlsxwriter`; or name another
# Python in PYTHON), and PostgreSQL on 127.0.0.1:5432 for `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
events=${2:-100000}
rows=${3:-46}
cargo build --release --quiet --bin outreach --example xlsx_ceiling
bin=$PWD/target/release/outreach
ceiling=$PWD/target/release/examples/xlsx_ceiling
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$backend" = postgres ]; then
  db=outreach_workbook_$$
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db"
  trap 'psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; rm -rf "$work"' EXIT
  url="postgres://postgres@127.0.0.1:5432/$db"
else
  url="sqlite://$work/workbook.db"
fi
"$bin" --database-url "$url" demo --synthetic --events "$events" --rows-per-event "$rows" >/dev/null
if [ "$backend" = postgres ]; then psql -q -h 127.0.0.1 -U postgres -d "$db" -c "ANALYZE"; fi
# The first read counts the figures and keeps them; the export is timed after it.
"$bin" --database-url "$url" report impact --programme 1 >/dev/null 2>&1
median() { sort -n | sed -n 2p; }
ours=$(for _ in 1 2 3; do
  /usr/bin/time -f "%e %M" "$bin" --database-url "$url" export impact --programme 1 --out "$work/impact.xlsx" 2>>"$work/rss" >/dev/null
  tail -1 "$work/rss" | awk '{print $1}'
done | median)
rss=$(awk '{print $2}' "$work/rss" | sort -n | tail -1)
alone=$(for _ in 1 2 3; do "$ceiling" "$work/impact.xlsx" "$work" | awk '{print $(NF-1)}'; done | median)
python=$(for _ in 1 2 3; do "${PYTHON:-python3}" benches/xlsx_python.py "$work/cells.jsonl" "$work/py.xlsx" | awk '{print $(NF-1)}'; done | median)
cells=$("$ceiling" "$work/impact.xlsx" "$work" | awk '{print $3}')
echo "cores: $(nproc); backend: $backend; $events events; $cells cells"
echo "Outreach export (process, database and workbook): ${ours} s, peak RSS $((rss / 1024)) MB"
echo "rust_xlsxwriter alone, same cells:                 ${alone} s"
echo "Python XlsxWriter constant memory, same cells:     ${python} s"
python3 -c "import sys; o,a,p=(max(float(v), 0.005) for v in sys.argv[1:]); print(f'Outreach / rust_xlsxwriter alone: {o/a:.2f}x (target <= 1.5x); Python / Outreach: {p/o:.1f}x (target >= 5x)')" "$ours" "$alone" "$python"
