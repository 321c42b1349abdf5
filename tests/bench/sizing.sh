#!/usr/bin/env bash
# What the exporter needs, for sizing a pod (docs/deploy.md, "Sizing"): for each size given as
# QUEUES:AGENTS_PER_QUEUE, start the simulator and BINARY (with agents watched when there are
# any), wait for /readyz and the first aggregates poll, then let an HA pair of Prometheus
# servers scrape it (two gzip scrapes every 15 s) for --seconds, and read the process's CPU
# over that span and its memory: the peak from its start to then (start-up's first resyncs and
# polls included), resident at the end, and the peak (VmHWM) over the scraped span.
# Public tools only: curl, /proc.
#
#   tests/bench/sizing.sh [--seconds 60] BINARY QUEUES:AGENTS_PER_QUEUE...
#   e.g. tests/bench/sizing.sh target/release/genesys-exporter 1000:0 5000:0 5000:2
set -euo pipefail
seconds=60
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $# -ge 2 ]] || { echo "usage: $0 [--seconds S] BINARY QUEUES:AGENTS_PER_QUEUE..." >&2; exit 2; }
bin=$1; shift
sim_port=18495 port=18496
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
url="http://127.0.0.1:$port/metrics"
ticks=$(getconf CLK_TCK)

source "$(dirname "$0")/exporter-env.sh"
exporter_env "$sim_port" "$port"
export GENESYS_EXPORTER_AGENTS__MAX=10000

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() { # queues agents_per_queue -> "queues agents cpu_millicores start_peak_mib rss_mib peak_mib"
  local queues=$1 per=$2 sim pid
  "$bin" simulate --queues "$queues" --agents "$per" --listen "127.0.0.1:$sim_port" >"$work/sim.log" 2>&1 &
  sim=$!
  wait_simulator "$sim_port"
  GENESYS_EXPORTER_AGENTS__ENABLED=$([[ $per -gt 0 ]] && echo true || echo false) "$bin" run >"$work/exporter.log" 2>&1 &
  pid=$!
  wait_ready "$port"
  wait_first_poll "$port" "$work/scrape.txt"
  local start_peak before end
  start_peak=$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  echo 5 >"/proc/$pid/clear_refs"
  before=$(cpu_ticks "$pid")
  end=$(( $(date +%s) + seconds ))
  while (( $(date +%s) < end )); do
    curl -s --compressed -o /dev/null "$url" & curl -s --compressed -o /dev/null "$url"; wait $!
    sleep 15
  done
  printf '%s %s %s %s %s %s\n' "$queues" "$(( queues * per ))" \
    "$(awk -v t="$(( $(cpu_ticks "$pid") - before ))" -v hz="$ticks" -v s="$seconds" 'BEGIN {printf "%.0f", t / hz / s * 1000}')" \
    "$start_peak" \
    "$(awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")" \
    "$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")"
  kill -TERM "$pid" "$sim"; wait "$pid" "$sim" || true
}

echo "queues | agents | CPU millicores | peak from start MiB | resident MiB | peak scraped MiB"
for size in "$@"; do
  measure "${size%%:*}" "${size##*:}"
done
