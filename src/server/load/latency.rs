//! A small latency histogram: fixed memory whatever the count, mergeable, with
//! percentiles within 1% of the true value.

use std::time::Duration;

use serde::Serialize;

/// Values below this are counted exactly (one bucket per nanosecond).
const EXACT: u64 = 256;
/// Sub-buckets per power of two above [`EXACT`]: the relative error of a
/// percentile is at most `1 / SUB_BUCKETS`.
const SUB_BUCKETS: u64 = 128;
/// `log2(EXACT)`: the first power of two split into sub-buckets.
const FIRST_EXPONENT: u32 = EXACT.trailing_zeros();
/// Values are clamped below `2^LAST_EXPONENT` ns (about 68 s); the maximum is kept
/// exactly anyway.
const LAST_EXPONENT: u32 = 36;
const BUCKETS: usize = (EXACT + (LAST_EXPONENT - FIRST_EXPONENT) as u64 * SUB_BUCKETS) as usize;

/// Latencies in nanoseconds, counted in log-linear buckets (HdrHistogram's idea):
/// exact below 256 ns, then 128 buckets per power of two, so a percentile is off
/// by less than 1%. About 30 KiB, whatever the number of samples.
#[derive(Clone)]
pub(crate) struct LatencyHistogram {
    buckets: Box<[u64]>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for LatencyHistogram {
    fn default() -> LatencyHistogram {
        LatencyHistogram {
            buckets: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }
}

impl LatencyHistogram {
    /// Counts one sample.
    pub(crate) fn record(&mut self, latency: Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(ns)] += 1;
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Adds every sample of `other`.
    pub(crate) fn merge(&mut self, other: &LatencyHistogram) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// The number of samples.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// The smallest sample value `v` such that a fraction `q` (0 to 1) of the
    /// samples are at most `v`, to the bucket's precision (its middle, never above
    /// the maximum). Zero without samples.
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        // The rank of the sample asked for, 1-based: ceil(q * count), at least 1.
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (index, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Duration::from_nanos(middle_of(index).min(self.max_ns));
            }
        }
        Duration::from_nanos(self.max_ns)
    }

    /// The largest sample.
    pub(crate) fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }

    /// The mean of the samples (zero without samples).
    pub(crate) fn mean(&self) -> Duration {
        match self.count {
            0 => Duration::ZERO,
            n => {
                Duration::from_nanos(u64::try_from(self.sum_ns / u128::from(n)).unwrap_or(u64::MAX))
            }
        }
    }

    /// The figures a report shows.
    pub(crate) fn summary(&self) -> LatencySummary {
        LatencySummary {
            samples: self.count(),
            p50: self.quantile(0.50),
            p99: self.quantile(0.99),
            max: self.max(),
            mean: self.mean(),
        }
    }
}

/// The latency figures of a load run: the time from writing a request to reading
/// its response, requests in the pipeline window included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LatencySummary {
    /// The number of responses timed.
    pub samples: u64,
    /// The median.
    #[serde(rename = "p50_us", serialize_with = "micros")]
    pub p50: Duration,
    /// The 99th percentile.
    #[serde(rename = "p99_us", serialize_with = "micros")]
    pub p99: Duration,
    /// The slowest response.
    #[serde(rename = "max_us", serialize_with = "micros")]
    pub max: Duration,
    /// The mean.
    #[serde(rename = "mean_us", serialize_with = "micros")]
    pub mean: Duration,
}

/// A duration as fractional microseconds, for JSON.
fn micros<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_nanos() as f64 / 1000.0)
}

/// The bucket holding `ns`.
fn bucket_of(ns: u64) -> usize {
    if ns < EXACT {
        return ns as usize;
    }
    let ns = ns.min((1 << LAST_EXPONENT) - 1);
    let exponent = 63 - ns.leading_zeros(); // FIRST_EXPONENT..LAST_EXPONENT
    let shift = exponent - SUB_BUCKETS.trailing_zeros();
    let sub = (ns >> shift) - SUB_BUCKETS; // 0..SUB_BUCKETS
    (EXACT + u64::from(exponent - FIRST_EXPONENT) * SUB_BUCKETS + sub) as usize
}

/// The middle of the values bucket `index` holds.
fn middle_of(index: usize) -> u64 {
    let index = index as u64;
    if index < EXACT {
        return index;
    }
    let exponent = FIRST_EXPONENT + ((index - EXACT) / SUB_BUCKETS) as u32;
    let sub = (index - EXACT) % SUB_BUCKETS;
    let shift = exponent - SUB_BUCKETS.trailing_zeros();
    let low = (SUB_BUCKETS + sub) << shift;
    low + (1 << shift) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for ns in (0..100_000u64).chain([1 << 20, (1 << 36) - 1, 1 << 40, u64::MAX]) {
            let bucket = bucket_of(ns);
            assert!(bucket >= last && bucket < BUCKETS, "{ns} -> {bucket}");
            last = bucket;
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn a_bucket_middle_is_within_one_percent_of_its_values() {
        for ns in [300u64, 1_000, 12_345, 999_999, 5_000_000_000] {
            let middle = middle_of(bucket_of(ns));
            let error = (middle as f64 - ns as f64).abs() / ns as f64;
            assert!(error < 0.01, "{ns} -> {middle}");
        }
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut histogram = LatencyHistogram::default();
        for us in 1..=1000u64 {
            histogram.record(Duration::from_micros(us));
        }
        let within = |got: Duration, want_us: u64| {
            let error =
                (got.as_nanos() as f64 - want_us as f64 * 1000.0).abs() / (want_us as f64 * 1000.0);
            assert!(error < 0.01, "{got:?} vs {want_us} us");
        };
        within(histogram.quantile(0.5), 500);
        within(histogram.quantile(0.99), 990);
        assert_eq!(histogram.max(), Duration::from_micros(1000));
        assert_eq!(histogram.quantile(1.0), Duration::from_micros(1000));
        assert_eq!(histogram.mean(), Duration::from_nanos(500_500));
        assert_eq!(histogram.count(), 1000);
    }

    #[test]
    fn merged_histograms_count_every_sample() {
        let mut a = LatencyHistogram::default();
        let mut b = LatencyHistogram::default();
        a.record(Duration::from_micros(10));
        b.record(Duration::from_micros(30));
        b.record(Duration::from_millis(2));
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.max(), Duration::from_millis(2));
        let p50 = a.quantile(0.5).as_nanos() as f64;
        assert!((p50 - 30_000.0).abs() < 300.0, "{p50}");
    }

    #[test]
    fn an_empty_histogram_reports_zeros() {
        let summary = LatencyHistogram::default().summary();
        assert_eq!(summary, LatencySummary::default());
    }
}
