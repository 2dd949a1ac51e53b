//! IAM authorization of routes (`AWS_IAM`; developer guide, "Control access to HTTP APIs
//! with IAM authorization in API Gateway"): the request must carry a valid Signature
//! Version 4 for the service `execute-api`, verified by core's `Authenticator` against the
//! keys nimbus knows (whatever `--auth` mode the AWS APIs use). Under `--auth iam` the
//! signer must also be allowed `execute-api:Invoke` on the route's ARN, decided by core's
//! `Authorizer` seam (IAM's policy evaluation). Refusals are 403 with AWS's
//! `{"message": …}` and `x-amzn-ErrorType`: `Missing Authentication Token` for an unsigned
//! request, the signature errors' messages, or "User: … is not authorized to perform:
//! execute-api:Invoke on resource: …".

use super::{AuthInput, Granted, Refusal};
use nimbus_core::auth::Caller;
use nimbus_core::authn::Authenticator;
use nimbus_core::internal::Authorizer;
use nimbus_core::sigv4::{SignableRequest, REST_JSON_STYLE};
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};

/// The verified signer, as the integration's event shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub access_key: String,
    pub account_id: String,
    pub user_arn: Option<String>,
    pub user_id: Option<String>,
}

impl Signer {
    /// `requestContext.authorizer.iam` of a 2.0 event.
    pub fn as_event(&self) -> Value {
        json!({
            "accessKey": self.access_key,
            "accountId": self.account_id,
            "callerId": self.user_id,
            "cognitoIdentity": null,
            "principalOrgId": null,
            "userArn": self.user_arn,
            "userId": self.user_id,
        })
    }

    /// `requestContext.identity`'s caller members of a 1.0 event.
    pub fn fill_identity_v1(&self, identity: &mut Map<String, Value>) {
        identity.insert("accessKey".into(), json!(self.access_key));
        identity.insert("accountId".into(), json!(self.account_id));
        identity.insert("caller".into(), json!(self.user_id));
        identity.insert("user".into(), json!(self.user_id));
        identity.insert("userArn".into(), json!(self.user_arn));
    }
}

fn refusal(code: &str, message: String) -> Refusal {
    Refusal { status: 403, message, headers: vec![("x-amzn-errortype".into(), code.to_string())] }
}

pub fn authorize(signatures: Option<&Authenticator>, policies: Option<&dyn Authorizer>, input: &AuthInput<'_>, now_ms: u64) -> Result<Granted, Refusal> {
    let Some(signatures) = signatures else {
        return Err(Refusal::new(500, "AWS_IAM authorization is not wired in this nimbus"));
    };
    let req = SignableRequest { method: &input.req.method, path: input.signed_path, query: &input.req.query, headers: &input.req.headers, body: &input.req.body , body_streamed: false };
    let mut ctx = RequestContext::new(Caller::default(), input.req.host.clone(), input.signed_path.to_string());
    ctx.source_ip = Some(input.req.source_ip);
    if let Err(e) = signatures.verify_signature(&req, "execute-api", now_ms, &mut ctx) {
        let aws = e.to_aws(&REST_JSON_STYLE);
        return Err(refusal(&aws.code, aws.message));
    }
    if let Some(policies) = policies {
        let arn = input.route_arn();
        if let Err(denied) = policies.authorize(&ctx, "execute-api", "Invoke", &json!({ "Arn": arn })) {
            return Err(refusal("AccessDeniedException", denied.message));
        }
    }
    Ok(Granted::Iam(Signer { access_key: ctx.access_key_id, account_id: ctx.account_id, user_arn: ctx.principal_arn, user_id: ctx.user_id }))
}
