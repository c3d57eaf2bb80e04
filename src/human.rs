//! Numbers as people write them: durations (`150ms`, `2.0s`, `30s`) and
//! counts with their noun (`1 connection`, `2 connections`).

use std::fmt;
use std::time::Duration;

/// A duration as people write it: `850ns`, `42µs`, `150ms`, whole seconds as
/// `30s`, others to two decimals with at least one (`2.0s`, `1.5s`, `30.25s`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct HumanDuration(pub(crate) Duration);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d < Duration::from_micros(1) {
            write!(f, "{}ns", d.as_nanos())
        } else if d < Duration::from_millis(1) {
            write!(f, "{}µs", d.as_micros())
        } else if d < Duration::from_secs(1) {
            write!(f, "{}ms", d.as_millis())
        } else if d.subsec_nanos() == 0 {
            write!(f, "{}s", d.as_secs())
        } else {
            let text = format!("{:.2}", d.as_secs_f64());
            let text = text.strip_suffix('0').unwrap_or(&text);
            write!(f, "{text}s")
        }
    }
}

/// `n` and its noun, plural unless `n` is 1: `1 connection`, `3 errors`.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Count(pub(crate) u64, pub(crate) &'static str);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Count(n, noun) = *self;
        write!(f, "{n} {noun}{}", if n == 1 { "" } else { "s" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        let cases = [
            (Duration::from_nanos(850), "850ns"),
            (Duration::from_micros(42), "42µs"),
            (Duration::from_millis(150), "150ms"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(600), "600s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_millis(30_250), "30.25s"),
            (Duration::from_nanos(2_001_117_741), "2.0s"),
        ];
        for (duration, text) in cases {
            assert_eq!(HumanDuration(duration).to_string(), text);
        }
    }

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(Count(1, "connection").to_string(), "1 connection");
        assert_eq!(Count(0, "error").to_string(), "0 errors");
        assert_eq!(Count(2, "frame").to_string(), "2 frames");
    }
}
