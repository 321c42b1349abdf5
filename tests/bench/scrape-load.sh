#!/usr/bin/env bash
# The exporter against the simulator at N queues, scraped like Prometheus scrapes it: for each
# binary given, in turn (A B A B ...), start it, wait for /readyz and the first aggregates poll,
# time five scrapes (plain and gzip, as curl sees them) and read the process's peak memory
# (VmHWM). Prints one line per run and the medians per binary. Public tools only: curl, /proc.
#
# Start-up is from process start to /readyz 200 (which waits for every queue's and agent's
# first resync). A BINARY may be a wrapper script that sets variables and execs the exporter
# (tests/bench/with-agents.sh watches the simulator's agents).
#
# --settle S waits S seconds more before timing, so series that need traffic (agents' time in
# status) exist.
#
# --trunks N --edges M gives the simulator that many trunks and Edges (tests/bench/
# with-telephony.sh watches them); --flows N --outcomes M --actions K that many inbound call
# flows, flow outcomes and data actions (tests/bench/with-flows.sh watches them besides).
#
#   tests/bench/scrape-load.sh [--queues 5000] [--agents-per-queue N] [--simulator BINARY]
#                              [--trunks N] [--edges M] [--flows N] [--outcomes M]
#                              [--actions K] [--rounds 3] [--settle 0]
#                              BINARY [BINARY ...]
set -euo pipefail
queues=5000 rounds=3 agents=() telephony=() ivr=() simulator= settle=0
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --queues) queues=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --agents-per-queue) agents=(--agents "$2"); shift 2 ;;
    --trunks) telephony+=(--trunks "$2"); shift 2 ;;
    --edges) telephony+=(--edges "$2"); shift 2 ;;
    --flows|--outcomes|--actions) ivr+=("$1" "$2"); shift 2 ;;
    --simulator) simulator=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $# -ge 1 ]] || { echo "usage: $0 [--queues N] [--agents-per-queue N] [--simulator BIN] [--trunks N] [--edges M] [--flows N] [--outcomes M] [--actions K] [--rounds R] [--settle S] BINARY..." >&2; exit 2; }
sim_port=18480 port=18481
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

source "$(dirname "$0")/exporter-env.sh"
"${simulator:-$1}" simulate --queues "$queues" "${agents[@]}" "${telephony[@]}" "${ivr[@]}" --listen "127.0.0.1:$sim_port" >"$work/sim.log" 2>&1 &
wait_simulator "$sim_port"
exporter_env "$sim_port" "$port"
export GENESYS_EXPORTER_AGGREGATES__POLL_INTERVAL=2s

run_once() { # binary -> "scrape_ms gzip_ms bytes gzip_bytes series agent_series telephony_series ivr_series startup_ms peak_mib"
  local bin=$1 pid started ready
  started=$(date +%s%N)
  "$bin" run >"$work/exporter.log" 2>&1 &
  pid=$!
  wait_ready "$port"
  ready=$(( ($(date +%s%N) - started) / 1000000 ))
  wait_first_poll "$port" "$work/scrape.txt"
  sleep "$settle"
  local plain=() zipped=() bytes zbytes
  for _ in 1 2 3 4 5; do
    read -r t bytes < <(curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "http://127.0.0.1:$port/metrics")
    plain+=("$t")
    read -r t zbytes < <(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{time_total} %{size_download}\n' "http://127.0.0.1:$port/metrics")
    zipped+=("$t")
  done
  # NB: timed to /dev/null, as Prometheus keeps no file of it; one more scrape is counted.
  curl -s -o "$work/scrape.txt" "http://127.0.0.1:$port/metrics"
  local series agent_series telephony_series ivr_series peak
  series=$(grep -c 'queue_id=' "$work/scrape.txt" || true)
  agent_series=$(grep -c 'user_id=' "$work/scrape.txt" || true)
  telephony_series=$(grep -cE '^genesys_(trunk|edge)_' "$work/scrape.txt" || true)
  ivr_series=$(grep -cE '^genesys_(flow|action)_' "$work/scrape.txt" || true)
  peak=$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  printf '%s %s %s %s %s %s %s %s %s %s\n' \
    "$(printf '%s\n' "${plain[@]}" | sort -n | sed -n 3p | awk '{printf "%.0f", $1 * 1000}')" \
    "$(printf '%s\n' "${zipped[@]}" | sort -n | sed -n 3p | awk '{printf "%.0f", $1 * 1000}')" \
    "$bytes" "$zbytes" "$series" "$agent_series" "$telephony_series" "$ivr_series" "$ready" "$peak"
}

echo "binary | scrape ms | gzip scrape ms | bytes | gzip bytes | queue series | agent series | trunk and Edge series | flow and action series | start-up ms | peak RSS MiB"
for round in $(seq "$rounds"); do
  for bin in "$@"; do
    echo "$bin $(run_once "$bin")" | tee -a "$work/results"
  done
done
echo "medians per column:"
for bin in "$@"; do
  line=$bin
  for col in 2 3 4 5 6 7 8 9 10 11; do
    line+=" $(awk -v b="$bin" -v c="$col" '$1 == b {print $c}' "$work/results" | sort -n |
      awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')"
  done
  echo "$line"
done
