//! Step Functions' distributed Map (`ProcessorConfig.Mode: DISTRIBUTED`) through the AWS SDK
//! for Rust, the subset nimbus runs: items from the state input with `ItemSelector`,
//! `ItemBatcher` (`MaxItemsPerBatch`, `BatchInput`), tolerated failures exceeded
//! (`States.ExceedToleratedFailureThreshold`), `ItemReader` of S3 JSON and CSV
//! objects and S3 Inventory manifests, `ResultWriter` exports to S3 (manifest.json,
//! SUCCEEDED_0 / FAILED_0) and `WriterConfig` transformations, and the definition errors of
//! bad ResultWriter combinations.
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
    assert!(out[0]["ExecutionArn"].as_str().is_some_and(|a| a.contains(":execution:dmap-none/M:")), "{out}");
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
    assert_eq!(d.error(), Some("Too.Big"));
    let listed = s3.list_objects_v2().bucket("dmap-failed-run").prefix("p/").send().await.expect("list");
    let manifest_key = listed.contents().iter().filter_map(|o| o.key()).find(|k| k.ends_with("/manifest.json")).expect("manifest.json written").to_string();
    let manifest = read_json(&n, "dmap-failed-run", &manifest_key).await;
    let failed_key = manifest["ResultFiles"]["FAILED"][0]["Key"].as_str().expect("FAILED file").to_string();
    let failed = read_json(&n, "dmap-failed-run", &failed_key).await;
    assert_eq!(failed[0]["Input"], json!("{\"v\":5}"), "{failed}");
    let listed_total: usize = ["SUCCEEDED", "PENDING"].iter().map(|g| manifest["ResultFiles"][g].as_array().map_or(0, Vec::len)).sum();
    assert!(listed_total >= 1, "{manifest}");
}
