//! Generated error chains for property tests: names, messages, info, sensitive
//! fields, skipped causes, foreign causes and MultiErrors.

#![allow(dead_code)]

use std::io;

use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use verror::VError;

/// What to build, as plain data proptest can generate and shrink.
#[derive(Clone, Debug)]
pub enum Spec {
    Foreign(String),
    Level {
        name: String,
        message: String,
        info: Vec<(String, Value)>,
        /// Holds the secret as a sensitive field (when a secret is given).
        secret: bool,
        skip_cause: bool,
        below: Below,
    },
}

#[derive(Clone, Debug)]
pub enum Below {
    Nothing,
    Cause(Box<Spec>),
    Errors(Vec<Spec>),
}

pub fn json_value() -> impl Strategy<Value = Value> {
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

pub fn spec() -> impl Strategy<Value = Spec> {
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
        any::<bool>(),
        below,
    )
        .prop_map(
            |(name, message, info, secret, skip_cause, below)| Spec::Level {
                name,
                message,
                info,
                secret,
                skip_cause,
                below,
            },
        )
}

/// Builds the spec; a foreign error at the top is wrapped so the result is a `VError`.
pub fn build(spec: &Spec) -> VError {
    build_with_secret(spec, None)
}

/// Builds the spec, storing `secret` as the sensitive field `secret` on flagged levels.
pub fn build_with_secret(spec: &Spec, secret: Option<&str>) -> VError {
    match spec {
        Spec::Foreign(message) => VError::wrap(io::Error::other(message.clone()), "foreign"),
        Spec::Level {
            name,
            message,
            info,
            secret: holds_secret,
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
            if let (true, Some(secret)) = (holds_secret, secret) {
                builder = builder.sensitive_info("secret", secret);
            }
            if *skip_cause {
                builder = builder.skip_cause_message();
            }
            match below {
                Below::Nothing => builder.build(),
                Below::Cause(spec) => match &**spec {
                    Spec::Foreign(message) => {
                        builder.cause(io::Error::other(message.clone())).build()
                    }
                    spec => builder.cause(build_with_secret(spec, secret)).build(),
                },
                Below::Errors(specs) => builder
                    .errors(specs.iter().map(|s| build_with_secret(s, secret)))
                    .build(),
            }
        }
    }
}
