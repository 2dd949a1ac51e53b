//! Lambda's control plane through the AWS SDK for Rust: functions, states, revisions,
//! versions, aliases, concurrency, event invoke configs, tags, policies, account
//! settings and AWS's validation errors.

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    DestinationConfig, Environment, FunctionCode, LastUpdateStatus, OnFailure, OnSuccess, Runtime, State,
};
use nimbus_tests::lambda::{self, expect_err, FnSpec, ROLE};
use nimbus_tests::{unique_name, Nimbus, StartOptions};
use serde_json::{json, Value};
use std::time::Duration;

fn sha256_b64(data: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data))
}

#[tokio::test]
async fn create_function_is_pending_then_active() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("fn");
    let zip = lambda::rust_zip();
    let out = c
        .create_function()
        .function_name(&name)
        .runtime(Runtime::Providedal2023)
        .role(ROLE)
        .description("first")
        .memory_size(256)
        .timeout(7)
        .code(FunctionCode::builder().zip_file(Blob::new(zip.clone())).build())
        .send()
        .await
        .expect("create_function");
    assert_eq!(out.state(), Some(&State::Pending), "CreateFunction answers State Pending: {out:?}");
    assert_eq!(out.function_name(), Some(name.as_str()));
    assert_eq!(out.function_arn(), Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}").as_str()));
    assert_eq!(out.version(), Some("$LATEST"));
    assert_eq!(out.code_size(), zip.len() as i64);
    assert_eq!(out.code_sha256(), Some(sha256_b64(&zip).as_str()), "CodeSha256 is the base64 SHA-256 of the zip");
    assert!(out.revision_id().is_some_and(|r| !r.is_empty()));

    let cfg = c.get_function_configuration().function_name(&name).send().await.expect("get_function_configuration");
    assert_eq!(cfg.state(), Some(&State::Active));
    assert_eq!(cfg.last_update_status(), Some(&LastUpdateStatus::Successful));
    assert_eq!(cfg.memory_size(), Some(256));
    assert_eq!(cfg.timeout(), Some(7));
    assert_eq!(cfg.description(), Some("first"));
    assert_eq!(cfg.runtime(), Some(&Runtime::Providedal2023));

    // The SDK's own waiter (polls GetFunction until Configuration.State is Active).
    let waited = c
        .wait_until_function_active_v2()
        .function_name(&name)
        .wait(Duration::from_secs(20))
        .await
        .expect("function_active_v2 waiter");
    let got = waited.into_result().expect("waiter final output");
    assert_eq!(got.configuration().and_then(|c| c.state()), Some(&State::Active));
}

#[tokio::test]
async fn duplicate_create_is_a_conflict_and_missing_function_is_not_found() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("fn");
    lambda::create(&c, &name, FnSpec::rust()).await;
    let again = c
        .create_function()
        .function_name(&name)
        .runtime(Runtime::Providedal2023)
        .role(ROLE)
        .code(FunctionCode::builder().zip_file(Blob::new(lambda::rust_zip())).build())
        .send()
        .await;
    expect_err(again, "ResourceConflictException", Some(409));

    let missing = c.get_function().function_name("no-such-function").send().await;
    let msg = expect_err(missing, "ResourceNotFoundException", Some(404));
    assert!(msg.contains("arn:aws:lambda:us-east-1:000000000000:function:no-such-function"), "message names the ARN: {msg}");
    let missing_version = c.get_function_configuration().function_name(&name).qualifier("42").send().await;
    expect_err(missing_version, "ResourceNotFoundException", Some(404));
}

#[tokio::test]
async fn get_function_returns_configuration_code_tags_and_concurrency() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("fn");
    c.create_function()
        .function_name(&name)
        .runtime(Runtime::Providedal2023)
        .role(ROLE)
        .code(FunctionCode::builder().zip_file(Blob::new(lambda::rust_zip())).build())
        .tags("team", "core")
        .environment(Environment::builder().variables("MY_VAR", "x").build())
        .send()
        .await
        .expect("create");
    c.put_function_concurrency().function_name(&name).reserved_concurrent_executions(3).send().await.expect("put concurrency");
    let out = c.get_function().function_name(&name).send().await.expect("get_function");
    let cfg = out.configuration().expect("Configuration");
    assert_eq!(cfg.function_name(), Some(name.as_str()));
    assert_eq!(cfg.environment().and_then(|e| e.variables()).and_then(|v| v.get("MY_VAR")).map(String::as_str), Some("x"));
    let code = out.code().expect("Code");
    assert_eq!(code.repository_type(), Some("S3"));
    assert!(code.location().is_some_and(|l| !l.is_empty()), "Code.Location: {code:?}");
    assert_eq!(out.tags().and_then(|t| t.get("team")).map(String::as_str), Some("core"));
    assert_eq!(out.concurrency().and_then(|c| c.reserved_concurrent_executions()), Some(3));
}

#[tokio::test]
async fn list_functions_paginates_with_max_items_and_marker() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let mut names: Vec<String> = (0..5).map(|i| format!("list-{i}-{}", unique_name("f"))).collect();
    for name in &names {
        lambda::create(&c, name, FnSpec::rust()).await;
    }
    names.sort();
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c.list_functions().max_items(2).set_marker(marker.clone()).send().await.expect("list_functions");
        let page: Vec<String> = out.functions().iter().filter_map(|f| f.function_name().map(str::to_string)).collect();
        assert!(page.len() <= 2, "MaxItems 2 returned {page:?}");
        seen.extend(page);
        pages += 1;
        assert!(pages <= 10, "pagination does not terminate");
        match out.next_marker() {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3, "5 functions in pages of 2");
    seen.sort();
    assert_eq!(seen, names, "every function exactly once");

    // The SDK paginator reaches the same set.
    let all: Vec<String> = c
        .list_functions()
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginator")
        .into_iter()
        .filter_map(|f| f.function_name)
        .collect();
    assert_eq!(all.len(), 5);
}

#[tokio::test]
async fn updates_are_in_progress_change_revision_and_check_revision_id() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("fn");
    lambda::create(&c, &name, FnSpec::rust()).await;
    let before = c.get_function_configuration().function_name(&name).send().await.expect("get").revision_id.expect("RevisionId");

    let upd = c
        .update_function_configuration()
        .function_name(&name)
        .timeout(10)
        .revision_id(&before)
        .send()
        .await
        .expect("update_function_configuration");
    assert_eq!(upd.last_update_status(), Some(&LastUpdateStatus::InProgress), "{upd:?}");
    assert_eq!(upd.timeout(), Some(10));
    let r1 = upd.revision_id().expect("RevisionId").to_string();
    assert_ne!(r1, before, "RevisionId changes with the configuration");

    let stale = c.update_function_configuration().function_name(&name).timeout(11).revision_id(&before).send().await;
    expect_err(stale, "PreconditionFailedException", Some(412));

    c.wait_until_function_updated_v2().function_name(&name).wait(Duration::from_secs(20)).await.expect("function_updated_v2 waiter");
    let cfg = c.get_function_configuration().function_name(&name).send().await.expect("get");
    assert_eq!(cfg.last_update_status(), Some(&LastUpdateStatus::Successful));
    assert_eq!(cfg.timeout(), Some(10));
    assert_eq!(cfg.revision_id(), Some(r1.as_str()));

    // New code: a zip with an extra file.
    let new_zip = lambda::zip_entries(&[
        ("bootstrap".into(), lambda::rust_bootstrap_bytes(), 0o755),
        ("extra.txt".into(), b"v2".to_vec(), 0o644),
    ]);
    let stale_code = c.update_function_code().function_name(&name).zip_file(Blob::new(new_zip.clone())).revision_id(&before).send().await;
    expect_err(stale_code, "PreconditionFailedException", Some(412));
    let code = c
        .update_function_code()
        .function_name(&name)
        .zip_file(Blob::new(new_zip.clone()))
        .revision_id(&r1)
        .send()
        .await
        .expect("update_function_code");
    assert_eq!(code.last_update_status(), Some(&LastUpdateStatus::InProgress));
    assert_eq!(code.code_sha256(), Some(sha256_b64(&new_zip).as_str()));
    assert_ne!(code.revision_id(), Some(r1.as_str()));
    let cfg = c.get_function_configuration().function_name(&name).send().await.expect("get");
    assert_eq!(cfg.code_sha256(), Some(sha256_b64(&new_zip).as_str()));
    assert_eq!(cfg.last_update_status(), Some(&LastUpdateStatus::Successful));
    // Still runs.
    let r = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    assert_eq!(r.function_error, None, "{:?}", r.payload);
}

#[tokio::test]
async fn delete_function_then_not_found() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("fn");
    lambda::create(&c, &name, FnSpec::rust()).await;
    c.delete_function().function_name(&name).send().await.expect("delete_function");
    expect_err(c.get_function().function_name(&name).send().await, "ResourceNotFoundException", Some(404));
    expect_err(c.delete_function().function_name(&name).send().await, "ResourceNotFoundException", Some(404));
    let listed = c.list_functions().send().await.expect("list");
    assert!(listed.functions().iter().all(|f| f.function_name() != Some(name.as_str())));
    // The name is free again.
    lambda::create(&c, &name, FnSpec::rust()).await;
}

#[tokio::test]
async fn versions_aliases_and_invoke_by_qualifier() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("fn");
    lambda::create(&c, &name, FnSpec::rust().env("MY_VAR", "one")).await;
    let v1 = c.publish_version().function_name(&name).description("v1").send().await.expect("publish 1");
    assert_eq!(v1.version(), Some("1"));
    assert_eq!(v1.function_arn(), Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:1").as_str()));
    // Nothing changed: AWS returns the existing version.
    let same = c.publish_version().function_name(&name).send().await.expect("publish again");
    assert_eq!(same.version(), Some("1"), "unchanged $LATEST publishes no new version");

    c.update_function_configuration()
        .function_name(&name)
        .environment(Environment::builder().variables("MY_VAR", "two").build())
        .send()
        .await
        .expect("update env");
    let v2 = c.publish_version().function_name(&name).send().await.expect("publish 2");
    assert_eq!(v2.version(), Some("2"));

    let versions = c.list_versions_by_function().function_name(&name).send().await.expect("list versions");
    let vs: Vec<&str> = versions.versions().iter().filter_map(|v| v.version()).collect();
    assert_eq!(vs, vec!["$LATEST", "1", "2"]);
    let paged = c.list_versions_by_function().function_name(&name).max_items(2).send().await.expect("list versions page");
    assert_eq!(paged.versions().len(), 2);
    let rest = c
        .list_versions_by_function()
        .function_name(&name)
        .marker(paged.next_marker().expect("NextMarker"))
        .send()
        .await
        .expect("page 2");
    assert_eq!(rest.versions().iter().filter_map(|v| v.version()).collect::<Vec<_>>(), vec!["2"]);

    // Aliases CRUD.
    let a = c.create_alias().function_name(&name).name("live").function_version("1").description("d").send().await.expect("create_alias");
    assert_eq!(a.alias_arn(), Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:live").as_str()));
    assert_eq!(a.function_version(), Some("1"));
    expect_err(
        c.create_alias().function_name(&name).name("live").function_version("1").send().await,
        "ResourceConflictException",
        Some(409),
    );
    expect_err(c.create_alias().function_name(&name).name("bad").function_version("9").send().await, "ResourceNotFoundException", Some(404));
    c.create_alias().function_name(&name).name("other").function_version("2").send().await.expect("create other");
    let got = c.get_alias().function_name(&name).name("live").send().await.expect("get_alias");
    assert_eq!(got.function_version(), Some("1"));
    assert_eq!(got.description(), Some("d"));
    let listed = c.list_aliases().function_name(&name).send().await.expect("list_aliases");
    assert_eq!(listed.aliases().iter().filter_map(|a| a.name()).collect::<Vec<_>>(), vec!["live", "other"]);
    let by_version = c.list_aliases().function_name(&name).function_version("2").send().await.expect("list_aliases v2");
    assert_eq!(by_version.aliases().iter().filter_map(|a| a.name()).collect::<Vec<_>>(), vec!["other"]);

    // Invoke through a version, an alias and $LATEST.
    let r = lambda::invoke_with(&c, &name, Some("1"), false, &json!({"action": "echo"})).await;
    assert_eq!(r.executed_version.as_deref(), Some("1"));
    assert_eq!(r.payload["env"]["MY_VAR"], "one");
    assert_eq!(r.payload["env"]["AWS_LAMBDA_FUNCTION_VERSION"], "1");
    let r = lambda::invoke_with(&c, &name, Some("live"), false, &json!({"action": "echo"})).await;
    assert_eq!(r.executed_version.as_deref(), Some("1"), "alias live → version 1");
    assert_eq!(r.payload["function_arn"], json!(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:live")));
    // Qualifier inside FunctionName.
    let r = lambda::invoke(&c, &format!("{name}:other"), &json!({"action": "echo"})).await;
    assert_eq!(r.executed_version.as_deref(), Some("2"));
    assert_eq!(r.payload["env"]["MY_VAR"], "two");
    let r = lambda::invoke(&c, &name, &json!({"action": "echo"})).await;
    assert_eq!(r.executed_version.as_deref(), Some("$LATEST"));

    let rev = got.revision_id().unwrap().to_string();
    let upd = c.update_alias().function_name(&name).name("live").function_version("2").revision_id(&rev).send().await.expect("update_alias");
    assert_eq!(upd.function_version(), Some("2"));
    assert_ne!(upd.revision_id(), Some(rev.as_str()));
    expect_err(
        c.update_alias().function_name(&name).name("live").function_version("1").revision_id(&rev).send().await,
        "PreconditionFailedException",
        Some(412),
    );
    let r = lambda::invoke_with(&c, &name, Some("live"), false, &json!({"action": "echo"})).await;
    assert_eq!(r.executed_version.as_deref(), Some("2"), "alias live → version 2 after UpdateAlias");

    // A version referenced by an alias cannot be deleted.
    expect_err(c.delete_function().function_name(&name).qualifier("2").send().await, "ResourceConflictException", Some(409));
    c.delete_alias().function_name(&name).name("live").send().await.expect("delete_alias");
    expect_err(c.get_alias().function_name(&name).name("live").send().await, "ResourceNotFoundException", Some(404));
    expect_err(
        lambda_invoke_err(&c, &name, "live").await,
        "ResourceNotFoundException",
        Some(404),
    );
}

async fn lambda_invoke_err(
    c: &aws_sdk_lambda::Client,
    name: &str,
    qualifier: &str,
) -> Result<aws_sdk_lambda::operation::invoke::InvokeOutput, aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::invoke::InvokeError, aws_sdk_lambda::config::http::HttpResponse>> {
    c.invoke().function_name(name).qualifier(qualifier).payload(Blob::new("{}")).send().await
}

#[tokio::test]
async fn function_concurrency_put_get_delete_and_account_settings() {
    let n = Nimbus::start_with(StartOptions { in_memory: true, extra_args: vec!["--lambda-concurrency".into(), "150".into()], ..Default::default() });
    let c = n.lambda_client();
    let name = unique_name("fn");
    lambda::create(&c, &name, FnSpec::rust()).await;

    let s = c.get_account_settings().send().await.expect("get_account_settings");
    let limit = s.account_limit().expect("AccountLimit");
    assert_eq!(limit.concurrent_executions(), 150, "--lambda-concurrency 150");
    assert_eq!(limit.unreserved_concurrent_executions(), Some(150));
    assert!(limit.code_size_zipped() > 0 && limit.code_size_unzipped() > 0 && limit.total_code_size() > 0);
    let usage = s.account_usage().expect("AccountUsage");
    assert_eq!(usage.function_count(), 1);
    assert_eq!(usage.total_code_size(), lambda::rust_zip().len() as i64);

    let got = c.get_function_concurrency().function_name(&name).send().await.expect("get concurrency");
    assert_eq!(got.reserved_concurrent_executions(), None);
    let put = c.put_function_concurrency().function_name(&name).reserved_concurrent_executions(20).send().await.expect("put");
    assert_eq!(put.reserved_concurrent_executions(), Some(20));
    let got = c.get_function_concurrency().function_name(&name).send().await.expect("get concurrency");
    assert_eq!(got.reserved_concurrent_executions(), Some(20));
    let s = c.get_account_settings().send().await.expect("settings");
    assert_eq!(s.account_limit().unwrap().unreserved_concurrent_executions(), Some(130));
    // At least 100 must stay unreserved: 150 - 51 < 100.
    let too_much = c.put_function_concurrency().function_name(&name).reserved_concurrent_executions(51).send().await;
    expect_err(too_much, "InvalidParameterValueException", Some(400));
    c.delete_function_concurrency().function_name(&name).send().await.expect("delete concurrency");
    let got = c.get_function_concurrency().function_name(&name).send().await.expect("get concurrency");
    assert_eq!(got.reserved_concurrent_executions(), None);
    expect_err(
        c.put_function_concurrency().function_name("nope").reserved_concurrent_executions(1).send().await,
        "ResourceNotFoundException",
        Some(404),
    );
}

#[tokio::test]
async fn function_event_invoke_configs_crud() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("fn");
    lambda::create(&c, &name, FnSpec::rust()).await;
    let q = "arn:aws:sqs:us-east-1:000000000000:dest";
    expect_err(
        c.get_function_event_invoke_config().function_name(&name).send().await,
        "ResourceNotFoundException",
        Some(404),
    );
    let put = c
        .put_function_event_invoke_config()
        .function_name(&name)
        .maximum_retry_attempts(1)
        .destination_config(DestinationConfig::builder().on_failure(OnFailure::builder().destination(q).build()).build())
        .send()
        .await
        .expect("put_function_event_invoke_config");
    assert_eq!(put.maximum_retry_attempts(), Some(1));
    assert_eq!(put.function_arn(), Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST").as_str()));
    let got = c.get_function_event_invoke_config().function_name(&name).send().await.expect("get");
    assert_eq!(got.maximum_retry_attempts(), Some(1));
    assert_eq!(got.destination_config().and_then(|d| d.on_failure()).and_then(|f| f.destination()), Some(q));

    // Update merges: the retry setting and the failure destination stay.
    let upd = c
        .update_function_event_invoke_config()
        .function_name(&name)
        .maximum_event_age_in_seconds(120)
        .destination_config(DestinationConfig::builder().on_success(OnSuccess::builder().destination(q).build()).build())
        .send()
        .await
        .expect("update");
    assert_eq!(upd.maximum_retry_attempts(), Some(1));
    assert_eq!(upd.maximum_event_age_in_seconds(), Some(120));
    assert_eq!(upd.destination_config().and_then(|d| d.on_failure()).and_then(|f| f.destination()), Some(q));
    assert_eq!(upd.destination_config().and_then(|d| d.on_success()).and_then(|f| f.destination()), Some(q));

    // Put replaces everything.
    let put2 = c.put_function_event_invoke_config().function_name(&name).maximum_event_age_in_seconds(60).send().await.expect("put 2");
    assert_eq!(put2.maximum_retry_attempts(), None);
    assert_eq!(put2.destination_config().and_then(|d| d.on_failure()).and_then(|f| f.destination()), None);

    let bad = c.put_function_event_invoke_config().function_name(&name).maximum_retry_attempts(3).send().await;
    expect_err(bad, "ValidationException", Some(400));

    // A second qualifier, then list.
    c.publish_version().function_name(&name).send().await.expect("publish");
    c.put_function_event_invoke_config().function_name(&name).qualifier("1").maximum_retry_attempts(0).send().await.expect("put v1");
    let list = c.list_function_event_invoke_configs().function_name(&name).send().await.expect("list");
    assert_eq!(list.function_event_invoke_configs().len(), 2);
    let page = c.list_function_event_invoke_configs().function_name(&name).max_items(1).send().await.expect("list page");
    assert_eq!(page.function_event_invoke_configs().len(), 1);
    assert!(page.next_marker().is_some());

    c.delete_function_event_invoke_config().function_name(&name).send().await.expect("delete");
    expect_err(
        c.get_function_event_invoke_config().function_name(&name).send().await,
        "ResourceNotFoundException",
        Some(404),
    );
    let list = c.list_function_event_invoke_configs().function_name(&name).send().await.expect("list");
    assert_eq!(list.function_event_invoke_configs().len(), 1);
}

#[tokio::test]
async fn tags_tag_untag_list() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("fn");
    let arn = lambda::create(&c, &name, FnSpec::rust()).await;
    let tags = c.list_tags().resource(&arn).send().await.expect("list_tags");
    assert!(tags.tags().map(|t| t.is_empty()).unwrap_or(true));
    c.tag_resource().resource(&arn).tags("a", "1").tags("b", "2").send().await.expect("tag");
    c.tag_resource().resource(&arn).tags("b", "3").send().await.expect("tag overwrite");
    let tags = c.list_tags().resource(&arn).send().await.expect("list_tags").tags.unwrap_or_default();
    assert_eq!(tags.len(), 2);
    assert_eq!(tags["a"], "1");
    assert_eq!(tags["b"], "3");
    c.untag_resource().resource(&arn).tag_keys("a").send().await.expect("untag");
    let tags = c.list_tags().resource(&arn).send().await.expect("list_tags").tags.unwrap_or_default();
    assert_eq!(tags.keys().collect::<Vec<_>>(), vec!["b"]);
    let missing = c.list_tags().resource("arn:aws:lambda:us-east-1:000000000000:function:nope").send().await;
    expect_err(missing, "ResourceNotFoundException", Some(404));
}

#[tokio::test]
async fn permissions_add_get_remove() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let name = unique_name("fn");
    let arn = lambda::create(&c, &name, FnSpec::rust()).await;
    expect_err(c.get_policy().function_name(&name).send().await, "ResourceNotFoundException", Some(404));
    let added = c
        .add_permission()
        .function_name(&name)
        .statement_id("s3-invoke")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::my-bucket")
        .send()
        .await
        .expect("add_permission");
    let st: Value = serde_json::from_str(added.statement().expect("Statement")).expect("Statement is JSON");
    assert_eq!(st["Sid"], "s3-invoke");
    assert_eq!(st["Effect"], "Allow");
    assert_eq!(st["Principal"]["Service"], "s3.amazonaws.com");
    assert_eq!(st["Action"], "lambda:InvokeFunction");
    assert_eq!(st["Resource"], json!(arn));
    assert_eq!(st["Condition"]["ArnLike"]["AWS:SourceArn"], "arn:aws:s3:::my-bucket");
    let dup = c.add_permission().function_name(&name).statement_id("s3-invoke").action("lambda:InvokeFunction").principal("s3.amazonaws.com").send().await;
    expect_err(dup, "ResourceConflictException", Some(409));
    c.add_permission().function_name(&name).statement_id("acct").action("lambda:GetFunction").principal("123456789012").send().await.expect("add 2");

    let pol = c.get_policy().function_name(&name).send().await.expect("get_policy");
    let doc: Value = serde_json::from_str(pol.policy().expect("Policy")).expect("Policy is JSON");
    assert_eq!(doc["Version"], "2012-10-17");
    let sids: Vec<&str> = doc["Statement"].as_array().unwrap().iter().filter_map(|s| s["Sid"].as_str()).collect();
    assert_eq!(sids, vec!["s3-invoke", "acct"]);
    assert!(pol.revision_id().is_some());

    c.remove_permission().function_name(&name).statement_id("s3-invoke").send().await.expect("remove");
    expect_err(c.remove_permission().function_name(&name).statement_id("s3-invoke").send().await, "ResourceNotFoundException", Some(404));
    c.remove_permission().function_name(&name).statement_id("acct").send().await.expect("remove 2");
    expect_err(c.get_policy().function_name(&name).send().await, "ResourceNotFoundException", Some(404));
}

/// CreateFunction with one thing wrong.
async fn create_err(
    c: &aws_sdk_lambda::Client,
    edit: impl FnOnce(aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder) -> aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder,
) -> Result<
    aws_sdk_lambda::operation::create_function::CreateFunctionOutput,
    aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::create_function::CreateFunctionError, aws_sdk_lambda::config::http::HttpResponse>,
> {
    let base = c
        .create_function()
        .function_name(unique_name("bad"))
        .runtime(Runtime::Providedal2023)
        .role(ROLE)
        .code(FunctionCode::builder().zip_file(Blob::new(lambda::rust_zip())).build());
    edit(base).send().await
}

#[tokio::test]
async fn create_function_validation() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();

    for t in [0, 901] {
        let m = expect_err(create_err(&c, |b| b.timeout(t)).await, "ValidationException", Some(400));
        assert!(m.contains("timeout"), "Timeout {t}: {m}");
    }
    for mem in [127, 10241] {
        let m = expect_err(create_err(&c, |b| b.memory_size(mem)).await, "ValidationException", Some(400));
        assert!(m.contains("memorySize"), "MemorySize {mem}: {m}");
    }
    let m = expect_err(create_err(&c, |b| b.runtime(Runtime::Java21).handler("a.B::h")).await, "InvalidParameterValueException", Some(400));
    assert!(m.contains("not supported by nimbus"), "java21: {m}");
    let m = expect_err(create_err(&c, |b| b.runtime(Runtime::from("cobol85")).handler("x")).await, "InvalidParameterValueException", Some(400));
    assert!(m.contains("cobol85") && m.contains("runtime"), "invalid runtime: {m}");

    let big = "x".repeat(4100);
    let m = expect_err(
        create_err(&c, |b| b.environment(Environment::builder().variables("BIG", big).build())).await,
        "InvalidParameterValueException",
        Some(400),
    );
    assert!(m.contains("4KB"), "env over 4 KB: {m}");
    let m = expect_err(
        create_err(&c, |b| b.environment(Environment::builder().variables("AWS_REGION", "eu-west-1").build())).await,
        "InvalidParameterValueException",
        Some(400),
    );
    assert!(m.contains("AWS_REGION"), "reserved key: {m}");

    let py_zip = lambda::zip_dir(&lambda::functions_dir("python"));
    let m = expect_err(
        create_err(&c, |b| b.runtime(lambda::python_runtime()).code(FunctionCode::builder().zip_file(Blob::new(py_zip)).build())).await,
        "InvalidParameterValueException",
        Some(400),
    );
    assert!(m.to_lowercase().contains("handler"), "missing handler: {m}");

    let m = expect_err(
        create_err(&c, |b| b.code(FunctionCode::builder().zip_file(Blob::new(b"this is not a zip".to_vec())).build())).await,
        "InvalidParameterValueException",
        Some(400),
    );
    assert!(m.contains("unzip"), "bad zip: {m}");

    expect_err(create_err(&c, |b| b.role("not-a-role")).await, "ValidationException", Some(400));
    expect_err(create_err(&c, |b| b.function_name("bad name!")).await, "ValidationException", Some(400));

    // Nothing was created.
    let listed = c.list_functions().send().await.expect("list");
    assert!(listed.functions().is_empty(), "{:?}", listed.functions());

    // UpdateFunctionConfiguration validates too.
    let name = unique_name("fn");
    lambda::create(&c, &name, FnSpec::rust()).await;
    expect_err(c.update_function_configuration().function_name(&name).timeout(901).send().await, "ValidationException", Some(400));
    expect_err(c.update_function_configuration().function_name(&name).memory_size(127).send().await, "ValidationException", Some(400));
    expect_err(
        c.update_function_configuration()
            .function_name(&name)
            .environment(Environment::builder().variables("AWS_REGION", "x").build())
            .send()
            .await,
        "InvalidParameterValueException",
        Some(400),
    );
}
