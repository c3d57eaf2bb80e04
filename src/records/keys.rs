//! The one renaming of colliding field names: a record field (or info key, or span
//! field) named like a key its format writes itself is written as `fields.<name>`,
//! the same way in every format. Each schema keeps its table of reserved keys next
//! to its serializer.

use std::borrow::Cow;

/// The prefix of a renamed field.
const RENAMED: &str = "fields.";

/// The key `key` is written under where the format writes `reserved` itself:
/// `fields.<key>` for a reserved key, and also for a key that already starts with
/// `fields.`, so that no renamed field can meet another field.
///
/// ```text
/// level        -> fields.level        (reserved)
/// fields.level -> fields.fields.level
/// conn_id      -> conn_id
/// ```
pub(crate) fn field_key<'k>(key: &'k str, reserved: &[&str]) -> Cow<'k, str> {
    if reserved.contains(&key) || key.starts_with(RENAMED) {
        Cow::Owned(format!("{RENAMED}{key}"))
    } else {
        Cow::Borrowed(key)
    }
}

#[cfg(test)]
mod tests {
    use super::field_key;

    #[test]
    fn renaming_is_injective() {
        let reserved = ["level", "message"];
        let keys = [
            "level",
            "fields.level",
            "fields.fields.level",
            "message",
            "conn_id",
        ];
        let renamed: Vec<String> = keys
            .iter()
            .map(|k| field_key(k, &reserved).into_owned())
            .collect();
        assert_eq!(
            renamed,
            [
                "fields.level",
                "fields.fields.level",
                "fields.fields.fields.level",
                "fields.message",
                "conn_id"
            ]
        );
    }

    #[test]
    fn a_record_field_named_like_a_key_of_its_format_is_renamed_in_every_format() {
        use crate::records::{LogFormat, LogRecord, Severity};
        let err = crate::VError::builder()
            .name("E")
            .info("level", "info of the error")
            .message("failed")
            .backtrace(false)
            .build();
        let record = LogRecord::new(Severity::Error, "request failed")
            .field("level", "mine")
            .field("message", "mine")
            .field("msg", "mine")
            .field("exception.type", "mine")
            .field("error", "mine");
        let line = |format| record.with_error(format, Some(&err)).to_value();
        let native = line(LogFormat::Native);
        assert_eq!(
            (&native["level"], &native["fields.level"]),
            (&"error".into(), &"mine".into())
        );
        assert_eq!(native["message"], "request failed");
        assert_eq!(native["fields.error"], "mine");
        let ecs = line(LogFormat::Ecs);
        assert_eq!(ecs["message"], "request failed");
        assert_eq!(ecs["verror"]["fields.error"], "mine");
        assert_eq!(ecs["verror"]["error"]["name"], "E");
        let otel = line(LogFormat::OpenTelemetry);
        let attributes = &otel["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["attributes"];
        let attribute = |key: &str| {
            attributes
                .as_array()
                .unwrap()
                .iter()
                .find(|kv| kv["key"] == key)
                .map(|kv| kv["value"]["stringValue"].clone())
        };
        assert_eq!(attribute("exception.type"), Some("E".into()));
        assert_eq!(attribute("fields.exception.type"), Some("mine".into()));
        let bunyan = line(LogFormat::Bunyan);
        assert_eq!(
            (&bunyan["msg"], &bunyan["fields.msg"]),
            (&"request failed".into(), &"mine".into())
        );
        assert_eq!(
            (&bunyan["level"], &bunyan["fields.level"]),
            (&50.into(), &"mine".into())
        );
    }
}
