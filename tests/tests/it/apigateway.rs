//! API Gateway v2 (HTTP APIs) control plane through the AWS SDK for Rust: APIs (quick
//! create, paging, update, delete), routes and their keys, integrations, stages,
//! deployments, tags, AWS's error codes and messages, durability across a restart. The
//! data plane is tested with boto3 + HTTP in tests/python/test_apigateway.py.

use aws_sdk_apigatewayv2::types::{IntegrationType, ProtocolType};
use nimbus_tests::lambda::expect_err;
use nimbus_tests::{default_account, Nimbus};

const FN_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:f";

#[tokio::test]
async fn create_get_list_update_delete_api() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let api = c.create_api().name("one").protocol_type(ProtocolType::Http).description("d").send().await.expect("create_api");
    let id = api.api_id().expect("id").to_string();
    assert!(id.len() == 10 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "AWS's 10-character ids: {id}");
    assert_eq!(api.api_endpoint(), Some(format!("http://{id}.execute-api.localhost:{}", n.port()).as_str()));
    assert_eq!(api.route_selection_expression(), Some("$request.method $request.path"));
    assert_eq!(api.protocol_type(), Some(&ProtocolType::Http));
    assert!(api.created_date().is_some());

    let got = c.get_api().api_id(&id).send().await.expect("get_api");
    assert_eq!((got.name(), got.description()), (Some("one"), Some("d")));

    for name in ["two", "three"] {
        c.create_api().name(name).protocol_type(ProtocolType::Http).send().await.expect("create_api");
    }
    let page1 = c.get_apis().max_results("2").send().await.expect("get_apis");
    assert_eq!(page1.items().len(), 2);
    let token = page1.next_token().expect("a second page").to_string();
    let page2 = c.get_apis().max_results("2").next_token(token).send().await.expect("get_apis page 2");
    assert_eq!(page2.items().len(), 1);
    assert!(page2.next_token().is_none());

    let updated = c.update_api().api_id(&id).name("renamed").send().await.expect("update_api");
    assert_eq!((updated.name(), updated.description()), (Some("renamed"), Some("d")));
    c.delete_api().api_id(&id).send().await.expect("delete_api");
    let msg = expect_err(c.get_api().api_id(&id).send().await, "NotFoundException", Some(404));
    assert_eq!(msg, format!("Invalid API identifier specified {}:{id}", default_account()));
}

#[tokio::test]
async fn quick_create_makes_route_integration_and_auto_deployed_stage() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let api = c.create_api().name("q").protocol_type(ProtocolType::Http).target(FN_ARN).route_key("GET /pets").send().await.expect("quick create");
    let id = api.api_id().expect("id");
    let routes = c.get_routes().api_id(id).send().await.expect("get_routes");
    let integrations = c.get_integrations().api_id(id).send().await.expect("get_integrations");
    let stages = c.get_stages().api_id(id).send().await.expect("get_stages");
    let (route, integration, stage) = (&routes.items()[0], &integrations.items()[0], &stages.items()[0]);
    assert_eq!(route.route_key(), Some("GET /pets"));
    assert_eq!(route.route_id().map(str::len), Some(7));
    assert_eq!(route.target(), Some(format!("integrations/{}", integration.integration_id().expect("id")).as_str()));
    assert_eq!(integration.integration_type(), Some(&IntegrationType::AwsProxy));
    assert_eq!((integration.integration_uri(), integration.payload_format_version()), (Some(FN_ARN), Some("2.0")));
    assert_eq!((stage.stage_name(), stage.auto_deploy()), (Some("$default"), Some(true)));
    assert_eq!(route.api_gateway_managed(), Some(true));
}

#[tokio::test]
async fn routes_validate_keys_and_conflicts() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let id = c.create_api().name("r").protocol_type(ProtocolType::Http).send().await.expect("create_api").api_id().expect("id").to_string();
    for key in ["$default", "GET /pets/{id}", "ANY /{proxy+}", "POST /"] {
        c.create_route().api_id(&id).route_key(key).send().await.unwrap_or_else(|e| panic!("{key}: {e:?}"));
    }
    for bad in ["GET pets", "FETCH /pets", "GET /{proxy+}/more", "GET"] {
        expect_err(c.create_route().api_id(&id).route_key(bad).send().await, "BadRequestException", Some(400));
    }
    expect_err(c.create_route().api_id(&id).route_key("GET /pets/{id}").send().await, "ConflictException", Some(409));
    expect_err(c.create_route().api_id(&id).route_key("GET /x").target("integrations/nope123").send().await, "BadRequestException", Some(400));
    let msg = expect_err(
        c.create_route().api_id(&id).route_key("GET /jwt").authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Jwt).send().await,
        "BadRequestException",
        Some(400),
    );
    assert_eq!(msg, "AuthorizerId is required for authorization type JWT");
    let all = c.get_routes().api_id(&id).send().await.expect("get_routes");
    assert_eq!(all.items().len(), 4);
    let rid = all.items()[0].route_id().expect("id").to_string();
    let up = c.update_route().api_id(&id).route_id(&rid).route_key("PUT /new").send().await.expect("update_route");
    assert_eq!(up.route_key(), Some("PUT /new"));
    assert_eq!(c.get_route().api_id(&id).route_id(&rid).send().await.expect("get_route").route_key(), Some("PUT /new"));
    c.delete_route().api_id(&id).route_id(&rid).send().await.expect("delete_route");
    expect_err(c.get_route().api_id(&id).route_id(&rid).send().await, "NotFoundException", Some(404));
    expect_err(c.create_route().api_id("nosuchapi0").route_key("GET /").send().await, "NotFoundException", Some(404));
}

#[tokio::test]
async fn integrations_of_http_apis_are_proxies_with_a_payload_format() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let id = c.create_api().name("i").protocol_type(ProtocolType::Http).send().await.expect("create_api").api_id().expect("id").to_string();
    // aws/aws-cli#6363 shows AWS's wording for a non-proxy integration of an HTTP API.
    let msg = expect_err(c.create_integration().api_id(&id).integration_type(IntegrationType::Aws).integration_uri(FN_ARN).send().await, "BadRequestException", Some(400));
    assert!(msg.contains("may only be associated with proxy integrations"), "{msg}");
    // PayloadFormatVersion is required for HTTP APIs (API reference, CreateIntegration).
    expect_err(c.create_integration().api_id(&id).integration_type(IntegrationType::AwsProxy).integration_uri(FN_ARN).send().await, "BadRequestException", Some(400));
    expect_err(
        c.create_integration().api_id(&id).integration_type(IntegrationType::AwsProxy).integration_uri(FN_ARN).payload_format_version("3.0").send().await,
        "BadRequestException",
        Some(400),
    );
    let i = c.create_integration().api_id(&id).integration_type(IntegrationType::AwsProxy).integration_uri(FN_ARN).payload_format_version("1.0").send().await.expect("create_integration");
    let iid = i.integration_id().expect("id").to_string();
    assert_eq!((i.integration_method(), i.timeout_in_millis()), (Some("POST"), Some(30000)));
    let up = c.update_integration().api_id(&id).integration_id(&iid).payload_format_version("2.0").send().await.expect("update_integration");
    assert_eq!(up.payload_format_version(), Some("2.0"));
    c.create_route().api_id(&id).route_key("GET /").target(format!("integrations/{iid}")).send().await.expect("create_route");
    expect_err(c.delete_integration().api_id(&id).integration_id(&iid).send().await, "ConflictException", Some(409));
    let http = c.create_integration().api_id(&id).integration_type(IntegrationType::HttpProxy).integration_uri("https://example.com").integration_method("GET").send().await.expect("HTTP_PROXY");
    assert_eq!(http.payload_format_version(), None);
    c.delete_integration().api_id(&id).integration_id(http.integration_id().expect("id")).send().await.expect("delete_integration");
    expect_err(c.get_integration().api_id(&id).integration_id("missing").send().await, "NotFoundException", Some(404));
}

#[tokio::test]
async fn stages_and_deployments() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let id = c.create_api().name("s").protocol_type(ProtocolType::Http).send().await.expect("create_api").api_id().expect("id").to_string();
    let s = c.create_stage().api_id(&id).stage_name("dev").stage_variables("k", "v").send().await.expect("create_stage");
    assert_eq!((s.stage_name(), s.auto_deploy()), (Some("dev"), Some(false)));
    assert_eq!(s.stage_variables().and_then(|m| m.get("k")).map(String::as_str), Some("v"));
    expect_err(c.create_stage().api_id(&id).stage_name("dev").send().await, "ConflictException", Some(409));
    let d = c.create_deployment().api_id(&id).stage_name("dev").description("first").send().await.expect("create_deployment");
    let did = d.deployment_id().expect("id").to_string();
    assert_eq!(did.len(), 7);
    assert_eq!(c.get_stage().api_id(&id).stage_name("dev").send().await.expect("get_stage").deployment_id(), Some(did.as_str()));
    assert_eq!(c.get_deployments().api_id(&id).send().await.expect("get_deployments").items().len(), 1);
    assert_eq!(c.get_deployment().api_id(&id).deployment_id(&did).send().await.expect("get_deployment").description(), Some("first"));
    let up = c.update_stage().api_id(&id).stage_name("dev").auto_deploy(true).send().await.expect("update_stage");
    assert_eq!(up.auto_deploy(), Some(true));
    c.delete_stage().api_id(&id).stage_name("dev").send().await.expect("delete_stage");
    let msg = expect_err(c.get_stage().api_id(&id).stage_name("dev").send().await, "NotFoundException", Some(404));
    assert_eq!(msg, "Invalid stage identifier specified");
    c.delete_deployment().api_id(&id).deployment_id(&did).send().await.expect("delete_deployment");
    expect_err(c.get_deployment().api_id(&id).deployment_id(&did).send().await, "NotFoundException", Some(404));
}

#[tokio::test]
async fn tags_of_an_api() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let id = c.create_api().name("t").protocol_type(ProtocolType::Http).tags("a", "1").send().await.expect("create_api").api_id().expect("id").to_string();
    let arn = format!("arn:aws:apigateway:us-east-1::/apis/{id}");
    c.tag_resource().resource_arn(&arn).tags("b", "2").send().await.expect("tag_resource");
    c.untag_resource().resource_arn(&arn).tag_keys("a").send().await.expect("untag_resource");
    let tags = c.get_tags().resource_arn(&arn).send().await.expect("get_tags");
    let got: Vec<(&String, &String)> = tags.tags().expect("tags").iter().collect();
    assert_eq!(got, vec![(&"b".to_string(), &"2".to_string())]);
    expect_err(c.get_tags().resource_arn("arn:aws:apigateway:us-east-1::/apis/nosuchapi0").send().await, "NotFoundException", Some(404));
}

#[tokio::test]
async fn websocket_apis_need_a_route_selection_expression() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    expect_err(c.create_api().name("w").protocol_type(ProtocolType::Websocket).send().await, "BadRequestException", Some(400));
    let api = c.create_api().name("w").protocol_type(ProtocolType::Websocket).route_selection_expression("$request.body.action").send().await.expect("websocket API");
    assert_eq!(api.protocol_type(), Some(&ProtocolType::Websocket));
}

#[tokio::test]
async fn operations_nimbus_lacks_say_so() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let msg = expect_err(c.get_vpc_links().send().await, "BadRequestException", Some(400));
    assert_eq!(msg, "GetVpcLinks is not supported by nimbus yet");
}

#[tokio::test]
async fn apis_survive_a_restart() {
    let mut n = Nimbus::start();
    let c = n.apigateway_client();
    let id = c.create_api().name("durable").protocol_type(ProtocolType::Http).target(FN_ARN).send().await.expect("create_api").api_id().expect("id").to_string();
    n.restart();
    let c = n.apigateway_client();
    assert_eq!(c.get_api().api_id(&id).send().await.expect("get_api after restart").name(), Some("durable"));
    assert_eq!(c.get_routes().api_id(&id).send().await.expect("get_routes").items().len(), 1);
}
