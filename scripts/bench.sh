#!/usr/bin/env bash
# Reproduces docs/performance.md: builds actas and actas-bench, runs a
# server on a fresh SQLite database on 127.0.0.1, and runs every scenario
# against it, appending one CSV row per run to $OUT/results.csv and the
# concurrency sweep to $OUT/sweep.csv; then plots the sweep.
#
#   scripts/bench.sh [OUT_DIR]        (default /tmp/actas-perf)
#
# DB=postgres://… runs the server on that PostgreSQL database instead (it
# must be empty; ACTAS_MASTER_KEY is generated when unset). SCENARIOS="…"
# runs only the scenarios named (labels below: signin sweep refresh-RS256
# open expire refresh-ES256 mix flood).
#
# Every run is bounded in time (-d) and targets loopback only.
set -euo pipefail
OUT=${1:-/tmp/actas-perf}
PORT=${PORT:-18090}
D=${D:-8s}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
rm -f "$OUT"/actas.db* "$OUT"/master.key "$OUT"/*.json "$OUT"/*.csv
# ACTAS_BIN / BENCH_BIN: use prebuilt binaries (e.g. of another commit).
if [ -n "${ACTAS_BIN:-}" ]; then cp "$ACTAS_BIN" "$OUT/actas"; else (cd "$ROOT" && go build -o "$OUT/actas" ./cmd/actas); fi
if [ -n "${BENCH_BIN:-}" ]; then cp "$BENCH_BIN" "$OUT/actas-bench"; else (cd "$ROOT" && go build -o "$OUT/actas-bench" ./cmd/actas-bench); fi
DB=${DB:-sqlite:$OUT/actas.db}
case "$DB" in
postgres://* | postgresql://*)
	if [ -z "${ACTAS_MASTER_KEY:-}" ]; then ACTAS_MASTER_KEY=$(head -c32 /dev/urandom | base64); fi
	export ACTAS_MASTER_KEY ;;
esac
SCENARIOS=${SCENARIOS:-}
want() { [ -z "$SCENARIOS" ] || [[ " $SCENARIOS " == *" $1 "* ]]; }
URL="http://127.0.0.1:$PORT"
B="$OUT/actas-bench"

start() {
	if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$PORT "; then echo "port $PORT is busy" >&2; exit 1; fi
	"$OUT/actas" serve --db "$DB" --addr "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do curl -sf "$URL/healthz" >/dev/null && return 0; sleep 0.1; done
	echo "server did not start" >&2; cat "$OUT/server.log" >&2; exit 1
}
stop() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
trap stop EXIT

run() { # label, args...
	local label=$1; shift
	echo "== $label" >&2
	"$B" -db "$DB" -url "$URL" -pid "$PID" -q -label "$label" -csv "$OUT/results.csv" "$@"
}

start
"$B" -db "$DB" -url "$URL" -setup -alg RS256 -state "$OUT/rs256.json" -n 1 -bounds=false -q -scenario refresh >/dev/null
"$B" -db "$DB" -url "$URL" -setup -alg ES256 -state "$OUT/es256.json" -n 1 -bounds=false -q -scenario refresh >/dev/null

want signin && run signin -state "$OUT/rs256.json" -scenario signin -c 8 -d "$D"
if want sweep; then
	for c in 1 2 4 8 16 32 64; do
		"$B" -db "$DB" -url "$URL" -pid "$PID" -q -label "sweep-c$c" -csv "$OUT/sweep.csv" -state "$OUT/rs256.json" -scenario refresh -c "$c" -d 5s >/dev/null
	done
fi
if want refresh-RS256 || want open; then
	run refresh-RS256 -state "$OUT/rs256.json" -scenario refresh -c 32 -d "$D" -json > "$OUT/refresh.json"
	MAX=$(sed -n 's/.*"okPerSec": \([0-9.]*\).*/\1/p' "$OUT/refresh.json" | head -1)
	HALF=$(awk -v m="$MAX" 'BEGIN{printf "%d", m/2}')
fi
want open && run "refresh-RS256-open-half-max($HALF/s)" -state "$OUT/rs256.json" -scenario refresh -rate "$HALF" -d "$D"
want expire && run expire -state "$OUT/rs256.json" -scenario expire -c 32 -d "$D" -expire-sessions 30000
want refresh-ES256 && run refresh-ES256 -state "$OUT/es256.json" -scenario refresh -c 32 -d "$D"
want mix && run mix -state "$OUT/rs256.json" -scenario mix -c 32 -d "$D"
stop

# A flood of 1,000 concurrent sign-ins against a fresh server process:
# peak RSS (VmHWM) of the server.
if want flood; then
	start
	run signin-flood-1000 -state "$OUT/rs256.json" -scenario signin -c 1000 -d 10s -bounds=false
	stop
fi
trap - EXIT

if [ -s "$OUT/sweep.csv" ]; then (cd "$ROOT" && go run ./scripts/plot -in "$OUT/sweep.csv" -out "$OUT/refresh-sweep.svg"); fi
echo "results: $OUT/results.csv, sweep: $OUT/sweep.csv, plot: $OUT/refresh-sweep.svg" >&2
