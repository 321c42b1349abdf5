#!/usr/bin/env bash
# The exporter built in this checkout, watching up to 10,000 agents, every trunk and Edge, and
# every inbound flow and data action: a BINARY for scrape-load.sh (with --trunks, --edges,
# --flows, --outcomes and --actions).
export GENESYS_EXPORTER_AGENTS__ENABLED=true GENESYS_EXPORTER_AGENTS__MAX=10000
export GENESYS_EXPORTER_TELEPHONY__ENABLED=true
export GENESYS_EXPORTER_FLOWS__ENABLED=true GENESYS_EXPORTER_ACTIONS__ENABLED=true
exec "$(dirname "$0")/../../target/release/genesys-exporter" "$@"
