//! A period's statistics from its datapoints: SampleCount, Sum, Average, Minimum, Maximum,
//! and percentiles (`pNN`, `pNN.NN`) over the raw values (nearest rank, values weighted by
//! their counts). Statistic sets carry no raw values: a period made only of them has no
//! percentiles, as on AWS.

use crate::store::Point;

/// The five basic statistics, as AWS names them.
pub const BASIC: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub count: f64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// Raw `(value, count)` pairs, sorted by value.
    pub values: Vec<(f64, f64)>,
}

impl Aggregate {
    pub fn of(points: &[&Point]) -> Aggregate {
        let mut a = Aggregate { count: 0.0, sum: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY, values: Vec::new() };
        for p in points {
            a.count += p.count;
            a.sum += p.sum;
            a.min = a.min.min(p.min);
            a.max = a.max.max(p.max);
            if let Some(v) = &p.values {
                a.values.extend(v.iter().copied());
            }
        }
        a.values.sort_by(|x, y| x.0.total_cmp(&y.0));
        a
    }

    /// A basic statistic or a percentile; `None` when it cannot be computed.
    pub fn get(&self, stat: &str) -> Option<f64> {
        match stat {
            "SampleCount" => Some(self.count),
            "Sum" => Some(self.sum),
            "Average" => (self.count > 0.0).then(|| self.sum / self.count),
            "Minimum" => Some(self.min),
            "Maximum" => Some(self.max),
            other => self.percentile(percentile_of(other)?),
        }
    }

    fn percentile(&self, p: f64) -> Option<f64> {
        let total: f64 = self.values.iter().map(|(_, c)| c).sum();
        if total <= 0.0 {
            return None;
        }
        let rank = (p / 100.0 * total).ceil().max(1.0);
        let mut seen = 0.0;
        for (v, c) in &self.values {
            seen += c;
            if seen >= rank {
                return Some(*v);
            }
        }
        self.values.last().map(|(v, _)| *v)
    }
}

/// `p99` → 99.0, `p99.9` → 99.9: `p` then 0–100 with at most two decimals.
pub fn percentile_of(stat: &str) -> Option<f64> {
    let n = stat.strip_prefix('p')?;
    let (int, frac) = n.split_once('.').unwrap_or((n, ""));
    if int.is_empty() || int.len() > 3 || frac.len() > 2 || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) || (n.contains('.') && frac.is_empty()) {
        return None;
    }
    let v: f64 = n.parse().ok()?;
    (0.0..=100.0).contains(&v).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(ts_ms: i64, vals: &[(f64, f64)]) -> Point {
        let count = vals.iter().map(|(_, c)| c).sum();
        let sum = vals.iter().map(|(v, c)| v * c).sum();
        let min = vals.iter().map(|(v, _)| *v).fold(f64::INFINITY, f64::min);
        let max = vals.iter().map(|(v, _)| *v).fold(f64::NEG_INFINITY, f64::max);
        Point { ts_ms, unit: "None".into(), count, sum, min, max, values: Some(vals.to_vec()) }
    }

    #[test]
    fn basic_statistics_and_percentiles() {
        let pts: Vec<Point> = (1..=100).map(|i| raw(i, &[(i as f64, 1.0)])).collect();
        let a = Aggregate::of(&pts.iter().collect::<Vec<_>>());
        assert_eq!(a.get("SampleCount"), Some(100.0));
        assert_eq!(a.get("Sum"), Some(5050.0));
        assert_eq!(a.get("Average"), Some(50.5));
        assert_eq!(a.get("Minimum"), Some(1.0));
        assert_eq!(a.get("Maximum"), Some(100.0));
        assert_eq!(a.get("p50"), Some(50.0));
        assert_eq!(a.get("p99"), Some(99.0));
        assert_eq!(a.get("p100"), Some(100.0));
        assert_eq!(a.get("p99.5"), Some(100.0));
    }

    #[test]
    fn counts_weight_values() {
        let p = raw(0, &[(1.0, 9.0), (10.0, 1.0)]);
        let a = Aggregate::of(&[&p]);
        assert_eq!(a.get("p90"), Some(1.0));
        assert_eq!(a.get("p91"), Some(10.0));
        assert_eq!(a.get("Average"), Some(1.9));
    }

    #[test]
    fn statistic_sets_have_no_percentiles() {
        let p = Point { ts_ms: 0, unit: "Count".into(), count: 2.0, sum: 3.0, min: 1.0, max: 2.0, values: None };
        assert_eq!(Aggregate::of(&[&p]).get("p50"), None);
    }

    #[test]
    fn percentile_names() {
        assert_eq!(percentile_of("p0"), Some(0.0));
        assert_eq!(percentile_of("p99.99"), Some(99.99));
        for bad in ["p", "p101", "p99.999", "p99.", "x99", "p-1", "p1e2", "tm99"] {
            assert_eq!(percentile_of(bad), None, "{bad}");
        }
    }
}
