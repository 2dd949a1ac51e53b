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

    pub fn url(&self, host: &str) -> String {
        format!("http://{host}/{}/{}", self.account, self.name)
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

/// Reads the account and queue name out of a queue URL (`http://host/<account>/<name>`).
/// The host is not checked: clients use whatever address reached nimbus.
pub fn parse_queue_url(url: &str) -> Option<(String, String)> {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => url.trim_start_matches('/'),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    let account = segs.next()?;
    let name = segs.next()?;
    if segs.next().is_some() || account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((account.to_string(), name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_arns() {
        assert_eq!(parse_queue_url("http://localhost:4566/000000000000/q1"), Some(("000000000000".into(), "q1".into())));
        assert_eq!(parse_queue_url("https://sqs.us-east-1.amazonaws.com/123456789012/a.fifo"), Some(("123456789012".into(), "a.fifo".into())));
        assert_eq!(parse_queue_url("http://localhost/q1"), None);
        let k = QueueArn::parse("arn:aws:sqs:eu-west-1:123456789012:dlq").unwrap();
        assert_eq!(k.arn(), "arn:aws:sqs:eu-west-1:123456789012:dlq");
        assert!(valid_name("a-b_c.fifo"));
        assert!(!valid_name(".fifo"));
        assert!(!valid_name("a.b"));
        assert!(!valid_name(&"x".repeat(81)));
    }
}
