//! Formatting shared by the workload reports.

/// `a / b` as a ratio column ("12.34x", "0.0123x" when small), or "-" when either side
/// has no figure.
pub fn ratio(a: f64, b: f64) -> String {
    if a > 0.0 && b > 0.0 {
        let r = a / b;
        if r < 0.1 {
            format!("{r:.4}x")
        } else {
            format!("{r:.2}x")
        }
    } else {
        "-".into()
    }
}
