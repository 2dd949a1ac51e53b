#!/usr/bin/env bash
# Soak: sustained PutItem on a table with a NEW_AND_OLD_IMAGES stream (100 keys, so the
# items stay few and only the stream grows), while nimbus's RSS is sampled every 10 s.
# Stream records must live in the store, not in memory: RSS has to level off, not grow
# with the writes.
#
#   bench/soak.sh [SECONDS=600] [CLIENTS=16] [NIMBUS_BIN=target/release/nimbus]
#
# Prints the RSS series, the write count and the verdict: RSS growth over the last two
# thirds of the run per million writes (the first third is warm-up: caches, the stream's
# in-memory tail and SQLite's page cache filling). Exits 1 if RSS grew by more than
# 64 MiB over that stretch.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_TOTAL=${1:-600}
CLIENTS=${2:-16}
BIN=${3:-target/release/nimbus}
PORT=${NIMBUS_PORT:-4590}

if [ "${NO_BUILD:-}" != 1 ]; then
  cargo build --release -q -p nimbus -p nimbus-bench
fi
if (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; then
  echo "port $PORT is in use; set NIMBUS_PORT" >&2
  exit 2
fi

work=$(mktemp -d /tmp/nimbus-soak.XXXXXX)
"$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$work/data" >"$work/nimbus.log" 2>&1 &
pid=$!
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/_nimbus/health" >/dev/null && break
  sleep 0.1
done

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
(
  start=$(date +%s)
  while kill -0 "$pid" 2>/dev/null; do
    echo "$(( $(date +%s) - start )) $(rss_kib)"
    sleep 10
  done
) >"$work/rss.txt" &
sampler=$!

target/release/nimbus-bench dynamodb --target "nimbus=http://127.0.0.1:$PORT" \
  --workload put --stream-only --mode raw --clients "$CLIENTS" \
  --put-keys 100 --partitions 1 --items 1 --duration "${SECONDS_TOTAL}s" --warmup 1s \
  --json "$work/result.json" | tee "$work/bench.txt"

kill "$sampler" 2>/dev/null || true
sampler=""
echo "-- RSS (seconds, MiB)"
awk '{printf "%6d %8.1f\n", $1, $2 / 1024}' "$work/rss.txt"
python3 - "$work/rss.txt" "$work/result.json" "$SECONDS_TOTAL" <<'EOF'
import json, sys
samples = [tuple(map(int, line.split())) for line in open(sys.argv[1]) if len(line.split()) == 2]
def runs(v):
    if isinstance(v, dict):
        if "requests" in v and "req_per_s" in v:
            yield v
        for x in v.values():
            yield from runs(x)
    elif isinstance(v, list):
        for x in v:
            yield from runs(x)
run = max(runs(json.load(open(sys.argv[2]))), key=lambda r: r["requests"])
rate, writes, errors = run["req_per_s"], run["requests"], run["errors"]
total = float(sys.argv[3])
third = [s for s in samples if s[0] >= total / 3]
if len(third) < 2:
    print("too few samples"); sys.exit(2)
grow_kib = third[-1][1] - third[0][1]
print(f"writes: {writes:,} ({rate:,.0f}/s, {errors} errors, p99 {run['p99_ms']:.2f} ms); RSS {samples[0][1]/1024:.1f} MiB at start, "
      f"{third[0][1]/1024:.1f} MiB at {third[0][0]} s, {third[-1][1]/1024:.1f} MiB at {third[-1][0]} s, max {max(s[1] for s in samples)/1024:.1f} MiB")
span_writes = rate * (third[-1][0] - third[0][0])
per_write = grow_kib * 1024 / span_writes if span_writes else 0
print(f"growth over the last two thirds: {grow_kib/1024:+.1f} MiB ({per_write:+.1f} bytes per write)")
sys.exit(1 if grow_kib > 64 * 1024 else 0)
EOF
