//! The operation → IAM action / resource ARN map (`nimbus_iam::actions`): complete for
//! every vendored model, and right on representative operations (Service Authorization
//! Reference, https://docs.aws.amazon.com/service-authorization/latest/reference/).

use nimbus_iam::actions::{checks, checks_with, operations, Check};
use serde_json::{json, Value};

const R: &str = "us-east-1";
const A: &str = "000000000000";

/// (signing name, model file relative to the workspace's crates/ directory).
const MODELS: &[(&str, &str)] = &[
    ("sqs", "sqs/model/sqs-2012-11-05.json"),
    ("dynamodb", "dynamodb/model/dynamodb-2012-08-10.json"),
    ("dynamodb", "dynamodb/model/dynamodbstreams-2012-08-10.json"),
    ("lambda", "lambda/model/lambda-2015-03-31.json"),
    ("logs", "logs/model/logs-2014-03-28.json"),
    ("iam", "iam/model/iam-2010-05-08.json"),
    ("sts", "iam/model/sts-2011-06-15.json"),
    ("sns", "sns/model/sns-2010-03-31.json"),
    ("events", "events/model/events-2015-10-07.json"),
    ("apigateway", "apigateway/model/apigatewayv2-2018-11-29.json"),
    ("kms", "kms/model/kms-2014-11-01.json"),
    ("secretsmanager", "secretsmanager/model/secretsmanager-2017-10-17.json"),
    ("xray", "xray/model/xray-2016-04-12.json"),
    ("kinesis", "kinesis/model/kinesis-2013-12-02.json"),
    ("states", "stepfunctions/model/stepfunctions-2016-11-23.json"),
];

fn model(path: &str) -> Value {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

#[test]
fn the_map_parses_and_covers_every_operation_of_every_vendored_model() {
    let mut missing = Vec::new();
    for (signing, path) in MODELS {
        let m = model(path);
        let ops = m["operations"].as_object().expect("model has operations");
        assert!(!ops.is_empty(), "{path}");
        for op in ops.keys() {
            if checks(signing, op, R, A, &json!({})).is_none() {
                missing.push(format!("{signing} {op}"));
            }
        }
    }
    assert!(missing.is_empty(), "operations missing from crates/iam/data/actions.json: {missing:#?}");
}

#[test]
fn the_map_has_no_operation_that_no_model_defines() {
    let mut known = std::collections::BTreeSet::new();
    for (signing, path) in MODELS {
        for op in model(path)["operations"].as_object().expect("operations").keys() {
            known.insert(format!("{signing} {op}"));
        }
    }
    let mut extra = Vec::new();
    for signing in ["sqs", "dynamodb", "lambda", "logs", "iam", "sts", "sns", "events", "apigateway", "kms", "secretsmanager", "xray", "kinesis", "states"] {
        let ops = operations(signing);
        assert!(!ops.is_empty(), "no operations for {signing}: the map did not load");
        extra.extend(ops.into_iter().map(|op| format!("{signing} {op}")).filter(|k| !known.contains(k)));
    }
    assert!(extra.is_empty(), "entries for operations no vendored model has: {extra:?}");
}

#[test]
fn the_streams_model_signs_as_dynamodb() {
    let m = model("dynamodb/model/dynamodbstreams-2012-08-10.json");
    assert_eq!(m["metadata"]["signingName"], "dynamodb");
}

#[test]
fn an_unknown_operation_or_service_is_none() {
    assert_eq!(checks("sqs", "FlyToTheMoon", R, A, &json!({})), None);
    assert_eq!(checks("firehose", "PutRecord", R, A, &json!({})), None);
}

fn c(action: &str, resource: &str) -> Check {
    Check { action: action.into(), resource: resource.into(), keys: Vec::new() }
}

/// The checks of a request, without their condition keys (see `condition_keys_*`).
fn run(signing: &str, op: &str, input: Value) -> Vec<Check> {
    let mut out = checks(signing, op, R, A, &input).unwrap_or_else(|| panic!("{signing} {op} unknown"));
    out.iter_mut().for_each(|c| c.keys.clear());
    out
}

/// The condition keys of the check of `action`.
fn keys_of(signing: &str, op: &str, input: Value, action: &str, lookup: nimbus_iam::actions::Lookup) -> Vec<(String, Vec<String>)> {
    let all = checks_with(signing, op, R, A, &input, lookup).unwrap_or_else(|| panic!("{signing} {op} unknown"));
    all.into_iter().find(|c| c.action == action).map(|c| c.keys).unwrap_or_default()
}

fn k(key: &str, values: &[&str]) -> (String, Vec<String>) {
    (key.to_string(), values.iter().map(|v| v.to_string()).collect())
}

// --- Service-specific condition keys (Service Authorization Reference: the "Condition
// keys" column of each action; IAM User Guide, "IAM and AWS STS condition context keys")

#[test]
fn condition_keys_of_lambda_requests() {
    let none = &|_: &str, _: &str| None;
    let esm = json!({"FunctionName": "f:live", "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:q"});
    assert_eq!(keys_of("lambda", "CreateEventSourceMapping", esm, "lambda:CreateEventSourceMapping", none), vec![k("lambda:FunctionArn", &["arn:aws:lambda:us-east-1:000000000000:function:f:live"])]);
    let perm = json!({"FunctionName": "f", "StatementId": "s", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com"});
    assert_eq!(keys_of("lambda", "AddPermission", perm, "lambda:AddPermission", none), vec![k("lambda:Principal", &["s3.amazonaws.com"])]);
    let create = json!({"FunctionName": "arn:aws:lambda:eu-west-1:111111111111:function:g", "Role": "arn:aws:iam::111111111111:role/r"});
    assert_eq!(
        keys_of("lambda", "CreateFunction", create, "iam:PassRole", none),
        vec![k("iam:AssociatedResourceArn", &["arn:aws:lambda:eu-west-1:111111111111:function:g"]), k("iam:PassedToService", &["lambda.amazonaws.com"])]
    );
}

#[test]
fn condition_keys_of_iam_and_sts_requests() {
    let boundary = "arn:aws:iam::000000000000:policy/edge";
    let lookup = &|kind: &str, name: &str| (kind == "role-boundary" && name == "bounded").then(|| boundary.to_string());
    let attach = json!({"RoleName": "bounded", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"});
    assert_eq!(
        keys_of("iam", "AttachRolePolicy", attach, "iam:AttachRolePolicy", lookup),
        vec![k("iam:PermissionsBoundary", &[boundary]), k("iam:PolicyARN", &["arn:aws:iam::aws:policy/AdministratorAccess"])]
    );
    let free = json!({"RoleName": "free", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"});
    assert_eq!(keys_of("iam", "DetachRolePolicy", free, "iam:DetachRolePolicy", lookup), vec![k("iam:PolicyARN", &["arn:aws:iam::aws:policy/AdministratorAccess"])]);
    let create = json!({"RoleName": "r", "AssumeRolePolicyDocument": "{}", "PermissionsBoundary": boundary});
    assert_eq!(keys_of("iam", "CreateRole", create, "iam:CreateRole", lookup), vec![k("iam:PermissionsBoundary", &[boundary])]);
    let assume = json!({"RoleArn": "arn:aws:iam::000000000000:role/r", "RoleSessionName": "alice", "ExternalId": "ext-1", "TransitiveTagKeys": ["team"], "Tags": [{"Key": "team", "Value": "blue"}]});
    assert_eq!(
        keys_of("sts", "AssumeRole", assume.clone(), "sts:AssumeRole", lookup),
        vec![k("sts:ExternalId", &["ext-1"]), k("sts:RoleSessionName", &["alice"]), k("sts:TransitiveTagKeys", &["team"])]
    );
    assert_eq!(keys_of("sts", "AssumeRole", assume, "sts:TagSession", lookup), vec![k("sts:TransitiveTagKeys", &["team"])]);
}

// --- SQS (list_amazonsqs.html; SQS API permissions reference)

#[test]
fn sqs_send_message_names_the_queue_of_each_url_form() {
    let cases = [
        ("http://localhost:4566/queue/eu-west-1/111111111111/q1", "arn:aws:sqs:eu-west-1:111111111111:q1"),
        ("/queue/eu-west-1/111111111111/q1", "arn:aws:sqs:eu-west-1:111111111111:q1"),
        ("http://localhost:4566/111111111111/q1", "arn:aws:sqs:us-east-1:111111111111:q1"),
        ("https://sqs.eu-central-1.amazonaws.com/111111111111/q1", "arn:aws:sqs:eu-central-1:111111111111:q1"),
        ("q1", "arn:aws:sqs:us-east-1:000000000000:q1"),
    ];
    for (url, arn) in cases {
        assert_eq!(run("sqs", "SendMessage", json!({"QueueUrl": url, "MessageBody": "x"})), vec![c("sqs:SendMessage", arn)], "{url}");
    }
}

#[test]
fn sqs_batches_authorize_the_single_action() {
    let q = json!({"QueueUrl": "http://h/queue/us-east-1/000000000000/q1", "Entries": []});
    assert_eq!(run("sqs", "SendMessageBatch", q.clone()), vec![c("sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:q1")]);
    assert_eq!(run("sqs", "DeleteMessageBatch", q.clone()), vec![c("sqs:DeleteMessage", "arn:aws:sqs:us-east-1:000000000000:q1")]);
    assert_eq!(run("sqs", "ChangeMessageVisibilityBatch", q), vec![c("sqs:ChangeMessageVisibility", "arn:aws:sqs:us-east-1:000000000000:q1")]);
}

#[test]
fn sqs_delete_queue_list_queues_create_queue_get_queue_url() {
    assert_eq!(run("sqs", "DeleteQueue", json!({"QueueUrl": "http://h/000000000000/q1"})), vec![c("sqs:DeleteQueue", "arn:aws:sqs:us-east-1:000000000000:q1")]);
    assert_eq!(run("sqs", "ListQueues", json!({})), vec![c("sqs:ListQueues", "*")]);
    assert_eq!(run("sqs", "CreateQueue", json!({"QueueName": "q2"})), vec![c("sqs:CreateQueue", "arn:aws:sqs:us-east-1:000000000000:q2")]);
    // API_CreateQueue: tagging on creation needs sqs:TagQueue as well.
    assert_eq!(
        run("sqs", "CreateQueue", json!({"QueueName": "q2", "tags": {"k": "v"}})),
        vec![c("sqs:CreateQueue", "arn:aws:sqs:us-east-1:000000000000:q2"), c("sqs:TagQueue", "arn:aws:sqs:us-east-1:000000000000:q2")]
    );
    assert_eq!(
        run("sqs", "GetQueueUrl", json!({"QueueName": "q3", "QueueOwnerAWSAccountId": "222222222222"})),
        vec![c("sqs:GetQueueUrl", "arn:aws:sqs:us-east-1:222222222222:q3")]
    );
}

#[test]
fn sqs_message_move_tasks_need_the_dlq_actions() {
    let dlq = "arn:aws:sqs:us-east-1:000000000000:dlq";
    let handle = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(json!({"taskId": "t", "sourceArn": dlq}).to_string())
    };
    let want = |first: &str| vec![c(first, dlq), c("sqs:ReceiveMessage", dlq), c("sqs:DeleteMessage", dlq), c("sqs:GetQueueAttributes", dlq)];
    assert_eq!(run("sqs", "CancelMessageMoveTask", json!({"TaskHandle": handle})), want("sqs:CancelMessageMoveTask"));
    let mut start = want("sqs:StartMessageMoveTask");
    start.push(c("sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:back"));
    assert_eq!(run("sqs", "StartMessageMoveTask", json!({"SourceArn": dlq, "DestinationArn": "arn:aws:sqs:us-east-1:000000000000:back"})), start);
}

// --- DynamoDB (list_amazondynamodb.html)

const T1: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/T1";
const T2: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/T2";

#[test]
fn dynamodb_get_item_by_name_and_by_arn() {
    assert_eq!(run("dynamodb", "GetItem", json!({"TableName": "T1", "Key": {}})), vec![c("dynamodb:GetItem", T1)]);
    let other = "arn:aws:dynamodb:eu-west-1:333333333333:table/T9";
    assert_eq!(run("dynamodb", "GetItem", json!({"TableName": other, "Key": {}})), vec![c("dynamodb:GetItem", other)]);
}

#[test]
fn dynamodb_query_and_scan_on_an_index_are_authorized_on_the_index_arn() {
    assert_eq!(run("dynamodb", "Query", json!({"TableName": "T1", "IndexName": "I"})), vec![c("dynamodb:Query", &format!("{T1}/index/I"))]);
    assert_eq!(run("dynamodb", "Query", json!({"TableName": "T1"})), vec![c("dynamodb:Query", T1)]);
    assert_eq!(run("dynamodb", "Scan", json!({"TableName": "T1", "IndexName": "I"})), vec![c("dynamodb:Scan", &format!("{T1}/index/I"))]);
}

#[test]
fn dynamodb_batches_authorize_each_table() {
    let input = json!({"RequestItems": {"T1": [{"PutRequest": {"Item": {}}}], T2: [{"DeleteRequest": {"Key": {}}}]}});
    assert_eq!(run("dynamodb", "BatchWriteItem", input), vec![c("dynamodb:BatchWriteItem", T1), c("dynamodb:BatchWriteItem", T2)]);
    let input = json!({"RequestItems": {"T1": {"Keys": []}, "T2": {"Keys": []}}});
    assert_eq!(run("dynamodb", "BatchGetItem", input), vec![c("dynamodb:BatchGetItem", T1), c("dynamodb:BatchGetItem", T2)]);
}

#[test]
fn dynamodb_transactions_authorize_each_items_own_action() {
    // "Using IAM with DynamoDB transactions": TransactWriteItems needs the action of each item.
    let input = json!({"TransactItems": [
        {"Put": {"TableName": "T1", "Item": {}}},
        {"Update": {"TableName": "T2", "Key": {}}},
        {"ConditionCheck": {"TableName": "T2", "Key": {}}},
        {"Delete": {"TableName": "T1", "Key": {}}},
        {"Put": {"TableName": "T1", "Item": {}}}
    ]});
    assert_eq!(
        run("dynamodb", "TransactWriteItems", input),
        vec![c("dynamodb:ConditionCheckItem", T2), c("dynamodb:PutItem", T1), c("dynamodb:UpdateItem", T2), c("dynamodb:DeleteItem", T1)]
    );
    let input = json!({"TransactItems": [{"Get": {"TableName": "T1"}}, {"Get": {"TableName": "T2"}}]});
    assert_eq!(run("dynamodb", "TransactGetItems", input), vec![c("dynamodb:GetItem", T1), c("dynamodb:GetItem", T2)]);
}

#[test]
fn dynamodb_an_empty_transaction_still_needs_a_permission() {
    assert_eq!(run("dynamodb", "TransactWriteItems", json!({"TransactItems": []})), vec![c("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:us-east-1:000000000000:table/")]);
}

#[test]
fn dynamodb_partiql_authorizes_the_statement_kind_on_its_table() {
    let one = |s: &str| run("dynamodb", "ExecuteStatement", json!({"Statement": s}));
    assert_eq!(one(r#"SELECT * FROM "T1" WHERE pk = ?"#), vec![c("dynamodb:PartiQLSelect", T1)]);
    assert_eq!(one(r#"select a from "T1"."I" where pk='x'"#), vec![c("dynamodb:PartiQLSelect", &format!("{T1}/index/I"))]);
    assert_eq!(one(r#"INSERT INTO "T2" VALUE {'pk': 'a'}"#), vec![c("dynamodb:PartiQLInsert", T2)]);
    assert_eq!(one("UPDATE T1 SET a = 1 WHERE pk = 'x'"), vec![c("dynamodb:PartiQLUpdate", T1)]);
    assert_eq!(one(r#"DELETE FROM "T2" WHERE pk = 'x'"#), vec![c("dynamodb:PartiQLDelete", T2)]);
    assert_eq!(one("EXPLAIN nothing"), vec![c("dynamodb:PartiQLUnknown", "arn:aws:dynamodb:us-east-1:000000000000:table/")]);
    let batch = json!({"Statements": [{"Statement": r#"SELECT * FROM "T1""#}, {"Statement": r#"DELETE FROM "T2" WHERE pk='a'"#}]});
    assert_eq!(run("dynamodb", "BatchExecuteStatement", batch), vec![c("dynamodb:PartiQLSelect", T1), c("dynamodb:PartiQLDelete", T2)]);
    let tx = json!({"TransactStatements": [{"Statement": r#"EXISTS(SELECT * FROM "T1" WHERE pk='a')"#}, {"Statement": r#"UPDATE "T2" SET b=1 WHERE pk='a'"#}]});
    assert_eq!(run("dynamodb", "ExecuteTransaction", tx), vec![c("dynamodb:PartiQLSelect", T1), c("dynamodb:PartiQLUpdate", T2)]);
}

#[test]
fn dynamodb_list_tables_and_describe_endpoints() {
    assert_eq!(run("dynamodb", "ListTables", json!({})), vec![c("dynamodb:ListTables", "*")]);
    assert_eq!(run("dynamodb", "DescribeEndpoints", json!({})), vec![]);
}

#[test]
fn dynamodb_streams_authorize_on_the_stream_arn() {
    let stream = "arn:aws:dynamodb:us-east-1:000000000000:table/T1/stream/2024-01-01T00:00:00.000";
    assert_eq!(run("dynamodb", "DescribeStream", json!({"StreamArn": stream})), vec![c("dynamodb:DescribeStream", stream)]);
    assert_eq!(run("dynamodb", "GetRecords", json!({"ShardIterator": format!("{stream}|1|opaque")})), vec![c("dynamodb:GetRecords", stream)]);
    assert_eq!(run("dynamodb", "ListStreams", json!({"TableName": "T1"})), vec![c("dynamodb:ListStreams", "*")]);
}

// --- Lambda (list_awslambda.html; lambda-api-permissions-ref.html)

const FN: &str = "arn:aws:lambda:us-east-1:000000000000:function:f";

#[test]
fn lambda_invoke_names_the_function_with_its_qualifier() {
    let inv = |input: Value| run("lambda", "Invoke", input);
    assert_eq!(inv(json!({"FunctionName": "f"})), vec![c("lambda:InvokeFunction", FN)]);
    assert_eq!(inv(json!({"FunctionName": "f", "Qualifier": "live"})), vec![c("lambda:InvokeFunction", &format!("{FN}:live"))]);
    assert_eq!(inv(json!({"FunctionName": "f:3"})), vec![c("lambda:InvokeFunction", &format!("{FN}:3"))]);
    assert_eq!(inv(json!({"FunctionName": "111111111111:function:f"})), vec![c("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:111111111111:function:f")]);
    assert_eq!(
        inv(json!({"FunctionName": "arn:aws:lambda:eu-west-1:111111111111:function:f:live"})),
        vec![c("lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:111111111111:function:f:live")]
    );
}

#[test]
fn lambda_create_function_needs_pass_role() {
    let role = "arn:aws:iam::000000000000:role/exec";
    assert_eq!(
        run("lambda", "CreateFunction", json!({"FunctionName": "f", "Role": role, "Code": {}})),
        vec![c("lambda:CreateFunction", FN), c("iam:PassRole", role)]
    );
}

#[test]
fn lambda_event_source_mappings_and_layers() {
    assert_eq!(run("lambda", "CreateEventSourceMapping", json!({"FunctionName": "f"})), vec![c("lambda:CreateEventSourceMapping", "*")]);
    assert_eq!(
        run("lambda", "DeleteEventSourceMapping", json!({"UUID": "u-1"})),
        vec![c("lambda:DeleteEventSourceMapping", "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:u-1")]
    );
    assert_eq!(
        run("lambda", "GetLayerVersion", json!({"LayerName": "l", "VersionNumber": 2})),
        vec![c("lambda:GetLayerVersion", "arn:aws:lambda:us-east-1:000000000000:layer:l:2")]
    );
    assert_eq!(run("lambda", "ListFunctions", json!({})), vec![c("lambda:ListFunctions", "*")]);
}

// --- CloudWatch Logs (list_amazoncloudwatchlogs.html)

#[test]
fn logs_put_log_events_names_the_stream_and_group_actions_name_the_group() {
    assert_eq!(
        run("logs", "PutLogEvents", json!({"logGroupName": "/aws/lambda/f", "logStreamName": "s1", "logEvents": []})),
        vec![c("logs:PutLogEvents", "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:log-stream:s1")]
    );
    assert_eq!(
        run("logs", "CreateLogGroup", json!({"logGroupName": "/aws/lambda/f"})),
        vec![c("logs:CreateLogGroup", "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:log-stream:")]
    );
    // CreateLogGroup with tags: "An additional permission \"logs:TagResource\" is required."
    assert_eq!(
        run("logs", "CreateLogGroup", json!({"logGroupName": "g", "tags": {"k": "v"}})),
        vec![
            c("logs:CreateLogGroup", "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:"),
            c("logs:TagResource", "arn:aws:logs:us-east-1:000000000000:log-group:g")
        ]
    );
    assert_eq!(run("logs", "DescribeLogGroups", json!({})), vec![c("logs:DescribeLogGroups", "arn:aws:logs:us-east-1:000000000000:log-group::log-stream:")]);
    assert_eq!(
        run("logs", "DescribeLogStreams", json!({"logGroupIdentifier": "arn:aws:logs:eu-west-1:111111111111:log-group:g:*"})),
        vec![c("logs:DescribeLogStreams", "arn:aws:logs:eu-west-1:111111111111:log-group:g:log-stream:")]
    );
}

// --- IAM and STS (list_awsidentityandaccessmanagementiam.html, list_awssecuritytokenservice.html)

#[test]
fn iam_create_role_uses_the_path_it_is_given() {
    assert_eq!(run("iam", "CreateRole", json!({"RoleName": "r"})), vec![c("iam:CreateRole", "arn:aws:iam::000000000000:role/r")]);
    assert_eq!(run("iam", "CreateRole", json!({"RoleName": "r", "Path": "/app/"})), vec![c("iam:CreateRole", "arn:aws:iam::000000000000:role/app/r")]);
}

#[test]
fn iam_entities_get_their_path_from_the_lookup() {
    let lookup = |kind: &str, name: &str| match (kind, name) {
        ("role", "r") => Some("arn:aws:iam::000000000000:role/app/r".to_string()),
        ("user", "") => Some("arn:aws:iam::000000000000:user/me".to_string()),
        _ => None,
    };
    let input = json!({"RoleName": "r", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"});
    let with_policy_arn = Check { keys: vec![("iam:PolicyARN".into(), vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()])], ..c("iam:AttachRolePolicy", "arn:aws:iam::000000000000:role/app/r") };
    assert_eq!(checks_with("iam", "AttachRolePolicy", R, A, &input, &lookup), Some(vec![with_policy_arn]));
    assert_eq!(run("iam", "AttachRolePolicy", input), vec![c("iam:AttachRolePolicy", "arn:aws:iam::000000000000:role/r")]);
    // No UserName: the caller's own user.
    assert_eq!(checks_with("iam", "CreateAccessKey", R, A, &json!({}), &lookup), Some(vec![c("iam:CreateAccessKey", "arn:aws:iam::000000000000:user/me")]));
    assert_eq!(run("iam", "ListRoles", json!({})), vec![c("iam:ListRoles", "*")]);
    assert_eq!(
        run("iam", "GetPolicy", json!({"PolicyArn": "arn:aws:iam::000000000000:policy/p"})),
        vec![c("iam:GetPolicy", "arn:aws:iam::000000000000:policy/p")]
    );
}

#[test]
fn sts_assume_role_and_caller_identity() {
    let role = "arn:aws:iam::111111111111:role/r";
    assert_eq!(run("sts", "AssumeRole", json!({"RoleArn": role, "RoleSessionName": "s"})), vec![c("sts:AssumeRole", role)]);
    assert_eq!(
        run("sts", "AssumeRole", json!({"RoleArn": role, "RoleSessionName": "s", "Tags": [{"Key": "k", "Value": "v"}]})),
        vec![c("sts:AssumeRole", role), c("sts:TagSession", role)]
    );
    // API_GetCallerIdentity: "No permissions are required to perform this operation."
    assert_eq!(run("sts", "GetCallerIdentity", json!({})), vec![]);
    assert_eq!(
        run("sts", "GetFederationToken", json!({"Name": "bob"})),
        vec![c("sts:GetFederationToken", "arn:aws:sts::000000000000:federated-user/bob")]
    );
}

/// API Gateway's data plane asks for `execute-api:Invoke` on the route's ARN (Service
/// Authorization Reference, Amazon API Gateway: `execute-api:Invoke` on
/// `arn:${Partition}:execute-api:${Region}:${Account}:${ApiId}/${Stage}/${Method}/${ApiSpecificResourcePath}`).
#[test]
fn execute_api_invoke_is_on_the_route_arn() {
    let arn = "arn:aws:execute-api:us-east-1:111111111111:abcdefghij/$default/GET/pets/1";
    assert_eq!(run("execute-api", "Invoke", json!({ "Arn": arn })), vec![c("execute-api:Invoke", arn)]);
}

/// SNS: topic operations on the topic's ARN, Subscribe with `sns:Endpoint` / `sns:Protocol`,
/// PublishBatch as `sns:Publish`, listing on `*`
/// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html).
#[test]
fn sns_operations_name_the_topic() {
    let topic = "arn:aws:sns:us-east-1:000000000000:orders";
    let c = checks("sns", "Publish", R, A, &json!({"TopicArn": topic})).expect("Publish");
    assert_eq!((c[0].action.as_str(), c[0].resource.as_str()), ("sns:Publish", topic));
    let c = checks("sns", "PublishBatch", R, A, &json!({"TopicArn": topic})).expect("PublishBatch");
    assert_eq!(c[0].action, "sns:Publish");
    let c = checks("sns", "CreateTopic", R, A, &json!({"Name": "orders", "Tags": [{"Key": "k", "Value": "v"}]})).expect("CreateTopic");
    assert_eq!(c.iter().map(|c| (c.action.as_str(), c.resource.as_str())).collect::<Vec<_>>(), [("sns:CreateTopic", topic), ("sns:TagResource", topic)]);
    let c = checks("sns", "Subscribe", R, A, &json!({"TopicArn": topic, "Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:000000000000:q"})).expect("Subscribe");
    assert!(c[0].keys.iter().any(|(k, v)| k == "sns:Protocol" && v == &vec!["sqs".to_string()]), "{:?}", c[0].keys);
    let c = checks("sns", "ListTopics", R, A, &json!({})).expect("ListTopics");
    assert_eq!(c[0].resource, "*");
}

// --- EventBridge (list_amazoneventbridge.html; eb-manage-iam-access.html for the ARN forms)

const BUS: &str = "arn:aws:events:us-east-1:000000000000:event-bus/";
const RULE: &str = "arn:aws:events:us-east-1:000000000000:rule/";

#[test]
fn events_rules_on_the_default_bus_have_no_bus_segment() {
    assert_eq!(run("events", "PutRule", json!({"Name": "r1"})), vec![c("events:PutRule", &format!("{RULE}r1"))]);
    assert_eq!(run("events", "PutRule", json!({"Name": "r1", "EventBusName": "default"})), vec![c("events:PutRule", &format!("{RULE}r1"))]);
    assert_eq!(run("events", "DeleteRule", json!({"Name": "r1", "EventBusName": "orders"})), vec![c("events:DeleteRule", &format!("{RULE}orders/r1"))]);
    // The bus may be given as its ARN, which also names the account.
    assert_eq!(
        run("events", "DescribeRule", json!({"Name": "r1", "EventBusName": "arn:aws:events:us-east-1:111111111111:event-bus/orders"})),
        vec![c("events:DescribeRule", "arn:aws:events:us-east-1:111111111111:rule/orders/r1")]
    );
}

#[test]
fn events_put_targets_is_on_the_rule_and_passes_the_target_roles() {
    let role = "arn:aws:iam::000000000000:role/invoke";
    let input = json!({"Rule": "r1", "EventBusName": "orders", "Targets": [{"Id": "1", "Arn": "arn:aws:sqs:us-east-1:000000000000:q"}, {"Id": "2", "Arn": "x", "RoleArn": role}]});
    assert_eq!(run("events", "PutTargets", input), vec![c("events:PutTargets", &format!("{RULE}orders/r1")), c("iam:PassRole", role)]);
    assert_eq!(run("events", "RemoveTargets", json!({"Rule": "r1", "Ids": ["1"]})), vec![c("events:RemoveTargets", &format!("{RULE}r1"))]);
}

#[test]
fn events_put_events_is_on_each_bus_with_source_and_detail_type_keys() {
    assert_eq!(run("events", "PutEvents", json!({"Entries": [{"Source": "s", "DetailType": "d", "Detail": "{}"}]})), vec![c("events:PutEvents", &format!("{BUS}default"))]);
    let input = json!({"Entries": [
        {"Source": "a", "DetailType": "x", "EventBusName": "orders"},
        {"Source": "b", "DetailType": "y", "EventBusName": "arn:aws:events:us-east-1:000000000000:event-bus/audit"}
    ]});
    assert_eq!(run("events", "PutEvents", input.clone()), vec![c("events:PutEvents", &format!("{BUS}orders")), c("events:PutEvents", &format!("{BUS}audit"))]);
    let got = checks("events", "PutEvents", R, A, &input).expect("PutEvents");
    assert_eq!(got[0].keys, vec![("events:detail-type".to_string(), vec!["x".to_string(), "y".to_string()]), ("events:source".to_string(), vec!["a".to_string(), "b".to_string()])]);
}

#[test]
fn events_other_resources_and_star() {
    let arn = |t: &str| format!("arn:aws:events:us-east-1:000000000000:{t}");
    assert_eq!(run("events", "CreateEventBus", json!({"Name": "orders"})), vec![c("events:CreateEventBus", &format!("{BUS}orders"))]);
    assert_eq!(run("events", "DescribeEventBus", json!({})), vec![c("events:DescribeEventBus", &format!("{BUS}default"))]);
    assert_eq!(
        run("events", "CreateArchive", json!({"ArchiveName": "a", "EventSourceArn": format!("{BUS}orders")})),
        vec![c("events:CreateArchive", &arn("archive/a")), c("events:CreateArchive", &format!("{BUS}orders"))]
    );
    assert_eq!(run("events", "DescribeReplay", json!({"ReplayName": "p"})), vec![c("events:DescribeReplay", &arn("replay/p"))]);
    assert_eq!(run("events", "DeleteConnection", json!({"Name": "cn"})), vec![c("events:DeleteConnection", &arn("connection/cn"))]);
    assert_eq!(run("events", "DescribeApiDestination", json!({"Name": "d"})), vec![c("events:DescribeApiDestination", &arn("api-destination/d"))]);
    assert_eq!(run("events", "TagResource", json!({"ResourceARN": arn("rule/r1"), "Tags": []})), vec![c("events:TagResource", &arn("rule/r1"))]);
    assert_eq!(run("events", "ListRules", json!({})), vec![c("events:ListRules", "*")]);
    assert_eq!(run("events", "TestEventPattern", json!({"EventPattern": "{}", "Event": "{}"})), vec![c("events:TestEventPattern", "*")]);
}

// --- API Gateway v2 control plane (list_amazonapigatewaymanagementv2.html: HTTP verbs on REST paths)

const APIS: &str = "arn:aws:apigateway:us-east-1::/apis";

#[test]
fn apigateway_actions_are_verbs_on_the_rest_path() {
    assert_eq!(run("apigateway", "GetApis", json!({})), vec![c("apigateway:GET", APIS)]);
    assert_eq!(run("apigateway", "CreateApi", json!({"Name": "a", "ProtocolType": "HTTP"})), vec![c("apigateway:POST", APIS)]);
    assert_eq!(run("apigateway", "GetApi", json!({"ApiId": "abc"})), vec![c("apigateway:GET", &format!("{APIS}/abc"))]);
    assert_eq!(run("apigateway", "UpdateRoute", json!({"ApiId": "abc", "RouteId": "r1"})), vec![c("apigateway:PATCH", &format!("{APIS}/abc/routes/r1"))]);
    assert_eq!(run("apigateway", "DeleteStage", json!({"ApiId": "abc", "StageName": "$default"})), vec![c("apigateway:DELETE", &format!("{APIS}/abc/stages/$default"))]);
    assert_eq!(run("apigateway", "ImportApi", json!({"Body": "{}"})), vec![c("apigateway:PUT", APIS)]);
    // Tags: the resource's ARN, URL-encoded, under /tags.
    assert_eq!(
        run("apigateway", "TagResource", json!({"ResourceArn": "arn:aws:apigateway:us-east-1::/apis/abc", "Tags": {}})),
        vec![c("apigateway:POST", "arn:aws:apigateway:us-east-1::/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fabc")]
    );
}

/// Every API Gateway v2 entry asks for its model's HTTP method on its model's request URI
/// (without `/v2`), path members filled in — so the data cannot drift from the model.
#[test]
fn apigateway_entries_follow_the_model_http_binding() {
    let m = model("apigateway/model/apigatewayv2-2018-11-29.json");
    let routing_rules = ["CreateRoutingRule", "DeleteRoutingRule", "GetRoutingRule", "ListRoutingRules", "PutRoutingRule"];
    for (op, def) in m["operations"].as_object().expect("operations") {
        let http = &def["http"];
        let mut uri = http["requestUri"].as_str().expect("requestUri").trim_start_matches("/v2").to_string();
        let mut input = serde_json::Map::new();
        if let Some(shape) = def["input"]["shape"].as_str() {
            for (member, spec) in m["shapes"][shape]["members"].as_object().expect("members") {
                if spec["location"] == "uri" {
                    let loc = spec["locationName"].as_str().expect("locationName");
                    let value = format!("v-{member}");
                    uri = uri.replace(&format!("{{{loc}}}"), &value);
                    input.insert(member.clone(), Value::String(value));
                }
            }
        }
        let got = run("apigateway", op, Value::Object(input));
        assert_eq!(got.len(), 1, "{op}");
        assert_eq!(got[0].resource, format!("arn:aws:apigateway:us-east-1::{uri}"), "{op}");
        if !routing_rules.contains(&op.as_str()) {
            assert_eq!(got[0].action, format!("apigateway:{}", http["method"].as_str().expect("method")), "{op}");
        }
    }
}

/// S3: every operation nimbus's S3 dispatches (`crates/s3/src/service.rs`,
/// `service_events.rs`) is mapped, and every mapped operation is one of S3's model (the
/// map covers what nimbus serves, not the whole model).
#[test]
fn s3_maps_every_operation_nimbus_serves_and_only_model_operations() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model_ops = model("s3/model/s3-2006-03-01.json")["operations"].as_object().expect("operations").clone();
    let mapped = operations("s3");
    assert!(!mapped.is_empty(), "no s3 operations: the map did not load");
    let extra: Vec<&String> = mapped.iter().filter(|op| !model_ops.contains_key(*op)).collect();
    assert!(extra.is_empty(), "s3 entries for operations the model does not define: {extra:?}");
    let mut missing = Vec::new();
    for file in ["s3/src/service.rs", "s3/src/service_events.rs"] {
        let text = std::fs::read_to_string(root.join(file)).expect("s3 source");
        for line in text.lines().filter(|l| l.contains("=>")) {
            let arms = line.split("=>").next().unwrap_or("");
            for op in arms.split('|').filter_map(|a| a.trim().strip_prefix('"')?.strip_suffix('"')) {
                if model_ops.contains_key(op) && !mapped.iter().any(|m| m == op) {
                    missing.push(op.to_string());
                }
            }
        }
    }
    assert!(missing.is_empty(), "s3 operations nimbus serves with no IAM mapping: {missing:?}");
    // Spot checks against the Service Authorization Reference.
    assert_eq!(run("s3", "HeadBucket", json!({"Bucket": "b"})), vec![c("s3:ListBucket", "arn:aws:s3:::b")]);
    assert_eq!(run("s3", "DeleteObject", json!({"Bucket": "b", "Key": "k", "VersionId": "1"}))[0].action, "s3:DeleteObjectVersion");
    assert_eq!(run("s3", "ListParts", json!({"Bucket": "b", "Key": "k", "UploadId": "u"})), vec![c("s3:ListMultipartUploadParts", "arn:aws:s3:::b/k")]);
    assert_eq!(run("s3", "DeleteBucketCors", json!({"Bucket": "b"})), vec![c("s3:PutBucketCORS", "arn:aws:s3:::b")]);
    let put: Vec<String> = run("s3", "PutObject", json!({"Bucket": "b", "Key": "k", "ACL": "private", "Tagging": "a=b"})).into_iter().map(|c| c.action).collect();
    assert_eq!(put, ["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging"]);
}

/// CloudWatch alarms: the alarm operations on `arn:aws:cloudwatch:<r>:<a>:alarm:<name>`
/// (one check per name), the listing ones on `*`, tags on the ARN given.
/// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
#[test]
fn cloudwatch_alarm_operations_name_their_alarms() {
    let arn = |n: &str| format!("arn:aws:cloudwatch:{R}:{A}:alarm:{n}");
    assert_eq!(run("monitoring", "PutMetricAlarm", json!({"AlarmName": "hot"})), vec![c("cloudwatch:PutMetricAlarm", &arn("hot"))]);
    assert_eq!(run("monitoring", "DeleteAlarms", json!({"AlarmNames": ["a", "b"]})), vec![c("cloudwatch:DeleteAlarms", &arn("a")), c("cloudwatch:DeleteAlarms", &arn("b"))]);
    assert_eq!(run("monitoring", "DescribeAlarms", json!({})), vec![c("cloudwatch:DescribeAlarms", "*")]);
    assert_eq!(run("monitoring", "TagResource", json!({"ResourceARN": arn("t")})), vec![c("cloudwatch:TagResource", &arn("t"))]);
}

// --- Kinesis (list_amazonkinesisdatastreams.html)

/// Operations that take a StreamName or a StreamARN authorize the stream either names;
/// the ARN also names region and account.
#[test]
fn kinesis_stream_operations_bind_the_stream_name_or_arn() {
    let stream = |n: &str| format!("arn:aws:kinesis:{R}:{A}:stream/{n}");
    assert_eq!(run("kinesis", "PutRecord", json!({"StreamName": "s1", "Data": "eA==", "PartitionKey": "k"})), vec![c("kinesis:PutRecord", &stream("s1"))]);
    let other = "arn:aws:kinesis:eu-west-1:111111111111:stream/s2";
    assert_eq!(run("kinesis", "PutRecords", json!({"StreamARN": other, "Records": []})), vec![c("kinesis:PutRecords", other)]);
    assert_eq!(run("kinesis", "DescribeStreamSummary", json!({"StreamARN": other})), vec![c("kinesis:DescribeStreamSummary", other)]);
    let create: Vec<String> = run("kinesis", "CreateStream", json!({"StreamName": "s", "Tags": {"a": "b"}})).into_iter().map(|c| c.action).collect();
    assert_eq!(create, ["kinesis:CreateStream", "kinesis:AddTagsToStream"]);
    assert_eq!(run("kinesis", "ListStreams", json!({})), vec![c("kinesis:ListStreams", "*")]);
    assert_eq!(run("kinesis", "UpdateShardCount", json!({"StreamName": "s", "TargetShardCount": 2})), vec![c("kinesis:UpdateShardCount", "*")]);
}

/// GetRecords: the stream of nimbus's iterator (base64 of
/// `nimbus-kinesis-iterator|id|shard|position|issued|name`), or the StreamARN when given.
#[test]
fn kinesis_get_records_names_the_stream_of_its_iterator() {
    use base64::Engine;
    let iterator = base64::engine::general_purpose::STANDARD.encode("nimbus-kinesis-iterator|7|0|12|1700000000000|orders");
    assert_eq!(run("kinesis", "GetRecords", json!({"ShardIterator": iterator})), vec![c("kinesis:GetRecords", &format!("arn:aws:kinesis:{R}:{A}:stream/orders"))]);
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/other";
    assert_eq!(run("kinesis", "GetRecords", json!({"ShardIterator": iterator, "StreamARN": arn})), vec![c("kinesis:GetRecords", arn)]);
}

/// Consumers: SubscribeToShard on the ConsumerARN; Describe/Deregister on the ConsumerARN
/// or the consumer the StreamARN and ConsumerName name; encryption on stream and key.
#[test]
fn kinesis_consumer_and_encryption_operations() {
    let consumer = "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000";
    assert_eq!(run("kinesis", "SubscribeToShard", json!({"ConsumerARN": consumer, "ShardId": "shardId-000000000000"})), vec![c("kinesis:SubscribeToShard", consumer)]);
    assert_eq!(run("kinesis", "DescribeStreamConsumer", json!({"ConsumerARN": consumer})), vec![c("kinesis:DescribeStreamConsumer", consumer)]);
    let by_name = run("kinesis", "DeregisterStreamConsumer", json!({"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s", "ConsumerName": "c"}));
    assert_eq!(by_name, vec![c("kinesis:DeregisterStreamConsumer", "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:")]);
    // Kinesis knows the consumer's creation timestamp (lookup kind `kinesis-consumer`).
    let lookup = |kind: &str, name: &str| (kind == "kinesis-consumer" && name == "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:").then(|| consumer.to_string());
    let found = checks_with("kinesis", "DescribeStreamConsumer", R, A, &json!({"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s", "ConsumerName": "c"}), &lookup);
    assert_eq!(found, Some(vec![c("kinesis:DescribeStreamConsumer", consumer)]));
    let enc = run("kinesis", "StartStreamEncryption", json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}));
    assert_eq!(enc, vec![c("kinesis:StartStreamEncryption", &format!("arn:aws:kinesis:{R}:{A}:stream/s")), c("kinesis:StartStreamEncryption", &format!("arn:aws:kms:{R}:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"))]);
}

// --- Step Functions (list_awsstepfunctions.html; auth-version-alias.html)

/// Versions and aliases are authorized on their state machine's ARN, the qualifier in
/// `states:StateMachineQualifier`; executions, map runs and activities on their own ARN.
#[test]
fn step_functions_operations_name_state_machines_executions_and_activities() {
    let sm = format!("arn:aws:states:{R}:{A}:stateMachine:flow");
    assert_eq!(run("states", "StartExecution", json!({"stateMachineArn": sm})), vec![c("states:StartExecution", &sm)]);
    assert_eq!(run("states", "StartExecution", json!({"stateMachineArn": format!("{sm}:PROD")})), vec![c("states:StartExecution", &sm)]);
    let none = &|_: &str, _: &str| None;
    assert_eq!(keys_of("states", "StartExecution", json!({"stateMachineArn": format!("{sm}:PROD")}), "states:StartExecution", none), vec![k("states:StateMachineQualifier", &["PROD"])]);
    assert_eq!(keys_of("states", "DescribeStateMachine", json!({"stateMachineArn": sm}), "states:DescribeStateMachine", none), vec![]);
    assert_eq!(run("states", "DeleteStateMachineVersion", json!({"stateMachineVersionArn": format!("{sm}:3")})), vec![c("states:DeleteStateMachineVersion", &sm)]);
    let exec = format!("arn:aws:states:{R}:{A}:execution:flow:run-1");
    assert_eq!(run("states", "DescribeExecution", json!({"executionArn": exec})), vec![c("states:DescribeExecution", &exec)]);
    let express = format!("arn:aws:states:{R}:{A}:express:flow:run-1:abc");
    assert_eq!(run("states", "DescribeExecution", json!({"executionArn": express})), vec![c("states:DescribeExecution", &express)]);
    let map_run = format!("arn:aws:states:{R}:{A}:mapRun:flow/m:1");
    assert_eq!(run("states", "ListExecutions", json!({"mapRunArn": map_run})), vec![c("states:ListExecutions", &map_run)]);
    assert_eq!(run("states", "CreateActivity", json!({"name": "work"})), vec![c("states:CreateActivity", &format!("arn:aws:states:{R}:{A}:activity:work"))]);
    assert_eq!(run("states", "SendTaskSuccess", json!({"taskToken": "t", "output": "{}"})), vec![c("states:SendTaskSuccess", "*")]);
    let alias = run("states", "CreateStateMachineAlias", json!({"name": "live", "routingConfiguration": [{"stateMachineVersionArn": format!("{sm}:1"), "weight": 50}, {"stateMachineVersionArn": format!("{sm}:2"), "weight": 50}]}));
    assert_eq!(alias, vec![c("states:CreateStateMachineAlias", &sm)]);
}

/// CreateStateMachine passes its role (iam:PassRole to states.amazonaws.com), publishes
/// only with `publish: true`, tags with `tags`.
#[test]
fn step_functions_create_state_machine_passes_its_role() {
    let role = format!("arn:aws:iam::{A}:role/sfn");
    let sm = format!("arn:aws:states:{R}:{A}:stateMachine:flow");
    let plain = run("states", "CreateStateMachine", json!({"name": "flow", "roleArn": role, "definition": "{}", "publish": false}));
    assert_eq!(plain, vec![c("states:CreateStateMachine", &sm), c("iam:PassRole", &role)]);
    let none = &|_: &str, _: &str| None;
    assert_eq!(keys_of("states", "CreateStateMachine", json!({"name": "flow", "roleArn": role}), "iam:PassRole", none), vec![k("iam:PassedToService", &["states.amazonaws.com"])]);
    let all: Vec<String> = run("states", "CreateStateMachine", json!({"name": "flow", "roleArn": role, "publish": true, "tags": [{"key": "a", "value": "b"}]})).into_iter().map(|c| c.action).collect();
    assert_eq!(all, ["states:CreateStateMachine", "iam:PassRole", "states:PublishStateMachineVersion", "states:TagResource"]);
}
