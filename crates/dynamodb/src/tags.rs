//! Tag validation as DynamoDB applies it to CreateTable's `Tags`, TagResource and
//! UntagResource: keys of 1 to 128 characters, values of at most 256, letters, numbers,
//! spaces and `_ . : / = + - @` only, at most 50 tags on a table
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Tagging.html#TaggingRestrictions>).

use crate::api::Tag;
use crate::errors::{DdbError, DdbResult};

pub const MAX_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;
const PATTERN: &str = "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$";

fn allowed(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

fn constraint(value: &str, field: &str, constraint: &str) -> DdbError {
    DdbError::validation(format!("1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"))
}

/// One tag key (`field` names it as AWS does: `tags.1.member.key`, `tagKeys.1.member`).
pub fn check_key(key: &str, field: &str) -> DdbResult<()> {
    let n = key.chars().count();
    if n == 0 {
        return Err(constraint(key, field, "Member must have length greater than or equal to 1"));
    }
    if n > MAX_KEY_CHARS {
        return Err(constraint(key, field, "Member must have length less than or equal to 128"));
    }
    if !key.chars().all(allowed) {
        return Err(constraint(key, field, &format!("Member must satisfy regular expression pattern: {PATTERN}")));
    }
    Ok(())
}

/// A list of tags being added.
pub fn check_tags(tags: &[Tag]) -> DdbResult<()> {
    for (i, t) in tags.iter().enumerate() {
        check_key(&t.key, &format!("tags.{}.member.key", i + 1))?;
        let field = format!("tags.{}.member.value", i + 1);
        if t.value.chars().count() > MAX_VALUE_CHARS {
            return Err(constraint(&t.value, &field, "Member must have length less than or equal to 256"));
        }
        if !t.value.chars().all(allowed) {
            return Err(constraint(&t.value, &field, &format!("Member must satisfy regular expression pattern: {PATTERN}")));
        }
    }
    Ok(())
}

/// At most 50 tags on one table.
pub fn check_count(n: usize) -> DdbResult<()> {
    if n > MAX_TAGS {
        return Err(DdbError::LimitExceeded(format!("Too many tags: a table can have at most {MAX_TAGS}")));
    }
    Ok(())
}
