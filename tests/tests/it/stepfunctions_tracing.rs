//! Step Functions' X-Ray tracing through the AWS SDK for Rust: a machine with
//! `tracingConfiguration.enabled` records its execution's segment (origin
//! `AWS::StepFunctions::StateMachine`, named after the machine) with a subsegment for its
//! Task state, and the Lambda function the Task invokes runs in the same trace, its
//! segments children of that subsegment; a machine without tracing records nothing; a
//! sampled `traceHeader` in StartExecution continues the caller's trace; a failed execution
//! is a fault, its failed Task's subsegment an error, both with the error as cause.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html>
//! <https://docs.aws.amazon.com/xray/latest/api/API_BatchGetTraces.html>

use crate::stepfunctions::sfn as sfn_client;
use aws_sdk_sfn::types::{ExecutionStatus, TracingConfiguration};
use aws_sdk_xray::primitives::DateTime;
use nimbus_tests::lambda::{self, FnSpec};
use nimbus_tests::{unique_name, Nimbus};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ROLE: &str = "arn:aws:iam::000000000000:role/sfn-role";


/// A machine whose one Task invokes `function` (traced when `traced`): (name, ARN).
async fn machine(sfn: &aws_sdk_sfn::Client, function: &str, traced: bool) -> (String, String) {
    let name = unique_name("traced");
    let definition = json!({ "StartAt": "Call", "States": { "Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": { "FunctionName": function, "Payload.$": "$" }, "OutputPath": "$.Payload", "End": true } } });
    let arn = sfn
        .create_state_machine()
        .name(&name)
        .definition(definition.to_string())
        .role_arn(ROLE)
        .tracing_configuration(TracingConfiguration::builder().enabled(traced).build())
        .send()
        .await
        .expect("CreateStateMachine")
        .state_machine_arn;
    (name, arn)
}

/// Runs the machine to its end: (execution ARN, DescribeExecution's `traceHeader`).
async fn run(sfn: &aws_sdk_sfn::Client, machine: &str, trace_header: Option<&str>) -> (String, Option<String>) {
    let arn = sfn.start_execution().state_machine_arn(machine).input(r#"{"hello":"xray"}"#).set_trace_header(trace_header.map(str::to_string)).send().await.expect("StartExecution").execution_arn;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = sfn.describe_execution().execution_arn(&arn).send().await.expect("DescribeExecution");
        if d.status != ExecutionStatus::Running {
            assert_eq!(d.status, ExecutionStatus::Succeeded, "{:?} {:?}", d.error, d.cause);
            return (arn, d.trace_header);
        }
        assert!(Instant::now() < deadline, "execution {arn} still running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The segment documents of a trace once `done` holds for them (or 30 s have passed:
/// segments are written in the background).
async fn segments_until(xray: &aws_sdk_xray::Client, root: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = xray.batch_get_traces().trace_ids(root).send().await.expect("BatchGetTraces");
        let docs: Vec<Value> = out.traces().iter().flat_map(|t| t.segments()).filter_map(|s| s.document()).map(|d| serde_json::from_str(d).expect("segment document is JSON")).collect();
        if done(&docs) || Instant::now() > deadline {
            return docs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn with_origin<'a>(docs: &'a [Value], origin: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["origin"] == origin).collect()
}

fn root_of(header: &str) -> String {
    header.split(';').find_map(|p| p.strip_prefix("Root=")).unwrap_or_else(|| panic!("no Root in {header}")).to_string()
}

/// The traces X-Ray summarises for the last ten minutes.
async fn trace_ids(xray: &aws_sdk_xray::Client) -> Vec<String> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let out = xray.get_trace_summaries().start_time(DateTime::from_secs(now - 600)).end_time(DateTime::from_secs(now + 600)).send().await.expect("GetTraceSummaries");
    out.trace_summaries().iter().filter_map(|s| s.id().map(str::to_string)).collect()
}

#[tokio::test]
async fn a_traced_execution_and_its_lambda_task_are_one_trace() {
    let n = Nimbus::start_in_memory();
    let (lc, sfn, xray) = (n.lambda_client(), sfn_client(&n), n.xray_client());
    let function = unique_name("echo");
    lambda::create(&lc, &function, FnSpec::python("handler.echo")).await;

    // First an untraced machine: it records nothing.
    let (_, plain) = machine(&sfn, &function, false).await;
    let (_, header) = run(&sfn, &plain, None).await;
    assert_eq!(header, None, "an untraced execution has no traceHeader");

    let (name, traced) = machine(&sfn, &function, true).await;
    let (exec_arn, header) = run(&sfn, &traced, None).await;
    let header = header.expect("a traced execution answers its traceHeader");
    assert!(header.contains("Sampled=1"), "{header}");
    let root = root_of(&header);
    let docs = segments_until(&xray, &root, |d| !with_origin(d, "AWS::StepFunctions::StateMachine").is_empty() && !with_origin(d, "AWS::Lambda::Function").is_empty()).await;

    let exec = with_origin(&docs, "AWS::StepFunctions::StateMachine");
    assert_eq!(exec.len(), 1, "{docs:#?}");
    let exec = exec[0];
    assert_eq!(exec["name"], name.as_str());
    assert_eq!(exec["trace_id"], root.as_str());
    assert_eq!(exec["aws"]["execution_arn"], exec_arn.as_str());
    assert_eq!(exec["aws"]["state_machine_arn"], traced.as_str());
    assert!(exec.get("parent_id").is_none(), "the execution started the trace: {exec}");
    assert!(exec.get("fault").is_none() && exec.get("error").is_none(), "{exec}");
    // The Task's subsegment, inside the execution's segment.
    let task = exec["subsegments"].as_array().and_then(|s| s.iter().find(|s| s["name"] == "Call")).unwrap_or_else(|| panic!("no Task subsegment: {exec:#}"));
    assert_eq!(task["aws"]["resource"], "arn:aws:states:::lambda:invoke");
    assert_eq!(task["aws"]["service"], "lambda");
    // The function's segments continue from the Task's subsegment.
    let service = with_origin(&docs, "AWS::Lambda");
    assert_eq!(service.len(), 1, "{docs:#?}");
    assert_eq!(service[0]["parent_id"], task["id"], "Lambda's segment is the Task's child: {}", Value::from(docs.clone()));
    let function_seg = with_origin(&docs, "AWS::Lambda::Function");
    assert_eq!(function_seg[0]["parent_id"], service[0]["id"]);

    // GetTraceSummaries knows that one trace only: the untraced execution recorded nothing.
    assert_eq!(trace_ids(&xray).await, vec![root]);
}

#[tokio::test]
async fn a_trace_header_in_start_execution_continues_the_callers_trace() {
    let n = Nimbus::start_in_memory();
    let (lc, sfn, xray) = (n.lambda_client(), sfn_client(&n), n.xray_client());
    let function = unique_name("echo");
    lambda::create(&lc, &function, FnSpec::python("handler.echo")).await;
    // Tracing off: the caller's sampled header is honoured all the same.
    let (name, plain) = machine(&sfn, &function, false).await;
    let root = "1-5759e988-bd862e3fe1be46a994272793";
    let (_, header) = run(&sfn, &plain, Some(&format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=1"))).await;
    assert_eq!(root_of(&header.expect("traceHeader")), root);
    let docs = segments_until(&xray, root, |d| !with_origin(d, "AWS::StepFunctions::StateMachine").is_empty() && !with_origin(d, "AWS::Lambda::Function").is_empty()).await;
    let exec = with_origin(&docs, "AWS::StepFunctions::StateMachine");
    assert_eq!(exec.len(), 1, "{docs:#?}");
    assert_eq!(exec[0]["name"], name.as_str());
    assert_eq!(exec[0]["parent_id"], "53995c3f42cd8ad8", "the caller's segment is the execution's parent");
    assert_eq!(with_origin(&docs, "AWS::Lambda::Function").len(), 1, "{docs:#?}");
}

#[tokio::test]
async fn a_failed_execution_is_a_fault_and_its_task_an_error() {
    let n = Nimbus::start_in_memory();
    let (lc, sfn, xray) = (n.lambda_client(), sfn_client(&n), n.xray_client());
    let function = unique_name("fail");
    lambda::create(&lc, &function, FnSpec::python("handler.fail")).await;
    let (_, traced) = machine(&sfn, &function, true).await;
    let arn = sfn.start_execution().state_machine_arn(&traced).input(r#"{"message":"sold out"}"#).send().await.expect("StartExecution").execution_arn;
    let deadline = Instant::now() + Duration::from_secs(60);
    let header = loop {
        let d = sfn.describe_execution().execution_arn(&arn).send().await.expect("DescribeExecution");
        if d.status != ExecutionStatus::Running {
            assert_eq!(d.status, ExecutionStatus::Failed);
            break d.trace_header.expect("traceHeader");
        }
        assert!(Instant::now() < deadline, "execution {arn} still running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let docs = segments_until(&xray, &root_of(&header), |d| !with_origin(d, "AWS::StepFunctions::StateMachine").is_empty()).await;
    let exec = with_origin(&docs, "AWS::StepFunctions::StateMachine");
    assert_eq!(exec.len(), 1, "{docs:#?}");
    assert_eq!(exec[0]["fault"], true, "{}", exec[0]);
    assert_eq!(exec[0]["cause"]["exceptions"][0]["type"], "ValueError");
    let task = exec[0]["subsegments"].as_array().and_then(|s| s.iter().find(|s| s["name"] == "Call")).unwrap_or_else(|| panic!("no Task subsegment: {}", exec[0]));
    assert_eq!(task["error"], true, "{task}");
    assert_eq!(task["cause"]["exceptions"][0]["type"], "ValueError");
}
