//! Trace context read from span fields: `trace_id` and `span_id`, as the lower-case hex
//! that OTLP/JSON and ECS write (32 and 16 digits).

use serde_json::Value;

use super::record::LogRecord;

/// The trace id of the innermost span with a valid `trace_id` field.
pub(super) fn trace_id(record: &LogRecord) -> Option<String> {
    hex_id(record.span_field("trace_id")?, 32)
}

/// The span id of the innermost span with a valid `span_id` field.
pub(super) fn span_id(record: &LogRecord) -> Option<String> {
    hex_id(record.span_field("span_id")?, 16)
}

/// `value` as `digits` lower-case hex digits: a string of exactly that many hex digits
/// (any case), or an unsigned integer, zero-padded. Anything else, and the all-zero id
/// (invalid in W3C trace context), is no id.
fn hex_id(value: &Value, digits: usize) -> Option<String> {
    let id = match value {
        Value::String(text)
            if text.len() == digits && text.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            text.to_ascii_lowercase()
        }
        Value::Number(n) => format!("{:0digits$x}", n.as_u64()?),
        _ => return None,
    };
    (id.len() == digits && id.bytes().any(|b| b != b'0')).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::hex_id;
    use serde_json::json;

    #[test]
    fn ids_from_hex_strings_and_integers() {
        assert_eq!(
            hex_id(&json!("4BF92F3577B34DA6A3CE929D0E0E4736"), 32).unwrap(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(hex_id(&json!(42), 16).unwrap(), "000000000000002a");
        assert_eq!(hex_id(&json!("xyz"), 16), None);
        assert_eq!(hex_id(&json!(0), 16), None);
        assert_eq!(hex_id(&json!(-1), 16), None);
    }
}
