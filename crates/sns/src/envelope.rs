//! The notification documents subscribers receive: the JSON envelope SQS and HTTP
//! endpoints get (`Type`, `MessageId`, `TopicArn`, `Subject`, `Message`, `Timestamp`,
//! `SignatureVersion`, `Signature`, `SigningCertURL`, `UnsubscribeURL`,
//! `MessageAttributes`), and the `Records[].Sns` event Lambda functions get.
//! https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
//! https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html

use crate::message_attrs::{self, Attributes};
use crate::signing::Signing;
use serde_json::{json, Map, Value};

/// One published message as every subscriber's document is built from it.
pub struct Notification<'a> {
    pub message_id: &'a str,
    pub topic_arn: &'a str,
    pub subject: Option<&'a str>,
    /// The message for this subscriber's protocol (MessageStructure=json picks it).
    pub message: &'a str,
    pub timestamp: &'a str,
    pub attributes: &'a Attributes,
    pub signature_version: &'a str,
    pub sequence_number: Option<&'a str>,
    /// nimbus's own endpoint (`http://host:port`), for the certificate and unsubscribe URLs.
    pub endpoint: &'a str,
    /// `signature` of this message (the same for every subscriber of one message).
    pub signature: &'a str,
}

/// The signature over AWS's canonical string of a Notification (Message, MessageId,
/// Subject when given, Timestamp, TopicArn, Type).
pub fn signature(signing: &Signing, version: &str, message: &str, message_id: &str, subject: Option<&str>, timestamp: &str, topic_arn: &str) -> String {
    let mut fields = vec![("Message", message), ("MessageId", message_id)];
    if let Some(s) = subject {
        fields.push(("Subject", s));
    }
    fields.extend([("Timestamp", timestamp), ("TopicArn", topic_arn), ("Type", "Notification")]);
    signing.sign(version, &fields)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as SNS writes Timestamp.
pub fn timestamp(ms: u64) -> String {
    let secs = nimbus_core::time::iso8601(ms);
    format!("{}.{:03}Z", secs.trim_end_matches('Z'), ms % 1000)
}

pub fn signing_cert_url(endpoint: &str) -> String {
    format!("{endpoint}/_aws/sns/SimpleNotificationService.pem")
}

pub fn unsubscribe_url(endpoint: &str, subscription_arn: &str) -> String {
    format!("{endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}")
}

/// The envelope for SQS and HTTP/S subscribers.
pub fn envelope(n: &Notification<'_>, subscription_arn: &str) -> Value {
    let mut m = Map::new();
    m.insert("Type".into(), "Notification".into());
    m.insert("MessageId".into(), n.message_id.into());
    if let Some(s) = n.sequence_number {
        m.insert("SequenceNumber".into(), s.into());
    }
    m.insert("TopicArn".into(), n.topic_arn.into());
    if let Some(s) = n.subject {
        m.insert("Subject".into(), s.into());
    }
    m.insert("Message".into(), n.message.into());
    m.insert("Timestamp".into(), n.timestamp.into());
    m.insert("SignatureVersion".into(), n.signature_version.into());
    m.insert("Signature".into(), n.signature.into());
    m.insert("SigningCertURL".into(), signing_cert_url(n.endpoint).into());
    m.insert("UnsubscribeURL".into(), unsubscribe_url(n.endpoint, subscription_arn).into());
    if !n.attributes.is_empty() {
        m.insert("MessageAttributes".into(), Value::Object(message_attrs::envelope(n.attributes)));
    }
    Value::Object(m)
}

/// Lambda's SNS event: one record.
pub fn lambda_event(n: &Notification<'_>, subscription_arn: &str) -> Value {
    json!({ "Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": n.message_id,
            "TopicArn": n.topic_arn,
            "Subject": n.subject,
            "Message": n.message,
            "Timestamp": n.timestamp,
            "SignatureVersion": n.signature_version,
            "Signature": n.signature,
            "SigningCertUrl": signing_cert_url(n.endpoint),
            "UnsubscribeUrl": unsubscribe_url(n.endpoint, subscription_arn),
            "MessageAttributes": message_attrs::envelope(n.attributes),
        }
    }]})
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_have_milliseconds() {
        assert_eq!(super::timestamp(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
