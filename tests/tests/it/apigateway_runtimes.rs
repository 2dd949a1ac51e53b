//! An HTTP API in front of functions of the three kinds nimbus runs — Rust on
//! `lambda_runtime` (`provided.al2023`), Node.js and Python — with both payload formats:
//! each function answers a proxy response whose body is the event it received, so the test
//! sees the event each runtime got through the gateway ("Create AWS Lambda proxy
//! integrations for HTTP APIs", payload format versions:
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).

use aws_sdk_apigatewayv2::types::ProtocolType;
use aws_sdk_lambda::types::Runtime;
use nimbus_tests::lambda::{self, FnSpec};
use nimbus_tests::{http_request, unique_name, Nimbus};
use serde_json::Value;

fn node(handler: &str) -> FnSpec {
    FnSpec { runtime: lambda::node_runtime(), handler: Some(handler.into()), zip: lambda::zip_dir(&lambda::functions_dir("node/cjs")), env: vec![], timeout: None }
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_node_and_python_functions_get_both_payload_formats() {
    let nimbus = Nimbus::start_in_memory();
    let (apigw, lam) = (nimbus.apigateway_client(), nimbus.lambda_client());
    let functions = [
        ("rust", FnSpec::rust().env("APIGW_PROXY", "1")),
        ("node", node("index.proxy")),
        ("python", FnSpec::python("handler.echo_proxy")),
    ];
    let api = apigw.create_api().name("runtimes").protocol_type(ProtocolType::Http).send().await.expect("CreateApi");
    let api_id = api.api_id().expect("ApiId").to_string();
    apigw.create_stage().api_id(&api_id).stage_name("$default").auto_deploy(true).send().await.expect("CreateStage");
    for (kind, spec) in functions {
        let runtime: Runtime = spec.runtime.clone();
        let arn = lambda::create(&lam, &unique_name(kind), spec).await;
        for version in ["1.0", "2.0"] {
            let integration = apigw
                .create_integration()
                .api_id(&api_id)
                .integration_type(aws_sdk_apigatewayv2::types::IntegrationType::AwsProxy)
                .integration_uri(&arn)
                .payload_format_version(version)
                .send()
                .await
                .expect("CreateIntegration");
            let tag = version.replace('.', "");
            apigw
                .create_route()
                .api_id(&api_id)
                .route_key(format!("POST /{kind}/v{tag}/{{item}}"))
                .target(format!("integrations/{}", integration.integration_id().expect("IntegrationId")))
                .send()
                .await
                .expect("CreateRoute");
            let path = format!("/_aws/execute-api/{api_id}/{kind}/v{tag}/book?color=red");
            let endpoint = nimbus.endpoint().to_string();
            let (status, body) = tokio::task::spawn_blocking(move || http_request(&endpoint, "POST", &path, Some(r#"{"n":1}"#)))
                .await
                .expect("join")
                .expect("HTTP call");
            assert_eq!(status, 200, "{kind} {version} ({runtime:?}): {body}");
            let event: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{kind} {version}: not JSON ({e}): {body}"));
            assert_eq!(event["version"], version, "{kind}: {event}");
            assert_eq!(event["body"], r#"{"n":1}"#, "{kind} {version}");
            assert_eq!(event["pathParameters"]["item"], "book", "{kind} {version}");
            assert_eq!(event["queryStringParameters"]["color"], "red", "{kind} {version}");
            if version == "2.0" {
                assert_eq!(event["routeKey"], format!("POST /{kind}/v20/{{item}}"));
                assert_eq!(event["rawPath"], format!("/{kind}/v20/book"));
                assert_eq!(event["requestContext"]["http"]["method"], "POST");
            } else {
                assert_eq!(event["httpMethod"], "POST");
                assert_eq!(event["resource"], format!("/{kind}/v10/{{item}}"));
                assert_eq!(event["path"], format!("/{kind}/v10/book"));
                assert_eq!(event["multiValueQueryStringParameters"]["color"], serde_json::json!(["red"]));
            }
        }
    }
}
