//! The CBOR codec: RFC 8949 appendix A examples for every major type, round trips through
//! the JSON shape guided by a model (timestamps, blobs), and malformed input.

use super::*;
use crate::model::ServiceModel;
use serde_json::json;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn enc(item: &Item) -> String {
    let mut out = Vec::new();
    encode_item(item, &mut out);
    out.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn rfc_8949_examples_decode() {
    let cases: Vec<(&str, Item)> = vec![
        ("00", Item::Unsigned(0)),
        ("17", Item::Unsigned(23)),
        ("1818", Item::Unsigned(24)),
        ("1903e8", Item::Unsigned(1000)),
        ("1a000f4240", Item::Unsigned(1_000_000)),
        ("1bffffffffffffffff", Item::Unsigned(u64::MAX)),
        ("20", Item::Negative(0)),
        ("3863", Item::Negative(99)),
        ("f90000", Item::Float(0.0)),
        ("f93c00", Item::Float(1.0)),
        ("f9c400", Item::Float(-4.0)),
        ("f97bff", Item::Float(65504.0)),
        ("f90001", Item::Float(5.960464477539063e-8)),
        ("fa47c35000", Item::Float(100000.0)),
        ("fb3ff199999999999a", Item::Float(1.1)),
        ("f97c00", Item::Float(f64::INFINITY)),
        ("f4", Item::Bool(false)),
        ("f5", Item::Bool(true)),
        ("f6", Item::Null),
        ("f7", Item::Undefined),
        ("f0", Item::Simple(16)),
        ("f8ff", Item::Simple(255)),
        ("c11a514b67b0", Item::Tag(1, Box::new(Item::Unsigned(1363896240)))),
        ("4401020304", Item::Bytes(vec![1, 2, 3, 4])),
        ("6449455446", Item::Text("IETF".into())),
        ("62c3bc", Item::Text("ü".into())),
        ("83010203", Item::Array(vec![Item::Unsigned(1), Item::Unsigned(2), Item::Unsigned(3)])),
        ("a201020304", Item::Map(vec![(Item::Unsigned(1), Item::Unsigned(2)), (Item::Unsigned(3), Item::Unsigned(4))])),
        ("5f42010243030405ff", Item::Bytes(vec![1, 2, 3, 4, 5])),
        ("7f657374726561646d696e67ff", Item::Text("streaming".into())),
        ("9f018202039f0405ffff", Item::Array(vec![Item::Unsigned(1), Item::Array(vec![Item::Unsigned(2), Item::Unsigned(3)]), Item::Array(vec![Item::Unsigned(4), Item::Unsigned(5)])])),
        ("bf61610161629f0203ffff", Item::Map(vec![(Item::Text("a".into()), Item::Unsigned(1)), (Item::Text("b".into()), Item::Array(vec![Item::Unsigned(2), Item::Unsigned(3)]))])),
    ];
    for (h, want) in cases {
        assert_eq!(decode_item(&hex(h)).unwrap(), want, "{h}");
    }
    assert!(matches!(decode_item(&hex("f97e00")).unwrap(), Item::Float(f) if f.is_nan()));
}

#[test]
fn encodes_shortest_heads() {
    assert_eq!(enc(&Item::Unsigned(23)), "17");
    assert_eq!(enc(&Item::Unsigned(24)), "1818");
    assert_eq!(enc(&Item::Unsigned(1000)), "1903e8");
    assert_eq!(enc(&Item::Unsigned(1_000_000)), "1a000f4240");
    assert_eq!(enc(&Item::Unsigned(1_000_000_000_000)), "1b000000e8d4a51000");
    assert_eq!(enc(&Item::Negative(99)), "3863");
    assert_eq!(enc(&Item::Float(1.1)), "fb3ff199999999999a");
    assert_eq!(enc(&Item::Text("IETF".into())), "6449455446");
    assert_eq!(enc(&Item::Simple(255)), "f8ff");
}

#[test]
fn items_round_trip() {
    let item = Item::Map(vec![
        (Item::Text("a".into()), Item::Array(vec![Item::Negative(500), Item::Float(-0.5), Item::Bytes(vec![0; 300])])),
        (Item::Text("t".into()), Item::Tag(1, Box::new(Item::Float(1.5e9)))),
        (Item::Text("s".into()), Item::Text("x".repeat(70_000))),
        (Item::Text("n".into()), Item::Null),
        (Item::Text("b".into()), Item::Bool(true)),
    ]);
    let mut out = Vec::new();
    encode_item(&item, &mut out);
    assert_eq!(decode_item(&out).unwrap(), item);
}

const MODEL: &str = r#"{"metadata":{"protocols":["smithy-rpc-v2-cbor"],"endpointPrefix":"x","targetPrefix":"Svc"},
 "operations":{},
 "shapes":{
  "In":{"type":"structure","members":{"When":{"shape":"Ts"},"Data":{"shape":"Bl"},"Vals":{"shape":"Dl"},"Tags":{"shape":"M"},"N":{"shape":"I"},"S":{"shape":"St"}}},
  "Ts":{"type":"timestamp"},"Bl":{"type":"blob"},"D":{"type":"double"},"I":{"type":"integer"},"St":{"type":"string"},
  "Dl":{"type":"list","member":{"shape":"D"}},
  "M":{"type":"map","key":{"shape":"St"},"value":{"shape":"Ts"}}}}"#;

#[test]
fn values_round_trip_through_the_model() {
    let model = ServiceModel::parse(MODEL).unwrap();
    let v = json!({"When": 1700000000.5, "Data": "AQID", "Vals": [1.0, 2.5], "Tags": {"k": 1700000000}, "N": -7, "S": "hi"});
    let item = from_value(&model, Some("In"), &v);
    let Item::Map(pairs) = &item else { panic!("not a map") };
    let get = |k: &str| pairs.iter().find(|(n, _)| *n == Item::Text(k.into())).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(get("When"), Item::Tag(1, Box::new(Item::Float(1700000000.5))));
    assert_eq!(get("Data"), Item::Bytes(vec![1, 2, 3]));
    assert_eq!(get("Vals"), Item::Array(vec![Item::Float(1.0), Item::Float(2.5)]));
    assert_eq!(get("N"), Item::Negative(6));
    let mut bytes = Vec::new();
    encode_item(&item, &mut bytes);
    let back = to_value(&model, Some("In"), decode_item(&bytes).unwrap()).unwrap();
    assert_eq!(back, v);
}

#[test]
fn null_members_are_absent_and_tags_unwrap() {
    let model = ServiceModel::parse(MODEL).unwrap();
    let item = Item::Map(vec![
        (Item::Text("S".into()), Item::Null),
        (Item::Text("When".into()), Item::Tag(1, Box::new(Item::Unsigned(5)))),
    ]);
    assert_eq!(to_value(&model, Some("In"), item).unwrap(), json!({"When": 5}));
}

#[test]
fn non_finite_floats_become_text() {
    let model = ServiceModel::parse(MODEL).unwrap();
    assert_eq!(to_value(&model, None, Item::Float(f64::NAN)).unwrap(), json!("NaN"));
    assert_eq!(to_value(&model, None, Item::Float(f64::NEG_INFINITY)).unwrap(), json!("-Infinity"));
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    for h in [
        "", "18", "19ff", "1c", "5f01ff", "7f4100ff", "62c3", "61ff", "83 01 02".replace(' ', "").as_str(), "a1", "a10102ff",
        "ff", "9f01", "bf6161ff", "1f", "3f", "df00", "f818", "fc", "5b00000000ffffffff", "9bffffffffffffffff",
        "0000",
    ] {
        assert!(decode_item(&hex(h)).is_err(), "{h}");
    }
    assert!(to_value(&ServiceModel::parse(MODEL).unwrap(), None, decode_item(&hex("a10102")).unwrap()).is_err());
    assert!(to_value(&ServiceModel::parse(MODEL).unwrap(), None, Item::Simple(16)).is_err());
}

#[test]
fn deep_nesting_is_refused() {
    let mut deep = vec![0x81u8; 10_000];
    deep.push(0x00);
    assert!(decode_item(&deep).is_err());
    let mut tags = vec![0xc1u8; 10_000];
    tags.push(0x00);
    assert!(decode_item(&tags).is_err());
}

#[test]
fn every_prefix_of_a_message_is_an_error() {
    let item = Item::Map(vec![
        (Item::Text("Namespace".into()), Item::Text("App".into())),
        (Item::Text("When".into()), Item::Tag(1, Box::new(Item::Float(1.7e9)))),
        (Item::Text("Vals".into()), Item::Array(vec![Item::Unsigned(70_000), Item::Negative(3), Item::Bytes(vec![9; 30])])),
    ]);
    let mut bytes = Vec::new();
    encode_item(&item, &mut bytes);
    for n in 0..bytes.len() {
        assert!(decode_item(&bytes[..n]).is_err(), "prefix of {n} bytes");
    }
}

#[test]
fn random_bytes_never_panic() {
    // A fixed xorshift sequence: the same inputs every run.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let model = ServiceModel::parse(MODEL).unwrap();
    for _ in 0..20_000 {
        let len = (state % 40) as usize;
        let mut buf = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            buf.push(state as u8);
        }
        if let Ok(item) = decode_item(&buf) {
            let _ = to_value(&model, Some("In"), item);
        }
    }
}
