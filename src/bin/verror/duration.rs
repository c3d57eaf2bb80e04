//! Humane durations on the command line: `250ms`, `10s`, `1.5s`, `2m`, `1h`.

use std::time::Duration;

use verror::VError;

/// The units a duration may have, and their length in seconds.
const UNITS: [(&str, f64); 6] = [
    ("ns", 1e-9),
    ("us", 1e-6),
    ("ms", 1e-3),
    ("s", 1.0),
    ("m", 60.0),
    ("h", 3600.0),
];

/// Reads a number with a unit (`ns`, `us`, `ms`, `s`, `m`, `h`), or `0`.
pub fn parse(text: &str) -> Result<Duration, VError> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per_unit = UNITS
        .iter()
        .find(|(name, _)| *name == unit.trim())
        .map(|&(_, seconds)| seconds);
    let value = number.parse::<f64>().ok();
    match (value, seconds_per_unit) {
        (Some(value), Some(seconds)) => {
            Duration::try_from_secs_f64(value * seconds).map_err(|e| invalid(text).cause(e).build())
        }
        _ => Err(invalid(text).build()),
    }
}

fn invalid(text: &str) -> verror::Builder {
    VError::builder()
        .name("InvalidDuration")
        .info("given", text)
        .info("units", UNITS.map(|(name, _)| name))
        .message(format!(
            "{text:?} is not a duration (a number and a unit: 250ms, 10s, 2m)"
        ))
        .backtrace(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_with_units() {
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse("40us").unwrap(), Duration::from_micros(40));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for text in ["", "10", "ms", "10 parsecs", "-1s", "1e3s", "s10"] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.name(), "InvalidDuration", "{text:?}");
        }
    }
}
