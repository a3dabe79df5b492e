#!/usr/bin/env bash
# Benchmark of figures kept, not recounted: a programme of N events (about 1,000,000
# attendance rows by default) and its funder's organisation; times the first read (a
# recount, then kept) and warm reads, by the command line and over HTTP (p50 and p99 of
# sequential requests on one keep-alive connection).
# Usage: benches/figures.sh [sqlite|postgres] [EVENTS] [ROWS_PER_EVENT] [REQUESTS]
# Needs python3; PostgreSQL on 127.0.0.1:5432 for `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
events=${2:-100000}
rows=${3:-46}
requests=${4:-300}
cargo build --release --quiet
bin=$PWD/target/release/outreach
work=$(mktemp -d)
cleanup() { [ -n "${server:-}" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
if [ "$backend" = postgres ]; then
  db=outreach_figures_$$
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db"
  trap 'cleanup; psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
  url="postgres://postgres@127.0.0.1:5432/$db"
else
  url="sqlite://$work/bench.db"
fi
echo "cores: $(nproc); backend: $backend; events: $events"
"$bin" --database-url "$url" demo --synthetic --events "$events" --rows-per-event "$rows"
if [ "$backend" = postgres ]; then psql -q -h 127.0.0.1 -U postgres -d "$db" -c "ANALYZE"; fi
for run in first second third; do
  printf '%s read: ' "$run"
  "$bin" --database-url "$url" report impact --programme 1 2>&1 >/dev/null | tail -1
done
echo 'a long bench password' | "$bin" --database-url "$url" user add --email bench@example.org --role admin --password-stdin >/dev/null
token=$("$bin" --database-url "$url" token create --email bench@example.org | tail -1)
port=$((20000 + RANDOM % 20000))
DATABASE_URL="$url" "$bin" serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
org=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/programmes/1" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("organisation_id") or "")')
python3 - "$port" "$token" "$requests" "$org" <<'PY'
import http.client, sys, time
port, token, n, org = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
paths = ["/api/v1/programmes/1/impact"] + ([f"/api/v1/organisations/{org}/impact"] if org else [])
for path in paths:
    c = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for i in range(n + 1):
        t = time.perf_counter()
        c.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        r = c.getresponse(); r.read()
        assert r.status == 200, r.status
        times.append((time.perf_counter() - t) * 1000)
    first, warm = times[0], sorted(times[1:])
    print(f"{path}: first {first:.1f} ms; warm p50 {warm[len(warm)//2]:.2f} ms, p99 {warm[int(len(warm)*0.99)-1]:.2f} ms over {n}")
PY
