use super::*;

#[test]
fn secrets_never_format_their_value() {
    let secret = Secret::new("hunter2");
    assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
    assert_eq!(secret.expose(), "hunter2");
}
