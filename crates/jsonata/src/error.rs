//! `JsonataError`: JSONata's error code (`S0201`, `T2001`, `D3030`, …), the character
//! position in the expression where it is known, and the message JSONata gives.

use std::fmt;

/// A parse or evaluation error, carrying JSONata's error code.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonataError {
    /// JSONata's code: `S0xxx` syntax, `T0xxx`/`T1xxx`/`T2xxx` type, `D1xxx`/`D2xxx`/`D3xxx` dynamic.
    pub code: String,
    /// Character offset into the expression, when known.
    pub position: Option<usize>,
    /// Human-readable message, as JSONata words it.
    pub message: String,
}

impl JsonataError {
    pub fn new(code: &str, position: Option<usize>, message: impl Into<String>) -> JsonataError {
        JsonataError { code: code.to_string(), position, message: message.into() }
    }
}

impl fmt::Display for JsonataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{} at position {}: {}", self.code, p, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for JsonataError {}
