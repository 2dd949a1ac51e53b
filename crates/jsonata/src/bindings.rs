//! `Bindings`: the variables and extra native functions an evaluation sees besides the
//! built-in function library (Step Functions binds `$states` and `Assign`ed variables here).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::JsonataError;

/// A native function: receives its evaluated arguments (`None` = undefined) and returns
/// a value or undefined.
pub type NativeFunction = Arc<dyn Fn(&[Option<Value>]) -> Result<Option<Value>, JsonataError> + Send + Sync>;

/// Variables and native functions for an evaluation. Names are given without the `$`
/// (a leading `$` is accepted and ignored).
#[derive(Clone, Default)]
pub struct Bindings {
    pub(crate) variables: HashMap<String, Arc<Value>>,
    pub(crate) functions: HashMap<String, NativeFunction>,
    /// The time `$now()`/`$millis()` report (milliseconds since the epoch); the system
    /// clock when unset.
    pub(crate) now_millis: Option<i64>,
}

fn bare(name: &str) -> String {
    name.strip_prefix('$').unwrap_or(name).to_string()
}

impl Bindings {
    pub fn new() -> Bindings {
        Bindings::default()
    }

    /// Binds variable `$name` to `value` (a `Value`, or an `Arc<Value>` shared without a copy).
    pub fn bind(&mut self, name: &str, value: impl Into<Arc<Value>>) -> &mut Bindings {
        self.variables.insert(bare(name), value.into());
        self
    }

    /// The value bound to `$name`, if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.variables.get(&bare(name)).map(|v| v.as_ref())
    }

    /// Fixes the time `$now()` and `$millis()` report (ms since the epoch), so a caller
    /// with its own clock (tests moving time) stays consistent.
    pub fn now(&mut self, millis: i64) -> &mut Bindings {
        self.now_millis = Some(millis);
        self
    }

    /// Registers native function `$name`; it shadows a built-in function of the same name.
    pub fn function(
        &mut self,
        name: &str,
        f: impl Fn(&[Option<Value>]) -> Result<Option<Value>, JsonataError> + Send + Sync + 'static,
    ) -> &mut Bindings {
        self.functions.insert(bare(name), Arc::new(f));
        self
    }
}

impl std::fmt::Debug for Bindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.functions.keys().collect();
        names.sort();
        f.debug_struct("Bindings").field("variables", &self.variables).field("functions", &names).finish()
    }
}
