//! Parsing and validation: documents IAM accepts, and the MalformedPolicyDocument
//! messages for those it refuses (sources of each message: the crate comment in
//! `src/lib.rs`; IAM User Guide, "IAM JSON policy grammar":
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html).

use nimbus_iam_policy::{Policy, PolicyKind, PolicyVersion};
use PolicyKind::{Identity, Resource, Trust};

fn err(doc: &str, kind: PolicyKind) -> String {
    match Policy::parse(doc, kind) {
        Ok(_) => format!("accepted: {doc}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn accepts_the_documented_shapes() {
    let single = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}"#;
    let p = Policy::parse(single, Identity).unwrap();
    assert_eq!((p.version(), p.statement_count(), p.kind()), (PolicyVersion::V2012, 1, Identity));

    let no_version = r#"{"Statement": [{"Sid": "A1", "Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "NotResource": "arn:aws:s3:::b/*"},
                                       {"Sid": "", "Effect": "Allow", "Action": "*", "Resource": ["*"]}]}"#;
    let p = Policy::parse(no_version, Identity).unwrap();
    assert_eq!((p.version(), p.statement_count(), p.sid(0), p.sid(1)), (PolicyVersion::V2008, 2, Some("A1"), Some("")));

    let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"], "AWS": ["123456789012", "arn:aws:iam::123456789012:role/path/r"]},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]}"#;
    assert!(Policy::parse(trust, Trust).is_ok());

    let queue = r#"{"Version": "2012-10-17", "Id": "arn:aws:sqs:us-east-1:123456789012:q/SQSDefaultPolicy", "Statement": [
        {"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "arn:aws:sts::123456789012:assumed-role/r/s"},
         "Action": "SQS:*", "Resource": "arn:aws:sqs:us-east-1:123456789012:q",
         "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}, "Bool": {"aws:SecureTransport": true},
                       "ForAnyValue:StringLike": {"aws:TagKeys": ["env*", "team"]}}}]}"#;
    assert!(Policy::parse(queue, Resource).is_ok());
}

#[test]
fn refuses_with_aws_messages() {
    let cases: &[(&str, PolicyKind, &str)] = &[
        ("not json", Identity, "Syntax errors in policy."),
        ("not json", Trust, "This policy contains invalid Json"),
        ("[]", Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17"}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": []}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2013-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "s3:*", "Resource": "*"}}"#, Identity, "The policy failed legacy parsing"),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": true, "Action": "s3:*", "Resource": "*"}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "invalid", "Action": "s3:*", "Resource": "*"}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "denY", "Action": "s3:*", "Resource": "*"}}"#, Identity, "The policy failed legacy parsing"),
        (r#"{"Version": "2012-10-17", "Statement": {"Action": "s3:*", "Resource": "*"}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Foo": 1, "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Actions": "s3:*", "Resource": "*"}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": 5, "Resource": "*"}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Resource": "*"}}"#, Identity, "Policy statement must contain actions."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*"}}"#, Identity, "Policy statement must contain resources."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "my-bucket"}}"#, Identity,
         "Resource my-bucket must be in ARN format or \"*\"."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:Get:Object", "Resource": "*"}}"#, Identity,
         "Actions/Condition can contain only one colon."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "GetObject", "Resource": "*"}}"#, Identity,
         "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*:Untag*", "Resource": "*"}}"#, Identity,
         "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards"),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}}"#, Identity,
         "Policy document should not specify a principal."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotPrincipal": {"AWS": "123456789012"}, "Action": "s3:*", "Resource": "*"}}"#, Identity,
         "Policy document should not specify a principal."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#, Resource, "Missing required field Principal"),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}}"#, Trust,
         "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!"),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole", "Resource": "*"}}"#, Trust,
         "Has prohibited field Resource"),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole", "NotResource": "*"}}"#, Trust,
         "Has prohibited field NotResource"),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "not-an-arn"}, "Action": "sts:AssumeRole"}}"#, Trust,
         "Invalid principal in policy: \"AWS\":\"not-an-arn\""),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/*"}, "Action": "sts:AssumeRole"}}"#, Trust,
         "Invalid principal in policy: \"AWS\":\"arn:aws:iam::123456789012:user/*\""),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Everyone": "*"}, "Action": "s3:*", "Resource": "*"}}"#, Resource,
         "Invalid principal in policy: \"Everyone\":\"*\""),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": "x"}}}"#, Identity,
         "Syntax errors in policy."),
        // aws-cloudformation/cfn-lint#3751: a Condition without its operator.
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "servicecatalog:*", "Resource": "*", "Condition": {"servicecatalog:accountLevel": "self"}}}"#,
         Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEqualz": {"aws:username": "x"}}}}"#,
         Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"NullIfExists": {"aws:username": "true"}}}}"#,
         Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Sid": "my-sid", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#, Identity,
         "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"),
        (r#"{"Version": "2012-10-17", "Statement": [{"Sid": "S1", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                                                   {"Sid": "S1", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}"#, Identity,
         "Statement IDs (SID) in a single policy must be unique."),
        // The rows below follow a table of documents and IAM's answers kept in moto's
        // test suite (tests/test_iam/test_iam_policies.py).
        (r#"{"Version": "2012-10-17", "Id": ["x"], "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": ["afd"]}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": []}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateGreaterThan": {"a": {}}}}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"x": {"a": "1"}}}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"ForAnyValue::StringEqualsIfExists": {"a": "asf"}}}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": []}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": [[]], "Resource": "*"}}"#, Identity, "Syntax errors in policy."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateGreaterThan": {"a": "sdfdsf"}}}}"#, Identity, "The policy failed legacy parsing"),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Condition": {"DateGreaterThan": {"a": "sdfdsf"}}}}"#, Identity, "The policy failed legacy parsing"),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3::example_bucket"}}"#, Identity, "The policy failed legacy parsing"),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Resource": "arn:aws:s3::example_bucket"}}"#, Identity, "The policy failed legacy parsing"),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": "s3:*", "Resource": "arn:aws::::example_bucket"}}"#, Identity, "The policy failed legacy parsing"),
        (r#"{"Version": "2012-10-17", "Statement": [{"Sid": "sdf", "Effect": "aLLow", "Action": "s3:*", "Resource": "*"}, {"Sid": "sdf", "Effect": "Allow"}]}"#, Identity,
         "The policy failed legacy parsing"),
        (r#"{"Version": "2012-10-17", "Statement": [{"Sid": "sdf", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}, {"Sid": "sdf", "Effect": "Allow"}]}"#, Identity,
         "Statement IDs (SID) in a single policy must be unique."),
        (r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny"}, {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#, Identity, "Policy statement must contain actions."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}}"#, Identity, "Policy statement must contain actions."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "invalid"}}"#, Identity, "Policy statement must contain resources."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": []}}"#, Identity, "Policy statement must contain resources."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s:3:ListBucket", "Resource": "sdfsadf"}}"#, Identity,
         "Resource sdfsadf must be in ARN format or \"*\"."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": ""}}"#, Identity, "Resource  must be in ARN format or \"*\"."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "a a:ListBucket", "Resource": "*"}}"#, Identity, "Vendor a a is not valid"),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": "s3s:ListBucket", "Resource": "a:bsdfdsafsad"}}"#, Identity,
         "Partition \"bsdfdsafsad\" is not valid for resource \"arn:bsdfdsafsad:*:*:*:*\"."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "aws:s3:::example_bucket"}}"#, Identity,
         "Partition \"s3\" is not valid for resource \"arn:s3:::example_bucket:*\"."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "a:b:c:d:e:f:g:h"}}"#, Identity,
         "Partition \"b\" is not valid for resource \"arn:b:c:d:e:f:g:h\"."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws"}}"#, Identity,
         "Resource vendor must be fully qualified and cannot contain regexes."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:iam:::example_bucket"}}"#, Identity,
         "IAM resource path must either be \"*\" or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:iam:us-east-1::example_bucket"}}"#, Identity,
         "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information."),
        (r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:us-east-1::example_bucket"}}"#, Identity,
         "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(doc, kind, want)| {
            let got = err(doc, *kind);
            (got != *want).then(|| format!("{kind:?} {doc}\n  want: {want}\n  got:  {got}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} refusals differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn accepts_what_iam_accepts() {
    // From the same table of IAM answers (moto's tests/test_iam/test_iam_policies.py).
    let docs = [
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam: asdf safdsf af ", "Resource": "arn:aws:s3:::example_bucket"}}"#,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:fdsasf"}}"#,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:invalid-service:us-east-1::example_bucket"}}"#,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3.s:ListBucket", "Resource": "arn:aws:iam:::user/example_bucket"}}"#,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": "s3:ListBucket", "NotResource": "*"}}"#,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {}}}"#,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"x": {}, "y": {}}}}"#,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"DateGreaterThan": {"a": []}}}}"#,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"ForAnyValue:StringEqualsIfExists": {"a": "asf"}}}}"#,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"DateLessThan": {"a": "-292275054"}}}}"#,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
            "Condition": {"DateLessThanEquals": {"a": "2016-12-13T21:20:37.593194+00:00"}}}}"#,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["iam:ChangePassword"], "Resource": "arn:aws:iam::*:user/${aws:username}",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}}"#,
    ];
    for doc in docs {
        if let Err(e) = Policy::parse(doc, Identity) {
            panic!("refused with {e}: {doc}");
        }
    }
}

#[test]
fn resource_policies_keep_their_service_sids() {
    // Lambda ("lambda-1") and SQS ("__default_statement_ID") write Sids IAM would refuse.
    let doc = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "lambda-1", "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"}, "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"}]}"#;
    assert!(Policy::parse(doc, Resource).is_ok());
}

#[test]
fn managed_policies_can_require_version_2012() {
    let without = Policy::parse(r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#, Identity).unwrap();
    assert_eq!(without.require_version_2012().unwrap_err().message, "Policy document must be version 2012-10-17 or greater.");
    let with = Policy::parse(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#, Identity).unwrap();
    assert!(with.require_version_2012().is_ok());
}
