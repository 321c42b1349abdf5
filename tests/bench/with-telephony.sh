#!/usr/bin/env bash
# The exporter built in this checkout, watching up to 10,000 agents and every trunk and Edge:
# a BINARY for scrape-load.sh (with --trunks and --edges).
export GENESYS_EXPORTER_AGENTS__ENABLED=true GENESYS_EXPORTER_AGENTS__MAX=10000
export GENESYS_EXPORTER_TELEPHONY__ENABLED=true
exec "$(dirname "$0")/../../target/release/genesys-exporter" "$@"
