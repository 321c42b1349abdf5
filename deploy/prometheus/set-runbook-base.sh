#!/usr/bin/env bash
# Prints or changes the base URL of the alerts' runbook links.
#
# Why: every alert in rules/alerts.yml carries `runbook_url: <base>#<alert name in lower case>`,
# the alert's section of docs/alerts.md. The base (by default that page on GitHub) is one
# setting, but it is written out in every alert, in the expected annotations of the rule unit
# tests (tests/*.yml, which must match exactly) and in the generated Kubernetes PrometheusRule.
# A fork, a mirror or an internal wiki that serves the runbooks elsewhere changes all of them
# here at once, so they never disagree.
#
# Usage:
#   deploy/prometheus/set-runbook-base.sh        print the current base (fails if the alerts
#                                                disagree, or an alert has no runbook_url)
#   deploy/prometheus/set-runbook-base.sh URL    make URL the base in rules/*.yml and tests/*.yml,
#                                                then regenerate the PrometheusRule
#                                                (deploy/kubernetes/generate-prometheusrule.sh)
#                                                and the dashboards (grafana/generate.py)
# e.g. deploy/prometheus/set-runbook-base.sh https://wiki.example.org/genesys-exporter/alerts
set -euo pipefail
cd "$(dirname "$0")"

# One line per alert of rules/*.yml: "<alert name> <runbook_url>" (the URL "-" when missing).
runbooks() {
    awk -v quotes="[\"']" '
        function flush() { if (alert != "") print alert, (url == "" ? "-" : url) }
        /^[[:space:]]*- (alert|record):/ { flush(); alert = ($2 == "alert:" ? $3 : ""); url = "" }
        /^[[:space:]]*runbook_url:/ { url = $2; gsub(quotes, "", url) }
        END { flush() }
    ' rules/*.yml
}

# The base every alert's runbook_url shares; fails naming the alerts that break the pattern.
current_base() {
    local alert url base="" bad=0
    while read -r alert url; do
        local lower
        lower=$(printf '%s' "$alert" | tr '[:upper:]' '[:lower:]')
        if [ "$url" = "-" ]; then
            echo "error: alert $alert has no runbook_url annotation" >&2
            bad=1
        elif [ "${url##*#}" != "$lower" ] || [ "${url%#*}" = "$url" ]; then
            echo "error: alert $alert: runbook_url $url does not end in #$lower" >&2
            bad=1
        elif [ -z "$base" ]; then
            base=${url%#*}
        elif [ "${url%#*}" != "$base" ]; then
            echo "error: alert $alert: runbook base ${url%#*} differs from $base" >&2
            bad=1
        fi
    done < <(runbooks)
    if [ "$bad" = 1 ]; then
        return 1
    fi
    if [ -z "$base" ]; then
        echo "error: no alert in deploy/prometheus/rules/*.yml" >&2
        return 1
    fi
    printf '%s\n' "$base"
}

case $# in
    0)
        current_base
        ;;
    1)
        new=$1
        if ! printf '%s' "$new" | grep -Eq '^[A-Za-z][A-Za-z0-9+.-]*://[^[:space:]#"'\''\\|&]+$'; then
            echo "error: '$new' is not a URL without a fragment (no #, spaces, quotes, |, & or \\)" >&2
            exit 2
        fi
        for file in rules/*.yml tests/*.yml; do
            tmp=$(mktemp)
            # Everything up to the anchor's '#' is the base; the anchor (the alert) stays.
            sed -E "s|^([[:space:]]*runbook_url:[[:space:]]*)[^#[:space:]]*#|\1$new#|" "$file" > "$tmp"
            # cat, not mv: the file keeps its mode.
            cat "$tmp" > "$file"
            rm -f "$tmp"
        done
        base=$(current_base)
        if [ "$base" != "$new" ]; then
            echo "error: the base reads back as $base, not $new" >&2
            exit 1
        fi
        bash ../kubernetes/generate-prometheusrule.sh
        # The dashboards link the runbooks of the alerts their panels judge.
        python3 ../../grafana/generate.py
        echo "runbook base: $base (rules, rule tests, deploy/kubernetes/base/prometheusrule.yaml, grafana/dashboards)"
        ;;
    *)
        echo "usage: $0 [BASE_URL]" >&2
        exit 2
        ;;
esac
