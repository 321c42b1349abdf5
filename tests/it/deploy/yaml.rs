//! YAML (kustomize's output, the Compose file, rule files) as `serde_json::Value`s, so the
//! checks read like JSON pointers.

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Every document of a (multi-document) YAML text.
pub fn documents(text: &str, what: &str) -> Vec<Value> {
    YamlLoader::load_from_str(text)
        .unwrap_or_else(|e| panic!("{what} is not YAML: {e}"))
        .iter()
        .map(|doc| to_json(doc, what))
        .collect()
}

/// The single document of a YAML text.
pub fn document(text: &str, what: &str) -> Value {
    let mut docs = documents(text, what);
    assert_eq!(docs.len(), 1, "{what}: one YAML document expected");
    docs.remove(0)
}

fn to_json(yaml: &Yaml, what: &str) -> Value {
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(text) => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(text.clone()), Value::Number),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(|i| to_json(i, what)).collect()),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            for (key, value) in hash {
                let key = match key {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => panic!("{what}: unsupported mapping key {other:?}"),
                };
                map.insert(key, to_json(value, what));
            }
            Value::Object(map)
        }
        Yaml::Alias(_) | Yaml::BadValue => panic!("{what}: unsupported YAML node {yaml:?}"),
    }
}
