//! Numbers and values: parsing, AWS's normalised text, limits, exact arithmetic
//! (including a seeded random comparison with i128), order, DynamoDB JSON validation,
//! and sizes.

use nimbus_dynamodb_expr::value::{item_from_json, item_size, item_to_json};
use nimbus_dynamodb_expr::{AttributeValue, Number};
use serde_json::json;
use std::cmp::Ordering;

fn n(text: &str) -> Number {
    Number::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn err(text: &str) -> String {
    match Number::parse(text) {
        Ok(v) => panic!("{text} parsed as {v}"),
        Err(e) => e.0,
    }
}

#[test]
fn parse_and_normalise() {
    for (input, text) in [
        ("1", "1"),
        ("1E2", "100"),
        ("1e3", "1000"),
        (".50", "0.5"),
        ("5.", "5"),
        ("+5", "5"),
        ("-0", "0"),
        ("-0.000", "0"),
        ("0", "0"),
        ("00012.3400", "12.34"),
        ("-1.5E-3", "-0.0015"),
        ("123.456e1", "1234.56"),
        ("1E+2", "100"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("1000000000000000000000000000000000000000000", "1000000000000000000000000000000000000000000"),
    ] {
        assert_eq!(n(input).to_text(), text, "{input}");
    }
    assert_eq!(n("1E-130").to_text(), format!("0.{}1", "0".repeat(129)));
    assert_eq!(n("9.9999999999999999999999999999999999999E+125").to_text().len(), 126);
}

#[test]
fn parse_refusals() {
    for bad in ["abc", "", " 7", "7 ", "1e", "--1", "1.2.3", ".", "e5", "0x10", "1,5", "NaN", "Infinity"] {
        let msg = err(bad);
        assert!(msg.starts_with("The parameter cannot be converted to a numeric value"), "{bad}: {msg}");
    }
    assert_eq!(err("abc"), "The parameter cannot be converted to a numeric value: abc");
    let overflow = "Number overflow. Attempting to store a number with magnitude larger than supported range";
    let underflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range";
    assert_eq!(err("1E126"), overflow);
    assert_eq!(err("-1E126"), overflow);
    assert_eq!(err("1E-131"), underflow);
    assert_eq!(err("1E999999999999"), overflow);
    assert_eq!(err("123456789012345678901234567890123456789"), "Attempting to store more than 38 significant digits in a Number");
    assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
    assert!(Number::parse("-1E-130").is_ok());
    assert!(Number::parse("0E999999").is_ok());
}

#[test]
fn arithmetic() {
    let cases = [
        ("1", "2", "3", "-1"),
        ("0.1", "0.2", "0.3", "-0.1"),
        ("-5", "5", "0", "-10"),
        ("1E10", "1E-10", "10000000000.0000000001", "9999999999.9999999999"),
        ("99999999999999999999999999999999999999", "-1", "99999999999999999999999999999999999998", "100000000000000000000000000000000000000"),
    ];
    for (a, b, sum, diff) in cases {
        assert_eq!(n(a).add(&n(b)).map(|v| v.to_text()), Ok(sum.to_string()), "{a} + {b}");
        assert_eq!(n(a).sub(&n(b)).map(|v| v.to_text()), Ok(diff.to_string()), "{a} - {b}");
    }
    let too_precise = n("1E20").add(&n("1E-20")).unwrap_err();
    assert_eq!(too_precise.0, "Attempting to store more than 38 significant digits in a Number");
    let big = n("9.9999999999999999999999999999999999999E+125");
    assert!(big.add(&big).unwrap_err().0.starts_with("Number overflow"));
    assert!(big.add(&n("1")).is_err()); // needs 126 digits
}

#[test]
fn ordering() {
    let sorted = ["-1E125", "-100", "-1.5", "-0.001", "0", "1E-130", "0.5", "1", "1.01", "10", "1E125"];
    for (i, a) in sorted.iter().enumerate() {
        for (j, b) in sorted.iter().enumerate() {
            assert_eq!(n(a).cmp_value(&n(b)), i.cmp(&j), "{a} vs {b}");
        }
    }
    assert_eq!(n("1.0").cmp_value(&n("1")), Ordering::Equal);
    assert_eq!(n("1.0"), n("1"));
}

/// xorshift64*: deterministic pseudo-random numbers without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn int(&mut self) -> i128 {
        let digits = self.next() % 38 + 1;
        let magnitude = (self.next() as i128) << 64 | self.next() as i128;
        let v = magnitude.rem_euclid(10i128.pow(digits as u32));
        if self.next().is_multiple_of(2) { v } else { -v }
    }
}

#[test]
fn random_add_sub_match_i128() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let limit = 10i128.pow(38);
    for _ in 0..20_000 {
        let (a, b) = (rng.int(), rng.int());
        // Scale both by the same power of ten sometimes, to exercise fractions.
        let shift = (rng.next() % 5) as i32;
        let text = |v: i128| if shift == 0 { v.to_string() } else { format!("{v}E-{shift}") };
        let (na, nb) = (n(&text(a)), n(&text(b)));
        for (result, expected) in [(na.add(&nb), a + b), (na.sub(&nb), a - b)] {
            let trimmed = {
                let mut t = expected.abs();
                while t != 0 && t % 10 == 0 {
                    t /= 10;
                }
                t
            };
            if trimmed >= limit {
                assert!(result.is_err(), "{a} {b}: expected an error");
            } else {
                let want = n(&text(expected));
                assert_eq!(result.as_ref().map(|r| r.cmp_value(&want)), Ok(Ordering::Equal), "{a} {b} shift {shift}");
            }
        }
        assert_eq!(na.cmp_value(&nb), a.cmp(&b), "{a} vs {b}");
    }
}

fn value(v: serde_json::Value) -> Result<AttributeValue, String> {
    AttributeValue::from_json(&v).map_err(|e| e.0)
}

#[test]
fn json_round_trip() {
    let item = json!({
        "s": {"S": "x"}, "n": {"N": "1E2"}, "b": {"B": "AAEC"}, "t": {"BOOL": true}, "z": {"NULL": true},
        "m": {"M": {"a": {"L": [{"N": "-0"}, {"SS": ["a", "b"]}]}}},
        "ns": {"NS": ["1", "2.50"]}, "bs": {"BS": ["AA==", "AQ=="]}
    });
    let parsed = item_from_json(&item).unwrap();
    assert_eq!(parsed["b"], AttributeValue::B(vec![0, 1, 2]));
    let back = item_to_json(&parsed);
    assert_eq!(back["n"], json!({"N": "100"}));
    assert_eq!(back["ns"], json!({"NS": ["1", "2.5"]}));
    assert_eq!(back["m"], json!({"M": {"a": {"L": [{"N": "0"}, {"SS": ["a", "b"]}]}}}));
    assert_eq!(item_from_json(&back).unwrap(), parsed);
}

#[test]
fn json_refusals() {
    assert_eq!(value(json!({})).unwrap_err(), "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
    assert_eq!(
        value(json!({"S": "a", "N": "1"})).unwrap_err(),
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
    );
    assert_eq!(value(json!({"NS": []})).unwrap_err(), "One or more parameter values were invalid: An number set  may not be empty");
    assert_eq!(value(json!({"SS": []})).unwrap_err(), "One or more parameter values were invalid: An string set  may not be empty");
    assert_eq!(value(json!({"BS": []})).unwrap_err(), "One or more parameter values were invalid: An binary set  may not be empty");
    assert_eq!(value(json!({"SS": ["a", "a"]})).unwrap_err(), "One or more parameter values were invalid: Input collection [a, a] contains duplicates.");
    assert_eq!(value(json!({"NS": ["1", "1.0"]})).unwrap_err(), "One or more parameter values were invalid: Input collection [1, 1.0] contains duplicates.");
    assert_eq!(value(json!({"NULL": false})).unwrap_err(), "One or more parameter values were invalid: Null attribute value types must have the value of true");
    assert_eq!(value(json!({"N": "x"})).unwrap_err(), "The parameter cannot be converted to a numeric value: x");
    assert!(value(json!({"M": {"a": {"NS": ["1e200"]}}})).unwrap_err().starts_with("Number overflow"));
    assert!(value(json!({"B": "***"})).is_err());
    assert!(value(json!({"SS": [""]})).is_ok());
    assert!(value(json!({"L": []})).is_ok());
    assert!(value(json!({"M": {}})).is_ok());
}

#[test]
fn sizes() {
    let v = |j| value(j).unwrap();
    assert_eq!(v(json!({"S": "héllo"})).size(), 6);
    assert_eq!(v(json!({"N": "0"})).size(), 1);
    assert_eq!(v(json!({"N": "1"})).size(), 2);
    assert_eq!(v(json!({"N": "12"})).size(), 2);
    assert_eq!(v(json!({"N": "123"})).size(), 3);
    assert_eq!(v(json!({"N": "-123"})).size(), 4);
    assert_eq!(v(json!({"N": "1E100"})).size(), 2);
    assert_eq!(v(json!({"B": "AAEC"})).size(), 3);
    assert_eq!(v(json!({"BOOL": false})).size(), 1);
    assert_eq!(v(json!({"NULL": true})).size(), 1);
    assert_eq!(v(json!({"SS": ["ab", "c"]})).size(), 3);
    assert_eq!(v(json!({"L": []})).size(), 3);
    assert_eq!(v(json!({"L": [{"S": "ab"}, {"BOOL": true}]})).size(), 3 + 3 + 2);
    assert_eq!(v(json!({"M": {"ab": {"S": "c"}}})).size(), 3 + 1 + 2 + 1);
    let item = item_from_json(&json!({"pk": {"S": "abc"}, "count": {"N": "12"}})).unwrap();
    assert_eq!(item_size(&item), 2 + 3 + 5 + 2);
}

#[test]
fn key_order() {
    let v = |j| value(j).unwrap();
    assert_eq!(v(json!({"S": "a"})).key_cmp(&v(json!({"S": "b"}))), Some(Ordering::Less));
    // UTF-8 byte order: U+00E9 (C3 A9) sorts after "z".
    assert_eq!(v(json!({"S": "é"})).key_cmp(&v(json!({"S": "z"}))), Some(Ordering::Greater));
    assert_eq!(v(json!({"N": "10"})).key_cmp(&v(json!({"N": "9"}))), Some(Ordering::Greater));
    assert_eq!(v(json!({"B": "/w=="})).key_cmp(&v(json!({"B": "AA=="}))), Some(Ordering::Greater));
    assert_eq!(v(json!({"S": "1"})).key_cmp(&v(json!({"N": "1"}))), None);
    assert_eq!(v(json!({"L": []})).key_cmp(&v(json!({"L": []}))), None);
    assert_eq!(v(json!({"N": "1"})).type_name(), "N");
    assert_eq!(v(json!({"BOOL": true})).type_name(), "BOOL");
}
