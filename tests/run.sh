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

# Debian's prometheus package: promtool validates the exposition format (tests/promtool.rs) and
# the server itself scrapes the exporter through restarts (tests/restart.rs).
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    install_debian_package prometheus || true
fi
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    if [ "${CI:-}" = "true" ]; then
        echo "error: prometheus and promtool are required under CI=true and could not be installed" >&2
        exit 1
    fi
    echo "warning: prometheus/promtool not found; the tests that need them will report it" >&2
fi

# Debian's chromium: tests/status_page.rs loads the status page in a real headless browser.
if ! command -v chromium >/dev/null; then
    install_debian_package chromium || true
fi
if ! command -v chromium >/dev/null && [ "${CI:-}" = "true" ]; then
    echo "error: chromium is required under CI=true and could not be installed" >&2
    exit 1
fi

# The official Genesys Cloud Python SDK, and a WebSocket client it lacks, drive the simulator in
# tests/sdk_compat.rs (tests/sdk/check_sdk.py). Pinned: bump deliberately and rerun that test.
PYTHON_SDK_PACKAGES=(PureCloudPlatformClientV2==269.0.0 websocket-client==1.9.2)
# Importable at the pinned versions (an older install gets upgraded).
python_sdk_importable() {
    python3 - "${PYTHON_SDK_PACKAGES[@]}" >/dev/null 2>&1 <<'PY'
import sys
from importlib.metadata import version
import PureCloudPlatformClientV2, websocket
for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    assert version(name) == wanted, pin
PY
}
if ! python_sdk_importable; then
    command -v python3 >/dev/null || install_debian_package python3 || true
    if command -v python3 >/dev/null && ! python3 -m pip --version >/dev/null 2>&1; then
        install_debian_package python3-pip || true
    fi
    if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
        echo "== installing ${PYTHON_SDK_PACKAGES[*]} (pip)"
        pip_install=(python3 -m pip install -q --disable-pip-version-check)
        # NB: a Debian python3 refuses user packages (PEP 668) unless told otherwise.
        if ! pip_log=$("${pip_install[@]}" "${PYTHON_SDK_PACKAGES[@]}" 2>&1); then
            if grep -q externally-managed-environment <<<"$pip_log"; then
                "${pip_install[@]}" --break-system-packages "${PYTHON_SDK_PACKAGES[@]}" || true
            else
                echo "$pip_log" >&2
            fi
        fi
    fi
fi
if ! python_sdk_importable; then
    if [ "${CI:-}" = "true" ]; then
        echo "error: the Python SDK (${PYTHON_SDK_PACKAGES[*]}) is required under CI=true and could not be installed" >&2
        exit 1
    fi
    echo "warning: the Python SDK is not importable; tests/sdk_compat.rs will skip" >&2
fi

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings
cargo clippy --all-targets --locked --features failpoints -- -D warnings
# `failpoints`: tests/task_death.rs injects a panic into a running exporter (src/failpoint.rs).
echo "== cargo test --features failpoints"
cargo test --all-targets --locked --features failpoints
echo "== all tests passed"
