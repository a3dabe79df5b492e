#!/usr/bin/env bash
# Benchmark of the impact figures on a large programme: generates N events with about
# 1,000,000 attendance rows (by default), then times `outreach report impact` and reads its
# peak memory. Usage: benches/impact.sh [sqlite|postgres] [EVENTS] [ROWS_PER_EVENT]
# Needs /usr/bin/time (Debian package `time`); PostgreSQL on 127.0.0.1:5432 for `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
events=${2:-100000}
rows=${3:-46}
cargo build --release --quiet
bin=target/release/outreach
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$backend" = postgres ]; then
  db=outreach_bench_$$
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db"
  trap 'psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; rm -rf "$work"' EXIT
  url="postgres://postgres@127.0.0.1:5432/$db"
else
  url="sqlite://$work/bench.db"
fi
"$bin" --database-url "$url" demo --synthetic --events "$events" --rows-per-event "$rows"
if [ "$backend" = postgres ]; then psql -q -h 127.0.0.1 -U postgres -d "$db" -c "ANALYZE"; fi
/usr/bin/time -v "$bin" --database-url "$url" report impact --programme 1 2> "$work/time.txt" > "$work/impact.json"
grep -E "computed in" "$work/time.txt"
grep -E "Maximum resident set size" "$work/time.txt"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('total', d['total'], 'workshops', d['workshops'])" "$work/impact.json"
