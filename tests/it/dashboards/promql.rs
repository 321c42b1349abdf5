//! Just enough of PromQL to lint a dashboard: every series selector of an expression, with its
//! label matchers and the aggregation that reads it. Not a parser: it knows the words that are
//! not series (functions, aggregations, keywords, label lists) and skips strings, ranges and
//! numbers, which is all the conventions need.

/// One series selector of an expression.
#[derive(Debug, Clone)]
pub struct Selector {
    pub metric: String,
    /// The text between the braces, empty without them.
    pub matchers: String,
    /// The innermost aggregation around the selector: its operator and the labels it keeps
    /// (`None` for `without` or no clause, which keep every label or none we can judge).
    pub aggregation: Option<Aggregation>,
}

#[derive(Debug, Clone)]
pub struct Aggregation {
    pub op: String,
    pub by: Option<Vec<String>>,
}

impl Selector {
    /// Whether the selector has the matcher `name=~"value"` (or `=`).
    pub fn filters(&self, name: &str, value: &str) -> bool {
        let compact: String = self.matchers.split_whitespace().collect();
        compact.contains(&format!("{name}=~\"{value}\""))
            || compact.contains(&format!("{name}=\"{value}\""))
    }
}

const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
];
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];
const KEYWORDS: &[&str] = &[
    "and", "or", "unless", "bool", "offset", "atop", "NaN", "Inf",
];

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Braces(String),
    Open,
    Close,
    Other,
}

fn tokens(expr: &str) -> Vec<Token> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let until = |i: usize, end: char| {
        let mut j = i + 1;
        let mut quoted = false;
        while j < chars.len() && (quoted || chars[j] != end) {
            if chars[j] == '"' && chars[j - 1] != '\\' {
                quoted = !quoted;
            }
            j += 1;
        }
        j
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_:".contains(chars[i])) {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
            continue;
        }
        match c {
            '{' => {
                let end = until(i, '}');
                out.push(Token::Braces(
                    chars[i + 1..end.min(chars.len())].iter().collect(),
                ));
                i = end + 1;
            }
            '[' => i = until(i, ']') + 1,
            '"' | '\'' => i = until(i, c) + 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            _ => {
                out.push(Token::Other);
                i += 1;
            }
        }
    }
    out
}

/// The labels of a `( a, b )` list starting at `tokens[at]`, and the index after it.
fn label_list(tokens: &[Token], at: usize) -> (Vec<String>, usize) {
    let mut labels = Vec::new();
    let mut i = at;
    if tokens.get(i) != Some(&Token::Open) {
        return (labels, i);
    }
    i += 1;
    while i < tokens.len() && tokens[i] != Token::Close {
        if let Token::Word(w) = &tokens[i] {
            labels.push(w.clone());
        }
        i += 1;
    }
    (labels, i + 1)
}

/// Every series selector of `expr`, in order.
pub fn selectors(expr: &str) -> Vec<Selector> {
    let tokens = tokens(expr);
    let mut frames: Vec<Option<Aggregation>> = Vec::new();
    let mut pending: Option<Aggregation> = None;
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Word(word) if AGGREGATIONS.contains(&word.as_str()) => {
                let mut aggregation = Aggregation {
                    op: word.clone(),
                    by: None,
                };
                i += 1;
                if let Some(Token::Word(clause)) = tokens.get(i) {
                    let (labels, next) = label_list(&tokens, i + 1);
                    if clause == "by" {
                        aggregation.by = Some(labels);
                    }
                    i = next;
                }
                pending = Some(aggregation);
                continue;
            }
            Token::Word(word) if LABEL_LISTS.contains(&word.as_str()) => {
                i = label_list(&tokens, i + 1).1;
                continue;
            }
            Token::Word(word) if tokens.get(i + 1) == Some(&Token::Open) => {
                // A function call: its frame inherits the aggregation around it.
                let _ = word;
                frames.push(frames.last().cloned().flatten());
                i += 2;
                continue;
            }
            Token::Word(word) if KEYWORDS.contains(&word.as_str()) => {}
            Token::Word(word) => {
                let matchers = match tokens.get(i + 1) {
                    Some(Token::Braces(m)) => {
                        i += 1;
                        m.clone()
                    }
                    _ => String::new(),
                };
                found.push(Selector {
                    metric: word.clone(),
                    matchers,
                    aggregation: frames.last().cloned().flatten(),
                });
            }
            Token::Braces(m) => found.push(Selector {
                metric: String::new(),
                matchers: m.clone(),
                aggregation: frames.last().cloned().flatten(),
            }),
            Token::Open => {
                let around = pending.take().or_else(|| frames.last().cloned().flatten());
                frames.push(around);
            }
            Token::Close => {
                frames.pop();
            }
            Token::Other => {}
        }
        i += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_selectors_and_the_aggregation_reading_them() {
        let expr = r#"sum by (queue) (max by (queue, instance) (rate(genesys_x_total{job=~"$job", a="}"}[5m])) unless on (job, instance) (genesys_exporter_stale == 1)) / on () group_left () genesys:threshold:y"#;
        let found = selectors(expr);
        let names: Vec<_> = found.iter().map(|s| s.metric.as_str()).collect();
        assert_eq!(
            names,
            [
                "genesys_x_total",
                "genesys_exporter_stale",
                "genesys:threshold:y"
            ]
        );
        let inner = found[0].aggregation.as_ref().unwrap();
        assert_eq!(inner.op, "max");
        assert_eq!(inner.by.as_deref().unwrap(), ["queue", "instance"]);
        assert!(found[0].filters("job", "$job"));
        assert_eq!(found[1].aggregation.as_ref().unwrap().op, "sum");
        assert!(found[2].aggregation.is_none());
    }
}
