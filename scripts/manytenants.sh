#!/usr/bin/env bash
# Many tenants vs one, same run (docs/performance.md, "Many tenants").
# For each tenant count (1 and $N), on SQLite: create the tenants with
# actas-bench tenants (rotation on for every tenant, none due), then
# measure startup to ready, idle CPU, first/repeat JWKS, RSS after every
# tenant served one JWKS, one sign-in and one refresh, uncached /readyz,
# and refresh p50/p99 of one tenant. Prints one "count name value" line a
# measure; the ratios are computed from these.
#
#   N=10000 IDLE=120 scripts/manytenants.sh > /tmp/many.txt
set -euo pipefail
N=${N:-10000}
IDLE=${IDLE:-120}     # seconds of idle CPU measured
STARTS=${STARTS:-3}   # startups timed (median)
PORT=${PORT:-18431}
WORK=${WORK:-/tmp/actas-many}
BIN=$WORK/bin
mkdir -p "$BIN"
go build -o "$BIN/" ./cmd/actas ./cmd/actas-bench
export ACTAS_MASTER_KEY=${ACTAS_MASTER_KEY:-$("$BIN/actas" keys genmaster)}
tck=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

start() { # dir -> prints pid; waits for ready
  "$BIN/actas" serve --db "sqlite:$1/actas.db" --addr "127.0.0.1:$PORT" >"$1/serve.log" 2>&1 &
  echo $!
}

wait_ready() {
  until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null; do sleep 0.005; done
}

for count in 1 "$N"; do
  dir=$WORK/n$count
  rm -rf "$dir"; mkdir -p "$dir"
  "$BIN/actas-bench" tenants -db "sqlite:$dir/actas.db" -n "$count" -rotation 24h -out "$dir/tenants.jsonl" >&2
  # Startup to ready (median of $STARTS).
  ms=()
  for _ in $(seq "$STARTS"); do
    t0=$(date +%s%N)
    pid=$(start "$dir")
    wait_ready
    ms+=($(( ($(date +%s%N) - t0) / 1000000 )))
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
  echo "$count startup_ms $(printf '%s\n' "${ms[@]}" | sort -n | sed -n "$(( (STARTS + 1) / 2 ))p")"
  pid=$(start "$dir")
  wait_ready
  # Idle CPU, rotation on for every tenant, none due.
  c0=$(cpu_ticks "$pid"); sleep "$IDLE"; c1=$(cpu_ticks "$pid")
  echo "$count idle_cpu_ms $(( (c1 - c0) * 1000 / tck ))"
  "$BIN/actas-bench" many -url "http://127.0.0.1:$PORT" -tenants "$dir/tenants.jsonl" -pid "$pid" -sample 200 -probes 9 |
    sed "s/^/$count /"
  "$BIN/actas-bench" -db "sqlite:$dir/actas.db" -url "http://127.0.0.1:$PORT" -setup -scenario refresh -c 8 -d 10s -bounds=false -q -json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("'"$count"' refresh_p50_ms", d["p50Ms"]); print("'"$count"' refresh_p99_ms", d["p99Ms"])'
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
