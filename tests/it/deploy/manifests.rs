//! The Kustomize base and the example overlay: they render, every object passes the Kubernetes
//! schemas, the Deployment is locked down and probed, the objects agree with each other and
//! with the config they mount, and the PrometheusRule is the rule files and passes promtool.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use super::kustomize::{self, find, name, named};
use super::layout;
use super::tools::{self, repo};
use super::yaml;

/// The oldest Kubernetes the kit supports (PodDisruptionBudget's unhealthyPodEvictionPolicy)
/// and the newest kubernetes-validate knows at its pinned version.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.29.0", "1.37.0"];

const LABELS: [(&str, &str); 2] = [
    ("app.kubernetes.io/name", "genesys-exporter"),
    ("app.kubernetes.io/component", "exporter"),
];

/// Whether every `key: value` of `selector` is among `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let selector = selector.as_object().expect("a label map");
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[test]
fn base_and_overlay_pass_the_kubernetes_schemas() {
    if !kustomize::available()
        || !tools::require(
            "kubernetes-validate",
            &["--version"],
            "PyPI package kubernetes-validate",
        )
    {
        return;
    }
    for (what, objects) in [
        ("base", kustomize::render_base()),
        ("overlay", kustomize::render_overlay()),
        ("sharded", kustomize::render_overlay_at(kustomize::SHARDED)),
    ] {
        let standard: Vec<&Value> = objects
            .iter()
            .filter(|o| !kustomize::CUSTOM_KINDS.contains(&o["kind"].as_str().unwrap()))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("{what}.yaml"));
        let text: String = standard.iter().map(|o| format!("---\n{o}\n")).collect();
        std::fs::write(&file, text).unwrap();
        for version in KUBERNETES_VERSIONS {
            let output = tools::run_ok(
                Command::new("kubernetes-validate")
                    .args(["--strict", "--kubernetes-version", version])
                    .arg(&file),
            );
            let report = format!("{}{}", output.stdout, output.stderr);
            let passed = report.matches(" passed for resource ").count();
            assert!(
                passed == standard.len() && !report.contains("WARN") && !report.contains("ERROR"),
                "{what} against Kubernetes {version}: {} objects, {passed} passed:\n{report}",
                standard.len()
            );
        }
    }
}

#[test]
fn the_overlay_renders_every_object_and_needs_its_client_secret_file() {
    if !kustomize::available() {
        return;
    }
    let mut kinds: Vec<&str> = Vec::new();
    let objects = kustomize::render_overlay();
    kinds.extend(objects.iter().map(|o| o["kind"].as_str().unwrap()));
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "AlertmanagerConfig",
            "ConfigMap",
            "Deployment",
            "Namespace",
            "NetworkPolicy",
            "PersistentVolumeClaim",
            "PodDisruptionBudget",
            "PrometheusRule",
            "Secret",
            "Service",
            "ServiceAccount",
            "ServiceMonitor"
        ]
    );
    for object in objects.iter().filter(|o| o["kind"] != "Namespace") {
        assert_eq!(object["metadata"]["namespace"], "genesys-exporter");
        for (key, value) in LABELS {
            assert_eq!(object["metadata"]["labels"][key], value, "{object}");
        }
    }
    let copy = tempfile::tempdir().unwrap();
    tools::copy_tree(&repo("deploy/kubernetes"), copy.path());
    let overlay = copy.path().join(kustomize::OVERLAY);
    let _ = std::fs::remove_file(overlay.join("client-secret"));
    let output = tools::run(
        Command::new("kubectl").arg("kustomize").arg(&overlay),
        tools::TOOL_DEADLINE,
    );
    assert!(
        !output.status.success() && output.stderr.contains("client-secret"),
        "without the secret file the overlay does not render, naming it: {}",
        output.report()
    );
}

#[test]
fn the_deployment_runs_as_65532_read_only_without_capabilities_and_is_probed() {
    if !kustomize::available() {
        return;
    }
    let base = kustomize::render_base();
    let image = &find(&base, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"];
    assert_eq!(
        image,
        &json!(format!("genesys-exporter:{}", env!("CARGO_PKG_VERSION")))
    );
    let objects = kustomize::render_overlay();
    let deployment = find(&objects, "Deployment");
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["strategy"]["type"], "Recreate");
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(
        pod["securityContext"],
        json!({"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
               "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}})
    );
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let container = &containers[0];
    assert_eq!(
        container["image"],
        format!(
            "registry.example.org/contact-centre/genesys-exporter:{}",
            env!("CARGO_PKG_VERSION")
        )
    );
    let security = &container["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["privileged"], false);
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["runAsUser"], 65532);
    assert_eq!(security["capabilities"], json!({"drop": ["ALL"]}));
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(
        container["ports"],
        json!([{"name": "metrics", "containerPort": 9856, "protocol": "TCP"}])
    );
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(
            container[probe]["httpGet"],
            json!({"path": path, "port": "metrics"}),
            "{probe}"
        );
    }
    // The values follow from the measured sizes (the_pod_is_sized_from_the_measured_table).
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            let set = &container["resources"][kind][resource];
            assert!(!set.is_null(), "{kind}.{resource} is set");
        }
    }
    assert_eq!(
        container["args"],
        json!(["run", "--config", layout::CONFIG]),
        "the image's default command"
    );
}

/// What the pod mounts is what its config names: the ConfigMap at the --config path, the
/// Secret at client_secret_file, the state volume at state_dir; the Service, ServiceMonitor,
/// PodDisruptionBudget and NetworkPolicy select the pod and its `metrics` port.
#[test]
fn the_objects_agree_with_each_other_and_with_the_mounted_config() {
    if !kustomize::available() {
        return;
    }
    let objects = kustomize::render_overlay();
    let deployment = find(&objects, "Deployment");
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert!(selects(
        &deployment["spec"]["selector"]["matchLabels"],
        pod_labels
    ));
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let mount = |volume: &str| -> &str {
        container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == volume)
            .and_then(|m| m["mountPath"].as_str())
            .unwrap_or_else(|| panic!("volume {volume} is mounted"))
    };
    let volume = |volume: &str| -> &Value {
        pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == volume)
            .unwrap_or_else(|| panic!("volume {volume}"))
    };
    let config_path = Path::new(layout::CONFIG);
    assert_eq!(Path::new(mount("config")), config_path.parent().unwrap());
    let config_map = named(
        &objects,
        "ConfigMap",
        volume("config")["configMap"]["name"].as_str().unwrap(),
    );
    let file_name = config_path.file_name().unwrap().to_str().unwrap();
    let config_text = config_map["data"][file_name]
        .as_str()
        .expect("the ConfigMap holds config.yaml");
    let config = yaml::document(config_text, "the overlay's config.yaml");

    let secret_file = Path::new(config["client_secret_file"].as_str().unwrap());
    assert_eq!(secret_file, Path::new(layout::SECRET));
    assert_eq!(
        Path::new(mount("client-secret")),
        secret_file.parent().unwrap()
    );
    let secret_volume = &volume("client-secret")["secret"];
    assert_eq!(secret_volume["defaultMode"], 0o440);
    let secret = named(
        &objects,
        "Secret",
        secret_volume["secretName"].as_str().unwrap(),
    );
    let key = secret_file.file_name().unwrap().to_str().unwrap();
    assert!(secret["data"][key].is_string(), "the Secret holds {key}");

    assert_eq!(config["state_dir"], layout::STATE_DIR);
    assert_eq!(mount("state"), layout::STATE_DIR);
    // NB: on a claim, not an emptyDir: a rollout's new pod resumes the counters, and Recreate
    // lets it mount the ReadWriteOnce claim the old pod held.
    let claim = named(
        &objects,
        "PersistentVolumeClaim",
        volume("state")["persistentVolumeClaim"]["claimName"]
            .as_str()
            .expect("the state volume is a claim"),
    );
    assert_eq!(claim["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
    assert_eq!(config["listen_address"], "0.0.0.0:9856");
    assert_eq!(
        pod["serviceAccountName"],
        name(find(&objects, "ServiceAccount"))
    );

    let service = find(&objects, "Service");
    assert!(selects(&service["spec"]["selector"], pod_labels));
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": "metrics", "port": 9856, "targetPort": "metrics", "protocol": "TCP"}])
    );
    let monitor = find(&objects, "ServiceMonitor");
    assert!(selects(
        &monitor["spec"]["selector"]["matchLabels"],
        &service["metadata"]["labels"]
    ));
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
    let job_label = monitor["spec"]["jobLabel"].as_str().unwrap();
    assert_eq!(
        service["metadata"]["labels"][job_label], "genesys-exporter",
        "the scraped job is genesys-exporter"
    );
    let budget = find(&objects, "PodDisruptionBudget");
    assert!(selects(
        &budget["spec"]["selector"]["matchLabels"],
        pod_labels
    ));
    assert_eq!(budget["spec"]["maxUnavailable"], 1, "never blocks a drain");
    let policy = find(&objects, "NetworkPolicy");
    assert!(selects(
        &policy["spec"]["podSelector"]["matchLabels"],
        pod_labels
    ));
    assert_eq!(
        policy["spec"]["ingress"],
        json!([{"ports": [{"port": "metrics", "protocol": "TCP"}]}])
    );
    let egress_ports: Vec<&Value> = policy["spec"]["egress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["ports"].as_array().unwrap())
        .collect();
    assert_eq!(
        egress_ports,
        [
            &json!({"port": 53, "protocol": "UDP"}),
            &json!({"port": 53, "protocol": "TCP"}),
            &json!({"port": 443, "protocol": "TCP"})
        ]
    );
}

/// The config files the ConfigMaps carry are valid exporter configs (`check-config`), with only
/// the secret file and the state directory, which exist only in the pod, pointed elsewhere.
#[test]
fn the_mounted_configs_pass_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, "not-a-real-secret\n").unwrap();
    for config in [
        "deploy/kubernetes/base/config.yaml",
        "deploy/kubernetes/overlays/example-org/config.yaml",
        "deploy/kubernetes/overlays/sharded/config.yaml",
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_genesys-exporter"));
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("GENESYS_EXPORTER")) {
            command.env_remove(name);
        }
        let output = tools::run_ok(
            command
                .arg("--config")
                .arg(repo(config))
                .arg("check-config")
                .env("GENESYS_EXPORTER_CLIENT_SECRET_FILE", &secret)
                .env("GENESYS_EXPORTER_STATE_DIR", dir.path()),
        );
        let effective: Value = serde_json::from_str(&output.stdout).expect("check-config's JSON");
        assert_eq!(effective["listen_address"], "0.0.0.0:9856", "{config}");
        assert!(output.stderr.is_empty(), "{config}: {}", output.stderr);
    }
}

/// The rule files' groups, concatenated in file name order.
fn rule_file_groups() -> Vec<Value> {
    let dir = repo("deploy/prometheus/rules");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("deploy/prometheus/rules holds the rule files")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    let mut groups = Vec::new();
    for file in files {
        let document = yaml::document(&tools::read(&file), &file.display().to_string());
        match document["groups"].as_array() {
            Some(g) => groups.extend(g.iter().cloned()),
            None => panic!("{} has no `groups`: not a rule file", file.display()),
        }
    }
    assert!(!groups.is_empty(), "no rule groups in {}", dir.display());
    groups
}

#[test]
fn the_prometheus_rule_holds_the_rule_files_and_passes_promtool() {
    if !kustomize::available() {
        return;
    }
    let objects = kustomize::render_base();
    let groups = find(&objects, "PrometheusRule")["spec"]["groups"].clone();
    assert_eq!(
        groups,
        Value::Array(rule_file_groups()),
        "deploy/kubernetes/base/prometheusrule.yaml is out of date: run \
         deploy/kubernetes/generate-prometheusrule.sh"
    );
    if !tools::require("promtool", &["--version"], "Debian package prometheus") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prometheusrule-groups.yml");
    std::fs::write(&file, json!({ "groups": groups }).to_string()).unwrap();
    tools::run_ok(Command::new("promtool").args(["check", "rules"]).arg(&file));
}

/// The sharded overlay: a StatefulSet instead of the Deployment, whose pod i runs `--shard i/N`
/// with N its replica count, and whose pod is the base Deployment's but for the shard and the
/// state claim.
#[test]
fn the_sharded_overlay_runs_shard_i_of_replicas_in_the_base_pod() {
    if !kustomize::available() {
        return;
    }
    let objects = kustomize::render_overlay_at(kustomize::SHARDED);
    assert!(
        (objects.iter()).all(|o| o["kind"] != "Deployment" && o["kind"] != "PersistentVolumeClaim"),
        "the StatefulSet and its claim template replace them"
    );
    let set = find(&objects, "StatefulSet");
    let replicas = set["spec"]["replicas"].as_u64().unwrap();
    let pod = &set["spec"]["template"];
    let container = &pod["spec"]["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let shard = args
        .iter()
        .position(|a| *a == "--shard")
        .map(|i| args[i + 1]);
    assert_eq!(
        shard,
        Some(format!("$(SHARD_INDEX)/{replicas}").as_str()),
        "{args:?}"
    );
    let index = &container["env"][0];
    assert_eq!(index["name"], "SHARD_INDEX");
    assert_eq!(
        index["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.labels['apps.kubernetes.io/pod-index']"
    );
    let governing = kustomize::named(
        &objects,
        "Service",
        set["spec"]["serviceName"].as_str().unwrap(),
    );
    assert_eq!(governing["spec"]["clusterIP"], "None");
    let claims = set["spec"]["volumeClaimTemplates"].as_array().unwrap();
    assert_eq!(claims[0]["metadata"]["name"], "state");
    // Every series of pod i carries shard="i", which the alerts keep.
    let monitor = find(&objects, "ServiceMonitor");
    assert_eq!(
        monitor["spec"]["endpoints"][0]["relabelings"],
        json!([{
            "sourceLabels": ["__meta_kubernetes_pod_label_apps_kubernetes_io_pod_index"],
            "targetLabel": "shard"
        }])
    );

    // The rest of the pod is the base's, field for field.
    let base = kustomize::render_overlay();
    let mut expected = find(&base, "Deployment")["spec"]["template"].clone();
    let mut got = pod.clone();
    for template in [&mut expected, &mut got] {
        let spec = template["spec"].as_object_mut().unwrap();
        let volumes = spec["volumes"].as_array_mut().unwrap();
        volumes.retain(|v| v["name"] != "state");
        // NB: each overlay's own config.yaml gives the ConfigMap another content hash.
        for volume in volumes.iter_mut().filter(|v| v["name"] == "config") {
            volume["configMap"]["name"] = json!("genesys-exporter-config");
        }
        let container = spec["containers"][0].as_object_mut().unwrap();
        container.remove("args");
        container.remove("env");
        container.remove("image");
    }
    assert_eq!(
        got, expected,
        "the sharded pod drifted from the base Deployment's"
    );
}

/// The AlertmanagerConfig is deploy/alertmanager/alertmanager.yml in the operator's shape: the
/// same routes, inhibitions and receivers, key for key.
#[test]
fn the_alertmanager_config_object_is_the_shipped_alertmanager_configuration() {
    if !kustomize::available() {
        return;
    }
    let objects = kustomize::render_base();
    let spec = find(&objects, "AlertmanagerConfig")["spec"].clone();
    let path = repo("deploy/alertmanager/alertmanager.yml");
    let file = yaml::document(&tools::read(&path), "alertmanager.yml");
    assert_eq!(
        spec,
        in_operator_shape(&file),
        "deploy/kubernetes/base/alertmanagerconfig.yaml differs from {}",
        path.display()
    );
}

/// An Alertmanager configuration's keys as the AlertmanagerConfig resource spells them
/// (camel case, `sourceMatch`/`targetMatch`), its matcher strings as matcher objects.
fn in_operator_shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let converted = if key.ends_with("matchers") {
                        let matchers = value.as_array().expect("a list of matchers");
                        Value::Array(matchers.iter().map(matcher_object).collect())
                    } else {
                        in_operator_shape(value)
                    };
                    let key = match key.as_str() {
                        "source_matchers" => "sourceMatch".to_owned(),
                        "target_matchers" => "targetMatch".to_owned(),
                        other => camel_case(other),
                    };
                    (key, converted)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(in_operator_shape).collect()),
        other => other.clone(),
    }
}

fn camel_case(snake: &str) -> String {
    let mut parts = snake.split('_');
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let mut chars = part.chars();
        out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
        out.push_str(chars.as_str());
    }
    out
}

/// `name op "value"` (op one of `=~ !~ != =`) as `{name, value, matchType}`.
fn matcher_object(matcher: &Value) -> Value {
    let text = matcher.as_str().expect("a matcher string");
    let (at, op) = (0..text.len())
        .find_map(|i| {
            ["=~", "!~", "!=", "="]
                .into_iter()
                .find(|op| text[i..].starts_with(op))
                .map(|op| (i, op))
        })
        .unwrap_or_else(|| panic!("{text}: no operator"));
    let value = text[at + op.len()..].trim().trim_matches('"');
    json!({"name": text[..at].trim(), "value": value, "matchType": op})
}

/// The sizing table of docs/deploy.md: (CPU millicores, peak from start MiB, resident MiB,
/// peak while scraped MiB) of the row whose first cell is `row`.
fn sizing_row(doc: &str, row: &str) -> [f64; 4] {
    let line = doc
        .lines()
        .find(|l| l.starts_with(&format!("| {row} |")))
        .unwrap_or_else(|| panic!("docs/deploy.md has no sizing row {row:?}"));
    let cells: Vec<f64> = line
        .split('|')
        .skip(2)
        .filter_map(|c| c.trim().replace(',', "").parse().ok())
        .collect();
    assert_eq!(cells.len(), 4, "{line}");
    [cells[0], cells[1], cells[2], cells[3]]
}

/// A Kubernetes quantity of memory in MiB (`256Mi`, `1Gi`) or of CPU in millicores (`500m`, `1`).
fn quantity(value: &Value) -> f64 {
    let text = value
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| value.to_string());
    let (number, factor) = match text {
        ref t if t.ends_with("Mi") => (&t[..t.len() - 2], 1.0),
        ref t if t.ends_with("Gi") => (&t[..t.len() - 2], 1024.0),
        ref t if t.ends_with('m') => (&t[..t.len() - 1], 1.0),
        ref t => (t.as_str(), 1000.0),
    };
    number
        .parse::<f64>()
        .unwrap_or_else(|_| panic!("quantity {text}"))
        * factor
}

fn round_up(value: f64, step: f64) -> f64 {
    (value / step).ceil() * step
}

/// The pod's requests and limits follow from the measured sizes in docs/deploy.md, for the
/// largest exporter the base is for (5,000 queues, 10,000 agents), with the headroom it states.
#[test]
fn the_pod_is_sized_from_the_measured_table() {
    let doc = tools::read(&repo("docs/deploy.md"));
    let base = sizing_row(&doc, "the process");
    let queues = sizing_row(&doc, "per 1,000 queues");
    let agents = sizing_row(&doc, "per 1,000 agents");
    let at = |i: usize| base[i] + 5.0 * queues[i] + 10.0 * agents[i];
    let (cpu, resident, peak) = (at(0), at(2), at(1).max(at(3)));
    let want = json!({
        "requests": {"cpu": round_up(cpu * 1.5, 10.0), "memory": round_up(resident, 16.0)},
        "limits": {"cpu": 1000.0, "memory": round_up(peak * 1.5, 16.0)},
    });
    for file in [
        "deploy/kubernetes/base/deployment.yaml",
        "deploy/kubernetes/overlays/sharded/statefulset.yaml",
    ] {
        let object = yaml::document(&tools::read(&repo(file)), file);
        let resources = &object["spec"]["template"]["spec"]["containers"][0]["resources"];
        let got = json!({
            "requests": {
                "cpu": quantity(&resources["requests"]["cpu"]),
                "memory": quantity(&resources["requests"]["memory"]),
            },
            "limits": {
                "cpu": quantity(&resources["limits"]["cpu"]),
                "memory": quantity(&resources["limits"]["memory"]),
            },
        });
        assert_eq!(
            got, want,
            "{file}: resources (millicores, MiB) from docs/deploy.md"
        );
    }
}
