#!/usr/bin/env bash
# tests/bench/with-agents.sh with every time-in-status counter, polled every 2 s: the most
# agent series a BINARY for scrape-load.sh can export.
export GENESYS_EXPORTER_AGENTS__TIME_IN_STATUS_INTERVAL=2s
export GENESYS_EXPORTER_AGENTS__ORGANIZATION_PRESENCE_TIME=true
exec "$(dirname "$0")/with-agents.sh" "$@"
