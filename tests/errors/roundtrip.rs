//! Property: any chain (names, messages, info, sensitive fields, skipped causes,
//! foreign causes, MultiErrors) survives a JSON round trip unchanged.

use crate::generated_chains;

use generated_chains::{build, build_with_secret, spec};
use proptest::prelude::*;
use serde_json::Value;
use verror::VError;

/// Each level's own text: a `VError`'s short message, a foreign error's `Display`.
fn own_texts(err: &VError) -> Vec<String> {
    verror::chain(err)
        .map(|level| match level.downcast_ref::<VError>() {
            Some(v) => v.short_message().to_owned(),
            None => level.to_string(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn json_round_trip_is_exact(spec in spec(), secret in proptest::option::of("[a-z]{1,8}")) {
        let err = build_with_secret(&spec, secret.as_deref());
        let json = serde_json::to_string(&err).unwrap();
        let back: VError = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);

        // The same story, names and merged info, read back.
        prop_assert_eq!(back.message(), err.message());
        prop_assert_eq!(back.to_string(), err.to_string());
        prop_assert_eq!(own_texts(&back), own_texts(&err));
        prop_assert_eq!(verror::info(&back).to_map(), verror::info(&err).to_map());
        prop_assert_eq!(back.errors().len(), err.errors().len());
        prop_assert_eq!(verror::full_stack(&back), verror::full_stack(&err));
    }

    #[test]
    fn every_output_mode_is_total(spec in spec()) {
        let err = build(&spec);
        let _ = (format!("{err}"), format!("{err:#}"), format!("{err:?}"), format!("{err:#?}"));
        let record = verror::records::LogRecord::new(verror::records::Severity::Error, "x");
        for format in verror::records::LogFormat::ALL {
            let line = record.with_error(format, Some(&err)).to_json_line();
            prop_assert!(serde_json::from_str::<Value>(&line).is_ok());
        }
    }
}
