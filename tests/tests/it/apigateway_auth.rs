//! API Gateway v2 authorizers end to end, against a real nimbus and real HTTP: the control
//! plane (CreateAuthorizer … DeleteAuthorizer, route authorization checks), JWT authorizers
//! with an OpenID issuer this test serves itself (discovery document + JWKS over plain
//! http on a local port, RS256 tokens signed with ring, with a key the openssl CLI makes),
//! Lambda REQUEST authorizers (simple and IAM-policy answers, payload formats 2.0 and 1.0,
//! caching on nimbus's clock) and AWS_IAM routes (SigV4 for `execute-api`).
//!
//! AWS references: developer guide "Controlling and managing access to an HTTP API in API
//! Gateway" — "Control access to HTTP APIs with JWT authorizers", "Troubleshooting issues
//! with HTTP API JWT authorizers" (401 + `www-authenticate`), "Control access to HTTP APIs
//! with AWS Lambda authorizers", "Control access to HTTP APIs with IAM authorization".

use aws_sdk_apigatewayv2::types::{AuthorizationType, AuthorizerType, IntegrationType, JwtConfiguration, ProtocolType};
use base64::Engine;
use nimbus_tests::lambda::{create, expect_err, FnSpec};
use nimbus_tests::{Nimbus, Signer, StartOptions};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ROOT_KEY: &str = "AKIANIMBUSROOTEXAMPLE";
const ROOT_SECRET: &str = "nimbus/root+secret/EXAMPLEKEY";

/// A response read off the wire.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    /// The integration's event (the echo function answers it as its body).
    fn event(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
async fn call(port: u16, method: &str, path: &str, headers: &[(&str, String)]) -> Reply {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("bad response {text:?}"));
    let headers = lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect();
    Reply { status, headers, body: body.to_string() }
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// A 2048-bit RSA key (DER `RSAPrivateKey`, what `openssl genpkey -outform DER` writes for
/// RSA) made once per test binary by the openssl CLI.
fn rsa_der() -> &'static [u8] {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    KEY.get_or_init(|| {
        let out = std::process::Command::new("openssl").args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-outform", "DER"]).output().expect("openssl");
        assert!(out.status.success(), "openssl genpkey: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    })
}

/// An OpenID issuer served by this test: `/.well-known/openid-configuration` and
/// `/jwks.json` over http on a local port; counts its JWKS fetches.
struct Issuer {
    url: String,
    key: ring::rsa::KeyPair,
    jwks_fetches: Arc<AtomicUsize>,
}

const KID: &str = "test-key-1";

impl Issuer {
    async fn start() -> Issuer {
        let key = ring::rsa::KeyPair::from_der(rsa_der()).expect("RSAPrivateKey DER");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind issuer");
        let url = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(key.public());
        let jwks = json!({"keys": [{"kty": "RSA", "kid": KID, "alg": "RS256", "use": "sig", "n": b64url(&public.n), "e": b64url(&public.e)}]});
        let discovery = json!({"issuer": url, "jwks_uri": format!("{url}/jwks.json")});
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let fetches = jwks_fetches.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let (jwks, discovery, fetches) = (jwks.clone(), discovery.clone(), fetches.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut got = 0;
                    while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf[got..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => got += k,
                        }
                    }
                    let head = String::from_utf8_lossy(&buf[..got]).into_owned();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let (status, body) = match path.as_str() {
                        "/.well-known/openid-configuration" => ("200 OK", discovery.to_string()),
                        "/jwks.json" => {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            ("200 OK", jwks.to_string())
                        }
                        _ => ("404 Not Found", "{}".to_string()),
                    };
                    let reply = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                    let _ = s.write_all(reply.as_bytes()).await;
                });
            }
        });
        Issuer { url, key, jwks_fetches }
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let signed = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signed.as_bytes(), &mut sig).expect("sign");
        format!("{signed}.{}", b64url(&sig))
    }

    /// An RS256 token with this issuer's key; `claims` are merged over valid defaults.
    fn token(&self, claims: Value) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs();
        let mut all = json!({"iss": self.url, "aud": "aud-1", "sub": "alice", "iat": now - 10, "nbf": now - 10, "exp": now + 600});
        for (k, v) in claims.as_object().expect("claims object") {
            if v.is_null() {
                all.as_object_mut().expect("object").remove(k);
            } else {
                all[k] = v.clone();
            }
        }
        self.sign(&json!({"alg": "RS256", "typ": "JWT", "kid": KID}), &all)
    }
}

/// An HTTP API with a `$default` auto-deployed stage and an echo integration of payload
/// format `version`; returns (api id, integration id).
async fn api(n: &Nimbus, version: &str) -> (String, String) {
    let echo = create(&n.lambda_client(), &nimbus_tests::unique_name("echo"), FnSpec::python("handler.echo_proxy")).await;
    let c = n.apigateway_client();
    let id = c.create_api().name("auth").protocol_type(ProtocolType::Http).send().await.expect("create_api").api_id().expect("id").to_string();
    let integration = c.create_integration().api_id(&id).integration_type(IntegrationType::AwsProxy).integration_uri(echo).payload_format_version(version).send().await.expect("integration");
    c.create_stage().api_id(&id).stage_name("$default").auto_deploy(true).send().await.expect("stage");
    (id, integration.integration_id().expect("id").to_string())
}

async fn route(n: &Nimbus, api: &str, integration: &str, key: &str, kind: AuthorizationType, authorizer: Option<&str>, scopes: &[&str]) {
    let mut r = n.apigateway_client().create_route().api_id(api).route_key(key).target(format!("integrations/{integration}")).authorization_type(kind);
    if let Some(a) = authorizer {
        r = r.authorizer_id(a);
    }
    for s in scopes {
        r = r.authorization_scopes(*s);
    }
    r.send().await.unwrap_or_else(|e| panic!("create_route {key}: {e:?}"));
}

fn bearer(token: &str) -> Vec<(&'static str, String)> {
    vec![("Authorization", format!("Bearer {token}"))]
}

#[tokio::test]
async fn authorizer_control_plane_validates_as_aws() {
    let n = Nimbus::start_in_memory();
    let c = n.apigateway_client();
    let (id, integration) = api(&n, "2.0").await;
    let jwt_conf = JwtConfiguration::builder().issuer("https://issuer.example.com").audience("a").build();
    let jwt = c
        .create_authorizer()
        .api_id(&id)
        .name("jwt")
        .authorizer_type(AuthorizerType::Jwt)
        .identity_source("$request.header.Authorization")
        .jwt_configuration(jwt_conf.clone())
        .send()
        .await
        .expect("create JWT authorizer");
    let jwt_id = jwt.authorizer_id().expect("id").to_string();
    assert_eq!(jwt_id.len(), 7);
    assert_eq!(jwt.jwt_configuration().and_then(|j| j.issuer()), Some("https://issuer.example.com"));
    let lambda = c
        .create_authorizer()
        .api_id(&id)
        .name("fn")
        .authorizer_type(AuthorizerType::Request)
        .authorizer_uri("arn:aws:lambda:us-east-1:000000000000:function:auth")
        .authorizer_payload_format_version("2.0")
        .enable_simple_responses(true)
        .identity_source("$request.header.X-Token")
        .authorizer_result_ttl_in_seconds(60)
        .send()
        .await
        .expect("create REQUEST authorizer");
    let fn_id = lambda.authorizer_id().expect("id").to_string();
    assert_eq!((lambda.enable_simple_responses(), lambda.authorizer_result_ttl_in_seconds()), (Some(true), Some(60)));

    // Bad input: AWS's BadRequestException.
    let req = || c.create_authorizer().api_id(&id).name("bad").authorizer_type(AuthorizerType::Request).identity_source("$request.header.A");
    let msg = expect_err(req().authorizer_uri("arn:aws:lambda:us-east-1:000000000000:function:a").send().await, "BadRequestException", Some(400));
    assert!(msg.contains("AuthorizerPayloadFormatVersion is required"), "{msg}");
    expect_err(req().authorizer_payload_format_version("2.0").send().await, "BadRequestException", Some(400));
    expect_err(req().authorizer_uri("arn:x").authorizer_payload_format_version("1.0").enable_simple_responses(true).send().await, "BadRequestException", Some(400));
    expect_err(req().authorizer_uri("arn:x").authorizer_payload_format_version("2.0").authorizer_result_ttl_in_seconds(3601).send().await, "BadRequestException", Some(400));
    expect_err(
        c.create_authorizer().api_id(&id).name("j").authorizer_type(AuthorizerType::Jwt).identity_source("$request.header.Authorization").send().await,
        "BadRequestException",
        Some(400),
    );
    expect_err(
        c.create_authorizer().api_id(&id).name("j").authorizer_type(AuthorizerType::Jwt).identity_source("Authorization").jwt_configuration(jwt_conf).send().await,
        "BadRequestException",
        Some(400),
    );

    // Routes: the authorizer must exist and be of the route's type.
    let r = || c.create_route().api_id(&id).target(format!("integrations/{integration}"));
    expect_err(r().route_key("GET /a").authorization_type(AuthorizationType::Jwt).authorizer_id("nope123").send().await, "BadRequestException", Some(400));
    expect_err(r().route_key("GET /a").authorization_type(AuthorizationType::Jwt).authorizer_id(&fn_id).send().await, "BadRequestException", Some(400));
    expect_err(r().route_key("GET /a").authorization_type(AuthorizationType::Custom).authorizer_id(&jwt_id).send().await, "BadRequestException", Some(400));
    expect_err(r().route_key("GET /a").authorization_type(AuthorizationType::Custom).authorizer_id(&fn_id).authorization_scopes("s").send().await, "BadRequestException", Some(400));
    let routed = r().route_key("GET /a").authorization_type(AuthorizationType::Jwt).authorizer_id(&jwt_id).authorization_scopes("read").send().await.expect("JWT route");
    assert_eq!((routed.authorizer_id(), routed.authorization_scopes()), (Some(jwt_id.as_str()), &["read".to_string()][..]));
    let iam = r().route_key("GET /iam").authorization_type(AuthorizationType::AwsIam).send().await.expect("AWS_IAM route");
    assert_eq!(iam.authorization_type(), Some(&AuthorizationType::AwsIam));

    // Get, list, update; delete refused while a route uses the authorizer.
    let got = c.get_authorizer().api_id(&id).authorizer_id(&fn_id).send().await.expect("get_authorizer");
    assert_eq!(got.identity_source(), &["$request.header.X-Token".to_string()][..]);
    assert_eq!(c.get_authorizers().api_id(&id).send().await.expect("get_authorizers").items().len(), 2);
    let up = c.update_authorizer().api_id(&id).authorizer_id(&fn_id).authorizer_result_ttl_in_seconds(0).name("renamed").send().await.expect("update");
    assert_eq!((up.name(), up.authorizer_result_ttl_in_seconds()), (Some("renamed"), Some(0)));
    expect_err(c.delete_authorizer().api_id(&id).authorizer_id(&jwt_id).send().await, "ConflictException", Some(409));
    c.delete_authorizer().api_id(&id).authorizer_id(&fn_id).send().await.expect("delete unused authorizer");
    let msg = expect_err(c.get_authorizer().api_id(&id).authorizer_id(&fn_id).send().await, "NotFoundException", Some(404));
    assert!(msg.starts_with("Invalid Authorizer identifier specified"), "{msg}");
    let rid = routed.route_id().expect("id");
    c.update_route().api_id(&id).route_id(rid).authorization_type(AuthorizationType::None).send().await.expect("route back to NONE");
    c.delete_authorizer().api_id(&id).authorizer_id(&jwt_id).send().await.expect("delete once unused");
}

#[tokio::test]
async fn authorizers_survive_a_restart() {
    let mut n = Nimbus::start();
    let c = n.apigateway_client();
    let id = c.create_api().name("durable").protocol_type(ProtocolType::Http).send().await.expect("create_api").api_id().expect("id").to_string();
    let conf = JwtConfiguration::builder().issuer("https://issuer.example.com").audience("a").build();
    let a = c.create_authorizer().api_id(&id).name("jwt").authorizer_type(AuthorizerType::Jwt).identity_source("$request.header.Authorization").jwt_configuration(conf).send().await.expect("authorizer");
    let aid = a.authorizer_id().expect("id").to_string();
    c.create_route().api_id(&id).route_key("GET /x").authorization_type(AuthorizationType::Jwt).authorizer_id(&aid).authorization_scopes("s").send().await.expect("route");
    n.restart();
    let c = n.apigateway_client();
    let got = c.get_authorizer().api_id(&id).authorizer_id(&aid).send().await.expect("get_authorizer after restart");
    assert_eq!(got.jwt_configuration().and_then(|j| j.issuer()), Some("https://issuer.example.com"));
    let routes = c.get_routes().api_id(&id).send().await.expect("get_routes");
    assert_eq!(routes.items()[0].authorizer_id(), Some(aid.as_str()));
}

#[tokio::test]
async fn jwt_authorizer_verifies_tokens_claims_and_scopes() {
    let n = Nimbus::start_in_memory();
    let issuer = Issuer::start().await;
    let c = n.apigateway_client();
    let (id, integration) = api(&n, "2.0").await;
    let conf = JwtConfiguration::builder().issuer(&issuer.url).audience("aud-1").audience("aud-2").build();
    let a = c.create_authorizer().api_id(&id).name("jwt").authorizer_type(AuthorizerType::Jwt).identity_source("$request.header.Authorization").jwt_configuration(conf).send().await.expect("authorizer");
    let aid = a.authorizer_id().expect("id").to_string();
    route(&n, &id, &integration, "GET /open", AuthorizationType::Jwt, Some(&aid), &[]).await;
    route(&n, &id, &integration, "GET /scoped", AuthorizationType::Jwt, Some(&aid), &["read", "admin"]).await;
    let port = n.port();
    let get = |path: &str, headers: Vec<(&'static str, String)>| {
        let path = format!("/_aws/execute-api/{id}{path}");
        async move { call(port, "GET", &path, &headers).await }
    };

    // Missing token: 401 Unauthorized.
    let r = get("/open", vec![]).await;
    assert_eq!((r.status, r.json()), (401, json!({"message": "Unauthorized"})));

    // A valid token, with or without `Bearer `: the claims reach the integration as strings.
    let e = get("/open", bearer(&issuer.token(json!({"groups": ["a", "b"]})))).await.event();
    let claims = &e["requestContext"]["authorizer"]["jwt"]["claims"];
    assert_eq!((claims["sub"].as_str(), claims["aud"].as_str(), claims["groups"].as_str()), (Some("alice"), Some("aud-1"), Some("[a b]")));
    assert!(claims["exp"].is_string(), "{claims}");
    let bare = vec![("Authorization", issuer.token(json!({"aud": "aud-2"})))];
    assert_eq!(get("/open", bare).await.status, 200);
    // `client_id` counts when there is no `aud`.
    assert_eq!(get("/open", bearer(&issuer.token(json!({"aud": null, "client_id": "aud-1"})))).await.status, 200);
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 1, "the issuer's keys are cached");

    // Invalid tokens: 401 with the www-authenticate header.
    let invalid = |r: &Reply, why: &str| {
        assert_eq!((r.status, r.json()), (401, json!({"message": "Unauthorized"})), "{why}");
        let h = r.header("www-authenticate").unwrap_or_else(|| panic!("no www-authenticate ({why})"));
        assert!(h.starts_with("Bearer scope=\"\" error=\"invalid_token\" error_description=\""), "{h}");
        assert!(h.contains(why), "{h} does not say {why}");
    };
    let good = issuer.token(json!({}));
    let mut parts: Vec<&str> = good.split('.').collect();
    let forged_claims = b64url(json!({"iss": issuer.url, "aud": "aud-1", "sub": "mallory"}).to_string().as_bytes());
    parts[1] = &forged_claims;
    invalid(&get("/open", bearer(&parts.join("."))).await, "signature");
    invalid(&get("/open", bearer(&issuer.token(json!({"exp": 1_000_000_000})))).await, "the token has expired");
    invalid(&get("/open", bearer(&issuer.token(json!({"aud": "someone-else"})))).await, "the token does not have a valid audience");
    invalid(&get("/open", bearer(&issuer.token(json!({"iss": "https://other.example.com"})))).await, "issuer");
    invalid(&get("/open", bearer(&issuer.token(json!({"nbf": 4_000_000_000u64})))).await, "not valid yet");
    invalid(&get("/open", bearer("not-a-jwt")).await, "malformed");
    let hs256 = format!("{}.{}.{}", b64url(br#"{"alg":"HS256","kid":"test-key-1"}"#), b64url(json!({"iss": issuer.url, "aud": "aud-1"}).to_string().as_bytes()), b64url(b"mac"));
    invalid(&get("/open", bearer(&hs256)).await, "algorithm");
    let other_kid = issuer.sign(&json!({"alg": "RS256", "kid": "unknown-kid"}), &json!({"iss": issuer.url, "aud": "aud-1"}));
    invalid(&get("/open", bearer(&other_kid)).await, "key");
    let no_kid = issuer.sign(&json!({"alg": "RS256"}), &json!({"iss": issuer.url, "aud": "aud-1"}));
    invalid(&get("/open", bearer(&no_kid)).await, "kid");

    // Scopes: one of the route's, from `scope` or `scp`; else 403 Forbidden.
    let r = get("/scoped", bearer(&issuer.token(json!({"scope": "write"})))).await;
    assert_eq!((r.status, r.json()), (403, json!({"message": "Forbidden"})));
    assert!(r.header("www-authenticate").is_some_and(|h| h.contains("error=\"insufficient_scope\"")), "{:?}", r.headers);
    assert_eq!(get("/scoped", bearer(&issuer.token(json!({})))).await.status, 403);
    let e = get("/scoped", bearer(&issuer.token(json!({"scope": "write read"})))).await.event();
    assert_eq!(e["requestContext"]["authorizer"]["jwt"]["scopes"], json!(["write", "read"]));
    assert_eq!(get("/scoped", bearer(&issuer.token(json!({"scp": ["admin"]})))).await.status, 200);
}

#[tokio::test]
async fn jwt_claims_in_payload_format_1_0() {
    let n = Nimbus::start_in_memory();
    let issuer = Issuer::start().await;
    let c = n.apigateway_client();
    let (id, integration) = api(&n, "1.0").await;
    let conf = JwtConfiguration::builder().issuer(&issuer.url).audience("aud-1").build();
    let a = c.create_authorizer().api_id(&id).name("jwt").authorizer_type(AuthorizerType::Jwt).identity_source("$request.header.Authorization").jwt_configuration(conf).send().await.expect("authorizer");
    route(&n, &id, &integration, "GET /v1", AuthorizationType::Jwt, a.authorizer_id(), &[]).await;
    let e = call(n.port(), "GET", &format!("/_aws/execute-api/{id}/v1"), &bearer(&issuer.token(json!({"scope": "x"})))).await.event();
    assert_eq!(e["requestContext"]["authorizer"]["claims"]["sub"], "alice");
    assert_eq!(e["requestContext"]["authorizer"]["scopes"], json!(["x"]));
}

/// A Lambda REQUEST authorizer of `handler` (authorizers.py) for the API.
async fn lambda_authorizer(n: &Nimbus, api: &str, handler: &str, version: &str, simple: bool, ttl: i32) -> String {
    let f = create(&n.lambda_client(), &nimbus_tests::unique_name("authz"), FnSpec::python(handler)).await;
    let uri = format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{f}/invocations");
    let a = n
        .apigateway_client()
        .create_authorizer()
        .api_id(api)
        .name("fn")
        .authorizer_type(AuthorizerType::Request)
        .authorizer_uri(uri)
        .authorizer_payload_format_version(version)
        .enable_simple_responses(simple)
        .identity_source("$request.header.Authorization")
        .authorizer_result_ttl_in_seconds(ttl)
        .send()
        .await
        .expect("create_authorizer");
    a.authorizer_id().expect("id").to_string()
}

fn token(t: &str) -> Vec<(&'static str, String)> {
    vec![("Authorization", t.to_string())]
}

#[tokio::test]
async fn lambda_authorizer_simple_responses_and_caching() {
    let n = Nimbus::start_with_clock_control();
    let (id, integration) = api(&n, "2.0").await;
    let aid = lambda_authorizer(&n, &id, "authorizers.simple", "2.0", true, 300).await;
    route(&n, &id, &integration, "GET /simple", AuthorizationType::Custom, Some(&aid), &[]).await;
    let port = n.port();
    let path = format!("/_aws/execute-api/{id}/simple");

    let r = call(port, "GET", &path, &[]).await;
    assert_eq!((r.status, r.json()), (401, json!({"message": "Unauthorized"})), "a missing identity source is refused before the function runs");
    let e = call(port, "GET", &path, &token("allow")).await.event();
    let ctx = e["requestContext"]["authorizer"]["lambda"].clone();
    assert_eq!((ctx["token"].as_str(), ctx["version"].as_str(), ctx["type"].as_str()), (Some("allow"), Some("2.0"), Some("REQUEST")));
    assert_eq!(ctx["arn"], json!(format!("arn:aws:execute-api:us-east-1:000000000000:{id}/$default/GET/simple")));
    let r = call(port, "GET", &path, &token("deny")).await;
    assert_eq!((r.status, r.json()), (403, json!({"message": "Forbidden"})));
    let r = call(port, "GET", &path, &token("boom")).await;
    assert_eq!((r.status, r.json()), (500, json!({"message": "Internal Server Error"})), "a failing authorizer");
    assert_eq!(call(port, "GET", &path, &token("garbage")).await.status, 500, "a malformed answer");

    // Cached by the identity source's value for AuthorizerResultTtlInSeconds.
    let again = call(port, "GET", &path, &token("allow")).await.event();
    assert_eq!(again["requestContext"]["authorizer"]["lambda"], ctx, "the cached answer, no new invocation");
    assert_eq!(n.advance_clock(301), 200);
    let later = call(port, "GET", &path, &token("allow")).await.event();
    assert_ne!(later["requestContext"]["authorizer"]["lambda"], ctx, "the TTL passed: the function ran again");
}

#[tokio::test]
async fn lambda_authorizer_iam_policy_responses() {
    let n = Nimbus::start_in_memory();
    let port = n.port();
    // Payload format 1.0 (policy answers only): `requestContext.authorizer` has the context and principalId.
    let (id, integration) = api(&n, "1.0").await;
    let v1 = lambda_authorizer(&n, &id, "authorizers.policy", "1.0", false, 0).await;
    route(&n, &id, &integration, "GET /policy", AuthorizationType::Custom, Some(&v1), &[]).await;
    let path = format!("/_aws/execute-api/{id}/policy");
    let first = call(port, "GET", &path, &token("allow-1")).await.event();
    let auth = &first["requestContext"]["authorizer"];
    assert_eq!((auth["principalId"].as_str(), auth["token"].as_str(), auth["version"].as_str()), (Some("user-allow-1"), Some("allow-1"), Some("1.0")));
    assert_eq!(auth["arn"], json!(format!("arn:aws:execute-api:us-east-1:000000000000:{id}/$default/GET/policy")));
    let second = call(port, "GET", &path, &token("allow-1")).await.event();
    assert_ne!(second["requestContext"]["authorizer"]["n"], auth["n"], "TTL 0: no caching");
    let r = call(port, "GET", &path, &token("deny")).await;
    assert_eq!((r.status, r.json()), (403, json!({"message": "Forbidden"})));

    // Payload format 2.0 without simple responses: the policy decides, context under `lambda`.
    let (id2, integration2) = api(&n, "2.0").await;
    let v2 = lambda_authorizer(&n, &id2, "authorizers.policy", "2.0", false, 0).await;
    route(&n, &id2, &integration2, "ANY /p/{proxy+}", AuthorizationType::Custom, Some(&v2), &[]).await;
    let e = call(port, "POST", &format!("/_aws/execute-api/{id2}/p/a/b"), &token("allow-2")).await.event();
    assert_eq!(e["requestContext"]["authorizer"]["lambda"]["arn"], json!(format!("arn:aws:execute-api:us-east-1:000000000000:{id2}/$default/POST/p/a/b")));
    assert_eq!(call(port, "POST", &format!("/_aws/execute-api/{id2}/p/a/b"), &token("nope")).await.status, 403);
}

/// The headers of a request signed with SigV4 for `execute-api`.
fn signed_headers(port: u16, path: &str, key: &str, secret: &str) -> Vec<(&'static str, String)> {
    signed_for_host(&format!("127.0.0.1:{port}"), path, key, secret)
}

/// The same for a request sent with `Host: host`.
fn signed_for_host(host: &str, path: &str, key: &str, secret: &str) -> Vec<(&'static str, String)> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let host = host.to_string();
    let uri = format!("http://{host}{path}");
    let identity = aws_credential_types::Credentials::new(key, secret, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("execute-api")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new("GET", uri.clone(), [("host", host.as_str())].into_iter(), SignableBody::Bytes(b"")).expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut request = http::Request::builder().method("GET").uri(&uri).body(()).expect("request");
    instructions.apply_to_request_http1x(&mut request);
    let mut out = vec![("Host", host)];
    for name in ["authorization", "x-amz-date", "x-amz-content-sha256"] {
        if let Some(v) = request.headers().get(name) {
            let static_name: &'static str = match name {
                "authorization" => "Authorization",
                "x-amz-date" => "X-Amz-Date",
                _ => "X-Amz-Content-Sha256",
            };
            out.push((static_name, v.to_str().expect("ascii").to_string()));
        }
    }
    out
}

#[tokio::test]
async fn aws_iam_routes_need_a_sigv4_signature() {
    let n = Nimbus::start_with(StartOptions {
        in_memory: true,
        env: vec![("NIMBUS_ROOT_ACCESS_KEY_ID".into(), ROOT_KEY.into()), ("NIMBUS_ROOT_SECRET_ACCESS_KEY".into(), ROOT_SECRET.into())],
        ..Default::default()
    });
    let (id, integration) = api(&n, "2.0").await;
    route(&n, &id, &integration, "GET /iam", AuthorizationType::AwsIam, None, &[]).await;
    let path = format!("/_aws/execute-api/{id}/iam");
    let r = call(n.port(), "GET", &path, &[]).await;
    assert_eq!((r.status, r.json()), (403, json!({"message": "Missing Authentication Token"})));
    assert_eq!(r.header("x-amzn-errortype"), Some("MissingAuthenticationTokenException"));

    let e = call(n.port(), "GET", &path, &signed_headers(n.port(), &path, ROOT_KEY, ROOT_SECRET)).await.event();
    let iam = &e["requestContext"]["authorizer"]["iam"];
    assert_eq!((iam["accessKey"].as_str(), iam["accountId"].as_str()), (Some(ROOT_KEY), Some("000000000000")));
    assert_eq!(iam["userArn"], "arn:aws:iam::000000000000:root");

    let r = call(n.port(), "GET", &path, &signed_headers(n.port(), &path, ROOT_KEY, "wrong-secret")).await;
    assert_eq!(r.status, 403);
    assert!(r.json()["message"].as_str().is_some_and(|m| m.starts_with("The request signature we calculated does not match")), "{}", r.body);
    // A signature for another path does not carry over.
    let other = format!("/_aws/execute-api/{id}/other");
    assert_eq!(call(n.port(), "GET", &path, &signed_headers(n.port(), &other, ROOT_KEY, ROOT_SECRET)).await.status, 403);
    // The host form signs the path without the prefix.
    let host = format!("{id}.execute-api.localhost:{}", n.port());
    let r = call(n.port(), "GET", "/iam", &signed_for_host(&host, "/iam", ROOT_KEY, ROOT_SECRET)).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Under `--auth iam` the signer also needs `execute-api:Invoke` on the route's ARN (set up
/// in the open mode, then enforced after a restart; the control plane's own `apigateway:*`
/// actions are tested in tests/python/test_iam_enforcement.py).
#[tokio::test]
async fn aws_iam_routes_under_auth_iam_need_execute_api_invoke() {
    let mut n = Nimbus::start_with(StartOptions {
        in_memory: false,
        env: vec![("NIMBUS_ROOT_ACCESS_KEY_ID".into(), ROOT_KEY.into()), ("NIMBUS_ROOT_SECRET_ACCESS_KEY".into(), ROOT_SECRET.into())],
        ..Default::default()
    });
    let iam = n.iam_client_signed(&Signer { access_key: ROOT_KEY, secret: ROOT_SECRET, session_token: None });
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    iam.create_role().role_name("lambda-role").assume_role_policy_document(trust.to_string()).send().await.expect("create_role");
    let (id, integration) = api(&n, "2.0").await;
    route(&n, &id, &integration, "GET /iam", AuthorizationType::AwsIam, None, &[]).await;
    let mut keys = Vec::new();
    for user in ["caller-ok", "caller-no"] {
        iam.create_user().user_name(user).send().await.expect("create_user");
        let k = iam.create_access_key().user_name(user).send().await.expect("create_access_key").access_key.expect("key");
        keys.push((k.access_key_id, k.secret_access_key));
    }
    let allow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": format!("arn:aws:execute-api:us-east-1:000000000000:{id}/$default/GET/*")}]});
    iam.put_user_policy().user_name("caller-ok").policy_name("invoke").policy_document(allow.to_string()).send().await.expect("put_user_policy");
    n.restart_with_args(vec!["--auth".into(), "iam".into()]);

    let path = format!("/_aws/execute-api/{id}/iam");
    let e = call(n.port(), "GET", &path, &signed_headers(n.port(), &path, &keys[0].0, &keys[0].1)).await.event();
    assert_eq!(e["requestContext"]["authorizer"]["iam"]["userArn"], "arn:aws:iam::000000000000:user/caller-ok");
    let r = call(n.port(), "GET", &path, &signed_headers(n.port(), &path, &keys[1].0, &keys[1].1)).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let msg = r.json()["message"].as_str().unwrap_or_default().to_string();
    let want = format!("User: arn:aws:iam::000000000000:user/caller-no is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:000000000000:{id}/$default/GET/iam");
    assert!(msg.starts_with(&want), "{msg}");
    assert_eq!(call(n.port(), "GET", &path, &[]).await.status, 403);
}
