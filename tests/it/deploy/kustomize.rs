//! `kubectl kustomize` of the base and of the example overlay, as parsed objects.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::{tools, yaml};

pub const OVERLAY: &str = "overlays/example-org";
/// The StatefulSet of shards.
pub const SHARDED: &str = "overlays/sharded";
/// Kinds from CRDs (the Prometheus Operator's): no Kubernetes schema knows them.
pub const CUSTOM_KINDS: [&str; 3] = ["ServiceMonitor", "PrometheusRule", "AlertmanagerConfig"];

pub fn available() -> bool {
    tools::require(
        "kubectl",
        &["version", "--client"],
        "kubectl 1.21 or newer, with kustomize v4+",
    )
}

/// The objects `kubectl kustomize` renders from `dir`.
pub fn render(dir: &Path) -> Vec<Value> {
    let output = tools::run_ok(Command::new("kubectl").arg("kustomize").arg(dir));
    let objects: Vec<Value> = yaml::documents(&output.stdout, "kubectl kustomize's output")
        .into_iter()
        .filter(|o| !o.is_null())
        .collect();
    assert!(!objects.is_empty(), "{} renders nothing", dir.display());
    objects
}

pub fn render_base() -> Vec<Value> {
    render(&tools::repo("deploy/kubernetes/base"))
}

/// The overlay as a user renders it once they have created its `client-secret` file: a copy
/// of deploy/kubernetes with that file added, so the work tree is left alone.
pub fn render_overlay() -> Vec<Value> {
    render_overlay_at(OVERLAY)
}

/// [`render_overlay`] of the overlay at `path` (below deploy/kubernetes).
pub fn render_overlay_at(path: &str) -> Vec<Value> {
    let copy = tempfile::tempdir().unwrap();
    tools::copy_tree(&tools::repo("deploy/kubernetes"), copy.path());
    let overlay = copy.path().join(path);
    std::fs::write(overlay.join("client-secret"), "not-a-real-secret\n").unwrap();
    render(&overlay)
}

/// The one object of `kind` (and `name`, when several).
pub fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let mut found = objects.iter().filter(|o| o["kind"] == kind);
    let object = found.next().unwrap_or_else(|| panic!("no {kind} rendered"));
    assert!(found.next().is_none(), "one {kind} expected");
    object
}

pub fn name(object: &Value) -> &str {
    object["metadata"]["name"]
        .as_str()
        .expect("every object has a name")
}

/// The object of `kind` named `name`.
pub fn named<'a>(objects: &'a [Value], kind: &str, name_: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && name(o) == name_)
        .unwrap_or_else(|| panic!("no {kind} named {name_} rendered"))
}
