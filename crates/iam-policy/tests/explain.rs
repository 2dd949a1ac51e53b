//! `explain`: which statement decided, or which policy type had no Allow — what the
//! AccessDenied messages name ("… because no identity-based policy allows the …
//! action", "… with an explicit deny in a resource-based policy"; IAM User Guide,
//! "Troubleshoot access denied error messages":
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).

use std::time::Instant;

use nimbus_iam_policy::{explain, ContextKeys, Decision, Policy, PolicyKind, PolicySet, PolicyType, Principal, Request, StatementRef};

fn idp(doc: &str) -> Policy {
    Policy::parse(doc, PolicyKind::Identity).unwrap()
}

const ALLOW_SQS: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "One", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                                                                  {"Sid": "Two", "Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}"#;
const DENY_DELETE: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"}}"#;
const BOUNDARY_S3: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#;

fn request<'a>(p: &'a Principal, action: &'a str, ctx: &'a ContextKeys) -> Request<'a> {
    Request { principal: p, action, resource: "arn:aws:sqs:us-east-1:111122223333:q", resource_account: None, context: ctx }
}

#[test]
fn names_the_deciding_statement_or_missing_policy_type() {
    let (allow, deny, boundary) = (idp(ALLOW_SQS), idp(DENY_DELETE), idp(BOUNDARY_S3));
    let p = Principal::user("111122223333", "alice");
    let ctx = ContextKeys::new();

    let set = PolicySet { identity: vec![&deny, &allow], ..Default::default() };
    let e = explain(&set, &request(&p, "sqs:SendMessage", &ctx));
    assert_eq!(e.decision, Decision::Allow);
    assert_eq!(e.statement, Some(StatementRef { policy_type: PolicyType::Identity, policy_index: 1, statement_index: 1 }));
    assert_eq!(allow.sid(1), Some("Two"));

    let e = explain(&set, &request(&p, "sqs:DeleteQueue", &ctx));
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.statement, Some(StatementRef { policy_type: PolicyType::Identity, policy_index: 0, statement_index: 0 }));

    let none = PolicySet::default();
    let e = explain(&none, &request(&p, "sqs:SendMessage", &ctx));
    assert_eq!((e.decision, e.missing_allow), (Decision::ImplicitDeny, Some(PolicyType::Identity)));
    assert_eq!(PolicyType::Identity.label(), "identity-based policy");

    let bounded = PolicySet { identity: vec![&allow], boundary: Some(&boundary), ..Default::default() };
    let e = explain(&bounded, &request(&p, "sqs:SendMessage", &ctx));
    assert_eq!((e.decision, e.missing_allow), (Decision::ImplicitDeny, Some(PolicyType::PermissionsBoundary)));

    let session = PolicySet { identity: vec![&allow], session: Some(vec![&boundary]), ..Default::default() };
    let e = explain(&session, &request(&p, "sqs:SendMessage", &ctx));
    assert_eq!((e.decision, e.missing_allow), (Decision::ImplicitDeny, Some(PolicyType::Session)));
}

/// Not a pass/fail test: prints the cost of one evaluation against a 20-statement policy
/// (`cargo test --release -p nimbus-iam-policy --test explain -- --ignored --nocapture`).
#[test]
#[ignore]
fn evaluation_cost() {
    let mut statements = Vec::new();
    for i in 0..19 {
        statements.push(format!(
            r#"{{"Effect": "Allow", "Action": ["dynamodb:Get*", "dynamodb:Query"], "Resource": "arn:aws:dynamodb:*:111122223333:table/t{i}",
                "Condition": {{"StringEquals": {{"aws:RequestTag/env": "prod"}}}}}}"#
        ));
    }
    statements.push(r#"{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:111122223333:q*"}"#.into());
    let doc = format!(r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#, statements.join(","));
    let policy = idp(&doc);
    let p = Principal::user("111122223333", "alice");
    let ctx = ContextKeys::new();
    let set = PolicySet { identity: vec![&policy], ..Default::default() };
    let req = request(&p, "sqs:SendMessage", &ctx);
    let n = 200_000;
    let start = Instant::now();
    for _ in 0..n {
        assert_eq!(explain(&set, &req).decision, Decision::Allow);
    }
    println!("{:.0} ns per evaluation (20 statements)", start.elapsed().as_nanos() as f64 / n as f64);
}
