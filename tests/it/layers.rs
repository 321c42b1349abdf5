//! Dependencies between the top-level modules of src/ run one way, as the `layers` block of
//! ARCHITECTURE.md draws them; and (ARCHITECTURE.md#layers): no two
//! of them import each other, directly or through a circle. Read from the source's `crate::` paths,
//! production code only: a file or item under `#[cfg(test)]` may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Who imports whom: (importing module, imported module) → the importing files.
type Imports = BTreeMap<(String, String), BTreeSet<String>>;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

/// The directory holding a file's child modules: `a/b.rs` → `a/b/`, `a/mod.rs` → `a/`.
fn children_dir(file: &Path) -> PathBuf {
    let parent = file.parent().expect("a file in a directory");
    match file.file_stem().and_then(|stem| stem.to_str()) {
        Some("mod" | "lib" | "main") => parent.to_path_buf(),
        Some(stem) => parent.join(stem),
        None => parent.to_path_buf(),
    }
}

/// Removes comments and every item under `#[cfg(test)]`, and gives the names of the modules
/// declared there (`#[cfg(test)] mod tests;`), whose files are test code as a whole.
fn production_text(source: &str) -> (String, Vec<String>) {
    let mut kept = String::new();
    let mut test_modules = Vec::new();
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        let code = line.split("//").next().unwrap_or_default();
        if code.trim() != "#[cfg(test)]" {
            kept.push_str(code);
            kept.push('\n');
            continue;
        }
        // Skip the item the attribute applies to: a declaration up to its `;`, or a body up
        // to the brace that closes it.
        let mut depth = 0_i32;
        let mut opened = false;
        for item_line in lines.by_ref() {
            let item = item_line.split("//").next().unwrap_or_default();
            let declared = item.trim().split("mod ").nth(1).filter(|_| {
                let before = item.trim().split("mod ").next().unwrap_or_default();
                before.is_empty() || before.starts_with("pub")
            });
            if let Some(name) = declared.and_then(|name| name.strip_suffix(';')) {
                test_modules.push(name.trim().to_owned());
            }
            for c in item.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            let attribute = item.trim_start().starts_with("#[");
            if (opened && depth <= 0) || (!opened && !attribute && item.trim_end().ends_with(';')) {
                break;
            }
        }
    }
    (kept, test_modules)
}

/// The first segment of every `crate::` path: `crate::a::b` gives `a`, `crate::{a, b::c}`
/// gives `a` and `b`.
fn imported_modules(code: &str) -> BTreeSet<String> {
    imported_through(code, "crate::")
}

/// [`imported_modules`] for paths that start with `prefix` (the binary names the library by
/// its crate name).
fn imported_through(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut modules = BTreeSet::new();
    let identifier = |text: &str| -> String {
        (text.chars())
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c == '$' || c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        let Some(group) = rest.strip_prefix('{') else {
            modules.insert(identifier(rest));
            continue;
        };
        // The group's top-level elements: split at commas outside nested braces.
        let mut depth = 0;
        let mut element_start = true;
        for (offset, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => element_start = true,
                c if element_start && !c.is_whitespace() => {
                    modules.insert(identifier(&group[offset..]));
                    element_start = false;
                }
                _ => {}
            }
        }
    }
    modules.retain(|module| !module.is_empty() && module != "self");
    modules
}

fn top_level_module(relative: &Path) -> String {
    let first = relative.components().next().expect("a path under src/");
    let first = first.as_os_str().to_string_lossy();
    first.strip_suffix(".rs").unwrap_or(&first).to_owned()
}

/// Every file of production code under src/, with its text (comments and test items out).
fn production_files() -> BTreeMap<PathBuf, String> {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut production = BTreeMap::new();
    let mut test_dirs: Vec<PathBuf> = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("a readable source file");
        let (code, test_modules) = production_text(&source);
        for module in test_modules {
            let dir = children_dir(file);
            test_dirs.push(dir.join(&module));
            test_dirs.push(dir.join(format!("{module}.rs")));
        }
        production.insert(file.clone(), code);
    }
    production.retain(|file, _| !test_dirs.iter().any(|test| file.starts_with(test)));
    production
}

fn imports_between_modules() -> Imports {
    let src = src_dir();
    let mut imports = Imports::new();
    for (file, code) in &production_files() {
        let relative = file.strip_prefix(&src).expect("a file under src/");
        let importer = top_level_module(relative);
        let imported = match importer.as_str() {
            "lib" => continue,
            "main" => imported_through(code, "genesys_exporter::"),
            _ => imported_modules(code),
        };
        for imported in imported {
            if imported != importer {
                let files = imports.entry((importer.clone(), imported)).or_default();
                files.insert(format!("src/{}", relative.display()));
            }
        }
    }
    imports
}

/// The pairs of modules each reachable from the other: the circles.
fn pairs_in_circles(imports: &Imports) -> Vec<(String, String)> {
    let modules: BTreeSet<&String> = imports.keys().flat_map(|(a, b)| [a, b]).collect();
    let mut reaches: BTreeSet<(&String, &String)> = imports.keys().map(|(a, b)| (a, b)).collect();
    for via in &modules {
        for from in &modules {
            for to in &modules {
                if reaches.contains(&(*from, *via)) && reaches.contains(&(*via, *to)) {
                    reaches.insert((*from, *to));
                }
            }
        }
    }
    (reaches.iter())
        .filter(|(a, b)| a < b && reaches.contains(&(*b, *a)))
        .map(|(a, b)| ((*a).clone(), (*b).clone()))
        .collect()
}

#[test]
fn no_two_top_level_modules_import_each_other_directly_or_through_a_circle() {
    let imports = imports_between_modules();
    assert!(
        imports.len() > 10,
        "the reader found only {imports:?}: it no longer reads the source"
    );
    let circles = pairs_in_circles(&imports);
    let mut report = String::new();
    for (a, b) in &circles {
        report.push_str(&format!("{a} <-> {b}\n"));
    }
    let in_circles: BTreeSet<&String> = circles.iter().flat_map(|(a, b)| [a, b]).collect();
    for ((from, to), files) in &imports {
        if in_circles.contains(from) && in_circles.contains(to) {
            let files: Vec<&String> = files.iter().collect();
            report.push_str(&format!("  {from} -> {to}: {files:?}\n"));
        }
    }
    assert!(
        circles.is_empty(),
        "{} pairs of modules import each other, directly or through a circle:\n{report}",
        circles.len()
    );
}

#[test]
fn the_reader_finds_grouped_paths_and_leaves_test_items_out() {
    let source = "use crate::{a::X, b, c::{d, e}};\nuse crate::f::G;\n// crate::g\n\
                  #[cfg(test)]\nmod tests {\n    use crate::h;\n}\n#[cfg(test)]\nmod more;\n\
                  #[cfg(test)]\npub(crate) mod fake;\n";
    let (code, test_modules) = production_text(source);
    let found: Vec<String> = imported_modules(&code).into_iter().collect();
    assert_eq!(found, ["a", "b", "c", "f"]);
    assert_eq!(test_modules, ["more", "fake"]);
}

#[test]
fn architecture_md_names_every_module_of_src() {
    let src = src_dir();
    let root = src.parent().expect("src/ has a parent");
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let unnamed: Vec<String> = (production_files().keys())
        .map(|file| {
            file.strip_prefix(&src)
                .expect("under src/")
                .display()
                .to_string()
        })
        .filter(|module| !map.contains(&format!("`{module}`")))
        .collect();
    assert!(
        unnamed.is_empty(),
        "ARCHITECTURE.md does not name these modules of src/ (as `path/under/src.rs`): {unnamed:#?}"
    );
}

/// The rules of ARCHITECTURE.md's `layers` block.
#[derive(Debug, Default)]
struct Layers {
    /// Each layer's modules, top layer first.
    layers: Vec<(String, Vec<String>)>,
    support: Vec<String>,
    /// What a module beside the layers, or a support module, may import.
    beside: BTreeMap<String, Vec<String>>,
}

impl Layers {
    fn parse(map: &str) -> Layers {
        let block = (map.split("```layers\n").nth(1))
            .and_then(|rest| rest.split("```").next())
            .expect("ARCHITECTURE.md has a ```layers block");
        let mut rules = Layers::default();
        let words =
            |text: &str| -> Vec<String> { text.split_whitespace().map(str::to_owned).collect() };
        for line in block.lines().filter(|l| !l.trim().is_empty()) {
            if let Some((module, targets)) = line.split_once("->") {
                rules
                    .beside
                    .insert(module.trim().to_owned(), words(targets));
            } else if let Some((layer, modules)) = line.split_once(':') {
                match layer.trim() {
                    "support" => rules.support = words(modules),
                    layer => rules.layers.push((layer.to_owned(), words(modules))),
                }
            } else {
                panic!(
                    "a line of the layers block is neither `layer: modules` nor `module -> targets`: {line}"
                );
            }
        }
        rules
    }

    fn layer_of(&self, module: &str) -> Option<usize> {
        (self.layers.iter()).position(|(_, modules)| modules.iter().any(|m| m == module))
    }

    /// `target` (a module, a layer's name or `support`) names `module`.
    fn names(&self, target: &str, module: &str) -> bool {
        target == module
            || (target == "support" && self.support.iter().any(|m| m == module))
            || (self.layers.iter())
                .any(|(layer, modules)| layer == target && modules.iter().any(|m| m == module))
    }

    /// Why `from` may not import `to`, if it may not.
    fn refuses(&self, from: &str, to: &str) -> Option<String> {
        let is_support = |module: &str| self.support.iter().any(|m| m == module);
        let nowhere =
            |module: &str| format!("{module} is in no layer, beside none and no support module");
        let Some(from_layer) = self.layer_of(from) else {
            if !self.beside.contains_key(from) && !is_support(from) {
                return Some(nowhere(from));
            }
            let targets = self.beside.get(from).cloned().unwrap_or_default();
            let allowed = targets.iter().any(|target| self.names(target, to));
            return (!allowed).then(|| format!("{from} may import only {targets:?}"));
        };
        if let Some(to_layer) = self.layer_of(to) {
            return (to_layer < from_layer).then(|| format!("{to} is a layer above {from}'s"));
        }
        if is_support(to) {
            return None;
        }
        if !self.beside.contains_key(to) {
            return Some(nowhere(to));
        }
        if from_layer != 0 {
            return Some(format!(
                "{to} is beside the layers: only the app layer imports it"
            ));
        }
        (to == "sim" && from != "main")
            .then(|| "only main (and tests) use the simulator".to_owned())
    }
}

/// Every import the rules refuse, with the files that make it.
fn refused(rules: &Layers, imports: &Imports) -> Vec<String> {
    (imports.iter())
        .filter_map(|((from, to), files)| {
            let why = rules.refuses(from, to)?;
            Some(format!("{from} -> {to} ({why}): {files:?}"))
        })
        .collect()
}

fn architecture_md() -> String {
    let root = src_dir().parent().expect("src/ has a parent").to_path_buf();
    std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md")
}

#[test]
fn every_import_keeps_the_layers_architecture_md_draws() {
    let rules = Layers::parse(&architecture_md());
    let imports = imports_between_modules();
    assert!(
        imports
            .keys()
            .any(|(from, to)| from == "main" && to == "sim"),
        "the reader no longer finds main's use of the simulator"
    );
    let refused = refused(&rules, &imports);
    assert!(
        refused.is_empty(),
        "imports the layers do not allow:\n{}",
        refused.join("\n")
    );
}

#[test]
fn the_layer_rules_refuse_what_they_are_for() {
    let rules = Layers::parse(&architecture_md());
    let mut imports = Imports::new();
    for (from, to) in [
        ("metrics", "stream"),
        ("config", "metrics"),
        ("config", "agents"),
        ("sim", "stream"),
        ("sim", "fuzzing"),
        ("app", "sim"),
        ("server", "config"),
        ("secret", "genesys"),
        ("newcomer", "vocabulary"),
        ("genesys", "metrics"),
        ("tasks", "health"),
        ("main", "sim"),
    ] {
        imports.entry((from.to_owned(), to.to_owned())).or_default();
    }
    let refused = refused(&rules, &imports);
    let pairs: Vec<&str> = (refused.iter())
        .map(|line| line.split(" (").next().unwrap_or_default())
        .collect();
    assert_eq!(
        pairs,
        [
            "app -> sim",
            "config -> agents",
            "config -> metrics",
            "metrics -> stream",
            "newcomer -> vocabulary",
            "secret -> genesys",
            "server -> config",
            "sim -> fuzzing",
            "sim -> stream",
        ],
        "{refused:#?}"
    );
}

/// Modules declared under `#[cfg(test)]` that are test helpers rather than a module's tests.
const TEST_HELPERS: [&str; 3] = ["fake", "harness", "seeds"];

#[test]
fn unit_tests_sit_in_their_modules_tests_file() {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut misplaced = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("a readable source file");
        let lines: Vec<&str> = source.lines().collect();
        for pair in lines.windows(2) {
            let [attribute, item] = pair else { continue };
            if attribute.trim() != "#[cfg(test)]" {
                continue;
            }
            let Some(module) = item.trim().strip_prefix("mod ") else {
                continue;
            };
            let declared = module.strip_suffix(';');
            let helper = declared.is_some_and(|name| TEST_HELPERS.contains(&name));
            if declared != Some("tests") && !helper {
                let relative = file.strip_prefix(&src).expect("under src/").display();
                misplaced.push(format!("src/{relative}: {}", item.trim()));
            }
        }
    }
    assert!(
        misplaced.is_empty(),
        "unit tests go in the module's tests.rs (`#[cfg(test)] mod tests;`): {misplaced:#?}"
    );
}
