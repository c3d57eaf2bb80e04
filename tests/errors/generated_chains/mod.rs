//! Generated error chains for property tests: names, messages, info, sensitive
//! fields, skipped causes, foreign causes and MultiErrors.

#![allow(dead_code)]

use std::io;

use arbitrary::{Result, Unstructured};
use serde_json::{Map, Number, Value};
use verror::VError;

use crate::property::{text, vec_of, word};

/// What to build, as plain data drawn from a test's random bytes.
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

/// How deep [`json_value`] nests arrays and objects.
const VALUE_DEPTH: usize = 3;
/// How deep [`spec`] nests causes and MultiError children.
const SPEC_DEPTH: usize = 4;

/// A JSON value: any scalar (finite numbers), or arrays and objects of up to three
/// items, nested up to [`VALUE_DEPTH`] deep.
pub fn json_value(u: &mut Unstructured<'_>) -> Result<Value> {
    json_value_within(u, VALUE_DEPTH)
}

fn json_value_within(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let kinds = if depth == 0 { 5 } else { 7 };
    Ok(match u.int_in_range(0..=kinds)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.arbitrary::<u64>()?),
        4 => Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        5 => Value::String(text(u, 12)?),
        6 => Value::Array(vec_of(u, 3, |u| json_value_within(u, depth - 1))?),
        _ => Value::Object(
            vec_of(u, 3, |u| {
                Ok((text(u, 6)?, json_value_within(u, depth - 1)?))
            })?
            .into_iter()
            .collect::<Map<_, _>>(),
        ),
    })
}

/// A chain: levels with a cause or MultiError children (up to two), foreign errors,
/// up to [`SPEC_DEPTH`] deep.
pub fn spec(u: &mut Unstructured<'_>) -> Result<Spec> {
    spec_within(u, SPEC_DEPTH)
}

fn spec_within(u: &mut Unstructured<'_>, depth: usize) -> Result<Spec> {
    // Mostly a level over more levels, so that chains go deep and wide.
    let shapes = if depth == 0 { 1 } else { 7 };
    let below = match u.int_in_range(0..=shapes)? {
        0 => return Ok(Spec::Foreign(text(u, 16)?)),
        1 => Below::Nothing,
        2..=4 => Below::Cause(Box::new(spec_within(u, depth - 1)?)),
        _ => Below::Errors(vec_of(u, 2, |u| spec_within(u, depth - 1))?),
    };
    Ok(Spec::Level {
        name: word(
            u,
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            0..=10,
        )?,
        message: text(u, 20)?,
        info: vec_of(u, 3, |u| {
            Ok((
                word(u, "abcdefghijklmnopqrstuvwxyz_", 1..=8)?,
                json_value(u)?,
            ))
        })?,
        secret: u.arbitrary()?,
        skip_cause: u.arbitrary()?,
        below,
    })
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
