//! The policy-evaluation table: cases taken from AWS's policy evaluation documentation,
//! grouped by the page they come from (cited above each group). Each group is a test;
//! `table_has_at_least_50_cases` keeps the table from shrinking.

mod common;

use common::{case, role_session, run_all, user, Case, A, B};
use nimbus_iam_policy::Decision::{Allow, ExplicitDeny, ImplicitDeny};
use nimbus_iam_policy::{Principal, PrincipalKind};

// ---------------------------------------------------------------------------------------
// IAM User Guide, "Policy evaluation for requests within a single account", section
// "Example identity-based and resource-based policy evaluation" (user carlossalazar):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
// ---------------------------------------------------------------------------------------

const CARLOS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AllowS3ListRead", "Effect": "Allow",
     "Action": ["s3:GetBucketLocation", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints", "s3:ListAllMyBuckets"],
     "Resource": "arn:aws:s3:::*"},
    {"Sid": "AllowS3Self", "Effect": "Allow", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar"]},
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"}
  ]
}"#;

const LOGS_BUCKET_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/carlossalazar"},
                 "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/*"}]
}"#;

fn single_account_example() -> Vec<Case> {
    let carlos = || user(A, "carlossalazar");
    vec![
        case("carlos: AllowS3Self puts into his bucket", carlos(), "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/notes.txt")
            .identity(CARLOS)
            .expect(Allow),
        case("carlos: AllowS3Self lists his bucket", carlos(), "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar")
            .identity(CARLOS)
            .expect(Allow),
        case("carlos: AllowS3ListRead on any bucket", carlos(), "s3:GetBucketLocation", "arn:aws:s3:::amzn-s3-demo-bucket-shared")
            .identity(CARLOS)
            .expect(Allow),
        case("carlos: no statement lets him write another bucket", carlos(), "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket-shared/x")
            .identity(CARLOS)
            .expect(ImplicitDeny),
        case("carlos: DenyS3Logs beats the bucket policy's allow", carlos(), "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/x")
            .identity(CARLOS)
            .resource_policy(LOGS_BUCKET_POLICY)
            .expect(ExplicitDeny),
        case("carlos: DenyS3Logs beats AllowS3ListRead", carlos(), "s3:GetBucketLocation", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs")
            .identity(CARLOS)
            .expect(ExplicitDeny),
        case("another user is not named by the bucket policy", user(A, "mary"), "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/x")
            .resource_policy(LOGS_BUCKET_POLICY)
            .expect(ImplicitDeny),
        case("the bucket policy alone allows carlos (no identity policy)", carlos(), "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/x")
            .resource_policy(LOGS_BUCKET_POLICY)
            .expect(Allow),
    ]
}

// ---------------------------------------------------------------------------------------
// IAM User Guide, "Policy evaluation logic", section "Evaluating identity-based policies
// with resource-based policies" ("the resulting permissions are the union … an explicit
// deny in either policy overrides the allow"):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// and "AWS JSON policy elements: Principal", "AWS account principals" ("This delegates
// authority to the account"):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
// ---------------------------------------------------------------------------------------

const Q: &str = "arn:aws:sqs:us-east-1:111122223333:orders";
const ID_SEND: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:orders"}}"#;
const ID_DENY_SQS: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "sqs:*", "Resource": "*"}}"#;
const QP_ALICE: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "a", "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
  "Resource": "arn:aws:sqs:us-east-1:111122223333:orders"}]}"#;
const QP_DENY_SEND: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
  "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:orders"}]}"#;
const QP_ACCOUNT_A: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"},
  "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:111122223333:orders"}]}"#;
const QP_PUBLIC: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
  "Action": "sqs:GetQueueAttributes", "Resource": "arn:aws:sqs:us-east-1:111122223333:orders"}]}"#;

fn identity_with_resource() -> Vec<Case> {
    let alice = || user(A, "alice");
    vec![
        case("identity policy alone allows", alice(), "sqs:SendMessage", Q).identity(ID_SEND).expect(Allow),
        case("resource policy alone allows the named user", alice(), "sqs:ReceiveMessage", Q).resource_policy(QP_ALICE).expect(Allow),
        case("resource policy deny overrides identity allow", alice(), "sqs:SendMessage", Q)
            .identity(ID_SEND)
            .resource_policy(QP_DENY_SEND)
            .expect(ExplicitDeny),
        case("identity deny overrides resource allow", alice(), "sqs:ReceiveMessage", Q)
            .identity(ID_DENY_SQS)
            .resource_policy(QP_ALICE)
            .expect(ExplicitDeny),
        case("no policy: implicit deny", alice(), "sqs:SendMessage", Q).expect(ImplicitDeny),
        case("identity allow on another queue does not apply", alice(), "sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:other")
            .identity(ID_SEND)
            .expect(ImplicitDeny),
        case("action not allowed", alice(), "sqs:DeleteQueue", Q).identity(ID_SEND).expect(ImplicitDeny),
        case("account principal delegates: no identity allow, no access", alice(), "sqs:SendMessage", Q)
            .resource_policy(QP_ACCOUNT_A)
            .expect(ImplicitDeny),
        case("account principal delegates: identity allow grants", alice(), "sqs:SendMessage", Q)
            .identity(ID_SEND)
            .resource_policy(QP_ACCOUNT_A)
            .expect(Allow),
        case("Principal * grants in the same account", alice(), "sqs:GetQueueAttributes", Q).resource_policy(QP_PUBLIC).expect(Allow),
    ]
}

// ---------------------------------------------------------------------------------------
// IAM User Guide, "Cross-account policy evaluation logic" ("the principal's identity-based
// policy must allow … and the resource-based policy in the trusting account must specify
// the principal"):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
// ---------------------------------------------------------------------------------------

const BOB_SEND: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:111122223333:*"}}"#;
const QP_ACCOUNT_B: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:orders"}]}"#;
const QP_BOB: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:user/bob"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:orders"}]}"#;
const QP_OTHER_ACCOUNT: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:orders"}]}"#;
const QP_PUBLIC_SEND: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:orders"}]}"#;
const QP_B_BUT_NOT_BOB: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:orders"},
  {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::444455556666:user/bob"}, "Action": "sqs:*", "Resource": "*"}]}"#;
const QP_ROLE_B: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/sender"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:orders"}]}"#;
const BOUNDARY_S3_ONLY: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#;

fn cross_account() -> Vec<Case> {
    let bob = || user(B, "bob");
    vec![
        case("both sides allow", bob(), "sqs:SendMessage", Q).identity(BOB_SEND).resource_policy(QP_ACCOUNT_B).owner(A).expect(Allow),
        case("identity allows, no resource policy", bob(), "sqs:SendMessage", Q).identity(BOB_SEND).owner(A).expect(ImplicitDeny),
        case("resource policy names bob, no identity allow", bob(), "sqs:SendMessage", Q).resource_policy(QP_BOB).owner(A).expect(ImplicitDeny),
        case("resource policy trusts another account", bob(), "sqs:SendMessage", Q)
            .identity(BOB_SEND)
            .resource_policy(QP_OTHER_ACCOUNT)
            .owner(A)
            .expect(ImplicitDeny),
        case("Principal * and identity allow", bob(), "sqs:SendMessage", Q).identity(BOB_SEND).resource_policy(QP_PUBLIC_SEND).owner(A).expect(Allow),
        case("resource policy deny for bob", bob(), "sqs:SendMessage", Q).identity(BOB_SEND).resource_policy(QP_B_BUT_NOT_BOB).owner(A).expect(ExplicitDeny),
        case("boundary limits the identity side", bob(), "sqs:SendMessage", Q)
            .identity(BOB_SEND)
            .boundary(BOUNDARY_S3_ONLY)
            .resource_policy(QP_ACCOUNT_B)
            .owner(A)
            .expect(ImplicitDeny),
        case("role session named by its role ARN", role_session(B, "sender", "s1"), "sqs:SendMessage", Q)
            .identity(BOB_SEND)
            .resource_policy(QP_ROLE_B)
            .owner(A)
            .expect(Allow),
        case("root of the trusted account", Principal::root(B), "sqs:SendMessage", Q).resource_policy(QP_ACCOUNT_B).owner(A).expect(Allow),
        case("root of another account without a resource policy", Principal::root(B), "sqs:SendMessage", Q).owner(A).expect(ImplicitDeny),
    ]
}

// ---------------------------------------------------------------------------------------
// IAM User Guide, "Permissions boundaries for IAM entities" (user ShirleyRodriguez; "Within
// an account, an implicit deny in a permissions boundary does not limit the permissions
// granted to an IAM user by a resource-based policy"; for roles, a resource-based policy
// naming the role session ARN is not limited, one naming the role ARN is):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
// ---------------------------------------------------------------------------------------

const SHIRLEY_BOUNDARY: &str =
    r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}]}"#;
const SHIRLEY_CREATE_USER: &str =
    r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"}}"#;
const S3_ALL: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#;
const BOUNDARY_DENY_DELETE: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}"#;
const QP_SHIRLEY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ShirleyRodriguez"}, "Action": "sqs:SendMessage", "Resource": "*"}]}"#;
const QP_WORKER_ROLE: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:role/worker"}, "Action": "sqs:SendMessage", "Resource": "*"}]}"#;
const QP_WORKER_SESSION: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"AWS": "arn:aws:sts::111122223333:assumed-role/worker/job-1"}, "Action": "sqs:SendMessage", "Resource": "*"}]}"#;
const BOUNDARY_SQS: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}}"#;

fn boundaries() -> Vec<Case> {
    let shirley = || user(A, "ShirleyRodriguez");
    let worker = || role_session(A, "worker", "job-1");
    vec![
        case("identity allows iam:CreateUser, boundary does not", shirley(), "iam:CreateUser", "arn:aws:iam::111122223333:user/x")
            .identity(SHIRLEY_CREATE_USER)
            .boundary(SHIRLEY_BOUNDARY)
            .expect(ImplicitDeny),
        case("identity and boundary both allow s3", shirley(), "s3:GetObject", "arn:aws:s3:::b/k")
            .identity(S3_ALL)
            .boundary(SHIRLEY_BOUNDARY)
            .expect(Allow),
        case("a boundary grants nothing by itself", shirley(), "ec2:RunInstances", "*").boundary(SHIRLEY_BOUNDARY).expect(ImplicitDeny),
        case("explicit deny in the boundary", shirley(), "s3:DeleteBucket", "arn:aws:s3:::b")
            .identity(S3_ALL)
            .boundary(BOUNDARY_DENY_DELETE)
            .expect(ExplicitDeny),
        case("resource policy naming the user is not limited by the boundary", shirley(), "sqs:SendMessage", Q)
            .boundary(SHIRLEY_BOUNDARY)
            .resource_policy(QP_SHIRLEY)
            .expect(Allow),
        case("resource policy naming the role ARN is limited by the boundary", worker(), "sqs:SendMessage", Q)
            .boundary(SHIRLEY_BOUNDARY)
            .resource_policy(QP_WORKER_ROLE)
            .expect(ImplicitDeny),
        case("resource policy naming the role session ARN is not limited", worker(), "sqs:SendMessage", Q)
            .boundary(SHIRLEY_BOUNDARY)
            .resource_policy(QP_WORKER_SESSION)
            .expect(Allow),
        case("resource policy naming the role ARN, boundary allows", worker(), "sqs:SendMessage", Q)
            .boundary(BOUNDARY_SQS)
            .resource_policy(QP_WORKER_ROLE)
            .expect(Allow),
    ]
}

// ---------------------------------------------------------------------------------------
// IAM User Guide, "Policies and permissions in IAM", section "Session policies" ("The
// resulting session's permissions are the intersection of the role's identity-based
// policy and the session policies"; a resource-based policy naming the session ARN is
// not limited by the session policy, one naming the role ARN is; GetFederationToken
// without session policies has no permissions):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
// ---------------------------------------------------------------------------------------

const SESSION_GET_ONLY: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "dynamodb:GetItem"], "Resource": "*"}}"#;
const SESSION_DENY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
  {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secret/*"}]}"#;

fn session_policies() -> Vec<Case> {
    let worker = || role_session(A, "worker", "job-1");
    let mut fed = Principal::new("arn:aws:sts::111122223333:federated-user/partner", A, PrincipalKind::FederatedUser);
    fed.user_id = "111122223333:partner".into();
    vec![
        case("role and session policy both allow", worker(), "s3:GetObject", "arn:aws:s3:::b/k")
            .identity(S3_ALL)
            .session(&[SESSION_GET_ONLY])
            .expect(Allow),
        case("role allows, session policy does not", worker(), "s3:PutObject", "arn:aws:s3:::b/k")
            .identity(S3_ALL)
            .session(&[SESSION_GET_ONLY])
            .expect(ImplicitDeny),
        case("a session policy cannot grant more than the role", worker(), "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:111122223333:table/t")
            .identity(S3_ALL)
            .session(&[SESSION_GET_ONLY])
            .expect(ImplicitDeny),
        case("resource policy naming the session ARN is not limited by the session policy", worker(), "sqs:SendMessage", Q)
            .session(&[SESSION_GET_ONLY])
            .resource_policy(QP_WORKER_SESSION)
            .expect(Allow),
        case("resource policy naming the role ARN is limited by the session policy", worker(), "sqs:SendMessage", Q)
            .session(&[SESSION_GET_ONLY])
            .resource_policy(QP_WORKER_ROLE)
            .expect(ImplicitDeny),
        case("federation token without session policies has no permissions", fed, "s3:GetObject", "arn:aws:s3:::b/k")
            .identity(S3_ALL)
            .session(&[])
            .expect(ImplicitDeny),
        case("explicit deny in a session policy", worker(), "s3:GetObject", "arn:aws:s3:::secret/k")
            .identity(S3_ALL)
            .session(&[SESSION_DENY])
            .expect(ExplicitDeny),
    ]
}

// ---------------------------------------------------------------------------------------
// IAM User Guide, "How AWS enforcement code logic evaluates requests" ("all requests are
// implicitly denied with the exception of the AWS account root user, which has full
// access"), and "Principal": anonymous access with "Principal": "*", service principals
// (Amazon SQS Developer Guide, "Basic examples of Amazon SQS policies": SNS topic sending
// to a queue with aws:SourceArn):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-basic-examples-of-sqs-policies.html
// ---------------------------------------------------------------------------------------

const BUCKET_PUBLIC_READ: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "PublicRead", "Effect": "Allow",
  "Principal": "*", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#;
const QP_SNS: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
  "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:orders",
  "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:topic1"}}}]}"#;

fn root_anonymous_service() -> Vec<Case> {
    vec![
        case("root has full access in its account", Principal::root(A), "sqs:DeleteQueue", Q).expect(Allow),
        case("root is denied by a resource policy deny", Principal::root(A), "sqs:SendMessage", Q).resource_policy(QP_DENY_SEND).expect(ExplicitDeny),
        case("anonymous read of a public object", Principal::anonymous(), "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/index.html")
            .resource_policy(BUCKET_PUBLIC_READ)
            .owner(A)
            .expect(Allow),
        case("anonymous without a policy", Principal::anonymous(), "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/index.html")
            .owner(A)
            .expect(ImplicitDeny),
        case("SNS sends to the queue from the named topic", Principal::service("sns.amazonaws.com"), "sqs:SendMessage", Q)
            .resource_policy(QP_SNS)
            .owner(A)
            .ctx("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:topic1")
            .expect(Allow),
        case("SNS from another topic is refused", Principal::service("sns.amazonaws.com"), "sqs:SendMessage", Q)
            .resource_policy(QP_SNS)
            .owner(A)
            .ctx("aws:SourceArn", "arn:aws:sns:us-east-1:444455556666:evil")
            .expect(ImplicitDeny),
    ]
}

// ---------------------------------------------------------------------------------------
// IAM User Guide, "Granting a user permissions to switch roles" (a trust policy naming
// the account needs an identity policy allowing sts:AssumeRole; naming the user does
// not), "How to use an external ID when granting access to your AWS resources to a third
// party" (sts:ExternalId), "Create a role for OpenID Connect federation":
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html
// ---------------------------------------------------------------------------------------

const ROLE: &str = "arn:aws:iam::111122223333:role/deploy";
const TRUST_USER: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "sts:AssumeRole"}}"#;
const TRUST_ACCOUNT_A: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}}"#;
const TRUST_ACCOUNT_B: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"}}"#;
const ID_ASSUME: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::111122223333:role/deploy"}}"#;
const TRUST_LAMBDA: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
const TRUST_EXTERNAL_ID: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "444455556666"},
  "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "Unique ID Assigned by Example Corp"}}}}"#;
const TRUST_GITHUB: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
  "Action": "sts:AssumeRoleWithWebIdentity",
  "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/*"}}}]}"#;

fn trust_policies() -> Vec<Case> {
    let alice = || user(A, "alice");
    let mut github = Principal::new("arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com", "", PrincipalKind::FederatedUser);
    github.user_id = "web-identity".into();
    vec![
        case("trust names the user: no identity policy needed", alice(), "sts:AssumeRole", ROLE).trust(TRUST_USER).owner(A).expect(Allow),
        case("trust names the account: identity policy needed", alice(), "sts:AssumeRole", ROLE).trust(TRUST_ACCOUNT_A).owner(A).expect(ImplicitDeny),
        case("trust names the account and identity allows", alice(), "sts:AssumeRole", ROLE)
            .trust(TRUST_ACCOUNT_A)
            .identity(ID_ASSUME)
            .owner(A)
            .expect(Allow),
        case("trust names account A, caller from B", user(B, "bob"), "sts:AssumeRole", ROLE)
            .trust(TRUST_ACCOUNT_A)
            .identity(ID_ASSUME)
            .owner(A)
            .expect(ImplicitDeny),
        case("trust names account B, caller from B with identity allow", user(B, "bob"), "sts:AssumeRole", ROLE)
            .trust(TRUST_ACCOUNT_B)
            .identity(ID_ASSUME)
            .owner(A)
            .expect(Allow),
        case("lambda.amazonaws.com may assume an execution role", Principal::service("lambda.amazonaws.com"), "sts:AssumeRole", ROLE)
            .trust(TRUST_LAMBDA)
            .owner(A)
            .expect(Allow),
        case("ec2.amazonaws.com is not trusted", Principal::service("ec2.amazonaws.com"), "sts:AssumeRole", ROLE).trust(TRUST_LAMBDA).owner(A).expect(ImplicitDeny),
        case("third party with the external id", user(B, "bob"), "sts:AssumeRole", ROLE)
            .trust(TRUST_EXTERNAL_ID)
            .identity(ID_ASSUME)
            .owner(A)
            .ctx("sts:ExternalId", "Unique ID Assigned by Example Corp")
            .expect(Allow),
        case("third party without the external id", user(B, "bob"), "sts:AssumeRole", ROLE)
            .trust(TRUST_EXTERNAL_ID)
            .identity(ID_ASSUME)
            .owner(A)
            .expect(ImplicitDeny),
        case("GitHub OIDC token for the org's repository", github.clone(), "sts:AssumeRoleWithWebIdentity", ROLE)
            .trust(TRUST_GITHUB)
            .owner(A)
            .ctx("token.actions.githubusercontent.com:aud", "sts.amazonaws.com")
            .ctx("token.actions.githubusercontent.com:sub", "repo:octo-org/octo-repo:ref:refs/heads/main")
            .expect(Allow),
        case("GitHub OIDC token for another org", github, "sts:AssumeRoleWithWebIdentity", ROLE)
            .trust(TRUST_GITHUB)
            .owner(A)
            .ctx("token.actions.githubusercontent.com:aud", "sts.amazonaws.com")
            .ctx("token.actions.githubusercontent.com:sub", "repo:evil/repo:ref:refs/heads/main")
            .expect(ImplicitDeny),
    ]
}

// ---------------------------------------------------------------------------------------
// IAM User Guide, "IAM JSON policy elements: NotAction" (allow everything except IAM),
// "NotResource" (deny everything outside one bucket), "NotPrincipal" (Deny with
// NotPrincipal exempts only principals whose user ARN AND account ARN are listed; here
// the bucket is in Bob's account, so the identity policy alone grants):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
// ---------------------------------------------------------------------------------------

const NOT_IAM: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}"#;
const ONLY_ONE_BUCKET: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
  {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}]}"#;
const BUCKET_NOT_PRINCIPAL: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
  "NotPrincipal": {"AWS": ["arn:aws:iam::444455556666:user/Bob", "arn:aws:iam::444455556666:root"]},
  "Action": "s3:*", "Resource": ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"]}]}"#;
const BUCKET_NOT_PRINCIPAL_USER_ONLY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
  "NotPrincipal": {"AWS": "arn:aws:iam::444455556666:user/Bob"},
  "Action": "s3:*", "Resource": ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"]}]}"#;

fn not_elements() -> Vec<Case> {
    vec![
        case("NotAction iam:* allows s3", user(A, "ops"), "s3:GetObject", "arn:aws:s3:::b/k").identity(NOT_IAM).expect(Allow),
        case("NotAction iam:* does not allow iam", user(A, "ops"), "iam:CreateUser", "arn:aws:iam::111122223333:user/x")
            .identity(NOT_IAM)
            .expect(ImplicitDeny),
        case("NotResource deny outside the payroll folder", user(A, "hr"), "s3:GetObject", "arn:aws:s3:::OtherBucket/k")
            .identity(ONLY_ONE_BUCKET)
            .expect(ExplicitDeny),
        case("NotResource deny spares the payroll folder", user(A, "hr"), "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/jan.csv")
            .identity(ONLY_ONE_BUCKET)
            .expect(Allow),
        case("NotPrincipal deny spares Bob listed with his account", user(B, "Bob"), "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k")
            .identity(S3_ALL)
            .resource_policy(BUCKET_NOT_PRINCIPAL)
            .owner(B)
            .expect(Allow),
        case("NotPrincipal deny hits another user of Bob's account", user(B, "Mary"), "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k")
            .identity(S3_ALL)
            .resource_policy(BUCKET_NOT_PRINCIPAL)
            .owner(B)
            .expect(ExplicitDeny),
        case("NotPrincipal naming only the user still denies him", user(B, "Bob"), "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k")
            .identity(S3_ALL)
            .resource_policy(BUCKET_NOT_PRINCIPAL_USER_ONLY)
            .owner(B)
            .expect(ExplicitDeny),
    ]
}

// ---------------------------------------------------------------------------------------
// IAM User Guide, "IAM policy elements: Variables and tags" (home folders with
// ${aws:username}; variables need Version 2012-10-17; a missing key makes the element
// not match; default values; ${*} for a literal asterisk):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
// ---------------------------------------------------------------------------------------

const HOME_FOLDER: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
   "Condition": {"StringLike": {"s3:prefix": ["${aws:username}/*"]}}},
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"}]}"#;
const HOME_FOLDER_2008: &str = r#"{"Version": "2008-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"}]}"#;
const TEAM_QUEUES: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:${aws:PrincipalTag/team}-*"}]}"#;
const TEAM_QUEUES_DEFAULT: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:${aws:PrincipalTag/team, 'company-wide'}-*"}]}"#;
const LITERAL_STAR: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${*}literal"}]}"#;

fn variables() -> Vec<Case> {
    let david = || user(A, "david");
    let mut tagged = user(A, "tagged");
    tagged.tags.insert("team".into(), "orders".into());
    vec![
        case("home folder: own folder", david(), "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket/david/file").identity(HOME_FOLDER).expect(Allow),
        case("home folder: someone else's", david(), "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket/mary/file").identity(HOME_FOLDER).expect(ImplicitDeny),
        case("home folder: list own prefix", david(), "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket")
            .identity(HOME_FOLDER)
            .ctx("s3:prefix", "david/photos/")
            .expect(Allow),
        case("home folder: list another prefix", david(), "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket")
            .identity(HOME_FOLDER)
            .ctx("s3:prefix", "mary/")
            .expect(ImplicitDeny),
        case("Version 2008-10-17 reads ${aws:username} literally", david(), "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket/david/file")
            .identity(HOME_FOLDER_2008)
            .expect(ImplicitDeny),
        case("a role session has no aws:username: no match", role_session(A, "worker", "david"), "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket/david/file")
            .identity(HOME_FOLDER)
            .expect(ImplicitDeny),
        case("principal tag in the resource", tagged.clone(), "sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:orders-eu")
            .identity(TEAM_QUEUES)
            .expect(Allow),
        case("missing principal tag: no match", david(), "sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:orders-eu")
            .identity(TEAM_QUEUES)
            .expect(ImplicitDeny),
        case("default value for a missing tag", david(), "sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:company-wide-q")
            .identity(TEAM_QUEUES_DEFAULT)
            .expect(Allow),
        case("${*} is a literal asterisk", david(), "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/*literal").identity(LITERAL_STAR).expect(Allow),
        case("${*} is not a wildcard", david(), "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/xliteral").identity(LITERAL_STAR).expect(ImplicitDeny),
    ]
}

#[test]
fn single_account_example_carlos() {
    run_all(&single_account_example());
}

#[test]
fn identity_based_with_resource_based() {
    run_all(&identity_with_resource());
}

#[test]
fn cross_account_evaluation() {
    run_all(&cross_account());
}

#[test]
fn permissions_boundaries() {
    run_all(&boundaries());
}

#[test]
fn session_policies_intersect() {
    run_all(&session_policies());
}

#[test]
fn root_anonymous_and_service_principals() {
    run_all(&root_anonymous_service());
}

#[test]
fn role_trust_policies() {
    run_all(&trust_policies());
}

#[test]
fn not_action_not_resource_not_principal() {
    run_all(&not_elements());
}

#[test]
fn policy_variables() {
    run_all(&variables());
}

#[test]
fn table_has_at_least_50_cases() {
    let n = [
        single_account_example().len(),
        identity_with_resource().len(),
        cross_account().len(),
        boundaries().len(),
        session_policies().len(),
        root_anonymous_service().len(),
        trust_policies().len(),
        not_elements().len(),
        variables().len(),
    ]
    .iter()
    .sum::<usize>();
    println!("{n} evaluation cases");
    assert!(n >= 50, "only {n} cases");
}
