//! SSM Parameter Store through the AWS SDK for Rust: every parameter operation nimbus
//! serves, the naming rules and limits, tiers, AllowedPattern, DataType, labels and the
//! 100-version limit, filters and pagination, SecureString through nimbus's KMS (the
//! `PARAMETER_ARN` encryption context), durability across `kill -9`, and AWS's error codes
//! for bad input.
//! <https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Operations.html> (Parameter Store operations)
//! <https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html>
//! <https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html>

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{ParameterStringFilter, ParameterTier, ParameterType, ResourceTypeForTagging, Tag};
use aws_sdk_ssm::Client;
use base64::Engine;
use nimbus_tests::{expect_err_message as err, Nimbus};


async fn put(c: &Client, name: &str) -> i64 {
    c.put_parameter().name(name).value("v").r#type(ParameterType::String).overwrite(true).send().await.expect("put_parameter").version()
}

async fn get(c: &Client, name: &str) -> aws_sdk_ssm::types::Parameter {
    c.get_parameter().name(name).with_decryption(true).send().await.expect("get_parameter").parameter().expect("parameter").clone()
}

fn filter(key: &str, option: Option<&str>, values: &[&str]) -> ParameterStringFilter {
    let mut f = ParameterStringFilter::builder().key(key);
    if let Some(o) = option {
        f = f.option(o);
    }
    for v in values {
        f = f.values(*v);
    }
    f.build().expect("filter")
}

#[tokio::test]
async fn put_get_overwrite_versions_and_selectors() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    let out = c.put_parameter().name("/app/db/url").value("v1").r#type(ParameterType::String).description("db").send().await.expect("put");
    assert_eq!(out.version(), 1);
    assert_eq!(out.tier(), Some(&ParameterTier::Standard));
    let p = get(&c, "/app/db/url").await;
    assert_eq!((p.name(), p.value(), p.version(), p.r#type()), (Some("/app/db/url"), Some("v1"), 1, Some(&ParameterType::String)));
    assert_eq!(p.arn(), Some("arn:aws:ssm:us-east-1:000000000000:parameter/app/db/url"));
    assert_eq!(p.data_type(), Some("text"));
    assert!(p.last_modified_date().is_some());

    // Without Overwrite an existing name is refused.
    let m = err(c.put_parameter().name("/app/db/url").value("x").r#type(ParameterType::String).send().await, "ParameterAlreadyExists");
    assert!(m.contains("overwrite"), "{m}");
    // Overwrite without Type keeps the type; the description carries over.
    let v2 = c.put_parameter().name("/app/db/url").value("v2").overwrite(true).send().await.expect("overwrite").version();
    assert_eq!(v2, 2);
    assert_eq!(get(&c, "/app/db/url").await.value(), Some("v2"));
    let d = c.describe_parameters().parameter_filters(filter("Name", None, &["/app/db/url"])).send().await.expect("describe");
    assert_eq!(d.parameters()[0].description(), Some("db"));
    assert_eq!(d.parameters()[0].version(), 2);

    // name:version and name:label.
    let old = get(&c, "/app/db/url:1").await;
    assert_eq!((old.value(), old.version(), old.selector(), old.name()), (Some("v1"), 1, Some(":1"), Some("/app/db/url")));
    let m = err(c.get_parameter().name("/app/db/url:7").send().await, "ParameterVersionNotFound");
    assert!(m.contains("version 7"), "{m}");
    c.label_parameter_version().name("/app/db/url").parameter_version(1).labels("stable").send().await.expect("label");
    let labelled = get(&c, "/app/db/url:stable").await;
    assert_eq!((labelled.value(), labelled.selector()), (Some("v1"), Some(":stable")));
    err(c.get_parameter().name("/app/db/url:nolabel").send().await, "ParameterNotFound");

    // Unknown, case-sensitive names.
    err(c.get_parameter().name("/app/db/nothing").send().await, "ParameterNotFound");
    err(c.get_parameter().name("/APP/db/url").send().await, "ParameterNotFound");
    // A new parameter needs a type; a type cannot change.
    let m = err(c.put_parameter().name("/app/new").value("x").send().await, "ValidationException");
    assert!(m.contains("type is required"), "{m}");
    err(c.put_parameter().name("/app/db/url").value("x").r#type(ParameterType::StringList).overwrite(true).send().await, "HierarchyTypeMismatchException");
    err(c.put_parameter().name("/app/empty").value("").r#type(ParameterType::String).send().await, "ValidationException");
    err(c.put_parameter().name("/app/bad-type").value("x").r#type(ParameterType::from("Number")).send().await, "ValidationException");

    // StringList round trip; a name may be given as its ARN.
    c.put_parameter().name("hosts").value("a,b,c").r#type(ParameterType::StringList).send().await.expect("stringlist");
    let l = get(&c, "arn:aws:ssm:us-east-1:000000000000:parameter/hosts").await;
    assert_eq!((l.name(), l.value(), l.r#type()), (Some("hosts"), Some("a,b,c"), Some(&ParameterType::StringList)));
}

#[tokio::test]
async fn names_follow_aws_rules_and_limits() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    for bad in ["a/b", "/aws/mine", "ssm-thing", "/AWS/x", "/a//b", "/has space/x", "/x$y"] {
        err(c.put_parameter().name(bad).value("v").r#type(ParameterType::String).send().await, "ValidationException");
    }
    let deep16: String = (0..16).map(|i| format!("/l{i}")).collect();
    err(c.put_parameter().name(&deep16).value("v").r#type(ParameterType::String).send().await, "HierarchyLevelLimitExceededException");
    let deep15: String = (0..15).map(|i| format!("/l{i}")).collect();
    put(&c, &deep15).await;
    // 1011 characters including the ARN (`arn:aws:ssm:us-east-1:000000000000:parameter/`,
    // 45, then the name without its leading slash).
    let longest = format!("/{}", "n".repeat(1011 - 45));
    put(&c, &longest).await;
    let too_long = format!("/{}", "n".repeat(1011 - 44));
    err(c.put_parameter().name(&too_long).value("v").r#type(ParameterType::String).send().await, "ValidationException");
    // Case-sensitive: two parameters.
    put(&c, "/Case").await;
    c.put_parameter().name("/case").value("lower").r#type(ParameterType::String).send().await.expect("lowercase is another name");
    assert_eq!(get(&c, "/Case").await.value(), Some("v"));
    // Leading and trailing spaces are removed.
    c.put_parameter().name("  /trimmed ").value("t").r#type(ParameterType::String).send().await.expect("trimmed");
    assert_eq!(get(&c, "/trimmed").await.value(), Some("t"));
}

#[tokio::test]
async fn tiers_sizes_and_policies() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    let s = |k| "x".repeat(k);
    let ok = c.put_parameter().name("/std").value(s(4096)).r#type(ParameterType::String).send().await.expect("4096 in standard");
    assert_eq!(ok.tier(), Some(&ParameterTier::Standard));
    let m = err(c.put_parameter().name("/std2").value(s(4097)).r#type(ParameterType::String).send().await, "ValidationException");
    assert!(m.contains("4096"), "{m}");
    let adv = c.put_parameter().name("/adv").value(s(8192)).r#type(ParameterType::String).tier(ParameterTier::Advanced).send().await.expect("8192 advanced");
    assert_eq!(adv.tier(), Some(&ParameterTier::Advanced));
    err(c.put_parameter().name("/adv2").value(s(8193)).r#type(ParameterType::String).tier(ParameterTier::Advanced).send().await, "ValidationException");
    // Intelligent-Tiering: Standard when it fits, else Advanced.
    let it = c.put_parameter().name("/it-small").value("x").r#type(ParameterType::String).tier(ParameterTier::IntelligentTiering).send().await.expect("it");
    assert_eq!(it.tier(), Some(&ParameterTier::Standard));
    let it = c.put_parameter().name("/it-big").value(s(5000)).r#type(ParameterType::String).tier(ParameterTier::IntelligentTiering).send().await.expect("it");
    assert_eq!(it.tier(), Some(&ParameterTier::Advanced));
    // No downgrade; an overwrite without Tier stays Advanced.
    let m = err(c.put_parameter().name("/adv").value("y").overwrite(true).tier(ParameterTier::Standard).send().await, "ValidationException");
    assert!(m.contains("downgrade"), "{m}");
    let again = c.put_parameter().name("/adv").value("y").overwrite(true).send().await.expect("overwrite advanced");
    assert_eq!(again.tier(), Some(&ParameterTier::Advanced));
    // Policies need Advanced; stored and described.
    let policy = r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-12-02T21:34:33.000Z"}}]"#;
    err(c.put_parameter().name("/pol").value("v").r#type(ParameterType::String).tier(ParameterTier::Standard).policies(policy).send().await, "ValidationException");
    err(c.put_parameter().name("/pol").value("v").r#type(ParameterType::String).tier(ParameterTier::Advanced).policies(r#"[{"Type":"Forever"}]"#).send().await, "InvalidPolicyTypeException");
    let twice = r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-12-02T21:34:33.000Z"}},{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2031-12-02T21:34:33.000Z"}}]"#;
    err(c.put_parameter().name("/pol").value("v").r#type(ParameterType::String).tier(ParameterTier::Advanced).policies(twice).send().await, "IncompatiblePolicyException");
    let p = c.put_parameter().name("/pol").value("v").r#type(ParameterType::String).tier(ParameterTier::IntelligentTiering).policies(policy).send().await.expect("policy");
    assert_eq!(p.tier(), Some(&ParameterTier::Advanced));
    let d = c.describe_parameters().parameter_filters(filter("Name", None, &["/pol"])).send().await.expect("describe");
    let pol = &d.parameters()[0].policies()[0];
    assert_eq!((pol.policy_type(), pol.policy_status()), (Some("Expiration"), Some("Pending")));
    assert!(pol.policy_text().unwrap_or_default().contains("2030-12-02"));
    let tiers = c.describe_parameters().parameter_filters(filter("Tier", None, &["Advanced"])).send().await.expect("tier filter");
    let names: Vec<_> = tiers.parameters().iter().filter_map(|p| p.name()).collect();
    assert_eq!(names, ["/adv", "/it-big", "/pol"]);
}

#[tokio::test]
async fn allowed_pattern_and_data_types() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    c.put_parameter().name("/port").value("8080").r#type(ParameterType::String).allowed_pattern(r"^\d+$").send().await.expect("matches");
    err(c.put_parameter().name("/port").value("http").overwrite(true).send().await, "ParameterPatternMismatchException");
    assert_eq!(get(&c, "/port").await.value(), Some("8080"));
    err(c.put_parameter().name("/bad-re").value("x").r#type(ParameterType::String).allowed_pattern("(unclosed").send().await, "InvalidAllowedPatternException");

    let ami = c.put_parameter().name("/ami").value("ami-0123456789abcdef0").r#type(ParameterType::String).data_type("aws:ec2:image").send().await;
    ami.expect("17-hex AMI id");
    assert_eq!(get(&c, "/ami").await.data_type(), Some("aws:ec2:image"));
    c.put_parameter().name("/ami8").value("ami-12345678").r#type(ParameterType::String).data_type("aws:ec2:image").send().await.expect("8-hex AMI id");
    err(c.put_parameter().name("/ami-bad").value("image-1").r#type(ParameterType::String).data_type("aws:ec2:image").send().await, "ValidationException");
    err(c.put_parameter().name("/ami-list").value("ami-12345678").r#type(ParameterType::StringList).data_type("aws:ec2:image").send().await, "ValidationException");
    let m = err(c.put_parameter().name("/dt").value("x").r#type(ParameterType::String).data_type("Text").send().await, "ValidationException");
    assert!(m.contains("data type is not supported"), "{m}");
    let dt = c.describe_parameters().parameter_filters(filter("DataType", None, &["aws:ec2:image"])).send().await.expect("datatype filter");
    assert_eq!(dt.parameters().len(), 2);
}

#[tokio::test]
async fn get_parameters_and_by_path_with_filters_and_pages() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    for name in ["/svc/a", "/svc/b", "/svc/c", "/svc/deep/d", "/svc/deep/er/e", "/other/x", "top"] {
        put(&c, name).await;
    }
    c.put_parameter().name("/svc/list").value("1,2").r#type(ParameterType::StringList).send().await.expect("list");
    let got = c.get_parameters().names("/svc/a").names("/nope").names("/svc/b:1").names("/svc/b:9").send().await.expect("get_parameters");
    let names: Vec<_> = got.parameters().iter().filter_map(|p| p.name()).collect();
    assert_eq!(names, ["/svc/a", "/svc/b"]);
    assert_eq!(got.invalid_parameters(), ["/nope", "/svc/b:9"]);

    let one = c.get_parameters_by_path().path("/svc").send().await.expect("one level");
    let names: Vec<_> = one.parameters().iter().filter_map(|p| p.name()).collect();
    assert_eq!(names, ["/svc/a", "/svc/b", "/svc/c", "/svc/list"]);
    let all = c.get_parameters_by_path().path("/svc/").recursive(true).send().await.expect("recursive");
    assert_eq!(all.parameters().len(), 6);
    let root = c.get_parameters_by_path().path("/").send().await.expect("root");
    let names: Vec<_> = root.parameters().iter().filter_map(|p| p.name()).collect();
    assert_eq!(names, ["top"]);
    let lists = c.get_parameters_by_path().path("/svc").recursive(true).parameter_filters(filter("Type", Some("Equals"), &["StringList"])).send().await.expect("type filter");
    assert_eq!(lists.parameters().len(), 1);
    err(c.get_parameters_by_path().path("/svc").parameter_filters(filter("Name", None, &["/svc/a"])).send().await, "InvalidFilterKey");
    err(c.get_parameters_by_path().path("/svc").parameter_filters(filter("Type", Some("BeginsWith"), &["String"])).send().await, "InvalidFilterOption");
    err(c.get_parameters_by_path().path("svc").send().await, "ValidationException");
    err(c.get_parameters_by_path().path("/svc").max_results(11).send().await, "ValidationException");
    err(c.get_parameters_by_path().path("/svc").next_token("garbage").send().await, "InvalidNextToken");

    // Pages of 2 cover everything once.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = c.get_parameters_by_path().path("/svc").recursive(true).max_results(2).set_next_token(token).send().await.expect("page");
        assert!(page.parameters().len() <= 2);
        seen.extend(page.parameters().iter().filter_map(|p| p.name().map(str::to_string)));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["/svc/a", "/svc/b", "/svc/c", "/svc/deep/d", "/svc/deep/er/e", "/svc/list"]);
}

#[tokio::test]
async fn describe_parameters_filters_and_pagination() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    for name in ["/p/a", "/p/b", "/p/q/c", "/pz", "solo"] {
        put(&c, name).await;
    }
    c.label_parameter_version().name("/p/b").labels("blue").send().await.expect("label");
    let names = |d: &aws_sdk_ssm::operation::describe_parameters::DescribeParametersOutput| d.parameters().iter().filter_map(|p| p.name().map(str::to_string)).collect::<Vec<_>>();
    let d = c.describe_parameters().parameter_filters(filter("Name", Some("BeginsWith"), &["/p"])).send().await.expect("begins");
    assert_eq!(names(&d), ["/p/a", "/p/b", "/p/q/c", "/pz"]);
    let d = c.describe_parameters().parameter_filters(filter("Path", None, &["/p"])).send().await.expect("one level");
    assert_eq!(names(&d), ["/p/a", "/p/b"]);
    let d = c.describe_parameters().parameter_filters(filter("Path", Some("Recursive"), &["/p"])).send().await.expect("recursive");
    assert_eq!(names(&d), ["/p/a", "/p/b", "/p/q/c"]);
    let d = c.describe_parameters().parameter_filters(filter("Label", None, &["blue"])).send().await.expect("label");
    assert_eq!(names(&d), ["/p/b"]);
    let d = c.describe_parameters().parameter_filters(filter("Type", None, &["String"])).parameter_filters(filter("Name", Some("Contains"), &["ol"])).send().await.expect("two filters");
    assert_eq!(names(&d), ["solo"]);
    let meta = &d.parameters()[0];
    assert_eq!(meta.arn(), Some("arn:aws:ssm:us-east-1:000000000000:parameter/solo"));
    assert!(meta.last_modified_user().unwrap_or_default().starts_with("arn:aws:iam::000000000000:"), "{meta:?}");
    err(c.describe_parameters().parameter_filters(filter("Path", Some("Equals"), &["/p"])).send().await, "InvalidFilterOption");
    err(c.describe_parameters().parameter_filters(filter("Type", None, &["Number"])).send().await, "InvalidFilterValue");
    err(c.describe_parameters().parameter_filters(filter("Colour", None, &["x"])).send().await, "ValidationException");
    err(c.describe_parameters().max_results(51).send().await, "ValidationException");
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = c.describe_parameters().max_results(2).set_next_token(token).send().await.expect("page");
        all.extend(names(&page));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(all, ["/p/a", "/p/b", "/p/q/c", "/pz", "solo"]);
}

#[tokio::test]
async fn labels_move_limit_and_unlabel() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    for v in ["one", "two", "three"] {
        put(&c, "/l").await;
        let _ = v;
    }
    let out = c.label_parameter_version().name("/l").parameter_version(1).labels("prod").labels("1bad").labels("aws-x").labels("ok.label_1-x").send().await.expect("label");
    assert_eq!(out.parameter_version(), 1);
    assert_eq!(out.invalid_labels(), ["1bad", "aws-x"]);
    // Without ParameterVersion the latest version is labelled; a label moves.
    let out = c.label_parameter_version().name("/l").labels("prod").send().await.expect("move");
    assert_eq!(out.parameter_version(), 3);
    let h = c.get_parameter_history().name("/l").send().await.expect("history");
    let labels: Vec<Vec<String>> = h.parameters().iter().map(|p| p.labels().to_vec()).collect();
    assert_eq!(labels, vec![vec!["ok.label_1-x".to_string()], vec![], vec!["prod".to_string()]]);
    assert_eq!(get(&c, "/l:prod").await.version(), 3);
    err(c.label_parameter_version().name("/l").parameter_version(9).labels("x").send().await, "ParameterVersionNotFound");
    err(c.label_parameter_version().name("/none").labels("x").send().await, "ParameterNotFound");

    // At most 10 labels on a version.
    let mut req = c.label_parameter_version().name("/l").parameter_version(2);
    for i in 0..10 {
        req = req.labels(format!("l{i}"));
    }
    req.send().await.expect("ten labels");
    err(c.label_parameter_version().name("/l").parameter_version(2).labels("eleventh").send().await, "ParameterVersionLabelLimitExceeded");
    // Moving a label onto a full version also fails; the label stays where it was.
    err(c.label_parameter_version().name("/l").parameter_version(2).labels("prod").send().await, "ParameterVersionLabelLimitExceeded");
    assert_eq!(get(&c, "/l:prod").await.version(), 3);

    let un = c.unlabel_parameter_version().name("/l").parameter_version(3).labels("prod").labels("l0").send().await.expect("unlabel");
    assert_eq!(un.removed_labels(), ["prod"]);
    assert_eq!(un.invalid_labels(), ["l0"]);
    err(c.get_parameter().name("/l:prod").send().await, "ParameterNotFound");
    err(c.unlabel_parameter_version().name("/l").parameter_version(8).labels("l0").send().await, "ParameterVersionNotFound");
}

#[tokio::test]
async fn history_pages_and_the_100_version_limit() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    for i in 1..=100 {
        assert_eq!(c.put_parameter().name("/h").value(format!("v{i}")).r#type(ParameterType::String).overwrite(true).send().await.expect("put").version(), i);
    }
    let first = c.get_parameter_history().name("/h").send().await.expect("history");
    assert_eq!(first.parameters().len(), 50);
    assert_eq!(first.parameters()[0].value(), Some("v1"));
    let second = c.get_parameter_history().name("/h").next_token(first.next_token().expect("more")).send().await.expect("page 2");
    assert_eq!(second.parameters().len(), 50);
    assert_eq!(second.parameters()[49].version(), 100);
    assert!(second.next_token().is_none());
    err(c.get_parameter_history().name("/h").max_results(51).send().await, "ValidationException");
    err(c.get_parameter_history().name("/none").send().await, "ParameterNotFound");

    // The 101st version drops version 1.
    assert_eq!(put(&c, "/h").await, 101);
    err(c.get_parameter().name("/h:1").send().await, "ParameterVersionNotFound");
    let h = c.get_parameter_history().name("/h").max_results(1).send().await.expect("oldest");
    assert_eq!(h.parameters()[0].version(), 2);
    // A labelled oldest version is not dropped: the put fails.
    c.label_parameter_version().name("/h").parameter_version(2).labels("keep").send().await.expect("label oldest");
    let m = err(c.put_parameter().name("/h").value("x").overwrite(true).send().await, "ParameterMaxVersionLimitExceeded");
    assert!(m.contains("Version 2"), "{m}");
    assert_eq!(get(&c, "/h").await.version(), 101);
    // Moving the label away lets it go.
    c.label_parameter_version().name("/h").parameter_version(50).labels("keep").send().await.expect("move label");
    assert_eq!(put(&c, "/h").await, 102);
    assert_eq!(get(&c, "/h:keep").await.value(), Some("v50"));
}

#[tokio::test]
async fn delete_and_recreate() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    put(&c, "/d/a").await;
    put(&c, "/d/a").await;
    put(&c, "/d/b").await;
    // A selector names no parameter: nothing is deleted.
    err(c.delete_parameter().name("/d/a:1").send().await, "ParameterNotFound");
    assert_eq!(get(&c, "/d/a").await.version(), 2);
    c.delete_parameter().name("/d/a").send().await.expect("delete");
    err(c.get_parameter().name("/d/a").send().await, "ParameterNotFound");
    err(c.delete_parameter().name("/d/a").send().await, "ParameterNotFound");
    assert_eq!(put(&c, "/d/a").await, 1, "a re-created parameter starts at version 1");
    assert_eq!(c.get_parameter_history().name("/d/a").send().await.expect("history").parameters().len(), 1);
    let out = c.delete_parameters().names("/d/a").names("/d/b:1").names("/d/b").names("/d/zz").send().await.expect("delete many");
    assert_eq!(out.deleted_parameters(), ["/d/a", "/d/b"]);
    assert_eq!(out.invalid_parameters(), ["/d/b:1", "/d/zz"]);
    assert!(c.describe_parameters().send().await.expect("describe").parameters().is_empty());
}

#[tokio::test]
async fn tags_on_parameters() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().expect("tag");
    c.put_parameter().name("/t").value("v").r#type(ParameterType::String).tags(tag("team", "a")).send().await.expect("put with tags");
    let m = err(c.put_parameter().name("/t").value("w").overwrite(true).tags(tag("x", "y")).send().await, "ValidationException");
    assert!(m.contains("tags and overwrite"), "{m}");
    c.add_tags_to_resource().resource_type(ResourceTypeForTagging::Parameter).resource_id("/t").tags(tag("env", "dev")).tags(tag("team", "b")).send().await.expect("add");
    let list = c.list_tags_for_resource().resource_type(ResourceTypeForTagging::Parameter).resource_id("/t").send().await.expect("list");
    let tags: Vec<_> = list.tag_list().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("env", "dev"), ("team", "b")]);
    let d = c.describe_parameters().parameter_filters(filter("tag:env", None, &["dev"])).send().await.expect("tag filter");
    assert_eq!(d.parameters().len(), 1);
    c.remove_tags_from_resource().resource_type(ResourceTypeForTagging::Parameter).resource_id("/t").tag_keys("env").send().await.expect("remove");
    let list = c.list_tags_for_resource().resource_type(ResourceTypeForTagging::Parameter).resource_id("/t").send().await.expect("list");
    assert_eq!(list.tag_list().len(), 1);
    err(c.list_tags_for_resource().resource_type(ResourceTypeForTagging::Parameter).resource_id("/none").send().await, "InvalidResourceId");
    err(c.add_tags_to_resource().resource_type(ResourceTypeForTagging::Parameter).resource_id("/none").tags(tag("a", "b")).send().await, "InvalidResourceId");
    let m = err(c.list_tags_for_resource().resource_type(ResourceTypeForTagging::Document).resource_id("doc").send().await, "ValidationException");
    assert!(m.contains("not supported by nimbus yet"), "{m}");
    err(c.list_tags_for_resource().resource_type(ResourceTypeForTagging::from("Bogus")).resource_id("x").send().await, "InvalidResourceType");
    let mut too_many = c.add_tags_to_resource().resource_type(ResourceTypeForTagging::Parameter).resource_id("/t");
    for i in 0..50 {
        too_many = too_many.tags(tag(&format!("k{i}"), "v"));
    }
    err(too_many.send().await, "TooManyTagsError");
}

#[tokio::test]
async fn secure_string_through_kms() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    let kms = n.kms_client();
    let out = c.put_parameter().name("/sec/db-password").value("hunter2").r#type(ParameterType::SecureString).send().await.expect("secure put");
    assert_eq!(out.version(), 1);
    // Without decryption: the ciphertext blob, base64.
    let raw = c.get_parameter().name("/sec/db-password").send().await.expect("get").parameter().expect("p").clone();
    let blob = base64::engine::general_purpose::STANDARD.decode(raw.value().expect("value")).expect("base64 ciphertext");
    assert_ne!(raw.value(), Some("hunter2"));
    // It is a KMS ciphertext under the encryption context Parameter Store uses.
    let arn = "arn:aws:ssm:us-east-1:000000000000:parameter/sec/db-password";
    let plain = kms.decrypt().ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob.clone())).encryption_context("PARAMETER_ARN", arn).send().await.expect("kms decrypt");
    assert_eq!(plain.plaintext().expect("plaintext").as_ref(), b"hunter2");
    let wrong = kms.decrypt().ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob)).send().await;
    assert!(wrong.is_err(), "no context, no plaintext");
    let alias = kms.list_aliases().send().await.expect("aliases");
    assert!(alias.aliases().iter().any(|a| a.alias_name() == Some("alias/aws/ssm")), "the default key alias/aws/ssm exists");
    // With decryption.
    assert_eq!(get(&c, "/sec/db-password").await.value(), Some("hunter2"));
    let by_path = c.get_parameters_by_path().path("/sec").with_decryption(true).send().await.expect("by path");
    assert_eq!(by_path.parameters()[0].value(), Some("hunter2"));
    let d = c.describe_parameters().parameter_filters(filter("KeyId", None, &["alias/aws/ssm"])).send().await.expect("describe");
    assert_eq!(d.parameters()[0].key_id(), Some("alias/aws/ssm"));

    // A customer key; history decrypts each version.
    let key = kms.create_key().send().await.expect("key").key_metadata().expect("m").key_id().to_string();
    c.put_parameter().name("/sec/api").value("k1").r#type(ParameterType::SecureString).key_id(&key).send().await.expect("cmk");
    c.put_parameter().name("/sec/api").value("k2").overwrite(true).send().await.expect("overwrite keeps key");
    let h = c.get_parameter_history().name("/sec/api").with_decryption(true).send().await.expect("history");
    let values: Vec<_> = h.parameters().iter().map(|p| (p.value(), p.key_id())).collect();
    assert_eq!(values, [(Some("k1"), Some(key.as_str())), (Some("k2"), Some(key.as_str()))]);
    let got = c.get_parameters().names("/sec/api:1").names("/sec/db-password").with_decryption(true).send().await.expect("get_parameters");
    let values: Vec<_> = got.parameters().iter().filter_map(|p| p.value()).collect();
    assert_eq!(values, ["k1", "hunter2"]);
    // A disabled key cannot decrypt.
    kms.disable_key().key_id(&key).send().await.expect("disable");
    assert!(c.get_parameter().name("/sec/api").with_decryption(true).send().await.is_err());
    err(c.put_parameter().name("/sec/x").value("v").r#type(ParameterType::SecureString).key_id(&key).send().await, "InvalidKeyId");
    err(c.put_parameter().name("/sec/y").value("v").r#type(ParameterType::SecureString).key_id("alias/missing").send().await, "InvalidKeyId");
    err(c.put_parameter().name("/sec/z").value("v").r#type(ParameterType::String).key_id("alias/aws/ssm").send().await, "ValidationException");
}

#[tokio::test]
async fn parameters_survive_kill_9() {
    let mut n = Nimbus::start();
    let c = n.ssm_client();
    put(&c, "/keep/a").await;
    put(&c, "/keep/a").await;
    c.put_parameter().name("/keep/secret").value("s3cret").r#type(ParameterType::SecureString).tags(Tag::builder().key("k").value("v").build().expect("tag")).send().await.expect("secure");
    c.label_parameter_version().name("/keep/a").parameter_version(1).labels("first").send().await.expect("label");
    c.delete_parameter().name("/keep/a").send().await.ok();
    put(&c, "/keep/a").await;
    put(&c, "/keep/a").await;
    c.label_parameter_version().name("/keep/a").parameter_version(1).labels("first").send().await.expect("label");
    n.kill9();
    n.restart();
    let c = n.ssm_client();
    assert_eq!(get(&c, "/keep/secret").await.value(), Some("s3cret"));
    assert_eq!(get(&c, "/keep/a").await.version(), 2);
    assert_eq!(get(&c, "/keep/a:first").await.version(), 1);
    let h = c.get_parameter_history().name("/keep/a").send().await.expect("history");
    assert_eq!(h.parameters().len(), 2);
    let tags = c.list_tags_for_resource().resource_type(ResourceTypeForTagging::Parameter).resource_id("/keep/secret").send().await.expect("tags");
    assert_eq!(tags.tag_list().len(), 1);
    assert_eq!(put(&c, "/keep/a").await, 3, "version numbering continues");
}

#[tokio::test]
async fn accounts_and_regions_are_separate_and_other_operations_are_refused() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    put(&c, "/shared-name").await;
    let other_region = n.ssm_client_for("000000000000", "eu-west-1");
    err(other_region.get_parameter().name("/shared-name").send().await, "ParameterNotFound");
    let other_account = n.ssm_client_for("111111111111", "us-east-1");
    err(other_account.get_parameter().name("/shared-name").send().await, "ParameterNotFound");
    put(&other_account, "/shared-name").await;
    assert_eq!(get(&other_account, "/shared-name").await.arn(), Some("arn:aws:ssm:us-east-1:111111111111:parameter/shared-name"));
    let m = err(c.list_documents().send().await, "ValidationException");
    assert!(m.contains("not supported by nimbus yet"), "{m}");
}

#[tokio::test]
async fn concurrent_overwrites_number_versions_once_each() {
    let n = Nimbus::start_in_memory();
    let c = n.ssm_client();
    put(&c, "/race").await;
    let calls = (0..16).map(|i| {
        let c = c.clone();
        tokio::spawn(async move { c.put_parameter().name("/race").value(format!("w{i}")).overwrite(true).send().await })
    });
    let mut versions = Vec::new();
    for call in calls {
        match call.await.expect("task") {
            Ok(out) => versions.push(out.version()),
            // A PutParameter that raced another one is refused, as AWS refuses concurrent updates.
            Err(e) => assert_eq!(e.as_service_error().and_then(|s| s.code()), Some("TooManyUpdates"), "{e:?}"),
        }
    }
    versions.sort();
    assert!(!versions.is_empty());
    assert_eq!(versions, (2..2 + versions.len() as i64).collect::<Vec<_>>(), "each accepted put has its own version");
    let latest = get(&c, "/race").await;
    assert_eq!(latest.version(), 1 + versions.len() as i64);
    let h = c.get_parameter_history().name("/race").send().await.expect("history");
    assert_eq!(h.parameters().len(), 1 + versions.len());
}
