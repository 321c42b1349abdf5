use super::push_value;

fn value(text: &str) -> String {
    let mut line = String::new();
    push_value(&mut line, text);
    line
}

#[test]
fn values_are_bare_only_when_nothing_in_them_needs_quoting() {
    assert_eq!(value("streaming"), "streaming");
    assert_eq!(value("two words"), "\"two words\"");
    assert_eq!(value(""), "\"\"");
    assert_eq!(value("a=b"), "\"a=b\"");
    assert_eq!(value("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
    assert_eq!(
        value("line\nbreak"),
        "\"line\\nbreak\"",
        "one event, one line"
    );
}
