//! Property: any chain (names, messages, info, skipped causes, foreign causes,
//! MultiErrors) survives a JSON round trip unchanged.

use std::io;

use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use verror::VError;

/// What to build, as plain data proptest can generate and shrink.
#[derive(Clone, Debug)]
enum Spec {
    Foreign(String),
    Level {
        name: String,
        message: String,
        info: Vec<(String, Value)>,
        skip_cause: bool,
        below: Below,
    },
}

#[derive(Clone, Debug)]
enum Below {
    Nothing,
    Cause(Box<Spec>),
    Errors(Vec<Spec>),
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((".{0,6}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn spec() -> impl Strategy<Value = Spec> {
    let leaf = prop_oneof![
        ".{0,16}".prop_map(Spec::Foreign),
        level(Just(Below::Nothing).boxed()),
    ];
    leaf.prop_recursive(4, 16, 3, |inner| {
        let below = prop_oneof![
            Just(Below::Nothing),
            inner.clone().prop_map(|s| Below::Cause(Box::new(s))),
            prop::collection::vec(inner, 0..3).prop_map(Below::Errors),
        ];
        level(below.boxed())
    })
}

fn level(below: BoxedStrategy<Below>) -> impl Strategy<Value = Spec> {
    (
        "[A-Za-z]{0,10}",
        ".{0,20}",
        prop::collection::vec(("[a-z_]{1,8}", json_value()), 0..4),
        any::<bool>(),
        below,
    )
        .prop_map(|(name, message, info, skip_cause, below)| Spec::Level {
            name,
            message,
            info,
            skip_cause,
            below,
        })
}

/// Builds the spec; a foreign error at the top is wrapped so the result is a `VError`.
fn build(spec: &Spec) -> VError {
    match spec {
        Spec::Foreign(message) => VError::wrap(io::Error::other(message.clone()), "foreign"),
        Spec::Level {
            name,
            message,
            info,
            skip_cause,
            below,
        } => {
            let mut builder = VError::builder()
                .name(name.clone())
                .message(message.clone())
                .backtrace(false);
            for (key, value) in info {
                builder = builder.info(key.clone(), value);
            }
            if *skip_cause {
                builder = builder.skip_cause_message();
            }
            builder = match below {
                Below::Nothing => builder,
                Below::Cause(spec) => match &**spec {
                    Spec::Foreign(message) => builder.cause(io::Error::other(message.clone())),
                    spec => builder.cause(build(spec)),
                },
                Below::Errors(specs) => builder.errors(specs.iter().map(build)),
            };
            builder.build()
        }
    }
}

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
    fn json_round_trip_is_exact(spec in spec()) {
        let err = build(&spec);
        let json = serde_json::to_string(&err).unwrap();
        let back: VError = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);

        // The same story, names and merged info, read back.
        prop_assert_eq!(back.message(), err.message());
        prop_assert_eq!(back.to_string(), err.to_string());
        prop_assert_eq!(own_texts(&back), own_texts(&err));
        prop_assert_eq!(verror::info(&back), verror::info(&err));
        prop_assert_eq!(back.errors().len(), err.errors().len());
        prop_assert_eq!(verror::full_stack(&back), verror::full_stack(&err));
    }

    #[test]
    fn every_output_mode_is_total(spec in spec()) {
        let err = build(&spec);
        let _ = (format!("{err}"), format!("{err:#}"), format!("{err:?}"), format!("{err:#?}"));
        let record = verror::log::LogRecord::new(verror::log::Level::Error, "x");
        for format in verror::log::LogFormat::ALL {
            let line = record.with_error(format, Some(&err)).to_json_line();
            prop_assert!(serde_json::from_str::<Value>(&line).is_ok());
        }
    }
}
