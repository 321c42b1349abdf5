#!/usr/bin/env bash
# Two builds of the exporter side by side against one simulator at N queues with traffic, each
# with its own state_dir, both scraped every 5 s for S seconds: peak memory (VmHWM) and the size
# of the state file each wrote, per binary. Side by side, so both see the same traffic and the
# same machine load. Public tools only: curl, /proc, stat.
#
#   tests/bench/state-load.sh [--queues 5000] [--seconds 150] BINARY_A BINARY_B
set -euo pipefail
queues=5000 seconds=150
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --queues) queues=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $# -eq 2 ]] || { echo "usage: $0 [--queues N] [--seconds S] BINARY_A BINARY_B" >&2; exit 2; }
sim_port=18580
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# NB: 6 arrivals a minute per queue, so most (queue, media type) series move within the run.
"$2" simulate --queues "$queues" --arrivals-per-minute 6 --listen "127.0.0.1:$sim_port" \
  >"$work/sim.log" 2>&1 &
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$sim_port/sim/truth" -o /dev/null && break; sleep 0.1; done

export GENESYS_EXPORTER_CLIENT_ID=demo-client GENESYS_EXPORTER_CLIENT_SECRET=demo-secret
export GENESYS_EXPORTER_API_BASE_URL="http://127.0.0.1:$sim_port"
export GENESYS_EXPORTER_LOGIN_BASE_URL="http://127.0.0.1:$sim_port"
export GENESYS_EXPORTER_LOG__LEVEL=warn GENESYS_EXPORTER_AGGREGATES__POLL_INTERVAL=15s

pids=() ports=()
for i in 0 1; do
  port=$((sim_port + 1 + i))
  mkdir "$work/state$i"
  GENESYS_EXPORTER_LISTEN_ADDRESS="127.0.0.1:$port" GENESYS_EXPORTER_STATE_DIR="$work/state$i" \
    "${@:i+1:1}" run >"$work/exporter$i.log" 2>&1 &
  pids+=($!) ports+=("$port")
done
end=$((SECONDS + seconds))
while [[ $SECONDS -lt $end ]]; do
  for port in "${ports[@]}"; do curl -s -m 10 -o /dev/null "http://127.0.0.1:$port/metrics" || true; done
  sleep 5
done
for i in 0 1; do
  peak=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/${pids[i]}/status")
  size=$(stat -c %s "$work/state$i/ledger.json")
  echo "${@:i+1:1}: peak ${peak} MiB, state file $((size / 1024)) KiB"
done
