//! Every condition operator, the `…IfExists` suffix, the `ForAnyValue:` / `ForAllValues:`
//! qualifiers, AND / OR between keys and values, and policy variables in condition values.
//! IAM User Guide pages:
//! "IAM JSON policy elements: Condition operators"
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//! "Create a condition with multiple context keys or values"
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
//! "Single-valued vs. multivalued context keys"
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html

use nimbus_iam_policy::{evaluate, ContextKeys, Decision, Policy, PolicyKind, PolicySet, Principal, Request};

fn principal() -> Principal {
    let mut p = Principal::user("111122223333", "david");
    p.user_id = "AIDADAVID".into();
    p.tags.insert("department".into(), "finance".into());
    p.tags.insert("role".into(), "audit".into());
    p
}

/// Whether an Allow statement with `condition` applies, with `ctx` as request keys.
fn holds_in(version: &str, condition: &str, ctx: &ContextKeys) -> bool {
    let doc = format!(
        r#"{{"Version": "{version}", "Statement": {{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {condition}}}}}"#
    );
    let policy = Policy::parse(&doc, PolicyKind::Identity).unwrap_or_else(|e| panic!("{e}: {doc}"));
    let p = principal();
    let req = Request { principal: &p, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resource_account: None, context: ctx };
    let set = PolicySet { identity: vec![&policy], ..Default::default() };
    evaluate(&set, &req) == Decision::Allow
}

fn holds(condition: &str, ctx: &[(&str, &str)]) -> bool {
    let mut keys = ContextKeys::new();
    for (k, v) in ctx {
        keys.insert(k, *v);
    }
    holds_in("2012-10-17", condition, &keys)
}

/// One row: a Condition block, the request's keys, whether the statement applies.
type Row<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);

/// Checks every row and reports all that differ.
fn table(rows: &[Row]) {
    let bad: Vec<String> = rows
        .iter()
        .filter(|(c, ctx, want)| holds(c, ctx) != *want)
        .map(|(c, ctx, want)| format!("{c} with {ctx:?}: expected {want}"))
        .collect();
    assert!(bad.is_empty(), "{} of {} rows differ:\n{}", bad.len(), rows.len(), bad.join("\n"));
}

#[test]
fn string_operators() {
    table(&[
        (r#"{"StringEquals": {"aws:RequestTag/env": "prod"}}"#, &[("aws:RequestTag/env", "prod")], true),
        (r#"{"StringEquals": {"aws:RequestTag/env": "prod"}}"#, &[("aws:RequestTag/env", "Prod")], false),
        (r#"{"StringEquals": {"aws:RequestTag/env": "prod"}}"#, &[], false),
        (r#"{"StringEquals": {"aws:RequestTag/env": "pro*"}}"#, &[("aws:RequestTag/env", "prod")], false),
        (r#"{"StringNotEquals": {"aws:RequestTag/env": "prod"}}"#, &[("aws:RequestTag/env", "dev")], true),
        (r#"{"StringNotEquals": {"aws:RequestTag/env": "prod"}}"#, &[("aws:RequestTag/env", "prod")], false),
        (r#"{"StringNotEquals": {"aws:RequestTag/env": "prod"}}"#, &[], true),
        (r#"{"StringNotEquals": {"aws:RequestTag/env": ["prod", "stage"]}}"#, &[("aws:RequestTag/env", "stage")], false),
        (r#"{"StringEqualsIgnoreCase": {"aws:RequestTag/env": "PROD"}}"#, &[("aws:RequestTag/env", "prod")], true),
        (r#"{"StringEqualsIgnoreCase": {"aws:RequestTag/env": "PROD"}}"#, &[("aws:RequestTag/env", "dev")], false),
        (r#"{"StringNotEqualsIgnoreCase": {"aws:RequestTag/env": "PROD"}}"#, &[("aws:RequestTag/env", "prod")], false),
        (r#"{"StringNotEqualsIgnoreCase": {"aws:RequestTag/env": "PROD"}}"#, &[("aws:RequestTag/env", "dev")], true),
        (r#"{"StringLike": {"s3:prefix": ["", "home/", "home/*"]}}"#, &[("s3:prefix", "home/david/")], true),
        (r#"{"StringLike": {"s3:prefix": ["", "home/", "home/*"]}}"#, &[("s3:prefix", "")], true),
        (r#"{"StringLike": {"s3:prefix": "home/?"}}"#, &[("s3:prefix", "home/ab")], false),
        (r#"{"StringLike": {"s3:prefix": "home/*"}}"#, &[("s3:prefix", "other/")], false),
        (r#"{"StringNotLike": {"s3:prefix": "home/*"}}"#, &[("s3:prefix", "other/")], true),
        (r#"{"StringNotLike": {"s3:prefix": "home/*"}}"#, &[("s3:prefix", "home/x")], false),
        (r#"{"StringNotLike": {"s3:prefix": "home/*"}}"#, &[], true),
    ]);
}

#[test]
fn numeric_operators() {
    table(&[
        (r#"{"NumericEquals": {"s3:max-keys": "10"}}"#, &[("s3:max-keys", "10.0")], true),
        (r#"{"NumericEquals": {"s3:max-keys": 10}}"#, &[("s3:max-keys", "11")], false),
        (r#"{"NumericNotEquals": {"s3:max-keys": "10"}}"#, &[("s3:max-keys", "11")], true),
        (r#"{"NumericNotEquals": {"s3:max-keys": "10"}}"#, &[("s3:max-keys", "10")], false),
        (r#"{"NumericLessThan": {"s3:max-keys": "10"}}"#, &[("s3:max-keys", "9")], true),
        (r#"{"NumericLessThan": {"s3:max-keys": "10"}}"#, &[("s3:max-keys", "10")], false),
        (r#"{"NumericLessThanEquals": {"s3:max-keys": "10"}}"#, &[("s3:max-keys", "10")], true),
        (r#"{"NumericLessThanEquals": {"s3:max-keys": "10"}}"#, &[("s3:max-keys", "11")], false),
        (r#"{"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}}"#, &[("aws:MultiFactorAuthAge", "3601")], true),
        (r#"{"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}}"#, &[("aws:MultiFactorAuthAge", "3600")], false),
        (r#"{"NumericGreaterThanEquals": {"aws:MultiFactorAuthAge": "3600"}}"#, &[("aws:MultiFactorAuthAge", "3600")], true),
        (r#"{"NumericGreaterThanEquals": {"aws:MultiFactorAuthAge": "3600"}}"#, &[("aws:MultiFactorAuthAge", "12")], false),
        (r#"{"NumericEquals": {"s3:max-keys": "10"}}"#, &[("s3:max-keys", "ten")], false),
        (r#"{"NumericEquals": {"s3:max-keys": "ten"}}"#, &[("s3:max-keys", "10")], false),
    ]);
}

#[test]
fn date_operators_iso_and_epoch() {
    // The operators page's example: DateGreaterThan / DateLessThan on aws:CurrentTime.
    let spring = r#"{"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"}, "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}}"#;
    table(&[
        (spring, &[("aws:CurrentTime", "2020-05-15T12:00:00Z")], true),
        (spring, &[("aws:CurrentTime", "2020-07-01T00:00:00Z")], false),
        (spring, &[("aws:CurrentTime", "1589544000")], true),
        (r#"{"DateEquals": {"aws:CurrentTime": "2020-04-01"}}"#, &[("aws:CurrentTime", "2020-04-01T00:00:00Z")], true),
        (r#"{"DateEquals": {"aws:EpochTime": "1585699200"}}"#, &[("aws:EpochTime", "2020-04-01T02:00:00+02:00")], true),
        (r#"{"DateNotEquals": {"aws:CurrentTime": "2020-04-01T00:00:00Z"}}"#, &[("aws:CurrentTime", "2020-04-01T00:00:01Z")], true),
        (r#"{"DateNotEquals": {"aws:CurrentTime": "2020-04-01T00:00:00Z"}}"#, &[("aws:CurrentTime", "2020-04-01T00:00:00Z")], false),
        (r#"{"DateLessThanEquals": {"aws:CurrentTime": "2020-04-01T00:00:00Z"}}"#, &[("aws:CurrentTime", "2020-04-01T00:00:00Z")], true),
        (r#"{"DateLessThanEquals": {"aws:CurrentTime": "2020-04-01T00:00:00Z"}}"#, &[("aws:CurrentTime", "2020-04-01T00:00:00.001Z")], false),
        (r#"{"DateGreaterThanEquals": {"aws:TokenIssueTime": "2020-04-01T00:00:00Z"}}"#, &[("aws:TokenIssueTime", "2020-04-01T00:00:00Z")], true),
        (r#"{"DateGreaterThanEquals": {"aws:TokenIssueTime": "2020-04-01T00:00:00Z"}}"#, &[("aws:TokenIssueTime", "2020-03-31T23:59:59Z")], false),
        (r#"{"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"}}"#, &[("aws:CurrentTime", "not a date")], false),
    ]);
}

#[test]
fn bool_binary_ip_operators() {
    table(&[
        (r#"{"Bool": {"aws:SecureTransport": "true"}}"#, &[("aws:SecureTransport", "true")], true),
        (r#"{"Bool": {"aws:SecureTransport": true}}"#, &[("aws:SecureTransport", "TRUE")], true),
        (r#"{"Bool": {"aws:SecureTransport": "false"}}"#, &[("aws:SecureTransport", "true")], false),
        (r#"{"Bool": {"aws:SecureTransport": "false"}}"#, &[], false),
        (r#"{"BinaryEquals": {"aws:RequestTag/blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}"#, &[("aws:RequestTag/blob", "QmluYXJ5VmFsdWVJbkJhc2U2NA==")], true),
        (r#"{"BinaryEquals": {"aws:RequestTag/blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}"#, &[("aws:RequestTag/blob", "b3RoZXI=")], false),
        (r#"{"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#, &[("aws:SourceIp", "203.0.113.77")], true),
        (r#"{"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#, &[("aws:SourceIp", "203.0.114.1")], false),
        (r#"{"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}"#, &[("aws:SourceIp", "2001:db8:1234:5678::1")], true),
        (r#"{"IpAddress": {"aws:SourceIp": "2001:DB8:1234:5678::/64"}}"#, &[("aws:SourceIp", "2001:db8:1234:5679::1")], false),
        (r#"{"IpAddress": {"aws:SourceIp": "203.0.113.5"}}"#, &[("aws:SourceIp", "203.0.113.5")], true),
        (r#"{"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}"#, &[("aws:SourceIp", "2001:db8::1")], false),
        (r#"{"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#, &[("aws:SourceIp", "198.51.100.1")], true),
        (r#"{"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#, &[("aws:SourceIp", "203.0.113.1")], false),
        (r#"{"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#, &[], true),
    ]);
}

#[test]
fn arn_operators() {
    let arn = "arn:aws:sns:us-east-1:111122223333:topic1";
    table(&[
        (r#"{"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:topic1"}}"#, &[("aws:SourceArn", arn)], true),
        (r#"{"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:topic2"}}"#, &[("aws:SourceArn", arn)], false),
        (r#"{"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:*"}}"#, &[("aws:SourceArn", arn)], true),
        (r#"{"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:444455556666:*"}}"#, &[("aws:SourceArn", arn)], false),
        // Components are matched separately: this * does not reach into the account.
        (r#"{"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-*:111122223333:topic1"}}"#, &[("aws:SourceArn", "arn:aws:sns:us-east-1:999988887777:111122223333:topic1")], false),
        (r#"{"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-*:111122223333:topic1"}}"#, &[("aws:SourceArn", arn)], true),
        (r#"{"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:topic2"}}"#, &[("aws:SourceArn", arn)], true),
        (r#"{"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:topic1"}}"#, &[("aws:SourceArn", arn)], false),
        (r#"{"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:topic*"}}"#, &[("aws:SourceArn", arn)], false),
        (r#"{"ArnNotLike": {"aws:SourceArn": "arn:aws:sqs:*:*:*"}}"#, &[("aws:SourceArn", arn)], true),
        (r#"{"ArnNotLike": {"aws:SourceArn": "arn:aws:sqs:*:*:*"}}"#, &[], true),
        (r#"{"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}}"#, &[], false),
    ]);
}

#[test]
fn null_and_if_exists() {
    table(&[
        (r#"{"Null": {"aws:TokenIssueTime": "true"}}"#, &[], true),
        (r#"{"Null": {"aws:TokenIssueTime": "true"}}"#, &[("aws:TokenIssueTime", "2020-01-01T00:00:00Z")], false),
        (r#"{"Null": {"aws:TokenIssueTime": "false"}}"#, &[("aws:TokenIssueTime", "2020-01-01T00:00:00Z")], true),
        (r#"{"Null": {"aws:TokenIssueTime": false}}"#, &[], false),
        // "…IfExists": true when the key is missing, the operator otherwise.
        (r#"{"StringEqualsIfExists": {"ec2:InstanceType": ["t1.*", "t2.micro"]}}"#, &[], true),
        (r#"{"StringEqualsIfExists": {"ec2:InstanceType": "t2.micro"}}"#, &[("ec2:InstanceType", "m5.large")], false),
        (r#"{"StringLikeIfExists": {"ec2:InstanceType": "t2.*"}}"#, &[("ec2:InstanceType", "t2.nano")], true),
        (r#"{"NumericLessThanIfExists": {"s3:max-keys": "5"}}"#, &[], true),
        (r#"{"ArnLikeIfExists": {"aws:SourceArn": "arn:aws:sns:*:*:*"}}"#, &[("aws:SourceArn", "arn:aws:sqs:us-east-1:1:q")], false),
    ]);
}

#[test]
fn set_qualifiers_on_multivalued_keys() {
    let keys = |vals: &[&str]| {
        let mut c = ContextKeys::new();
        c.set("aws:TagKeys", vals.iter().map(|v| v.to_string()).collect());
        c
    };
    let all = r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}"#;
    let any = r#"{"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}"#;
    let any_not = r#"{"ForAnyValue:StringNotEquals": {"aws:TagKeys": "environment"}}"#;
    let all_not = r#"{"ForAllValues:StringNotLike": {"aws:TagKeys": "secret*"}}"#;
    let single = r#"{"StringEquals": {"aws:TagKeys": "environment"}}"#;
    let v = "2012-10-17";
    let rows: &[(&str, &[&str], bool, bool)] = &[
        (all, &["environment"], true, false),
        (all, &["environment", "cost-center"], true, false),
        (all, &["environment", "owner"], false, false),
        // "ForAllValues … returns true if there are no keys in the request".
        (all, &[], true, true),
        (any, &["owner", "cost-center"], true, false),
        (any, &["owner"], false, false),
        (any, &[], false, true),
        (any_not, &["environment", "owner"], true, false),
        (any_not, &["environment"], false, false),
        (all_not, &["team", "env"], true, false),
        (all_not, &["team", "secret-x"], false, false),
        (single, &["owner", "environment"], true, false),
    ];
    for (cond, vals, want, absent) in rows {
        let ctx = if *absent { ContextKeys::new() } else { keys(vals) };
        assert_eq!(holds_in(v, cond, &ctx), *want, "{cond} with {vals:?} (absent: {absent})");
    }
}

#[test]
fn keys_are_and_values_are_or() {
    // "Create a condition with multiple context keys or values": keys AND, values OR;
    // aws:PrincipalTag/<key> comes from the principal's tags.
    let both = r#"{"StringEquals": {"aws:PrincipalTag/department": ["finance", "hr", "legal"], "aws:PrincipalTag/role": ["audit", "security"]}}"#;
    let needs_hr = r#"{"StringEquals": {"aws:PrincipalTag/department": "hr", "aws:PrincipalTag/role": "audit"}}"#;
    let two_ops = r#"{"StringEquals": {"aws:PrincipalTag/department": "finance"}, "Bool": {"aws:SecureTransport": "true"}}"#;
    table(&[
        (both, &[], true),
        (needs_hr, &[], false),
        (two_ops, &[("aws:SecureTransport", "true")], true),
        (two_ops, &[("aws:SecureTransport", "false")], false),
        // Condition key names are case-insensitive.
        (r#"{"IpAddress": {"AWS:SourceIP": "203.0.113.0/24"}}"#, &[("aws:sourceip", "203.0.113.9")], true),
    ]);
}

#[test]
fn variables_in_condition_values() {
    table(&[
        (r#"{"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}"#, &[("aws:ResourceTag/owner", "david")], true),
        (r#"{"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}"#, &[("aws:ResourceTag/owner", "mary")], false),
        (r#"{"StringLike": {"s3:prefix": "home/${aws:userid}/*"}}"#, &[("s3:prefix", "home/AIDADAVID/x")], true),
        (r#"{"StringEquals": {"aws:ResourceTag/dept": "${aws:PrincipalTag/department}"}}"#, &[("aws:ResourceTag/dept", "finance")], true),
        (r#"{"StringEquals": {"aws:ResourceTag/x": "${aws:PrincipalTag/none, 'fallback'}"}}"#, &[("aws:ResourceTag/x", "fallback")], true),
        (r#"{"StringEquals": {"aws:ResourceTag/x": "${aws:PrincipalTag/none, 'it''s'}"}}"#, &[("aws:ResourceTag/x", "it's")], true),
        // "Policy variables with no value": equal / like fail, not-equal / not-like hold.
        (r#"{"StringEquals": {"aws:ResourceTag/x": "${aws:PrincipalTag/none}"}}"#, &[("aws:ResourceTag/x", "")], false),
        (r#"{"StringNotEquals": {"aws:ResourceTag/x": "${aws:PrincipalTag/none}"}}"#, &[("aws:ResourceTag/x", "a")], true),
        (r#"{"StringNotLike": {"aws:ResourceTag/x": "${aws:PrincipalTag/none}*"}}"#, &[("aws:ResourceTag/x", "a")], true),
        (r#"{"ArnLike": {"aws:SourceArn": "arn:aws:sqs:*:${aws:PrincipalAccount}:*"}}"#, &[("aws:SourceArn", "arn:aws:sqs:us-east-1:111122223333:q")], true),
    ]);
    // Version 2008-10-17: "${aws:username}" is just text.
    let mut ctx = ContextKeys::new();
    ctx.insert("aws:ResourceTag/owner", "david");
    assert!(!holds_in("2008-10-17", r#"{"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}"#, &ctx));
    let mut ctx = ContextKeys::new();
    ctx.insert("aws:ResourceTag/owner", "${aws:username}");
    assert!(holds_in("2008-10-17", r#"{"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}"#, &ctx));
}

#[test]
fn principal_derived_keys() {
    table(&[
        (r#"{"StringEquals": {"aws:username": "david"}}"#, &[], true),
        (r#"{"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/david"}}"#, &[], true),
        (r#"{"StringEquals": {"aws:PrincipalAccount": "111122223333"}}"#, &[], true),
        (r#"{"StringEquals": {"aws:PrincipalType": "User"}}"#, &[], true),
        (r#"{"StringEquals": {"aws:PrincipalTag/DEPARTMENT": "finance"}}"#, &[], true),
        // A value set in the request context wins over the derived one.
        (r#"{"StringEquals": {"aws:username": "david"}}"#, &[("aws:username", "someone")], false),
    ]);
}
