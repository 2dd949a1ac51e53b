//! Tests of every intrinsic function, from the examples and "Input validation" rules of
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html>.

use super::*;
use serde_json::{json, Map};

fn run(input: Value, expr: &str) -> Result<Value, AslError> {
    let context = json!({"Execution": {"Name": "exec-1"}});
    let mut vars = Map::new();
    vars.insert("who".into(), json!("Ana"));
    eval(expr, &Scope { input: &input, context: &context, variables: &vars })
}

fn ok(input: Value, expr: &str) -> Value {
    run(input, expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

fn failure(input: Value, expr: &str) -> AslError {
    let err = run(input, expr).expect_err(expr);
    assert_eq!(err.error, "States.IntrinsicFailure", "{expr}: {}", err.cause);
    err
}

#[test]
fn intrinsic_functions_page_states_format() {
    let input = json!({"name": "Arnav", "template": "Hello, my name is {}."});
    assert_eq!(ok(input.clone(), "States.Format('Hello, my name is {}.', $.name)"), json!("Hello, my name is Arnav."));
    assert_eq!(ok(input.clone(), "States.Format($.template, $.name)"), json!("Hello, my name is Arnav."));
    assert_eq!(ok(input.clone(), "States.Format('no placeholders')"), json!("no placeholders"));
    // Values other than strings: JSON scalars, JVM-style collections.
    let values = json!({"n": 1.5, "i": 3, "b": true, "z": null, "a": [1, "x"], "o": {"Arg1": 1, "Arg2": []}});
    assert_eq!(
        ok(values, "States.Format('{} {} {} {} {} {}', $.n, $.i, $.b, $.z, $.a, $.o)"),
        json!("1.5 3 true null [1, x] {Arg1=1, Arg2=[]}")
    );
    // Context object and variables as arguments.
    assert_eq!(ok(input.clone(), "States.Format('{}/{}', $$.Execution.Name, $who)"), json!("exec-1/Ana"));
    // Placeholder count must match the argument count.
    failure(input.clone(), "States.Format('{} {}', $.name)");
    failure(input.clone(), "States.Format('{}', $.name, $.name)");
    // The template must be a string.
    failure(json!({"t": 5}), "States.Format($.t)");
}

#[test]
fn intrinsic_functions_page_reserved_characters_are_escaped() {
    // \' \{ \} \\ stand for ' { } \ ; escaped braces are not a placeholder.
    assert_eq!(ok(json!({}), r"States.Format('It\'s \{\} {}', 'x')"), json!("It's {} x"));
    assert_eq!(ok(json!({}), r"States.Format('back\\slash')"), json!(r"back\slash"));
    assert_eq!(ok(json!({}), r"States.Array('a,b', 'c)d', ' sp ')"), json!(["a,b", "c)d", " sp "]));
    // "If an open escape backslash \ is found in the intrinsic invocation string, the
    // interpreter will throw a runtime error."
    failure(json!({}), r"States.Format('bad \n escape')");
    assert!(validate(r"States.Format('bad \n')").is_err());
}

#[test]
fn intrinsic_functions_page_string_to_json_and_json_to_string() {
    let input = json!({"escapedJsonString": "{\"foo\": \"bar\"}", "unescapedJson": {"foo": "bar"}});
    assert_eq!(ok(input.clone(), "States.StringToJson($.escapedJsonString)"), json!({"foo": "bar"}));
    assert_eq!(ok(input.clone(), "States.JsonToString($.unescapedJson)"), json!("{\"foo\":\"bar\"}"));
    assert_eq!(ok(input.clone(), "States.StringToJson(States.JsonToString($.unescapedJson))"), json!({"foo": "bar"}));
    assert_eq!(ok(input, "States.StringToJson('[1, 2]')"), json!([1, 2]));
    // As recorded from AWS: "" and " " give null, "-0" gives 0, scalars parse.
    for (text, value) in [("", json!(null)), (" ", json!(null)), ("null", json!(null)), ("-0", json!(0)), ("1.1", json!(1.1)), ("true", json!(true)), ("\"HelloWorld\"", json!("HelloWorld"))] {
        assert_eq!(ok(json!({"s": text}), "States.StringToJson($.s)"), value, "{text:?}");
    }
    // JsonToString is compact: [1,2,"HelloWorld"], {"Arg1":1,"Arg2":[]}.
    assert_eq!(ok(json!({"v": [1, 2, "HelloWorld"]}), "States.JsonToString($.v)"), json!("[1,2,\"HelloWorld\"]"));
    assert_eq!(ok(json!({"v": "HelloWorld"}), "States.JsonToString($.v)"), json!("\"HelloWorld\""));
    assert_eq!(ok(json!({"v": 1.1}), "States.JsonToString($.v)"), json!("1.1"));
    failure(json!({"s": "{not json"}), "States.StringToJson($.s)");
    failure(json!({"s": 5}), "States.StringToJson($.s)");
}

#[test]
fn intrinsic_functions_page_array_functions() {
    let nine = json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5, "index": 5});
    assert_eq!(ok(json!({"Id": 123456}), "States.Array($.Id)"), json!([123456]));
    assert_eq!(ok(json!({}), "States.Array()"), json!([]));
    assert_eq!(ok(json!({}), "States.Array(1, -2.5, 'x', true, false, null)"), json!([1, -2.5, "x", true, false, null]));
    assert_eq!(
        ok(nine.clone(), "States.ArrayPartition($.inputArray, 4)"),
        json!([[1, 2, 3, 4], [5, 6, 7, 8], [9]])
    );
    assert_eq!(ok(json!({"a": []}), "States.ArrayPartition($.a, 2)"), json!([]));
    // A non-integer chunk size is rounded.
    assert_eq!(ok(nine.clone(), "States.ArrayPartition($.inputArray, 4.6)"), json!([[1, 2, 3, 4, 5], [6, 7, 8, 9]]));
    failure(nine.clone(), "States.ArrayPartition($.inputArray, 0)");
    failure(nine.clone(), "States.ArrayPartition($.lookingFor, 2)");
    assert_eq!(ok(nine.clone(), "States.ArrayContains($.inputArray, $.lookingFor)"), json!(true));
    assert_eq!(ok(nine.clone(), "States.ArrayContains($.inputArray, 42)"), json!(false));
    assert_eq!(ok(json!({"a": [{"k": [1]}, null]}), "States.ArrayContains($.a, null)"), json!(true));
    assert_eq!(ok(json!({"a": [{"k": [1]}], "v": {"k": [1]}}), "States.ArrayContains($.a, $.v)"), json!(true));
    failure(nine.clone(), "States.ArrayContains($.lookingFor, 1)");
    assert_eq!(ok(nine.clone(), "States.ArrayGetItem($.inputArray, $.index)"), json!(6));
    failure(nine.clone(), "States.ArrayGetItem($.inputArray, 9)");
    failure(nine.clone(), "States.ArrayGetItem($.inputArray, -1)");
    failure(nine.clone(), "States.ArrayGetItem($.inputArray, 'x')");
    assert_eq!(ok(nine.clone(), "States.ArrayLength($.inputArray)"), json!(9));
    failure(nine.clone(), "States.ArrayLength($.index)");
    assert_eq!(
        ok(json!({"values": [1, 2, 3, 3, 3, 3, 3, 3, 4]}), "States.ArrayUnique($.values)"),
        json!([1, 2, 3, 4])
    );
    assert_eq!(
        ok(json!({"v": [null, null, true, true, "a", "a", [], [], {"a": 1}, {"a": 1}, {"a": 2}]}), "States.ArrayUnique($.v)"),
        json!([null, true, "a", [], {"a": 1}, {"a": 2}])
    );
    failure(json!({"v": "x"}), "States.ArrayUnique($.v)");
}

#[test]
fn intrinsic_functions_page_array_range_and_its_limits() {
    assert_eq!(ok(json!({}), "States.ArrayRange(1, 9, 2)"), json!([1, 3, 5, 7, 9]));
    assert_eq!(ok(json!({}), "States.ArrayRange(0, 10, 3)"), json!([0, 3, 6, 9]));
    assert_eq!(ok(json!({}), "States.ArrayRange(5, 1, -2)"), json!([5, 3, 1]));
    assert_eq!(ok(json!({}), "States.ArrayRange(5, 1, 1)"), json!([]));
    assert_eq!(ok(json!({}), "States.ArrayRange(1.4, 2.6, 1)"), json!([1, 2, 3]));
    // "The newly generated array can't contain more than 1000 items."
    assert_eq!(ok(json!({}), "States.ArrayRange(0, 999, 1)").as_array().unwrap().len(), 1000);
    failure(json!({}), "States.ArrayRange(0, 1000, 1)");
    // "You must specify a non-zero value for the third argument."
    failure(json!({}), "States.ArrayRange(0, 10, 0)");
    failure(json!({}), "States.ArrayRange('a', 10, 1)");
}

#[test]
fn intrinsic_functions_page_base64_and_the_10000_character_limit() {
    let input = json!({"input": "Data to encode", "base64": "RGF0YSB0byBlbmNvZGU="});
    assert_eq!(ok(input.clone(), "States.Base64Encode($.input)"), json!("RGF0YSB0byBlbmNvZGU="));
    assert_eq!(ok(input.clone(), "States.Base64Decode($.base64)"), json!("Data to encode"));
    assert_eq!(ok(json!({"s": "héllo"}), "States.Base64Decode(States.Base64Encode($.s))"), json!("héllo"));
    let limit = json!({"s": "a".repeat(10_000), "over": "a".repeat(10_001)});
    assert!(run(limit.clone(), "States.Base64Encode($.s)").is_ok());
    failure(limit.clone(), "States.Base64Encode($.over)");
    failure(limit, "States.Base64Decode($.over)");
    failure(json!({"s": "!!!"}), "States.Base64Decode($.s)");
    failure(json!({"s": 5}), "States.Base64Encode($.s)");
}

#[test]
fn intrinsic_functions_page_hash_every_algorithm() {
    let cases = [
        ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
        ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
        ("SHA-384", "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"),
        ("SHA-512", "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4"),
    ];
    for (algorithm, digest) in cases {
        let input = json!({"Data": "input data", "Algorithm": algorithm});
        assert_eq!(ok(input, "States.Hash($.Data, $.Algorithm)"), json!(digest), "{algorithm}");
    }
    failure(json!({"Data": "x"}), "States.Hash($.Data, 'SHA-999')");
    failure(json!({"Data": "x"}), "States.Hash($.Data, 'sha-1')");
    failure(json!({"Data": "a".repeat(10_001)}), "States.Hash($.Data, 'MD5')");
    assert!(run(json!({"Data": "a".repeat(10_000)}), "States.Hash($.Data, 'MD5')").is_ok());
}

#[test]
fn intrinsic_functions_page_json_merge_shallow_only() {
    let input = json!({"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}});
    assert_eq!(
        ok(input.clone(), "States.JsonMerge($.json1, $.json2, false)"),
        json!({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3})
    );
    // "Step Functions only supports the shallow merging mode".
    let err = failure(input.clone(), "States.JsonMerge($.json1, $.json2, true)");
    assert!(err.cause.contains("shallow"));
    failure(input.clone(), "States.JsonMerge($.json1, 'x', false)");
    failure(input, "States.JsonMerge($.json1, $.json2, 'false')");
}

#[test]
fn intrinsic_functions_page_math_random_and_math_add() {
    for _ in 0..50 {
        let n = ok(json!({"start": 1, "end": 999}), "States.MathRandom($.start, $.end)").as_i64().unwrap();
        assert!((1..999).contains(&n), "{n}");
    }
    // With a seed, the JVM's `new Random(seed)` draw (checked against a JVM).
    assert_eq!(ok(json!({}), "States.MathRandom(1, 999, 1234)"), json!(243));
    assert_eq!(ok(json!({}), "States.MathRandom(10, 17, -5)"), json!(15));
    assert_eq!(ok(json!({}), "States.MathRandom(1, 999, 1234)"), ok(json!({}), "States.MathRandom(1, 999, 1234)"));
    failure(json!({}), "States.MathRandom(5, 5)");
    failure(json!({}), "States.MathRandom('a', 5)");
    assert_eq!(ok(json!({"value1": 111, "step": -1}), "States.MathAdd($.value1, $.step)"), json!(110));
    // Non-integers are rounded as Java's Math.round: 1.5 → 2, -2.5 → -2.
    assert_eq!(ok(json!({}), "States.MathAdd(1.5, -2.5)"), json!(0));
    // Recorded from AWS: (-9, 3) → -6, (1.49, 1.5) → 3, (1.5, 1.51) → 4, (-1.49, -1.5) → -2,
    // (-1.5, -1.51) → -3.
    for (a, b, sum) in [(-9.0, 3.0, -6), (1.49, 1.5, 3), (1.5, 1.51, 4), (-1.49, -1.5, -2), (-1.5, -1.51, -3)] {
        assert_eq!(ok(json!({"a": a, "b": b}), "States.MathAdd($.a, $.b)"), json!(sum), "{a} + {b}");
    }
    failure(json!({}), "States.MathAdd('1', 2)");
}

#[test]
fn intrinsic_functions_page_string_split_and_uuid() {
    assert_eq!(
        ok(json!({"inputString": "1,2,3,4,5", "splitter": ","}), "States.StringSplit($.inputString, $.splitter)"),
        json!(["1", "2", "3", "4", "5"])
    );
    // Each character of the second argument is a delimiter; empty pieces are dropped.
    assert_eq!(
        ok(json!({"inputString": "This.is+a,test=string", "splitter": ".+,="}), "States.StringSplit($.inputString, $.splitter)"),
        json!(["This", "is", "a", "test", "string"])
    );
    assert_eq!(ok(json!({}), "States.StringSplit('a,,b,', ',')"), json!(["a", "b"]));
    failure(json!({"n": 1}), "States.StringSplit($.n, ',')");
    let id = ok(json!({}), "States.UUID()");
    let id = uuid::Uuid::parse_str(id.as_str().unwrap()).unwrap();
    assert_eq!(id.get_version_num(), 4);
    assert_ne!(ok(json!({}), "States.UUID()"), ok(json!({}), "States.UUID()"));
}

#[test]
fn intrinsic_functions_page_nesting_up_to_10_calls() {
    let input = json!({"ImageRecipe": {"Arn": "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/my-recipe/1.0.1"}});
    // The page's nine-call example (with as many placeholders as arguments).
    let nine = "States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))";
    assert_eq!(ok(input.clone(), nine), json!("1.0"));
    let ten = format!("{}States.Array(){}", "States.Array(".repeat(9), ")".repeat(9));
    assert!(run(input.clone(), &ten).is_ok());
    let eleven = format!("States.Array({ten})");
    assert!(validate(&eleven).is_err());
    failure(input, &eleven);
}

#[test]
fn intrinsic_paths_as_arguments_and_missing_paths() {
    let input = json!({"items": [{"p": 1}, {"p": 5}, {"p": 9}], "k": {"a b": 2}});
    assert_eq!(ok(input.clone(), "States.ArrayLength($.items[?(@.p > 2)])"), json!(2));
    assert_eq!(ok(input.clone(), "States.Array($.k['a b'], $.items[0].p)"), json!([2, 1]));
    assert_eq!(ok(input.clone(), "States.Array( $.items.length() , 'x' )"), json!([3, "x"]));
    let err = run(input, "States.Array($.missing)").unwrap_err();
    assert_eq!(err.error, "States.Runtime");
    assert_eq!(err.cause, "Invalid path '$.missing' : No results for path: $['missing']");
}

#[test]
fn intrinsic_definition_validation() {
    for good in ["States.UUID()", "States.Format('{}', $.a)", "States.MathRandom(1, 2)", "States.MathRandom(1, 2, 3)", " States.Array() "] {
        assert!(validate(good.trim()).is_ok(), "{good}");
    }
    for bad in [
        "States.Nope()",
        "States.UUID(1)",
        "States.Hash($.a)",
        "States.MathRandom(1)",
        "States.Format()",
        "States.Array($.a",
        "States.Array($.a) extra",
        "States.Array(foo)",
        "States.Array('unterminated)",
        "States.",
        "Other.Fn()",
    ] {
        assert!(validate(bad).is_err(), "{bad}");
    }
    let err = failure(json!({}), "States.Hash('x')");
    assert!(err.cause.contains("States.Hash"), "{}", err.cause);
}
