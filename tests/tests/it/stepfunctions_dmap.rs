//! Step Functions' distributed Map (`ProcessorConfig.Mode: DISTRIBUTED`) through the AWS SDK
//! for Rust, the subset nimbus runs: items from the state input with `ItemSelector`,
//! `ItemBatcher` (`MaxItemsPerBatch`, `BatchInput`), tolerated failures exceeded
//! (`States.ExceedToleratedFailureThreshold`), `ItemReader` of S3 JSON and CSV
//! objects, and other ItemReaders refused as not supported.
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

#[tokio::test]
async fn distributed_map_fails_past_tolerated_failures() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let states = json!({
        "C": { "Type": "Choice", "Choices": [{ "Variable": "$", "NumericGreaterThan": 1, "Next": "Bad" }], "Default": "Ok" },
        "Bad": { "Type": "Fail", "Error": "Too.Big", "Cause": "item over 1" },
        "Ok": { "Type": "Pass", "End": true }
    });
    let map = json!({ "Type": "Map", "ToleratedFailureCount": 1, "ItemProcessor": processor(states, "C"), "End": true });
    let d = run(&c, "dmap-fail", map, json!([0, 1, 2, 3])).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed, "{d:?}");
    assert_eq!(d.error(), Some("States.ExceedToleratedFailureThreshold"));
}

#[tokio::test]
async fn distributed_map_item_reader_of_manifests_is_not_supported() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let map = json!({
        "Type": "Map",
        "ItemReader": { "Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": { "InputType": "MANIFEST" }, "Parameters": { "Bucket": "b", "Key": "k" } },
        "ItemProcessor": processor(json!({ "P": { "Type": "Pass", "End": true } }), "P"),
        "End": true
    });
    let d = run(&c, "dmap-reader", map, json!({})).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed, "{d:?}");
    assert_eq!(d.error(), Some("States.Runtime"));
    assert!(d.cause().unwrap_or_default().contains("uses an ItemReader (arn:aws:states:::s3:getObject, MANIFEST), which is not supported by nimbus"), "{:?}", d.cause());
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
