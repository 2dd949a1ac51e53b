//! DynamoDB's data language, with no I/O: what an attribute value is and how the
//! expression languages read and change items. The DynamoDB service crate builds on it.
//!
//! - [`value`]: `AttributeValue` (S, N, B, BOOL, NULL, M, L, SS, NS, BS), exact decimal
//!   numbers with AWS's normalised form, DynamoDB JSON, validation, item size, key order.
//! - [`expr`]: parsing and evaluating ConditionExpression / FilterExpression,
//!   KeyConditionExpression, ProjectionExpression and UpdateExpression, with
//!   ExpressionAttributeNames / Values and AWS's ValidationException messages.

pub mod expr;
pub mod value;

pub use value::{AttributeValue, Item, Number};
