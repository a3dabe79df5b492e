#!/usr/bin/env bash
# Pages against their ceiling (issue 14): requests/s and latency of a bare axum + askama +
# diesel page reading 40 rows (examples/baseline.rs) and of Outreach's heavy pages, in the
# same run, on the demo data, with wrk (2 threads, 64 connections).
# Usage: benches/pages.sh [sqlite|postgres] [SECONDS] [EVENTS]
# With EVENTS, a synthetic programme of that many events (46 attendance rows per venue
# performance or live stream: 100,000 events give 1,000,000 rows) is added beside the
# demo, and its impact and organisation pages are measured too, as the lead.
# Needs wrk (Debian package `wrk`), curl, and PostgreSQL on 127.0.0.1:5432 for `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
secs=${2:-10}
events=${3:-}
cargo build --release --quiet --bin outreach --example baseline
bin=$PWD/target/release/outreach
base=$PWD/target/release/examples/baseline
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
if [ "$backend" = postgres ]; then
  db=outreach_pages_$$
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db"
  trap 'cleanup; psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
  url="postgres://postgres@127.0.0.1:5432/$db"
else
  url="sqlite://$work/pages.db"
fi
port=$((20000 + RANDOM % 20000)); bport=$((port + 1))
DATABASE_URL="$url" RUST_LOG=warn "$bin" serve --demo --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
"$base" "$url" "127.0.0.1:$bport" >"$work/baseline.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$bport/" >/dev/null && break; sleep 0.2; done
session() {
  local jar="$work/jar-$1" csrf
  csrf=$(curl -s -c "$jar" -b "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//;s/"//')
  curl -s -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf_token=$csrf" --data-urlencode "email=$1@demo.example" --data-urlencode "password=outreach-demo" "http://127.0.0.1:$port/login"
  grep outreach_session "$jar" | awk '{print $7}'
}
lead=$(session lead); funder=$(session funder); school=$(session school)
data="demo data"
if [ -n "$events" ]; then
  made=$("$bin" --database-url "$url" demo --synthetic --events "$events" --rows-per-event 46 | tail -1)
  big=$(echo "$made" | awk '{print $3}')
  big_org=$("$bin" --database-url "$url" report impact --programme "$big" 2>/dev/null \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['programme']['organisation_id'])")
  data="demo data and $made"
fi
echo "cores: $(nproc); backend: $backend; $data; wrk -t2 -c64 -d${secs}s"
run() {
  local name=$1 url=$2 cookie=${3:-}
  local out
  if [ -n "$cookie" ]; then
    out=$(wrk -t2 -c64 -d"${secs}s" --latency -H "Cookie: outreach_session=$cookie" "$url")
  else
    out=$(wrk -t2 -c64 -d"${secs}s" --latency "$url")
  fi
  local rps p50 p99 errs
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf '%-34s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${errs:-0}"
}
run "baseline (40 rows)" "http://127.0.0.1:$bport/"
run "programme list (lead)" "http://127.0.0.1:$port/programmes" "$lead"
run "programme impact (lead)" "http://127.0.0.1:$port/programmes/1/impact" "$lead"
run "What's on (school)" "http://127.0.0.1:$port/whats-on" "$school"
run "organisation impact (funder)" "http://127.0.0.1:$port/organisations/1/impact" "$funder"
run "public What's on" "http://127.0.0.1:$port/"
if [ -n "$events" ]; then
  # The first read of the big programme's figures counts them and keeps them.
  curl -s -o /dev/null -H "Cookie: outreach_session=$lead" "http://127.0.0.1:$port/programmes/$big/impact"
  curl -s -o /dev/null -H "Cookie: outreach_session=$lead" "http://127.0.0.1:$port/organisations/$big_org/impact"
  run "impact, $events events (lead)" "http://127.0.0.1:$port/programmes/$big/impact" "$lead"
  run "organisation, $events events (lead)" "http://127.0.0.1:$port/organisations/$big_org/impact" "$lead"
  run "month calendar, $events events" "http://127.0.0.1:$port/programmes/$big/calendar" "$lead"
fi
