//! Step Functions' distributed Map (`ProcessorConfig.Mode: DISTRIBUTED`) through the AWS SDK
//! for Rust, the subset nimbus runs: items from the state input with `ItemSelector`,
//! `ItemBatcher` (`MaxItemsPerBatch`, `BatchInput`), tolerated failures exceeded
//! (`States.ExceedToleratedFailureThreshold`), `ItemReader` of S3 JSON and CSV
//! objects and S3 Inventory manifests, `ResultWriter` exports to S3 (manifest.json,
//! SUCCEEDED_0 / FAILED_0) and `WriterConfig` transformations, and the definition errors of
//! bad ResultWriter combinations; Map Runs: the items as child
//! executions (described, listed by `mapRunArn`, their own history and context), Describe /
//! List / UpdateMapRun, the parent's MapRun* events, abort on StopExecution, bad input, and
//! a Map Run that survives `kill -9`.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html>

use crate::stepfunctions::sfn;
use aws_sdk_sfn::types::ExecutionStatus;
use aws_sdk_sfn::Client;
use nimbus_tests::Nimbus;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ROLE: &str = "arn:aws:iam::000000000000:role/sfn";


/// Creates a machine around one distributed Map state, runs it and waits (up to 10 s) for its end.
async fn run(c: &Client, name: &str, map: Value, input: Value) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    let definition = json!({ "StartAt": "M", "States": { "M": map } });
    let arn = c.create_state_machine().name(name).definition(definition.to_string()).role_arn(ROLE).send().await.expect("create").state_machine_arn().to_string();
    let exec = c.start_execution().state_machine_arn(&arn).input(input.to_string()).send().await.expect("start").execution_arn().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = c.describe_execution().execution_arn(&exec).send().await.expect("describe");
        if d.status() != &ExecutionStatus::Running {
            return d;
        }
        assert!(Instant::now() < deadline, "{exec} still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn processor(states: Value, start: &str) -> Value {
    json!({ "ProcessorConfig": { "Mode": "DISTRIBUTED", "ExecutionType": "STANDARD" }, "StartAt": start, "States": states })
}

fn output(d: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput) -> Value {
    serde_json::from_str(d.output().expect("output")).expect("json output")
}

#[tokio::test]
async fn distributed_map_over_input_items_with_item_selector() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let map = json!({
        "Type": "Map", "Label": "Doubler", "ItemsPath": "$.items", "MaxConcurrency": 2,
        "ItemSelector": { "v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "tag.$": "$.tag" },
        "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "End": true } }), "P"),
        "End": true
    });
    let d = run(&c, "dmap-items", map, json!({ "items": [10, 20, 30], "tag": "t" })).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!([{ "v": 10, "i": 0, "tag": "t" }, { "v": 20, "i": 1, "tag": "t" }, { "v": 30, "i": 2, "tag": "t" }]));
}

#[tokio::test]
async fn distributed_map_batches_items_with_batch_input() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let map = json!({
        "Type": "Map", "ItemsPath": "$.items",
        "ItemBatcher": { "MaxItemsPerBatch": 2, "BatchInput": { "job.$": "$.job" } },
        "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "End": true } }), "P"),
        "End": true
    });
    let d = run(&c, "dmap-batch", map, json!({ "items": [1, 2, 3, 4, 5], "job": "j1" })).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(
        output(&d),
        json!([
            { "BatchInput": { "job": "j1" }, "Items": [1, 2] },
            { "BatchInput": { "job": "j1" }, "Items": [3, 4] },
            { "BatchInput": { "job": "j1" }, "Items": [5] }
        ])
    );
}

/// A processor (start "C") whose items over 1 fail with `Too.Big` / "item over 1".
fn fails_over_one() -> Value {
    json!({
        "C": { "Type": "Choice", "Choices": [{ "Variable": "$", "NumericGreaterThan": 1, "Next": "Bad" }], "Default": "Ok" },
        "Bad": { "Type": "Fail", "Error": "Too.Big", "Cause": "item over 1" },
        "Ok": { "Type": "Pass", "End": true }
    })
}

#[tokio::test]
async fn distributed_map_fails_past_tolerated_failures() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let states = fails_over_one();
    let map = json!({ "Type": "Map", "ToleratedFailureCount": 1, "ItemProcessor": processor(states, "C"), "End": true });
    let d = run(&c, "dmap-fail", map, json!([0, 1, 2, 3])).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed, "{d:?}");
    assert_eq!(d.error(), Some("States.ExceedToleratedFailureThreshold"));
}

/// Puts `body` at `key` in a new bucket; answers the bucket.
async fn object(n: &Nimbus, bucket: &str, key: &str, body: &str) {
    let s3 = n.s3_client();
    s3.create_bucket().bucket(bucket).send().await.expect("create bucket");
    s3.put_object().bucket(bucket).key(key).body(body.as_bytes().to_vec().into()).send().await.expect("put object");
}

fn reader(config: Value) -> Value {
    json!({ "Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config, "Parameters": { "Bucket.$": "$.bucket", "Key": "items" } })
}

#[tokio::test]
async fn distributed_map_reads_a_json_array_from_s3_with_max_items() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    object(&n, "dmap-json", "items", r#"[{"id": 1}, {"id": 2}, {"id": 3}]"#).await;
    let map = json!({
        "Type": "Map", "ItemReader": reader(json!({ "InputType": "JSON", "MaxItems": 2 })),
        "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "End": true } }), "P"),
        "End": true
    });
    let d = run(&c, "dmap-s3-json", map, json!({ "bucket": "dmap-json" })).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!([{ "id": 1 }, { "id": 2 }]));
}

#[tokio::test]
async fn distributed_map_reads_csv_from_s3_first_row_and_given_headers() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    object(&n, "dmap-csv", "items", "name,size\nalpha,1\n\"b, \"\"q\"\"\",22\n").await;
    let pass = || processor(json!({ "P": { "Type": "Pass", "End": true } }), "P");
    let map = json!({ "Type": "Map", "ItemReader": reader(json!({ "InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW" })), "ItemProcessor": pass(), "End": true });
    let d = run(&c, "dmap-s3-csv", map, json!({ "bucket": "dmap-csv" })).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!([{ "name": "alpha", "size": "1" }, { "name": "b, \"q\"", "size": "22" }]));
    let given = json!({ "InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", "b"] });
    let map = json!({ "Type": "Map", "ItemReader": reader(given), "ItemProcessor": pass(), "End": true });
    let d = run(&c, "dmap-s3-csv-given", map, json!({ "bucket": "dmap-csv" })).await;
    assert_eq!(output(&d)[0], json!({ "a": "name", "b": "size" }));
}

#[tokio::test]
async fn distributed_map_item_reader_missing_object_fails_the_execution() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let map = json!({ "Type": "Map", "ItemReader": reader(json!({ "InputType": "JSON" })), "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "End": true } }), "P"), "End": true });
    let d = run(&c, "dmap-s3-missing", map, json!({ "bucket": "no-such-bucket-dmap" })).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("States.ItemReaderFailed"));
}

#[tokio::test]
async fn distributed_map_reads_json_lines_from_s3() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    object(&n, "dmap-jsonl", "items", "{\"id\": 1}\n\n[2]\n\"three\"\n").await;
    let map = json!({ "Type": "Map", "ItemReader": reader(json!({ "InputType": "JSONL" })), "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "End": true } }), "P"), "End": true });
    let d = run(&c, "dmap-s3-jsonl", map, json!({ "bucket": "dmap-jsonl" })).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!([{ "id": 1 }, [2], "three"]));
}

#[tokio::test]
async fn distributed_map_lists_objects_from_s3() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    object(&n, "dmap-list", "in/a.txt", "aaa").await;
    n.s3_client().put_object().bucket("dmap-list").key("in/b.txt").body(b"bb".to_vec().into()).send().await.expect("put");
    n.s3_client().put_object().bucket("dmap-list").key("other").body(b"c".to_vec().into()).send().await.expect("put");
    let reader = json!({ "Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": { "Bucket": "dmap-list", "Prefix": "in/" } });
    let map = json!({ "Type": "Map", "ItemReader": reader, "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "End": true } }), "P"), "End": true });
    let d = run(&c, "dmap-s3-list", map, json!({})).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    let out = output(&d);
    assert_eq!(out.as_array().map(Vec::len), Some(2), "{out}");
    assert_eq!(out[0]["Key"], json!("in/a.txt"));
    assert_eq!(out[1]["Size"], json!(2));
    assert_eq!(out[0]["StorageClass"], json!("STANDARD"));
    assert!(out[0]["Etag"].as_str().is_some_and(|e| e.starts_with('"')), "{out}");
    assert!(out[0]["LastModified"].as_i64().is_some_and(|t| t > 1_600_000_000), "{out}");
}

#[tokio::test]
async fn distributed_map_batches_by_input_bytes() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    // {"Items":["aaaa","bbbb"]} is 25 bytes; a third item would make it 32.
    let map = json!({
        "Type": "Map", "ItemBatcher": { "MaxInputBytesPerBatch": 30 },
        "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "End": true } }), "P"),
        "End": true
    });
    let d = run(&c, "dmap-bytes", map, json!(["aaaa", "bbbb", "cccc"])).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!([{ "Items": ["aaaa", "bbbb"] }, { "Items": ["cccc"] }]));
}

// ---- Map Runs and child workflow executions -------------------------------------------
// <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html>

async fn create(c: &Client, name: &str, map: Value) -> String {
    let definition = json!({ "StartAt": "M", "States": { "M": map } });
    c.create_state_machine().name(name).definition(definition.to_string()).role_arn(ROLE).send().await.expect("create").state_machine_arn().to_string()
}

async fn start(c: &Client, machine: &str, input: Value) -> String {
    c.start_execution().state_machine_arn(machine).input(input.to_string()).send().await.expect("start").execution_arn().to_string()
}

/// Waits (up to 10 s) until `check` holds.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn ended(c: &Client, exec: &str) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    until("the execution ended", || async move { c.describe_execution().execution_arn(exec).send().await.expect("describe").status() != &ExecutionStatus::Running }).await;
    c.describe_execution().execution_arn(exec).send().await.expect("describe")
}

async fn history_types(c: &Client, exec: &str) -> Vec<String> {
    let h = c.get_execution_history().execution_arn(exec).max_results(1000).send().await.expect("history");
    h.events().iter().map(|e| e.r#type().as_str().to_string()).collect()
}

async fn only_map_run(c: &Client, exec: &str) -> String {
    let runs = c.list_map_runs().execution_arn(exec).send().await.expect("list map runs");
    assert_eq!(runs.map_runs().len(), 1, "{runs:?}");
    runs.map_runs()[0].map_run_arn().to_string()
}

#[tokio::test]
async fn distributed_map_items_run_as_child_executions_of_a_described_map_run() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let child = json!({ "P": { "Type": "Pass", "Parameters": { "v.$": "$.v", "id.$": "$$.Execution.Id", "input.$": "$$.Execution.Input" }, "End": true } });
    let map = json!({ "Type": "Map", "Label": "Doubler", "ItemsPath": "$.items", "ItemSelector": { "v.$": "$$.Map.Item.Value" }, "MaxConcurrency": 2, "ItemProcessor": processor(child, "P"), "End": true });
    let machine = create(&c, "dmap-children", map).await;
    let exec = start(&c, &machine, json!({ "items": [1, 2, 3] })).await;
    let d = ended(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    let out = output(&d);
    let ids: Vec<&str> = out.as_array().expect("array").iter().map(|o| o["id"].as_str().expect("id")).collect();
    for (i, o) in out.as_array().expect("array").iter().enumerate() {
        assert_eq!(o["v"], json!(i + 1));
        assert_eq!(o["input"], json!({ "v": i + 1 }), "a child's $$.Execution.Input is its item");
    }
    // Child execution ARNs: execution:<machine>/<label>:<id>, each its own.
    assert!(ids.iter().all(|id| id.starts_with("arn:aws:states:us-east-1:000000000000:execution:dmap-children/Doubler:")), "{ids:?}");
    assert_ne!(ids[0], ids[1]);

    let map_run = only_map_run(&c, &exec).await;
    assert!(map_run.starts_with("arn:aws:states:us-east-1:000000000000:mapRun:dmap-children/Doubler:"), "{map_run}");
    let runs = c.list_map_runs().execution_arn(&exec).send().await.expect("list map runs");
    assert_eq!(runs.map_runs()[0].execution_arn(), exec);
    assert_eq!(runs.map_runs()[0].state_machine_arn(), machine);
    assert!(runs.map_runs()[0].stop_date().is_some());

    let m = c.describe_map_run().map_run_arn(&map_run).send().await.expect("describe map run");
    assert_eq!(m.status().as_str(), "SUCCEEDED");
    assert_eq!(m.execution_arn(), exec);
    assert_eq!(m.max_concurrency(), 2);
    assert!(m.stop_date().is_some());
    let counts = m.execution_counts().expect("execution counts");
    assert_eq!((counts.total(), counts.succeeded(), counts.failed(), counts.running(), counts.pending()), (3, 3, 0, 0, 0));
    assert_eq!(m.item_counts().expect("item counts").succeeded(), 3);

    // The children are listed by their Map Run, described and have their own history.
    let children = c.list_executions().map_run_arn(&map_run).send().await.expect("list children");
    assert_eq!(children.executions().len(), 3);
    let mut listed: Vec<&str> = children.executions().iter().map(|e| e.execution_arn()).collect();
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(children.executions().iter().all(|e| e.map_run_arn() == Some(map_run.as_str()) && e.status() == &ExecutionStatus::Succeeded && e.item_count() == Some(1)));
    let page = c.list_executions().map_run_arn(&map_run).max_results(2).send().await.expect("page");
    assert_eq!(page.executions().len(), 2);
    let rest = c.list_executions().map_run_arn(&map_run).next_token(page.next_token().expect("token")).send().await.expect("rest");
    assert_eq!(rest.executions().len(), 1);
    let one = c.describe_execution().execution_arn(ids[0]).send().await.expect("describe child");
    assert_eq!(one.map_run_arn(), Some(map_run.as_str()));
    assert_eq!(one.status(), &ExecutionStatus::Succeeded);
    let sm = c.describe_state_machine_for_execution().execution_arn(ids[0]).send().await.expect("machine for child");
    assert_eq!(sm.map_run_arn(), Some(map_run.as_str()));
    assert_eq!(sm.label(), Some("Doubler"));
    assert_eq!(history_types(&c, ids[0]).await, vec!["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]);
    // The parent machine's own executions do not include the children.
    assert_eq!(c.list_executions().state_machine_arn(&machine).send().await.expect("list").executions().len(), 1);

    // The parent's history: Map Run events, no MapIteration* events.
    let parent = history_types(&c, &exec).await;
    assert_eq!(parent, vec!["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted", "MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]);
    let h = c.get_execution_history().execution_arn(&exec).send().await.expect("history");
    let started = h.events().iter().find(|e| e.r#type().as_str() == "MapRunStarted").expect("MapRunStarted");
    assert_eq!(started.map_run_started_event_details().and_then(|d| d.map_run_arn()), Some(map_run.as_str()));
}

#[tokio::test]
async fn distributed_map_batches_run_as_one_child_each_and_express_children_are_not_listed() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let pass = json!({ "P": { "Type": "Pass", "Parameters": { "Items.$": "$.Items", "id.$": "$$.Execution.Id" }, "End": true } });
    let mut proc = processor(pass, "P");
    proc["ProcessorConfig"]["ExecutionType"] = json!("EXPRESS");
    let map = json!({ "Type": "Map", "ItemBatcher": { "MaxItemsPerBatch": 2 }, "ItemProcessor": proc, "End": true });
    let machine = create(&c, "dmap-express", map).await;
    let exec = start(&c, &machine, json!([1, 2, 3])).await;
    let d = ended(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    let out = output(&d);
    assert_eq!((&out[0]["Items"], &out[1]["Items"]), (&json!([1, 2]), &json!([3])), "{out}");
    let map_run = only_map_run(&c, &exec).await;
    // AWS describes a Map Run's EXPRESS children (and no other EXPRESS execution) once ended.
    let child = out[0]["id"].as_str().expect("child id");
    assert!(child.starts_with("arn:aws:states:us-east-1:000000000000:express:dmap-express/"), "{child}");
    let described = c.describe_execution().execution_arn(child).send().await.expect("describe an EXPRESS child");
    assert_eq!(described.status(), &ExecutionStatus::Succeeded);
    assert_eq!(described.map_run_arn(), Some(map_run.as_str()));
    let m = c.describe_map_run().map_run_arn(&map_run).send().await.expect("describe");
    assert_eq!(m.execution_counts().expect("counts").total(), 2, "one child per batch");
    assert_eq!(m.item_counts().expect("counts").total(), 3);
    assert_eq!(m.item_counts().expect("counts").succeeded(), 3);
    assert!(c.list_executions().map_run_arn(&map_run).send().await.expect("list").executions().is_empty(), "EXPRESS children are not listed");

    // STANDARD batch children are listed with their batch's item count.
    let map = json!({ "Type": "Map", "ItemBatcher": { "MaxItemsPerBatch": 2 }, "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "End": true } }), "P"), "End": true });
    let machine = create(&c, "dmap-standard-batches", map).await;
    let exec = start(&c, &machine, json!([1, 2, 3])).await;
    assert_eq!(ended(&c, &exec).await.status(), &ExecutionStatus::Succeeded);
    let listed = c.list_executions().map_run_arn(only_map_run(&c, &exec).await).send().await.expect("list");
    let mut counts: Vec<i32> = listed.executions().iter().filter_map(|e| e.item_count()).collect();
    counts.sort();
    assert_eq!(counts, vec![1, 2]);
}

#[tokio::test]
async fn distributed_map_run_fails_past_the_tolerated_failure_threshold() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let states = fails_over_one();
    // Two of four fail: 50% is tolerated, 1 failure is not.
    let tolerated = json!({ "Type": "Map", "ToleratedFailurePercentage": 50, "MaxConcurrency": 1, "ItemProcessor": processor(states.clone(), "C"), "End": true });
    let machine = create(&c, "dmap-tolerated", tolerated).await;
    let d = ended(&c, &start(&c, &machine, json!([0, 1, 2, 3])).await).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d)[2], json!({ "Error": "Too.Big", "Cause": "item over 1" }));

    let strict = json!({ "Type": "Map", "ToleratedFailureCount": 1, "MaxConcurrency": 1, "ItemProcessor": processor(states, "C"), "End": true });
    let machine = create(&c, "dmap-strict", strict).await;
    let exec = start(&c, &machine, json!([0, 1, 2, 3])).await;
    let d = ended(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("States.ExceedToleratedFailureThreshold"));
    let map_run = only_map_run(&c, &exec).await;
    let m = c.describe_map_run().map_run_arn(&map_run).send().await.expect("describe");
    assert_eq!(m.status().as_str(), "FAILED");
    assert_eq!(m.tolerated_failure_count(), 1);
    assert_eq!(m.execution_counts().expect("counts").failed(), 2);
    assert_eq!(history_types(&c, &exec).await, vec!["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted", "MapRunFailed", "MapStateFailed", "ExecutionFailed"]);
    let h = c.get_execution_history().execution_arn(&exec).send().await.expect("history");
    let failed = h.events().iter().find(|e| e.r#type().as_str() == "MapRunFailed").expect("MapRunFailed");
    assert_eq!(failed.map_run_failed_event_details().and_then(|d| d.error()), Some("States.ExceedToleratedFailureThreshold"));
    let failed_children = c.list_executions().map_run_arn(&map_run).status_filter(ExecutionStatus::Failed).send().await.expect("failed children");
    assert_eq!(failed_children.executions().len(), 2);
}

#[tokio::test]
async fn update_map_run_raises_max_concurrency_of_a_running_map_run_and_stop_aborts_it() {
    let n = Nimbus::start_with_clock_control();
    let c = sfn(&n);
    let wait = json!({ "W": { "Type": "Wait", "Seconds": 600, "End": true } });
    let map = json!({ "Type": "Map", "MaxConcurrency": 1, "ItemProcessor": processor(wait, "W"), "End": true });
    let machine = create(&c, "dmap-update", map).await;
    let exec = start(&c, &machine, json!([1, 2, 3, 4])).await;
    let mut map_run = String::new();
    until("the map run started", || {
        let c = c.clone();
        let exec = exec.clone();
        async move { c.list_map_runs().execution_arn(&exec).send().await.map(|r| !r.map_runs().is_empty()).unwrap_or(false) }
    })
    .await;
    map_run.push_str(&only_map_run(&c, &exec).await);
    let (cr, mr) = (&c, map_run.as_str());
    let counts = |m: &aws_sdk_sfn::operation::describe_map_run::DescribeMapRunOutput| {
        let e = m.execution_counts().expect("counts");
        (e.running(), e.pending())
    };
    until("one child runs", || async move { counts(&cr.describe_map_run().map_run_arn(mr).send().await.expect("describe")) == (1, 3) }).await;
    c.update_map_run().map_run_arn(&map_run).max_concurrency(3).tolerated_failure_percentage(10.0).send().await.expect("update");
    until("three children run", || async move { counts(&cr.describe_map_run().map_run_arn(mr).send().await.expect("describe")) == (3, 1) }).await;
    let m = c.describe_map_run().map_run_arn(&map_run).send().await.expect("describe");
    assert_eq!(m.max_concurrency(), 3);
    assert_eq!(m.tolerated_failure_percentage(), 10.0);
    assert_eq!(c.list_executions().map_run_arn(&map_run).status_filter(ExecutionStatus::Running).send().await.expect("running").executions().len(), 3);

    // Stopping the parent aborts the Map Run and its running children.
    c.stop_execution().execution_arn(&exec).send().await.expect("stop");
    let m = c.describe_map_run().map_run_arn(&map_run).send().await.expect("describe");
    assert_eq!(m.status().as_str(), "ABORTED");
    until("the children are aborted", || async move {
        let l = cr.list_executions().map_run_arn(mr).send().await.expect("list");
        l.executions().len() == 3 && l.executions().iter().all(|e| e.status() == &ExecutionStatus::Aborted)
    })
    .await;
    assert!(history_types(&c, &exec).await.contains(&"MapRunAborted".to_string()));
    // A Map Run that ended is not updated.
    let e = c.update_map_run().map_run_arn(&map_run).max_concurrency(5).send().await;
    assert!(e.is_err(), "{e:?}");
}

#[tokio::test]
async fn map_run_operations_refuse_bad_input() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let unknown = "arn:aws:states:us-east-1:000000000000:mapRun:m/label:00000000-0000-0000-0000-000000000000";
    let e = c.describe_map_run().map_run_arn(unknown).send().await.expect_err("unknown");
    assert_eq!(e.as_service_error().map(|e| e.is_resource_not_found()), Some(true), "{e:?}");
    let e = c.update_map_run().map_run_arn(unknown).max_concurrency(1).send().await.expect_err("unknown");
    assert_eq!(e.as_service_error().map(|e| e.is_resource_not_found()), Some(true), "{e:?}");
    let e = c.describe_map_run().map_run_arn("arn:aws:states:us-east-1:000000000000:stateMachine:m").send().await.expect_err("wrong kind");
    assert_eq!(e.as_service_error().map(|e| e.is_invalid_arn()), Some(true), "{e:?}");
    let e = c.describe_map_run().map_run_arn("not-an-arn").send().await.expect_err("malformed");
    assert_eq!(e.as_service_error().map(|e| e.is_invalid_arn()), Some(true), "{e:?}");
    let e = c.list_map_runs().execution_arn("arn:aws:states:us-east-1:000000000000:execution:m:nope").send().await.expect_err("no execution");
    assert_eq!(e.as_service_error().map(|e| e.is_execution_does_not_exist()), Some(true), "{e:?}");
    let e = c.list_executions().map_run_arn(unknown).state_machine_arn("arn:aws:states:us-east-1:000000000000:stateMachine:m").send().await.expect_err("both");
    assert_eq!(aws_sdk_sfn::error::ProvideErrorMetadata::code(&e), Some("ValidationException"), "{e:?}");
    let e = c.list_executions().map_run_arn(unknown).send().await.expect_err("unknown map run");
    assert_eq!(aws_sdk_sfn::error::ProvideErrorMetadata::code(&e), Some("ResourceNotFound"), "{e:?}");
    // A distributed Map names its children's ExecutionType.
    let definition = json!({ "StartAt": "M", "States": { "M": { "Type": "Map", "ItemProcessor": { "ProcessorConfig": { "Mode": "DISTRIBUTED" }, "StartAt": "P", "States": { "P": { "Type": "Pass", "End": true } } }, "End": true } } });
    let e = c.create_state_machine().name("dmap-no-type").definition(definition.to_string()).role_arn(ROLE).send().await.expect_err("no ExecutionType");
    assert_eq!(e.as_service_error().map(|e| e.is_invalid_definition()), Some(true), "{e:?}");
}

/// A Map Run survives `kill -9`: after the restart the parent goes on with the same Map
/// Run, the running child resumes, no child runs twice.
#[tokio::test]
async fn a_map_run_survives_kill_9_without_running_children_twice() {
    let mut n = Nimbus::start_with_clock_control();
    if n.is_external() {
        return;
    }
    let c = sfn(&n);
    let wait = json!({ "W": { "Type": "Wait", "Seconds": 3600, "End": true } });
    let map = json!({ "Type": "Map", "MaxConcurrency": 1, "ItemProcessor": processor(wait, "W"), "End": true });
    let machine = create(&c, "dmap-durable", map).await;
    let exec = start(&c, &machine, json!(["a", "b"])).await;
    until("the map run started", || {
        let c = c.clone();
        let exec = exec.clone();
        async move { c.list_map_runs().execution_arn(&exec).send().await.map(|r| !r.map_runs().is_empty()).unwrap_or(false) }
    })
    .await;
    let map_run = only_map_run(&c, &exec).await;
    let mr = map_run.as_str();
    let cr = &c;
    until("the first child runs", || async move { cr.list_executions().map_run_arn(mr).send().await.expect("list").executions().len() == 1 }).await;
    n.kill9();
    n.restart();
    let c = sfn(&n);
    assert_eq!(c.describe_map_run().map_run_arn(&map_run).send().await.expect("describe after restart").status().as_str(), "RUNNING");
    // The restarted clock starts from wall time again: the first child's Wait ends an hour on.
    n.advance_clock(3700);
    let cr = &c;
    until("the second child runs", || async move { cr.list_executions().map_run_arn(mr).send().await.expect("list").executions().len() == 2 }).await;
    n.advance_clock(3700);
    let d = ended(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!(["a", "b"]));
    assert_eq!(only_map_run(&c, &exec).await, map_run, "the same Map Run went on");
    let children = c.list_executions().map_run_arn(&map_run).send().await.expect("list");
    assert_eq!(children.executions().len(), 2, "no child ran twice");
    let m = c.describe_map_run().map_run_arn(&map_run).send().await.expect("describe");
    assert_eq!(m.status().as_str(), "SUCCEEDED");
    assert_eq!(m.execution_counts().expect("counts").succeeded(), 2);
    let t = history_types(&c, &exec).await;
    assert_eq!(t.iter().filter(|t| *t == "MapRunStarted").count(), 1, "{t:?}");
}

/// The body of `key` in `bucket`, as JSON.
async fn read_json(n: &Nimbus, bucket: &str, key: &str) -> Value {
    let body = n.s3_client().get_object().bucket(bucket).key(key).send().await.unwrap_or_else(|e| panic!("get {key}: {e:?}")).body.collect().await.expect("body").into_bytes();
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{key} is not JSON: {e}"))
}

fn choice_fails_over(limit: i64) -> Value {
    json!({
        "C": { "Type": "Choice", "Choices": [{ "Variable": "$.v", "NumericGreaterThan": limit, "Next": "Bad" }], "Default": "Ok" },
        "Bad": { "Type": "Fail", "Error": "Too.Big", "Cause": "item over limit" },
        "Ok": { "Type": "Pass", "Parameters": { "doubled.$": "States.MathAdd($.v, $.v)" }, "End": true }
    })
}

#[tokio::test]
async fn distributed_map_result_writer_exports_manifest_and_result_files_to_s3() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    n.s3_client().create_bucket().bucket("dmap-results").send().await.expect("bucket");
    let map = json!({
        "Type": "Map", "Label": "Exporter", "ToleratedFailureCountPath": "$.tolerated", "ItemsPath": "$.items",
        "ItemSelector": { "v.$": "$$.Map.Item.Value" },
        "ItemProcessor": processor(choice_fails_over(2), "C"),
        "ResultWriter": { "Resource": "arn:aws:states:::s3:putObject", "Parameters": { "Bucket.$": "$.bucket", "Prefix": "runs" } },
        "End": true
    });
    let d = run(&c, "dmap-writer-2", map, json!({ "bucket": "dmap-results", "items": [1, 2, 3], "tolerated": 1 })).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    let out = output(&d);
    let map_run = out["MapRunArn"].as_str().expect("MapRunArn").to_string();
    assert!(map_run.starts_with("arn:aws:states:us-east-1:000000000000:mapRun:dmap-writer-2/Exporter:"), "{map_run}");
    let run_id = map_run.rsplit(':').next().expect("id");
    let manifest_key = format!("runs/{run_id}/manifest.json");
    assert_eq!(out["ResultWriterDetails"], json!({ "Bucket": "dmap-results", "Key": manifest_key }));

    let manifest = read_json(&n, "dmap-results", &manifest_key).await;
    assert_eq!(manifest["DestinationBucket"], json!("dmap-results"));
    assert_eq!(manifest["MapRunArn"], json!(map_run));
    assert_eq!(manifest["ResultFiles"]["PENDING"], json!([]));
    let succeeded_key = format!("runs/{run_id}/SUCCEEDED_0.json");
    let failed_key = format!("runs/{run_id}/FAILED_0.json");
    assert_eq!(manifest["ResultFiles"]["SUCCEEDED"][0]["Key"], json!(succeeded_key));
    assert_eq!(manifest["ResultFiles"]["FAILED"][0]["Key"], json!(failed_key));

    let succeeded = read_json(&n, "dmap-results", &succeeded_key).await;
    let size = manifest["ResultFiles"]["SUCCEEDED"][0]["Size"].as_u64().expect("Size");
    assert_eq!(size as usize, succeeded.to_string().len());
    let entries = succeeded.as_array().expect("array");
    assert_eq!(entries.len(), 2, "{succeeded}");
    let first = &entries[0];
    assert_eq!(first["Input"], json!("{\"v\":1}"));
    assert_eq!(first["Output"], json!("{\"doubled\":2}"));
    assert_eq!(first["InputDetails"], json!({ "Included": true }));
    assert_eq!(first["OutputDetails"], json!({ "Included": true }));
    assert_eq!(first["Status"], json!("SUCCEEDED"));
    assert_eq!(first["RedriveCount"], json!(0));
    assert_eq!(first["RedriveStatus"], json!("NOT_REDRIVABLE"));
    let name = first["Name"].as_str().expect("Name");
    assert_eq!(first["ExecutionArn"], json!(format!("arn:aws:states:us-east-1:000000000000:execution:dmap-writer-2/Exporter:{name}")));
    assert_eq!(first["StateMachineArn"], json!("arn:aws:states:us-east-1:000000000000:stateMachine:dmap-writer-2/Exporter"));
    assert!(first["StartDate"].as_str().is_some_and(|t| t.ends_with('Z')), "{first}");
    assert!(first["StopDate"].as_str().is_some(), "{first}");

    let failed = read_json(&n, "dmap-results", &failed_key).await;
    assert_eq!(failed.as_array().map(Vec::len), Some(1), "{failed}");
    assert_eq!(failed[0]["Status"], json!("FAILED"));
    assert_eq!(failed[0]["Error"], json!("Too.Big"));
    assert_eq!(failed[0]["Cause"], json!("item over limit"));
    assert_eq!(failed[0]["Input"], json!("{\"v\":3}"));
    // The exported entries are the Map Run's real child executions.
    let child = c.describe_execution().execution_arn(first["ExecutionArn"].as_str().expect("arn")).send().await.expect("describe exported child");
    assert_eq!(child.map_run_arn(), Some(map_run.as_str()));
    assert_eq!(child.output(), Some("{\"doubled\":2}"));
    let m = c.describe_map_run().map_run_arn(&map_run).send().await.expect("describe map run");
    assert_eq!(m.execution_counts().expect("counts").results_written(), 3);
}

#[tokio::test]
async fn distributed_map_writer_config_alone_transforms_the_state_output() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let pass = || processor(json!({ "P": { "Type": "Pass", "Parameters": { "pair.$": "States.Array($.v, $.v)" }, "OutputPath": "$.pair", "End": true } }), "P");
    let map = |t: &str| json!({ "Type": "Map", "ItemSelector": { "v.$": "$$.Map.Item.Value" }, "ItemProcessor": pass(), "ResultWriter": { "WriterConfig": { "Transformation": t, "OutputType": "JSON" } }, "End": true });
    let d = run(&c, "dmap-flatten", map("FLATTEN"), json!([1, 2])).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!([1, 1, 2, 2]));
    let d = run(&c, "dmap-compact", map("COMPACT"), json!([1, 2])).await;
    assert_eq!(output(&d), json!([[1, 1], [2, 2]]));
    let d = run(&c, "dmap-none", map("NONE"), json!([1])).await;
    let out = output(&d);
    assert_eq!(out[0]["Output"], json!("[1,1]"), "{out}");
    assert_eq!(out[0]["Status"], json!("SUCCEEDED"));
    // Without a Label the Map Run's label is a generated UUID ("MapRunLabel or UUID",
    // https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html).
    assert!(out[0]["ExecutionArn"].as_str().is_some_and(|a| a.contains(":execution:dmap-none/")), "{out}");
    assert_eq!(out[0]["StateMachineArn"].as_str().and_then(|a| a.split_once(":stateMachine:")).map(|(_, m)| m.len()), Some("dmap-none/".len() + 36), "{out}");
}

#[tokio::test]
async fn distributed_map_result_writer_jsonl_compact_in_jsonata() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    n.s3_client().create_bucket().bucket("dmap-jsonl-out").send().await.expect("bucket");
    let map = json!({
        "Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.items %}",
        "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "Output": "{% {'n': $states.input} %}", "End": true } }), "P"),
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Arguments": { "Bucket": "{% $states.input.bucket %}", "Prefix": "out/" },
            "WriterConfig": { "Transformation": "COMPACT", "OutputType": "JSONL" }
        },
        "End": true
    });
    let d = run(&c, "dmap-jsonl-writer", map, json!({ "bucket": "dmap-jsonl-out", "items": [1, 2] })).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    let key = output(&d)["ResultWriterDetails"]["Key"].as_str().expect("Key").to_string();
    assert!(key.starts_with("out/") && !key.starts_with("out//"), "{key}");
    let manifest = read_json(&n, "dmap-jsonl-out", &key).await;
    let succeeded = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"].as_str().expect("key").to_string();
    let body = n.s3_client().get_object().bucket("dmap-jsonl-out").key(&succeeded).send().await.expect("get").body.collect().await.expect("body").into_bytes();
    assert_eq!(std::str::from_utf8(&body).expect("utf8"), "{\"n\":1}\n{\"n\":2}\n");
    assert_eq!(manifest["ResultFiles"]["FAILED"], json!([]));
}

#[tokio::test]
async fn distributed_map_result_writer_combinations_are_validated() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let cases = [
        (json!({}), "The ResultWriter field cannot be empty"),
        (json!({ "Resource": "arn:aws:states:::s3:putObject" }), "These fields are required: [Parameters]"),
        (json!({ "Parameters": { "Bucket": "b" } }), "These fields are required: [Resource]"),
        (json!({ "Resource": "arn:aws:states:::s3:getObject", "Parameters": { "Bucket": "b" } }), "must be arn:aws:states:::s3:putObject"),
        (json!({ "WriterConfig": { "Transformation": "ZIP" } }), "Value is not a valid Transformation"),
        (json!({ "WriterConfig": { "OutputType": "CSV" } }), "Value is not a valid OutputType"),
        (json!({ "WriterConfig": { "Transformation": "NONE" }, "Extra": 1 }), "These fields are not allowed: [Extra]"),
        (json!({ "inline": true, "WriterConfig": { "Transformation": "NONE" } }), "only allowed when the ItemProcessor's ProcessorConfig.Mode is DISTRIBUTED"),
    ];
    for (i, (mut writer, message)) in cases.into_iter().enumerate() {
        let mut item_processor = processor(json!({ "P": { "Type": "Pass", "End": true } }), "P");
        if writer.as_object_mut().and_then(|w| w.remove("inline")).is_some() {
            item_processor["ProcessorConfig"] = json!({ "Mode": "INLINE" });
        }
        let map = json!({ "Type": "Map", "ItemProcessor": item_processor, "ResultWriter": writer, "End": true });
        let definition = json!({ "StartAt": "M", "States": { "M": map } });
        let err = c.create_state_machine().name(format!("dmap-bad-writer-{i}")).definition(definition.to_string()).role_arn(ROLE).send().await.expect_err("invalid");
        let service = err.into_service_error();
        assert!(service.is_invalid_definition(), "{service:?}");
        let text = service.to_string();
        assert!(text.contains("SCHEMA_VALIDATION_FAILED") && text.contains(message) && text.contains("/States/M/ResultWriter"), "{text}");
    }
}

#[tokio::test]
async fn distributed_map_reads_an_s3_inventory_manifest() {
    use std::io::Write as _;
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let s3 = n.s3_client();
    s3.create_bucket().bucket("dmap-inventory").send().await.expect("bucket");
    let gz = |text: &str| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).expect("gzip");
        e.finish().expect("gzip")
    };
    let data = [("inv/data/1.csv.gz", "\"src\",\"a.txt\",\"3\"\n\"src\",\"b.txt\",\"5\"\n"), ("inv/data/2.csv.gz", "\"src\",\"c.txt\",\"7\"\n")];
    for (key, text) in data {
        s3.put_object().bucket("dmap-inventory").key(key).body(gz(text).into()).send().await.expect("put data");
    }
    let manifest = json!({
        "sourceBucket": "src", "destinationBucket": "arn:aws:s3:::dmap-inventory", "version": "2016-11-30",
        "creationTimestamp": "1514944800000", "fileFormat": "CSV", "fileSchema": "Bucket, Key, Size",
        "files": [{ "key": "inv/data/1.csv.gz", "size": 1, "MD5checksum": "x" }, { "key": "inv/data/2.csv.gz", "size": 1, "MD5checksum": "y" }]
    });
    s3.put_object().bucket("dmap-inventory").key("inv/manifest.json").body(manifest.to_string().into_bytes().into()).send().await.expect("put manifest");
    let map = json!({
        "Type": "Map",
        "ItemReader": { "Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": { "InputType": "MANIFEST", "MaxItemsPath": "$.max" }, "Parameters": { "Bucket": "dmap-inventory", "Key": "inv/manifest.json" } },
        "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "End": true } }), "P"),
        "End": true
    });
    let d = run(&c, "dmap-manifest", map, json!({ "max": 3 })).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(
        output(&d),
        json!([
            { "Bucket": "src", "Key": "a.txt", "Size": "3" },
            { "Bucket": "src", "Key": "b.txt", "Size": "5" },
            { "Bucket": "src", "Key": "c.txt", "Size": "7" }
        ])
    );
}

#[tokio::test]
async fn distributed_map_csv_delimiters_and_batcher_paths() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    object(&n, "dmap-pipe", "items", "a|b\n1|x\n2|y\n3|z\n").await;
    let map = json!({
        "Type": "Map", "ItemReader": reader(json!({ "InputType": "CSV", "CSVDelimiter": "PIPE", "MaxItemsPath": "$.max" })),
        "ItemBatcher": { "MaxItemsPerBatchPath": "$.per" },
        "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "End": true } }), "P"),
        "End": true
    });
    let d = run(&c, "dmap-pipe", map, json!({ "bucket": "dmap-pipe", "max": 3, "per": 2 })).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!([{ "Items": [{ "a": "1", "b": "x" }, { "a": "2", "b": "y" }] }, { "Items": [{ "a": "3", "b": "z" }] }]));
}

#[tokio::test]
async fn distributed_map_result_writer_exports_when_the_map_run_fails() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let s3 = n.s3_client();
    s3.create_bucket().bucket("dmap-failed-run").send().await.expect("bucket");
    let map = json!({
        "Type": "Map", "MaxConcurrency": 1, "ItemSelector": { "v.$": "$$.Map.Item.Value" },
        "ItemProcessor": processor(choice_fails_over(2), "C"),
        "ResultWriter": { "Resource": "arn:aws:states:::s3:putObject", "Parameters": { "Bucket": "dmap-failed-run", "Prefix": "p" } },
        "End": true
    });
    let d = run(&c, "dmap-failed-run", map, json!([1, 5, 2])).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed, "{d:?}");
    // The tolerated failure percentage defaults to 0: one failed child fails the Map Run
    // (https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html).
    assert_eq!(d.error(), Some("States.ExceedToleratedFailureThreshold"));
    let listed = s3.list_objects_v2().bucket("dmap-failed-run").prefix("p/").send().await.expect("list");
    let manifest_key = listed.contents().iter().filter_map(|o| o.key()).find(|k| k.ends_with("/manifest.json")).expect("manifest.json written").to_string();
    let manifest = read_json(&n, "dmap-failed-run", &manifest_key).await;
    let failed_key = manifest["ResultFiles"]["FAILED"][0]["Key"].as_str().expect("FAILED file").to_string();
    let failed = read_json(&n, "dmap-failed-run", &failed_key).await;
    assert_eq!(failed[0]["Input"], json!("{\"v\":5}"), "{failed}");
    let listed_total: usize = ["SUCCEEDED", "PENDING"].iter().map(|g| manifest["ResultFiles"][g].as_array().map_or(0, Vec::len)).sum();
    assert!(listed_total >= 1, "{manifest}");
}
