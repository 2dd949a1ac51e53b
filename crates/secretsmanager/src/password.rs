//! GetRandomPassword: a password from the character classes the request keeps, at least
//! one of each when RequireEachIncludedType (the default), from the OS-seeded CSPRNG.
//! <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html>

use crate::errors::{SmError, SmResult};
use crate::service::s;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

fn flag(input: &Value, member: &str, default: bool) -> bool {
    input.get(member).and_then(Value::as_bool).unwrap_or(default)
}

pub(crate) fn get_random_password(input: &Value) -> SmResult<Value> {
    let length = input.get("PasswordLength").and_then(Value::as_i64).unwrap_or(32);
    if !(1..=4096).contains(&length) {
        return Err(SmError::constraint(length, "passwordLength", "Member must have value between 1 and 4096"));
    }
    let excluded: Vec<char> = s(input, "ExcludeCharacters").unwrap_or_default().chars().collect();
    let mut classes: Vec<Vec<char>> = Vec::new();
    let mut class = |on: bool, chars: &mut dyn Iterator<Item = char>| {
        if on {
            let kept: Vec<char> = chars.filter(|c| !excluded.contains(c)).collect();
            if !kept.is_empty() {
                classes.push(kept);
            }
        }
    };
    class(!flag(input, "ExcludeLowercase", false), &mut ('a'..='z'));
    class(!flag(input, "ExcludeUppercase", false), &mut ('A'..='Z'));
    class(!flag(input, "ExcludeNumbers", false), &mut ('0'..='9'));
    class(!flag(input, "ExcludePunctuation", false), &mut PUNCTUATION.chars());
    class(flag(input, "IncludeSpace", false), &mut std::iter::once(' '));
    if classes.is_empty() {
        return Err(SmError::InvalidParameter("You can't exclude every character type: there are no characters left to build the password from.".into()));
    }
    let require = flag(input, "RequireEachIncludedType", true);
    let length = length as usize;
    if require && length < classes.len() {
        return Err(SmError::InvalidParameter(format!("The password length {length} is too short to include a character of each of the {} included types.", classes.len())));
    }
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    let mut rng = rand::rngs::OsRng;
    let mut out: Vec<char> = Vec::with_capacity(length);
    if require {
        for c in &classes {
            out.push(c[rng.gen_range(0..c.len())]);
        }
    }
    while out.len() < length {
        out.push(all[rng.gen_range(0..all.len())]);
    }
    out.shuffle(&mut rng);
    Ok(json!({"RandomPassword": out.into_iter().collect::<String>()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_included_type_appears_and_excluded_characters_do_not() {
        for _ in 0..50 {
            let out = get_random_password(&json!({"PasswordLength": 4, "ExcludeCharacters": "abc", "IncludeSpace": true, "ExcludePunctuation": true})).expect("password");
            let p = out["RandomPassword"].as_str().expect("string").to_string();
            assert_eq!(p.chars().count(), 4);
            assert!(p.chars().any(|c| c.is_ascii_lowercase()) && p.chars().any(|c| c.is_ascii_uppercase()) && p.chars().any(|c| c.is_ascii_digit()) && p.contains(' '), "{p}");
            assert!(!p.contains(['a', 'b', 'c']), "{p}");
        }
    }

    #[test]
    fn bad_lengths_and_nothing_left_are_refused() {
        assert!(get_random_password(&json!({"PasswordLength": 0})).is_err());
        assert!(get_random_password(&json!({"PasswordLength": 4097})).is_err());
        assert!(get_random_password(&json!({"PasswordLength": 3})).is_err(), "4 types need 4 characters");
        assert!(get_random_password(&json!({"ExcludeLowercase": true, "ExcludeUppercase": true, "ExcludeNumbers": true, "ExcludePunctuation": true})).is_err());
        assert_eq!(get_random_password(&json!({})).expect("default")["RandomPassword"].as_str().map(|p| p.chars().count()), Some(32));
    }
}
