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
}
