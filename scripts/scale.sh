#!/usr/bin/env bash
# Reproduces "Scale with data" in docs/performance.md: refresh and expire
# latency at a fixed open-loop rate against a small and a big session
# table, on SQLite or PostgreSQL.
#
#   scripts/scale.sh sqlite   [OUT_DIR]   (default /tmp/actas-scale/sqlite)
#   scripts/scale.sh postgres [OUT_DIR]   (needs PGURL, see below)
#
# Two servers run side by side, one on each table, and the runs alternate
# between them (refresh small, refresh big, expire small, expire big, for
# ROUNDS rounds): on a shared machine, back-to-back pairs compare the
# table sizes under the same noise. Each server gets an ES256 tenant (so
# that storage is a larger share of a request) seeded with `actas-bench
# seed`. One CSV row per run goes to $OUT/scale-$BACKEND.csv.
#
# Settings (environment): SMALL=10000 BIG=10000000 sessions; RATE=300
# arrivals/s; N=6000 requests per run (20 s at 300/s; each expire run adds
# N revoked sessions to its table); ROUNDS=3; PORT=18110 (and PORT+1);
# PGURL=postgres://postgres@127.0.0.1:5432 (databases actas_scale_small
# and actas_scale_big are created there, and dropped unless KEEP=1);
# LOCK=/path: run each load run under `flock LOCK` (shared machines);
# SCENARIOS="refresh expire"; SIZES="small big" (the tables to measure).
# An existing $OUT/small.json / big.json (from an earlier run with KEEP=1)
# is reused: no setup, no seed.
#
# Seeding 10M sessions takes 10-20 minutes and about 6 GB on SQLite, 5 GB
# on PostgreSQL.
set -euo pipefail
BACKEND=${1:?usage: scale.sh sqlite|postgres [OUT_DIR]}
OUT=${2:-/tmp/actas-scale/$BACKEND}
SMALL=${SMALL:-10000} BIG=${BIG:-10000000} RATE=${RATE:-300} N=${N:-6000} ROUNDS=${ROUNDS:-3}
SCENARIOS=${SCENARIOS:-refresh expire} SIZES=${SIZES:-small big}
PORT=${PORT:-18110} PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ACTAS_MASTER_KEY=${ACTAS_MASTER_KEY:-$(head -c 32 /dev/urandom | base64)}
mkdir -p "$OUT"
# ACTAS_BIN / BENCH_BIN: use prebuilt binaries (e.g. of another commit).
if [ -n "${ACTAS_BIN:-}" ]; then cp "$ACTAS_BIN" "$OUT/actas"; else (cd "$ROOT" && go build -o "$OUT/actas" ./cmd/actas); fi
if [ -n "${BENCH_BIN:-}" ]; then cp "$BENCH_BIN" "$OUT/actas-bench"; else (cd "$ROOT" && go build -o "$OUT/actas-bench" ./cmd/actas-bench); fi
B="$OUT/actas-bench"
lock() { if [ -n "${LOCK:-}" ]; then flock "$LOCK" "$@"; else "$@"; fi; }

db() { # size -> --db
	case $BACKEND in
	sqlite) mkdir -p "$OUT/$1" && echo "sqlite:$OUT/$1/actas.db" ;;
	postgres) echo "$PGURL/actas_scale_$1?sslmode=disable" ;;
	*) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
	esac
}

declare -A PID URL
start() { # size port
	local url="http://127.0.0.1:$2"
	if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$2 "; then echo "port $2 is busy" >&2; exit 1; fi
	"$OUT/actas" serve --db "$(db "$1")" --addr "127.0.0.1:$2" >"$OUT/server-$1.log" 2>&1 &
	PID[$1]=$! URL[$1]=$url
	for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && return 0; sleep 0.1; done
	echo "server $1 did not start" >&2; cat "$OUT/server-$1.log" >&2; exit 1
}
stop() { for p in "${PID[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
cleanup() {
	stop
	if [ "${KEEP:-}" != 1 ]; then
		rm -rf "$OUT/small" "$OUT/big" "$OUT/small.json" "$OUT/big.json"
		if [ "$BACKEND" = postgres ]; then
			for s in small big; do psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS actas_scale_$s" || true; done
		fi
	fi
}
trap cleanup EXIT

i=0
for size in $SIZES; do
	fresh=0
	if [ ! -f "$OUT/$size.json" ]; then
		fresh=1
		[ "$BACKEND" = postgres ] && psql "$PGURL/postgres" -qc "CREATE DATABASE actas_scale_$size"
	fi
	start "$size" $((PORT + i)); i=$((i + 1))
	if [ $fresh = 1 ]; then
		"$B" -db "$(db "$size")" -url "${URL[$size]}" -state "$OUT/$size.json" -setup -alg ES256 \
			-scenario refresh -n 1 -bounds=false -q >/dev/null
		n=$SMALL; [ "$size" = big ] && n=$BIG
		"$B" seed -db "$(db "$size")" -state "$OUT/$size.json" -sessions "$n" | tee -a "$OUT/seed.log"
		[ "$BACKEND" = postgres ] && psql "$(db "$size")" -qc "VACUUM ANALYZE"
	fi
done

run() { # size scenario label [args]
	local size=$1 sc=$2 label=$3; shift 3
	lock "$B" -db "$(db "$size")" -url "${URL[$size]}" -state "$OUT/$size.json" -pid "${PID[$size]}" \
		-scenario "$sc" -rate "$RATE" -d 0 -bounds=false -q -label "$label" "$@"
}
# Warm both servers (not recorded), then alternate.
for size in $SIZES; do for sc in $SCENARIOS; do run "$size" "$sc" warmup -n $((N / 4 + 1)) >/dev/null; done; done
for r in $(seq "$ROUNDS"); do
	for sc in $SCENARIOS; do
		for size in $SIZES; do
			run "$size" "$sc" "$BACKEND-$size-$sc-r$r" -n "$N" -csv "$OUT/scale-$BACKEND.csv" |
				grep -E '^(scenario|latency)' | sed "s/^/$size $sc r$r: /"
		done
	done
done
