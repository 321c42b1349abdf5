#!/usr/bin/env bash
# The whole test suite, as README.md documents it: installs what the tests need, then runs
# formatting, lints, and every unit and integration test. Under CI=true a missing tool fails.
set -euo pipefail
cd "$(dirname "$0")/.."

install_debian_package() {
    local package=$1
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing $package (apt-get)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
    elif command -v sudo >/dev/null; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
    fi
}

# promtool (Debian's prometheus package) validates the exposition format in tests/promtool.rs.
if ! command -v promtool >/dev/null; then
    install_debian_package prometheus || true
fi
if ! command -v promtool >/dev/null; then
    if [ "${CI:-}" = "true" ]; then
        echo "error: promtool is required under CI=true and could not be installed" >&2
        exit 1
    fi
    echo "warning: promtool not found; tests/promtool.rs will report it" >&2
fi

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --all-targets --locked
echo "== all tests passed"
