//! Latency summaries: medians and tails from every sample, not averages.

use std::time::Duration;

#[derive(Debug, Default)]
pub struct Samples {
    micros: Vec<u32>,
}

impl Samples {
    pub fn record(&mut self, latency: Duration) {
        self.micros.push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
    }

    pub fn merge(&mut self, other: Samples) {
        self.micros.extend(other.micros);
    }

    pub fn len(&self) -> usize {
        self.micros.len()
    }

    /// "n=…, p50 … ms, p99 … ms, max … ms".
    pub fn summary(&mut self) -> String {
        if self.micros.is_empty() {
            return "n=0".into();
        }
        self.micros.sort_unstable();
        format!(
            "n={}, p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
            self.micros.len(),
            self.percentile(50.0),
            self.percentile(99.0),
            self.percentile(99.9),
            self.percentile(100.0),
        )
    }

    /// In milliseconds; the samples must be sorted.
    fn percentile(&self, percent: f64) -> f64 {
        let last = self.micros.len() - 1;
        let rank = ((percent / 100.0) * last as f64).round() as usize;
        f64::from(self.micros[rank.min(last)]) / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_sorted_samples() {
        let mut samples = Samples::default();
        for micros in (1..=100).rev() {
            samples.record(Duration::from_micros(micros * 10));
        }
        let summary = samples.summary();
        assert!(summary.starts_with("n=100, p50 0.510 ms, p99 0.990 ms"), "{summary}");
        assert!(summary.ends_with("max 1.000 ms"), "{summary}");
    }
}
