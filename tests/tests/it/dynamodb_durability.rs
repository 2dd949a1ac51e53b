//! DynamoDB durability and a model check: acknowledged writes and their stream records
//! survive kill -9; random put / update / delete sequences leave the table and the
//! stream exactly as a simple in-test model predicts (before and after a restart).

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, StreamSpecification, StreamViewType};
use aws_sdk_dynamodb::types::AttributeValue as AV;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use nimbus_tests::{unique_name, Nimbus};
use std::collections::BTreeMap;

async fn table(c: &aws_sdk_dynamodb::Client) -> (String, String) {
    let name = unique_name("dur");
    c.create_table()
        .table_name(&name)
        .attribute_definitions(AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap())
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::NewAndOldImages).build().unwrap())
        .send()
        .await
        .unwrap();
    let arn = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap().latest_stream_arn.unwrap();
    (name, arn)
}

/// (eventName, pk, new v) for every record.
async fn stream(n: &Nimbus, arn: &str) -> Vec<(String, String, Option<String>)> {
    let sc = n.streams_client();
    let d = sc.describe_stream().stream_arn(arn).send().await.unwrap().stream_description.unwrap();
    let shard = d.shards()[0].shard_id.clone().unwrap();
    let mut it = sc.get_shard_iterator().stream_arn(arn).shard_id(&shard).shard_iterator_type(ShardIteratorType::TrimHorizon).send().await.unwrap().shard_iterator;
    let mut out = Vec::new();
    while let Some(i) = it {
        let r = sc.get_records().shard_iterator(i).send().await.unwrap();
        if r.records().is_empty() {
            break;
        }
        for rec in r.records() {
            let d = rec.dynamodb.as_ref().unwrap();
            let pk = d.keys.as_ref().unwrap()["pk"].as_s().unwrap().clone();
            let v = d.new_image.as_ref().and_then(|i| i.get("v")).map(|v| v.as_n().unwrap().clone());
            out.push((rec.event_name.clone().unwrap().as_str().to_string(), pk, v));
        }
        it = r.next_shard_iterator;
    }
    out
}

async fn contents(c: &aws_sdk_dynamodb::Client, t: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let r = c.scan().table_name(t).limit(7).set_exclusive_start_key(start.take()).send().await.unwrap();
        for i in r.items() {
            out.insert(i["pk"].as_s().unwrap().clone(), i["v"].as_n().unwrap().clone());
        }
        match r.last_evaluated_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    out
}

#[tokio::test]
async fn acknowledged_writes_and_records_survive_kill9() {
    let mut n = Nimbus::start();
    if n.is_external() {
        return;
    }
    let c = n.dynamodb_client();
    let (t, arn) = table(&c).await;
    let mut tasks = Vec::new();
    for w in 0..4 {
        let c = c.clone();
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                c.put_item().table_name(&t).item("pk", AV::S(format!("w{w}-{i}"))).item("v", AV::N(i.to_string())).send().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    n.kill9();
    n.restart();
    let c = n.dynamodb_client();
    assert_eq!(contents(&c, &t).await.len(), 100);
    let recs = stream(&n, &arn).await;
    assert_eq!(recs.len(), 100);
    assert!(recs.iter().all(|r| r.0 == "INSERT"));
    // The stream continues after the restart with increasing sequence numbers.
    c.delete_item().table_name(&t).key("pk", AV::S("w0-0".into())).send().await.unwrap();
    let recs = stream(&n, &arn).await;
    assert_eq!(recs.len(), 101);
    assert_eq!(recs[100].0, "REMOVE");
}

/// A tiny deterministic PRNG (xorshift) so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test]
async fn random_writes_match_a_model() {
    let mut n = Nimbus::start();
    if n.is_external() {
        return;
    }
    let c = n.dynamodb_client();
    let (t, arn) = table(&c).await;
    let mut model: BTreeMap<String, String> = BTreeMap::new();
    let mut expected_stream = Vec::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..300 {
        let key = format!("k{}", rng.next() % 12);
        match rng.next() % 3 {
            0 => {
                let v = (rng.next() % 4).to_string();
                c.put_item().table_name(&t).item("pk", AV::S(key.clone())).item("v", AV::N(v.clone())).send().await.unwrap();
                let old = model.insert(key.clone(), v.clone());
                match old {
                    None => expected_stream.push(("INSERT".to_string(), key, Some(v))),
                    Some(o) if o != v => expected_stream.push(("MODIFY".to_string(), key, Some(v))),
                    Some(_) => {}
                }
            }
            1 => {
                let d = (rng.next() % 3) as i64;
                c.update_item()
                    .table_name(&t)
                    .key("pk", AV::S(key.clone()))
                    .update_expression("SET v = if_not_exists(v, :z) + :d")
                    .expression_attribute_values(":z", AV::N("0".into()))
                    .expression_attribute_values(":d", AV::N(d.to_string()))
                    .send()
                    .await
                    .unwrap();
                let old = model.get(&key).cloned();
                let new = (old.as_deref().map(|o| o.parse::<i64>().unwrap()).unwrap_or(0) + d).to_string();
                model.insert(key.clone(), new.clone());
                match old {
                    None => expected_stream.push(("INSERT".to_string(), key, Some(new))),
                    Some(o) if o != new => expected_stream.push(("MODIFY".to_string(), key, Some(new))),
                    Some(_) => {}
                }
            }
            _ => {
                c.delete_item().table_name(&t).key("pk", AV::S(key.clone())).send().await.unwrap();
                if model.remove(&key).is_some() {
                    expected_stream.push(("REMOVE".to_string(), key, None));
                }
            }
        }
    }
    assert_eq!(contents(&c, &t).await, model);
    assert_eq!(stream(&n, &arn).await, expected_stream);
    n.kill9();
    n.restart();
    let c = n.dynamodb_client();
    assert_eq!(contents(&c, &t).await, model);
    assert_eq!(stream(&n, &arn).await, expected_stream);
}

/// Only a tail of each stream is kept in memory (1,024 records); older records are read
/// back from the store — by GetRecords across the boundary, after a restart (which
/// loads only the tail), and until retention (24 hours on the server's clock) trims them.
#[tokio::test]
async fn stream_records_beyond_the_memory_tail_come_from_the_store() {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let mut n = Nimbus::start_with_clock_control();
    if n.is_external() {
        return;
    }
    let c = n.dynamodb_client();
    let (t, arn) = table(&c).await;
    const N: usize = 2_500;
    for batch in 0..N / 25 {
        let writes = (0..25).map(|i| {
            let item = [("pk".to_string(), AV::S(format!("k{:05}", batch * 25 + i))), ("v".to_string(), AV::N((batch * 25 + i).to_string()))];
            WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item.into_iter().collect())).build().unwrap()).build()
        });
        c.batch_write_item().request_items(&t, writes.collect()).send().await.unwrap();
    }
    let expected: Vec<(String, String, Option<String>)> =
        (0..N).map(|i| ("INSERT".to_string(), format!("k{i:05}"), Some(i.to_string()))).collect();
    assert_eq!(stream(&n, &arn).await, expected, "read across the tail/store boundary");
    n.kill9();
    n.restart();
    assert_eq!(stream(&n, &arn).await, expected, "after a restart that loaded only the tail");
    let c = n.dynamodb_client();
    // A day and an hour later, one more write; the sweeper trims everything older.
    n.advance_clock(25 * 3600);
    c.put_item().table_name(&t).item("pk", AV::S("late".into())).item("v", AV::N("1".into())).send().await.unwrap();
    // The sweeper trims on the clock advance in the background; under CI's load (every
    // test binary's servers on two cores) deleting 2,500 records has taken over 5 s.
    let mut left = Vec::new();
    for _ in 0..600 {
        left = stream(&n, &arn).await;
        if left.len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(left, vec![("INSERT".to_string(), "late".to_string(), Some("1".to_string()))]);
    n.kill9();
    n.restart();
    assert_eq!(stream(&n, &arn).await.len(), 1, "the trimmed records stay gone after a restart");
    let late_seq = last_sequence_number(&n, &arn).await;
    // Another day passes: retention trims the last record too. After a restart the next
    // record must not reuse a sequence number. (The restart forgot the clock's first 25
    // hours: move it 50 from the real time.)
    n.advance_clock(50 * 3600);
    for _ in 0..100 {
        if stream(&n, &arn).await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(stream(&n, &arn).await.is_empty());
    // A write committed after the sweeper's trim means the trim is committed too (the
    // group commit keeps submission order): then kill -9.
    let (other, _) = table(&n.dynamodb_client()).await;
    n.dynamodb_client().put_item().table_name(&other).item("pk", AV::S("x".into())).send().await.unwrap();
    n.kill9();
    n.restart();
    assert!(stream(&n, &arn).await.is_empty(), "the trim survived the restart");
    n.dynamodb_client().put_item().table_name(&t).item("pk", AV::S("after".into())).item("v", AV::N("2".into())).send().await.unwrap();
    let next_seq = last_sequence_number(&n, &arn).await;
    assert!(next_seq.len() == late_seq.len() && next_seq > late_seq, "{next_seq} follows {late_seq}");
}

/// The sequence number of the stream's last record.
async fn last_sequence_number(n: &Nimbus, arn: &str) -> String {
    let sc = n.streams_client();
    let shard = sc.describe_stream().stream_arn(arn).send().await.unwrap().stream_description.unwrap().shards()[0].shard_id.clone().unwrap();
    let mut it = sc.get_shard_iterator().stream_arn(arn).shard_id(&shard).shard_iterator_type(ShardIteratorType::TrimHorizon).send().await.unwrap().shard_iterator;
    let mut last = String::new();
    while let Some(i) = it {
        let r = sc.get_records().shard_iterator(i).send().await.unwrap();
        if r.records().is_empty() {
            break;
        }
        last = r.records().last().and_then(|x| x.dynamodb.as_ref()).and_then(|d| d.sequence_number.clone()).unwrap_or_default();
        it = r.next_shard_iterator;
    }
    last
}

/// On-demand backups: a consistent copy of the table at CreateBackup, listed and
/// described as AWS does, surviving kill -9, restored into a new table with the source's
/// keys, indexes and items but no stream (AWS: streams, TTL and tags are not restored),
/// and AWS's errors for every wrong name.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Restore.Tutorial.html>
#[tokio::test]
async fn backups_are_consistent_durable_and_restorable() {
    use aws_sdk_dynamodb::types::{BackupTypeFilter, GlobalSecondaryIndex, Projection, ProjectionType};
    let mut n = Nimbus::start();
    if n.is_external() {
        return;
    }
    let c = n.dynamodb_client();
    let t = unique_name("bk");
    c.create_table()
        .table_name(&t)
        .attribute_definitions(AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap())
        .attribute_definitions(AttributeDefinition::builder().attribute_name("g").attribute_type(ScalarAttributeType::S).build().unwrap())
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-g")
                .key_schema(KeySchemaElement::builder().attribute_name("g").key_type(KeyType::Hash).build().unwrap())
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::NewImage).build().unwrap())
        .send()
        .await
        .unwrap();
    for i in 0..50 {
        c.put_item().table_name(&t).item("pk", AV::S(format!("k{i:02}"))).item("g", AV::S(format!("g{}", i % 5))).item("v", AV::N(i.to_string())).send().await.unwrap();
    }
    let made = c.create_backup().table_name(&t).backup_name("nightly-1").send().await.unwrap().backup_details.unwrap();
    assert_eq!(made.backup_name, "nightly-1");
    assert_eq!(made.backup_status.as_str(), "CREATING");
    let arn = made.backup_arn.clone();
    assert!(arn.starts_with(&format!("arn:aws:dynamodb:us-east-1:{}:table/{t}/backup/", nimbus_tests::default_account())), "{arn}");
    // Changes after the backup are not in it.
    c.delete_item().table_name(&t).key("pk", AV::S("k00".into())).send().await.unwrap();
    c.put_item().table_name(&t).item("pk", AV::S("later".into())).item("g", AV::S("g0".into())).send().await.unwrap();
    let second = c.create_backup().table_name(&t).backup_name("nightly-2").send().await.unwrap().backup_details.unwrap().backup_arn;

    n.kill9();
    n.restart();
    let c = n.dynamodb_client();
    let d = c.describe_backup().backup_arn(&arn).send().await.unwrap().backup_description.unwrap();
    assert_eq!(d.backup_details.as_ref().unwrap().backup_status.as_str(), "AVAILABLE");
    let src = d.source_table_details.unwrap();
    assert_eq!((src.table_name.as_str(), src.item_count), (t.as_str(), Some(50)));
    assert_eq!(d.source_table_feature_details.unwrap().global_secondary_indexes().len(), 1);
    let listed = c.list_backups().table_name(&t).send().await.unwrap();
    assert_eq!(listed.backup_summaries().iter().map(|b| b.backup_arn.clone().unwrap()).collect::<Vec<_>>(), vec![arn.clone(), second.clone()]);
    let page = c.list_backups().table_name(&t).limit(1).send().await.unwrap();
    assert_eq!(page.backup_summaries().len(), 1);
    assert_eq!(page.last_evaluated_backup_arn.as_deref(), Some(arn.as_str()));
    let rest = c.list_backups().table_name(&t).exclusive_start_backup_arn(&arn).send().await.unwrap();
    assert_eq!(rest.backup_summaries()[0].backup_arn.as_deref(), Some(second.as_str()));
    assert!(rest.last_evaluated_backup_arn.is_none());
    assert!(c.list_backups().backup_type(BackupTypeFilter::System).send().await.unwrap().backup_summaries().is_empty());

    let restored_name = unique_name("restored");
    let td = c.restore_table_from_backup().target_table_name(&restored_name).backup_arn(&arn).send().await.unwrap().table_description.unwrap();
    let summary = td.restore_summary.unwrap();
    assert_eq!(summary.source_backup_arn.as_deref(), Some(arn.as_str()));
    assert!(summary.restore_in_progress);
    assert!(td.latest_stream_arn.is_none(), "streams are not restored");
    let mut items: Vec<String> = Vec::new();
    let mut start = None;
    loop {
        let r = c.scan().table_name(&restored_name).set_exclusive_start_key(start.take()).send().await.unwrap();
        items.extend(r.items().iter().map(|i| i["pk"].as_s().unwrap().clone()));
        match r.last_evaluated_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    items.sort();
    assert_eq!(items, (0..50).map(|i| format!("k{i:02}")).collect::<Vec<_>>(), "exactly the items at backup time");
    let by_g = c
        .query()
        .table_name(&restored_name)
        .index_name("by-g")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", AV::S("g0".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(by_g.count, 10, "the index is rebuilt from the restored items");
    let described = c.describe_table().table_name(&restored_name).send().await.unwrap().table.unwrap();
    assert!(!described.restore_summary.unwrap().restore_in_progress);

    // AWS's errors.
    let err = c.restore_table_from_backup().target_table_name(&restored_name).backup_arn(&arn).send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| e.meta().code()), Some("TableAlreadyExistsException"));
    let missing = format!("{arn}x");
    let err = c.describe_backup().backup_arn(&missing).send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| e.meta().code()), Some("BackupNotFoundException"));
    let err = c.create_backup().table_name("no-such-table").backup_name("b-1").send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| e.meta().code()), Some("TableNotFoundException"));
    let err = c.create_backup().table_name(&t).backup_name("x").send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| e.meta().code()), Some("ValidationException"));

    let deleted = c.delete_backup().backup_arn(&arn).send().await.unwrap().backup_description.unwrap();
    assert_eq!(deleted.backup_details.unwrap().backup_status.as_str(), "DELETED");
    n.kill9();
    n.restart();
    let c = n.dynamodb_client();
    let err = c.describe_backup().backup_arn(&arn).send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| e.meta().code()), Some("BackupNotFoundException"));
    assert_eq!(c.list_backups().table_name(&t).send().await.unwrap().backup_summaries().len(), 1);
}

/// Point-in-time recovery on nimbus's clock: enabling reports the window, a restore to a
/// moment gives the table exactly as it was then (also after kill -9), and AWS's errors
/// for a table without recovery and for a time outside the window.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html>
#[tokio::test]
async fn point_in_time_recovery_restores_the_table_as_it_was() {
    use aws_sdk_dynamodb::primitives::DateTime;
    use aws_sdk_dynamodb::types::{PointInTimeRecoverySpecification, PointInTimeRecoveryStatus};
    let mut n = Nimbus::start_with_clock_control();
    if n.is_external() {
        return;
    }
    let c = n.dynamodb_client();
    let (t, _) = table(&c).await;
    let put = |k: &str, v: i32| c.put_item().table_name(&t).item("pk", AV::S(k.into())).item("v", AV::N(v.to_string())).send();
    put("a", 1).await.unwrap();
    put("b", 1).await.unwrap();
    let not_yet = c.restore_table_to_point_in_time().source_table_name(&t).target_table_name(unique_name("r")).use_latest_restorable_time(true).send().await.unwrap_err();
    assert_eq!(not_yet.as_service_error().and_then(|e| e.meta().code()), Some("PointInTimeRecoveryUnavailableException"));
    let bad = c
        .update_continuous_backups()
        .table_name(&t)
        .point_in_time_recovery_specification(PointInTimeRecoverySpecification::builder().point_in_time_recovery_enabled(true).recovery_period_in_days(36).build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.as_service_error().and_then(|e| e.meta().code()), Some("ValidationException"));
    let on = c
        .update_continuous_backups()
        .table_name(&t)
        .point_in_time_recovery_specification(PointInTimeRecoverySpecification::builder().point_in_time_recovery_enabled(true).build().unwrap())
        .send()
        .await
        .unwrap()
        .continuous_backups_description
        .unwrap();
    let pitr = on.point_in_time_recovery_description.unwrap();
    assert_eq!(pitr.point_in_time_recovery_status, Some(PointInTimeRecoveryStatus::Enabled));
    assert_eq!(pitr.recovery_period_in_days, Some(35));
    let enabled_at = pitr.earliest_restorable_date_time.unwrap();

    n.advance_clock(60);
    put("a", 2).await.unwrap();
    put("c", 2).await.unwrap();
    n.advance_clock(60);
    let moment = c.describe_continuous_backups().table_name(&t).send().await.unwrap().continuous_backups_description.unwrap().point_in_time_recovery_description.unwrap().latest_restorable_date_time.unwrap();
    n.advance_clock(60);
    c.delete_item().table_name(&t).key("pk", AV::S("b".into())).send().await.unwrap();
    put("c", 3).await.unwrap();

    let contents = |c: aws_sdk_dynamodb::Client, name: String| async move {
        let items = c.scan().table_name(&name).consistent_read(true).send().await.unwrap().items().to_vec();
        let mut out: Vec<(String, String)> = items.iter().map(|i| (i["pk"].as_s().unwrap().clone(), i["v"].as_n().unwrap().clone())).collect();
        out.sort();
        out
    };
    let at_moment = unique_name("r");
    let td = c.restore_table_to_point_in_time().source_table_name(&t).target_table_name(&at_moment).restore_date_time(moment).send().await.unwrap().table_description.unwrap();
    assert!(td.restore_summary.as_ref().unwrap().source_backup_arn.is_none());
    assert_eq!(contents(c.clone(), at_moment).await, vec![("a".into(), "2".into()), ("b".into(), "1".into()), ("c".into(), "2".into())]);
    let latest = unique_name("r");
    c.restore_table_to_point_in_time().source_table_name(&t).target_table_name(&latest).use_latest_restorable_time(true).send().await.unwrap();
    assert_eq!(contents(c.clone(), latest).await, vec![("a".into(), "2".into()), ("c".into(), "3".into())]);
    // The log is durable. (A restart forgets the test clock's offset, so restore to the
    // moment recovery was enabled, which was before the clock moved.)
    n.kill9();
    n.restart();
    let c = n.dynamodb_client();
    let at_start = unique_name("r");
    c.restore_table_to_point_in_time().source_table_name(&t).target_table_name(&at_start).restore_date_time(enabled_at).send().await.unwrap();
    assert_eq!(contents(c.clone(), at_start).await, vec![("a".into(), "1".into()), ("b".into(), "1".into())]);
    let before = DateTime::from_secs(enabled_at.secs() - 3600);
    let err = c.restore_table_to_point_in_time().source_table_name(&t).target_table_name(unique_name("r")).restore_date_time(before).send().await.unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| e.meta().code()), Some("InvalidRestoreTimeException"));

    let off = c
        .update_continuous_backups()
        .table_name(&t)
        .point_in_time_recovery_specification(PointInTimeRecoverySpecification::builder().point_in_time_recovery_enabled(false).build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        off.continuous_backups_description.unwrap().point_in_time_recovery_description.unwrap().point_in_time_recovery_status,
        Some(PointInTimeRecoveryStatus::Disabled)
    );
}
