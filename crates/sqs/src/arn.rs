//! Queue identity: ARNs and URLs, and the key a queue is stored under.

/// (account, region, name): where a queue lives. Accounts and regions never share queues.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueKey {
    pub account: String,
    pub region: String,
    pub name: String,
}

impl QueueKey {
    pub fn arn(&self) -> String {
        format!("arn:aws:sqs:{}:{}:{}", self.region, self.account, self.name)
    }

    /// `http://<host>/queue/<region>/<account>/<name>`: the host the client used (so the
    /// URL reaches nimbus), and the region in the path, so that queues of one name in two
    /// regions have different URLs, as on AWS (where the region is in the host name).
    pub fn url(&self, host: &str) -> String {
        format!("http://{host}/queue/{}/{}/{}", self.region, self.account, self.name)
    }
}

pub struct QueueArn;

impl QueueArn {
    /// `arn:aws:sqs:<region>:<account>:<name>` → the queue's key.
    pub fn parse(arn: &str) -> Option<QueueKey> {
        let mut p = arn.splitn(6, ':');
        let (arn_, partition, service, region, account, name) = (p.next()?, p.next()?, p.next()?, p.next()?, p.next()?, p.next()?);
        if arn_ != "arn" || partition.is_empty() || service != "sqs" || region.is_empty() || account.len() != 12 || !valid_name(name) {
            return None;
        }
        Some(QueueKey { account: account.into(), region: region.into(), name: name.into() })
    }
}

/// 1–80 characters: alphanumerics, hyphens, underscores, and a final `.fifo` for FIFO queues.
pub fn valid_name(name: &str) -> bool {
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    !stem.is_empty() && name.len() <= 80 && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a QueueUrl names. `region` is None when the URL does not say (then the request's
/// signing region applies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRef {
    pub region: Option<String>,
    pub account: Option<String>,
    pub name: String,
}

/// Reads a QueueUrl. Accepted forms:
/// - `http://host/queue/<region>/<account>/<name>` (what nimbus hands out);
/// - `https://sqs.<region>.amazonaws.com/<account>/<name>` and other hosts naming the
///   region the AWS way (`sqs.<region>.…`, `<region>.queue.…`);
/// - `http://host/<account>/<name>` (no region: the signing region);
/// - a bare queue name (the caller's account and region), which AWS accepts too.
pub fn parse_queue_url(url: &str) -> Option<QueueRef> {
    if !url.contains('/') {
        return valid_name(url).then(|| QueueRef { region: None, account: None, name: url.to_string() });
    }
    let (host, path) = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').unwrap_or((rest, "")),
        None => ("", url.trim_start_matches('/')),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (region, account, name) = match segs.as_slice() {
        ["queue", region, account, name] => (Some(region.to_string()), *account, *name),
        [account, name] => (region_of_host(host), *account, *name),
        _ => return None,
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(QueueRef { region, account: Some(account.to_string()), name: name.to_string() })
}

/// The region in an AWS-style SQS host name (`sqs.eu-west-1.amazonaws.com`,
/// `eu-west-1.queue.amazonaws.com`), if any.
fn region_of_host(host: &str) -> Option<String> {
    let host = host.split(':').next().unwrap_or(host);
    let labels: Vec<&str> = host.split('.').collect();
    let candidate = match labels.as_slice() {
        ["sqs", region, _, ..] => *region,
        [region, "queue", _, ..] => *region,
        _ => return None,
    };
    let looks_like_region = candidate.split('-').count() >= 3 && candidate.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    looks_like_region.then(|| candidate.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_arns() {
        let r = |region: Option<&str>, account: Option<&str>, name: &str| {
            Some(QueueRef { region: region.map(Into::into), account: account.map(Into::into), name: name.into() })
        };
        assert_eq!(parse_queue_url("http://localhost:4566/000000000000/q1"), r(None, Some("000000000000"), "q1"));
        assert_eq!(parse_queue_url("https://sqs.us-east-1.amazonaws.com/123456789012/a.fifo"), r(Some("us-east-1"), Some("123456789012"), "a.fifo"));
        assert_eq!(parse_queue_url("https://eu-west-1.queue.amazonaws.com/123456789012/a"), r(Some("eu-west-1"), Some("123456789012"), "a"));
        assert_eq!(parse_queue_url("http://localhost:4566/queue/eu-west-1/000000000000/q1"), r(Some("eu-west-1"), Some("000000000000"), "q1"));
        assert_eq!(parse_queue_url("/queue/eu-west-1/000000000000/q1"), r(Some("eu-west-1"), Some("000000000000"), "q1"));
        assert_eq!(parse_queue_url("q1"), r(None, None, "q1"));
        let key = QueueKey { account: "000000000000".into(), region: "eu-west-1".into(), name: "q1".into() };
        assert_eq!(key.url("localhost:4566"), "http://localhost:4566/queue/eu-west-1/000000000000/q1");
        assert_eq!(parse_queue_url("http://localhost/q1"), None);
        assert_eq!(parse_queue_url("q 1"), None);
        let k = QueueArn::parse("arn:aws:sqs:eu-west-1:123456789012:dlq").unwrap();
        assert_eq!(k.arn(), "arn:aws:sqs:eu-west-1:123456789012:dlq");
        assert!(valid_name("a-b_c.fifo"));
        assert!(!valid_name(".fifo"));
        assert!(!valid_name("a.b"));
        assert!(!valid_name(&"x".repeat(81)));
    }
}
