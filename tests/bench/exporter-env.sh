# Sourced by the load scripts of tests/bench: the simulator and the exporter they start, and
# the waits before measuring. Public tools only: curl.

# Waits (up to 10 s) until the simulator on port $1 answers.
wait_simulator() {
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/sim/truth" -o /dev/null && return; sleep 0.1; done
}

# Points the exporter's `run` at the simulator on port $1 and makes it listen on port $2.
exporter_env() {
  export GENESYS_EXPORTER_CLIENT_ID=demo-client GENESYS_EXPORTER_CLIENT_SECRET=demo-secret
  export GENESYS_EXPORTER_API_BASE_URL="http://127.0.0.1:$1"
  export GENESYS_EXPORTER_LOGIN_BASE_URL="http://127.0.0.1:$1"
  export GENESYS_EXPORTER_LISTEN_ADDRESS="127.0.0.1:$2" GENESYS_EXPORTER_LOG__LEVEL=warn
}

# Waits (up to 120 s) until the exporter on port $1 is ready.
wait_ready() {
  for _ in $(seq 12000); do curl -sf "http://127.0.0.1:$1/readyz" -o /dev/null && return; sleep 0.01; done
}

# Waits (up to 300 s) for the exporter on port $1 to finish its first aggregates poll, which
# creates the counters, and the first poll of the flows and data actions it watches; the last
# scrape is left in file $2.
wait_first_poll() {
  for _ in $(seq 600); do
    curl -s -o "$2" "http://127.0.0.1:$1/metrics" || true
    grep -q '^genesys_exporter_last_poll_timestamp_seconds [1-9]' "$2" &&
      polled_if_watched flow "$2" && polled_if_watched action "$2" && return
    sleep 0.5
  done
}

# Whether the source $1 (flow, action) in scrape $2 has polled once, or watches nothing.
polled_if_watched() {
  ! grep -q "^genesys_exporter_watched_$1s [1-9]" "$2" ||
    grep -q "^genesys_exporter_$1_last_poll_timestamp_seconds [1-9]" "$2"
}
