//! The Prometheus text exposition (format 0.0.4), written by hand for the sources' tables.
//!
//! At 5,000 queues the queue series are about 430,000 samples. The `prometheus` crate gathers
//! them by cloning every series' labels into protobuf structs, sorting them and formatting
//! each label again, which cost 1.5 s and most of a gigabyte per scrape (BENCHMARKS.md). Here
//! an entry's own labels (`queue_id`/`queue`, `user_id`) are escaped once, when its name is
//! learnt, and a scrape only copies them and formats the numbers: the output bytes plus a
//! little. The queues' result is checked series by series against the crate's own encoder
//! (`queues/table/reference.rs`).

use std::io::Write;

/// The exposition type of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Gauge,
    Counter,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Gauge => "gauge",
            Self::Counter => "counter",
        }
    }
}

/// Writes the `# HELP` and `# TYPE` lines of a family.
pub(crate) fn header(out: &mut Vec<u8>, name: &str, help: &str, kind: Kind) {
    out.extend_from_slice(b"# HELP ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    escape_into(out, help, false);
    out.extend_from_slice(b"\n# TYPE ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    out.extend_from_slice(kind.as_str().as_bytes());
    out.push(b'\n');
}

/// `a="…",b="…"`, escaped: the part every series of one entry shares (a queue's
/// `queue="…",queue_id="…"`, an agent's `user_id="…"`), labels in the order given.
pub(crate) fn label_set(pairs: &[(&str, &str)]) -> Box<str> {
    let mut out = Vec::with_capacity(pairs.iter().map(|(l, v)| l.len() + v.len() + 4).sum());
    for (i, (label, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        label_pair(&mut out, label, value);
    }
    // NB: built from `&str`s with ASCII inserted, so it is UTF-8.
    String::from_utf8(out).unwrap_or_default().into_boxed_str()
}

/// Writes one sample: `name{before…,entry labels…,after…} value`, labels sorted by name as
/// the `prometheus` crate sorts them, so the text reads as it always did. Label values are
/// escaped, so a division name may hold any character.
pub(crate) fn sample(
    out: &mut Vec<u8>,
    name: &str,
    entry_labels: &str,
    before: &[(&str, &str)],
    after: &[(&str, &str)],
    value: f64,
) {
    out.extend_from_slice(name.as_bytes());
    out.push(b'{');
    for (label, label_value) in before {
        label_pair(out, label, label_value);
        out.push(b',');
    }
    out.extend_from_slice(entry_labels.as_bytes());
    for (label, label_value) in after {
        out.push(b',');
        label_pair(out, label, label_value);
    }
    out.extend_from_slice(b"} ");
    write_value(out, value);
    out.push(b'\n');
}

/// Writes one sample of an entry whose own label is `entry_label` (its part, escaped, is
/// `entry_labels`), with `extra` labels sorted by name: those sorting before the entry's go
/// first, as the `prometheus` crate sorts them.
pub(crate) fn entry_sample(
    out: &mut Vec<u8>,
    name: &str,
    (entry_label, entry_labels): (&str, &str),
    extra: &[(&str, &str)],
    value: f64,
) {
    let split = extra
        .iter()
        .take_while(|(label, _)| *label < entry_label)
        .count();
    let (before, after) = extra.split_at(split);
    sample(out, name, entry_labels, before, after, value);
}

fn label_pair(out: &mut Vec<u8>, label: &str, value: &str) {
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"=\"");
    escape_into(out, value, true);
    out.push(b'"');
}

/// Formats `value` as the `prometheus` crate does (Rust's shortest round-trip `Display`), with
/// whole numbers, nearly all of ours, through `itoa`, which is several times faster.
pub(crate) fn write_value(out: &mut Vec<u8>, value: f64) {
    // NB: below 2^53 every whole f64 is exactly an i64 and prints the same digits; -0.0 is
    // left to `Display`, which keeps its sign.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if value.fract() == 0.0 && value.abs() < EXACT && !(value == 0.0 && value.is_sign_negative()) {
        out.extend_from_slice(itoa::Buffer::new().format(value as i64).as_bytes());
    } else {
        // NB: writing to a Vec cannot fail.
        let _ = write!(out, "{value}");
    }
}

/// The text format's escaping: `\` and newline always, `"` inside label values.
fn escape_into(out: &mut Vec<u8>, text: &str, quote: bool) {
    let needs = |b: &u8| *b == b'\\' || *b == b'\n' || (quote && *b == b'"');
    if !text.as_bytes().iter().any(needs) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    for &b in text.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'"' if quote => out.extend_from_slice(b"\\\""),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests;
