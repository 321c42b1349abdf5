#!/usr/bin/env bash
# Many scrapers at once, as a busy Prometheus estate scrapes (an HA pair, an agent, a
# federation, someone's curl loop): for each binary given, in turn (A B A B ...), start it
# against the simulator, wait for /readyz and the first aggregates poll, then for each P of
# --scrapers run P loops of gzip scrapes (what Prometheus asks for) for --seconds each and
# report scrapes a second, the p50 and p99 of a scrape's time, failed scrapes, and the
# process's peak memory during that step (VmHWM, reset before each step through
# /proc/PID/clear_refs). Public tools only: curl, /proc.
#
# A BINARY may be a wrapper script that sets variables and execs the exporter
# (tests/bench/with-agents.sh watches the simulator's agents).
#
#   tests/bench/scrape-concurrency.sh [--queues 5000] [--agents-per-queue 2]
#       [--scrapers "1 2 8 32"] [--seconds 20] [--rounds 1] [--simulator BINARY] BINARY...
set -euo pipefail
queues=5000 agents=(--agents 2) scrapers="1 2 8 32" seconds=20 rounds=1 simulator=
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --queues) queues=$2; shift 2 ;;
    --agents-per-queue) agents=(--agents "$2"); shift 2 ;;
    --scrapers) scrapers=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --simulator) simulator=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $# -ge 1 ]] || { echo "usage: $0 [options] BINARY..." >&2; exit 2; }
sim_port=18490 port=18491
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

source "$(dirname "$0")/exporter-env.sh"
"${simulator:-$1}" simulate --queues "$queues" "${agents[@]}" --listen "127.0.0.1:$sim_port" >"$work/sim.log" 2>&1 &
wait_simulator "$sim_port"
exporter_env "$sim_port" "$port"
export GENESYS_EXPORTER_AGGREGATES__POLL_INTERVAL=10s
url="http://127.0.0.1:$port/metrics"

# One scraper: gzip scrapes back to back until the deadline, one line each: "seconds status".
# NB: the body is not decompressed: Prometheus does that on its own machine, and 32 curls
# inflating 55 MB each would time this machine's CPU, not the exporter.
scraper() {
  local deadline=$1 out=$2
  while (( $(date +%s%N) < deadline )); do
    curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{time_total} %{http_code}\n' "$url" >>"$out" || echo "0 000" >>"$out"
  done
}

# P scrapers for the step's seconds -> "P scrapes_per_s p50_ms p99_ms failed peak_mib"
step() {
  local pid=$1 p=$2 deadline
  echo 5 >"/proc/$pid/clear_refs"
  rm -f "$work"/times.*
  deadline=$(( $(date +%s%N) + seconds * 1000000000 ))
  local loops=()
  for i in $(seq "$p"); do scraper "$deadline" "$work/times.$i" & loops+=($!); done
  wait "${loops[@]}"
  cat "$work"/times.* >"$work/all"
  local ok failed n
  ok=$(awk '$2 == 200 {print $1}' "$work/all" | sort -n)
  n=$(printf '%s\n' "$ok" | grep -c . || true)
  failed=$(awk '$2 != 200' "$work/all" | wc -l)
  printf '%s %s %s %s %s %s\n' "$p" \
    "$(awk -v n="$n" -v s="$seconds" 'BEGIN {printf "%.1f", n / s}')" \
    "$(printf '%s\n' "$ok" | awk -v n="$n" 'NR == int((n + 1) * 0.5) {printf "%.0f", $1 * 1000}')" \
    "$(printf '%s\n' "$ok" | awk -v n="$n" 'NR == int(n * 0.99 + 0.999) {printf "%.0f", $1 * 1000}')" \
    "$failed" \
    "$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")"
}

run_once() { # binary -> lines "binary P scrapes_per_s p50 p99 failed peak_mib"
  local bin=$1 pid
  "$bin" run >"$work/exporter.log" 2>&1 &
  pid=$!
  wait_ready "$port"
  wait_first_poll "$port" "$work/scrape.txt"
  for p in $scrapers; do
    echo "$bin $(step "$pid" "$p")"
  done
  kill -TERM "$pid"; wait "$pid" || true
}

echo "binary | scrapers | scrapes/s | p50 ms | p99 ms | failed | peak RSS MiB"
for _ in $(seq "$rounds"); do
  for bin in "$@"; do
    run_once "$bin" | tee -a "$work/results"
  done
done
