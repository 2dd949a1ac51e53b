//! TEMPORARY stub (replaced by the actions branch).
pub struct Check { pub action: String, pub resource: String }
pub fn checks(_s: &str, _o: &str, _r: &str, _a: &str, _i: &serde_json::Value) -> Option<Vec<Check>> { None }
