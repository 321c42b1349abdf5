#!/usr/bin/env bash
# The exporter built in this checkout, watching up to 10,000 agents (the members of the
# monitored queues): a BINARY for scrape-load.sh.
export GENESYS_EXPORTER_AGENTS__ENABLED=true GENESYS_EXPORTER_AGENTS__MAX=10000
exec "$(dirname "$0")/../../target/release/genesys-exporter" "$@"
