//! Reads the caller out of a request's SigV4 signature: the access key id (which names the
//! account), the region and the service of the credential scope. Signatures are parsed but
//! not verified yet.

pub const DEFAULT_ACCOUNT: &str = "000000000000";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub access_key_id: String,
    pub account_id: String,
    pub region: String,
    /// Service name of the credential scope (`sqs`, `sts`, …), when signed.
    pub service: Option<String>,
}

impl Default for Caller {
    fn default() -> Self {
        Caller {
            access_key_id: DEFAULT_ACCESS_KEY.into(),
            account_id: DEFAULT_ACCOUNT.into(),
            region: DEFAULT_REGION.into(),
            service: None,
        }
    }
}

/// The account an access key id belongs to: a 12-digit key id is that account.
pub fn account_for_access_key(key: &str) -> String {
    if key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit()) {
        key.to_string()
    } else {
        DEFAULT_ACCOUNT.to_string()
    }
}

/// Parses `Credential=AKID/20261122/us-east-1/sqs/aws4_request` (header form) or the
/// `X-Amz-Credential` query value (presigned form).
fn from_credential(credential: &str) -> Option<Caller> {
    let mut parts = credential.split('/');
    let key = parts.next()?.trim();
    let _date = parts.next()?;
    let region = parts.next()?.trim();
    let service = parts.next()?.trim();
    if key.is_empty() || region.is_empty() {
        return None;
    }
    Some(Caller {
        access_key_id: key.to_string(),
        account_id: account_for_access_key(key),
        region: region.to_string(),
        service: Some(service.to_string()),
    })
}

/// The caller named by an `Authorization` header, if it is a SigV4 one.
pub fn from_authorization_header(value: &str) -> Option<Caller> {
    let rest = value.trim().strip_prefix("AWS4-HMAC-SHA256")?;
    rest.split(',')
        .map(str::trim)
        .find_map(|kv| kv.strip_prefix("Credential="))
        .and_then(from_credential)
}

/// The caller named by presigned-URL query parameters.
pub fn from_query_credential(x_amz_credential: &str) -> Option<Caller> {
    from_credential(x_amz_credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_scope() {
        let c = from_authorization_header(
            "AWS4-HMAC-SHA256 Credential=123456789012/20261122/eu-west-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        )
        .unwrap();
        assert_eq!(c.account_id, "123456789012");
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.service.as_deref(), Some("sqs"));
        let d = from_authorization_header("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/sts/aws4_request").unwrap();
        assert_eq!(d.account_id, DEFAULT_ACCOUNT);
        assert!(from_authorization_header("Basic Zm9v").is_none());
    }
}
