//! Kinesis Data Streams for DynamoDB: a table's item changes sent to Kinesis data
//! streams (EnableKinesisStreamingDestination, DescribeKinesisStreamingDestination,
//! DisableKinesisStreamingDestination, UpdateKinesisStreamingDestination), through core's
//! `RecordSink`.
//!
//! Each change becomes one Kinesis record whose data is AWS's JSON change record
//! (`awsRegion`, `eventID`, `eventName`, `userIdentity`, `recordFormat`, `tableName`,
//! `dynamodb` with both images whatever the table's own stream keeps, `eventSource`) and
//! whose partition key is derived from the item's key, so one item's changes stay in
//! order on one shard. Records are collected by the write (`Engine::change`) and handed,
//! once the write has committed, to one forwarder task that puts them in commit order;
//! AWS delivers asynchronously too. A destination is ACTIVE as soon as it is enabled
//! (the answer says ENABLING, as AWS's does), DISABLED as soon as it is disabled.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds.html>

use crate::engine::Txn;
use crate::errors::{DdbError, DdbResult};
use crate::schema::TableDef;
use crate::service::{table_name_of, DynamoDbService};
use nimbus_core::internal::{RecordSink, StreamRecordInput};
use nimbus_core::RequestContext;
use nimbus_dynamodb_expr::value::{item_size, item_to_json};
use nimbus_dynamodb_expr::Item;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::mpsc;

/// One destination of a table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KinesisDestination {
    pub stream_arn: String,
    /// `ACTIVE` or `DISABLED`.
    pub status: String,
    /// `MILLISECOND` or `MICROSECOND` (`ApproximateCreationDateTime`'s unit).
    pub precision: String,
}

/// Records waiting to go out, by stream ARN, in commit order.
pub type Outgoing = Vec<(String, StreamRecordInput)>;

/// Where the engine hands committed records (set once Kinesis is wired).
#[derive(Default)]
pub struct KinesisOut {
    sink: std::sync::OnceLock<Arc<dyn RecordSink>>,
    tx: std::sync::OnceLock<mpsc::UnboundedSender<Outgoing>>,
}

impl KinesisOut {
    /// Sends committed records to the forwarder.
    pub fn send(&self, records: Outgoing) {
        if records.is_empty() {
            return;
        }
        if let Some(tx) = self.tx.get() {
            let _ = tx.send(records);
        }
    }
}

impl DynamoDbService {
    /// Wires Kinesis (`RecordSink`) and starts the forwarder (needs a Tokio runtime).
    pub fn set_record_sink(&self, sink: Arc<dyn RecordSink>) {
        let out = &self.engine.kinesis_out;
        if out.sink.set(sink.clone()).is_err() {
            return;
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
        let _ = out.tx.set(tx);
        tokio::spawn(async move {
            while let Some(records) = rx.recv().await {
                for (arn, run) in runs(records) {
                    // A full PutRecords at most (500 records) per call, in order.
                    let mut run = run;
                    while !run.is_empty() {
                        let rest = run.split_off(run.len().min(500));
                        if let Err(e) = sink.put_records(&arn, run).await {
                            tracing::warn!(stream = %arn, error = %e.message, "DynamoDB change records could not be put to the Kinesis destination");
                        }
                        run = rest;
                    }
                }
            }
        });
    }
}

/// Consecutive records to the same stream, grouped (order kept).
fn runs(records: Outgoing) -> Vec<(String, Vec<StreamRecordInput>)> {
    let mut out: Vec<(String, Vec<StreamRecordInput>)> = Vec::new();
    for (arn, r) in records {
        match out.last_mut() {
            Some((a, rs)) if *a == arn => rs.push(r),
            _ => out.push((arn, vec![r])),
        }
    }
    out
}

/// The change records of one item change for each active destination, added to `txn`.
pub fn capture(def: &TableDef, keys: &Item, old: Option<&Item>, new: Option<&Item>, by_service: bool, now_ms: u64, txn: &mut Txn) {
    let active: Vec<&KinesisDestination> = def.kinesis.iter().filter(|d| d.status == "ACTIVE").collect();
    if active.is_empty() {
        return;
    }
    let keys_json = item_to_json(keys);
    let partition_key = format!("{:08X}", crc32fast::hash(format!("{}/{}", def.table_id, crate::service::canonical(&keys_json)).as_bytes()));
    for d in active {
        let record = change_record(def, &keys_json, keys, old, new, by_service, now_ms, &d.precision);
        let data = serde_json::to_vec(&record).unwrap_or_default();
        txn.kinesis.push((d.stream_arn.clone(), StreamRecordInput { partition_key: partition_key.clone(), data, explicit_hash_key: None }));
    }
}

/// AWS's JSON change record for a Kinesis destination.
#[allow(clippy::too_many_arguments)]
fn change_record(def: &TableDef, keys_json: &Value, keys: &Item, old: Option<&Item>, new: Option<&Item>, by_service: bool, now_ms: u64, precision: &str) -> Value {
    let created = if precision == "MICROSECOND" { json!(now_ms * 1000) } else { json!(now_ms) };
    let mut d = json!({
        "ApproximateCreationDateTime": created,
        "ApproximateCreationDateTimePrecision": precision,
        "Keys": keys_json,
        "SizeBytes": item_size(keys) + new.map_or(0, item_size) + old.map_or(0, item_size),
    });
    if let Some(n) = new {
        d["NewImage"] = item_to_json(n);
    }
    if let Some(o) = old {
        d["OldImage"] = item_to_json(o);
    }
    json!({
        "awsRegion": def.region,
        "eventID": nimbus_core::ids::uuid(),
        "eventName": crate::streams::event_name(old.is_some(), new.is_some()),
        "userIdentity": if by_service { json!({ "type": "Service", "principalId": "dynamodb.amazonaws.com" }) } else { Value::Null },
        "recordFormat": "application/json",
        "tableName": def.name,
        "dynamodb": d,
        "eventSource": "aws:dynamodb",
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct DestinationInput {
    pub table_name: String,
    pub stream_arn: Option<String>,
    pub enable_kinesis_streaming_configuration: Option<PrecisionIn>,
    pub update_kinesis_streaming_configuration: Option<PrecisionIn>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrecisionIn {
    pub approximate_creation_date_time_precision: Option<String>,
}

fn precision_of(p: Option<&PrecisionIn>) -> DdbResult<Option<String>> {
    match p.and_then(|p| p.approximate_creation_date_time_precision.as_deref()) {
        None => Ok(None),
        Some(v @ ("MILLISECOND" | "MICROSECOND")) => Ok(Some(v.to_string())),
        Some(other) => Err(DdbError::validation(format!(
            "1 validation error detected: Value '{other}' at 'approximateCreationDateTimePrecision' failed to satisfy constraint: Member must satisfy enum value set: [MICROSECOND, MILLISECOND]"
        ))),
    }
}

fn stream_arn_of(input: &DestinationInput) -> DdbResult<String> {
    match input.stream_arn.as_deref() {
        Some(a) if !a.is_empty() => Ok(a.to_string()),
        _ => Err(DdbError::validation("1 validation error detected: Value null at 'streamArn' failed to satisfy constraint: Member must not be null")),
    }
}

impl DynamoDbService {
    fn sink(&self) -> DdbResult<Arc<dyn RecordSink>> {
        self.engine.kinesis_out.sink.get().cloned().ok_or_else(|| DdbError::validation("Kinesis streaming destinations are not supported by nimbus without its Kinesis service"))
    }

    /// Changes a table's destinations under its lock and stores the definition; `edit`
    /// answers the response.
    async fn edit_destinations(&self, ctx: &RequestContext, table: &str, edit: impl FnOnce(&mut TableDef) -> DdbResult<Value>) -> DdbResult<Value> {
        let name = table_name_of(table)?;
        let t = self.engine.table(&ctx.account_id, &ctx.region, name).ok_or_else(|| DdbError::table_not_found_named(name))?;
        let mut txn = Txn::default();
        let out = {
            let mut st = t.state.lock();
            let out = edit(&mut st.def)?;
            self.engine.put_def(&st, &mut txn);
            out
        };
        self.engine.submit(txn).wait().await?;
        Ok(out)
    }

    pub(crate) async fn enable_kinesis_destination(&self, ctx: &RequestContext, input: DestinationInput) -> DdbResult<Value> {
        let arn = stream_arn_of(&input)?;
        let precision = precision_of(input.enable_kinesis_streaming_configuration.as_ref())?.unwrap_or_else(|| "MILLISECOND".to_string());
        let sink = self.sink()?;
        if !sink.stream_exists(&arn) {
            return Err(DdbError::ResourceNotFound(format!("Requested resource not found: Stream: {arn} not found")));
        }
        self.edit_destinations(ctx, &input.table_name, |def| {
            if def.kinesis.iter().any(|d| d.stream_arn == arn && d.status == "ACTIVE") {
                return Err(DdbError::validation(
                    "Table is not in a valid state to enable Kinesis Streaming Destination:EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to perform ENABLE operation.",
                ));
            }
            if def.kinesis.iter().filter(|d| d.status == "ACTIVE").count() >= 2 {
                return Err(DdbError::LimitExceeded("A table can have at most 2 active Kinesis streaming destinations".into()));
            }
            def.kinesis.retain(|d| d.stream_arn != arn);
            def.kinesis.push(KinesisDestination { stream_arn: arn.clone(), status: "ACTIVE".into(), precision: precision.clone() });
            Ok(json!({
                "TableName": def.name,
                "StreamArn": arn,
                "DestinationStatus": "ENABLING",
                "EnableKinesisStreamingConfiguration": { "ApproximateCreationDateTimePrecision": precision },
            }))
        })
        .await
    }

    pub(crate) async fn disable_kinesis_destination(&self, ctx: &RequestContext, input: DestinationInput) -> DdbResult<Value> {
        let arn = stream_arn_of(&input)?;
        self.edit_destinations(ctx, &input.table_name, |def| {
            let Some(d) = def.kinesis.iter_mut().find(|d| d.stream_arn == arn && d.status == "ACTIVE") else {
                return Err(DdbError::validation(
                    "Table is not in a valid state to disable Kinesis Streaming Destination:DisableKinesisStreamingDestination must be ACTIVE to perform DISABLE operation.",
                ));
            };
            d.status = "DISABLED".into();
            let precision = d.precision.clone();
            Ok(json!({
                "TableName": def.name,
                "StreamArn": arn,
                "DestinationStatus": "DISABLING",
                "EnableKinesisStreamingConfiguration": { "ApproximateCreationDateTimePrecision": precision },
            }))
        })
        .await
    }

    pub(crate) async fn update_kinesis_destination(&self, ctx: &RequestContext, input: DestinationInput) -> DdbResult<Value> {
        let arn = stream_arn_of(&input)?;
        let precision = precision_of(input.update_kinesis_streaming_configuration.as_ref())?
            .ok_or_else(|| DdbError::validation("The command must specify at least one of the UpdateKinesisStreamingConfiguration parameters"))?;
        self.edit_destinations(ctx, &input.table_name, |def| {
            let Some(d) = def.kinesis.iter_mut().find(|d| d.stream_arn == arn && d.status == "ACTIVE") else {
                return Err(DdbError::validation(
                    "Table is not in a valid state to update Kinesis Streaming Destination:UpdateKinesisStreamingDestination must be ACTIVE to perform UPDATE operation.",
                ));
            };
            if d.precision == precision {
                return Err(DdbError::validation(format!("Invalid Request: Precision is already set to the desired value of {precision} for this Kinesis data stream destination.")));
            }
            d.precision = precision.clone();
            Ok(json!({
                "TableName": def.name,
                "StreamArn": arn,
                "DestinationStatus": "UPDATING",
                "UpdateKinesisStreamingConfiguration": { "ApproximateCreationDateTimePrecision": precision },
            }))
        })
        .await
    }

    pub(crate) fn describe_kinesis_destination(&self, ctx: &RequestContext, input: DestinationInput) -> DdbResult<Value> {
        let name = table_name_of(&input.table_name)?;
        let t = self.engine.table(&ctx.account_id, &ctx.region, name).ok_or_else(|| DdbError::table_not_found_named(name))?;
        let st = t.state.lock();
        let list: Vec<Value> = st
            .def
            .kinesis
            .iter()
            .map(|d| json!({ "StreamArn": d.stream_arn, "DestinationStatus": d.status, "ApproximateCreationDateTimePrecision": d.precision }))
            .collect();
        Ok(json!({ "TableName": st.def.name, "KinesisDataStreamDestinations": list }))
    }
}
