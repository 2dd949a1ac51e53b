//! SNS's standard CloudWatch metrics (namespace `AWS/SNS`, dimension `TopicName`), as
//! "Amazon SNS metrics" documents them
//! (https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html):
//! NumberOfMessagesPublished and PublishSize (bytes) per accepted publish (`ops_publish.rs`);
//! NumberOfNotificationsDelivered per successful delivery, NumberOfNotificationsFailed when
//! SNS stops trying (and, for HTTP/S endpoints, at every failed attempt, as AWS counts them),
//! NumberOfNotificationsRedrivenToDlq / NumberOfNotificationsFailedToRedriveToDlq
//! (`delivery.rs`). Recorded into core's in-memory aggregator (`nimbus_core::metrics`).

use nimbus_core::metrics::{unit, Metrics};

pub const NAMESPACE: &str = "AWS/SNS";

/// (region, account, topic name) of a topic or subscription ARN
/// (`arn:aws:sns:<region>:<account>:<topic>[:<subscription id>]`).
fn parts(arn: &str) -> Option<(&str, &str, &str)> {
    let mut it = arn.split(':');
    let (_, _, _, region, account, topic) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    Some((region, account, topic))
}

/// One accepted publish of `size` bytes to a topic.
pub fn published(metrics: &Metrics, account: &str, region: &str, topic: &str, size: usize) {
    metrics.record(account, region, NAMESPACE, "NumberOfMessagesPublished", &[("TopicName", topic)], unit::COUNT, 1.0);
    metrics.record(account, region, NAMESPACE, "PublishSize", &[("TopicName", topic)], unit::BYTES, size as f64);
}

/// A delivery event of a subscription (`name`: one of the notification metrics).
pub fn notification(metrics: &Metrics, subscription_arn: &str, name: &'static str) {
    if let Some((region, account, topic)) = parts(subscription_arn) {
        metrics.record(account, region, NAMESPACE, name, &[("TopicName", topic)], unit::COUNT, 1.0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn subscription_arns_name_their_topic() {
        assert_eq!(super::parts("arn:aws:sns:us-east-1:111122223333:orders:5f1e"), Some(("us-east-1", "111122223333", "orders")));
        assert_eq!(super::parts("arn:aws:sns:us-east-1"), None);
    }
}
