//! The message bodies and pre-built JSON-protocol requests the load generator sends.

pub const DEFAULT_MESSAGE_SIZE: usize = 256;

/// A deterministic, printable message body of exactly `size` bytes.
pub fn message_body(size: usize) -> String {
    const SEED: &str = "{\"event\":\"order.created\",\"order_id\":\"b7a4c1e2\",\"amount\":4217,\"currency\":\"EUR\",\"items\":[\"sku-1\",\"sku-2\"]} ";
    SEED.bytes().cycle().take(size).map(char::from).collect()
}

/// A fixed, realistic (but unverifiable) SigV4 Authorization header. Emulators accept
/// any signature; the point is that the server parses a header of realistic length.
pub const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";
pub const AMZ_DATE: &str = "20261122T000000Z";

pub fn send_message(queue_url: &str, body: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"QueueUrl": queue_url, "MessageBody": body})).unwrap()
}

pub fn send_message_batch(queue_url: &str, body: &str, n: usize) -> Vec<u8> {
    let entries: Vec<_> = (0..n)
        .map(|i| serde_json::json!({"Id": i.to_string(), "MessageBody": body}))
        .collect();
    serde_json::to_vec(&serde_json::json!({"QueueUrl": queue_url, "Entries": entries})).unwrap()
}

pub fn receive_message(queue_url: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "QueueUrl": queue_url,
        "MaxNumberOfMessages": 1,
        "WaitTimeSeconds": 0
    }))
    .unwrap()
}

pub fn delete_message(queue_url: &str, receipt_handle: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"QueueUrl": queue_url, "ReceiptHandle": receipt_handle}))
        .unwrap()
}

pub fn create_queue(name: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"QueueName": name})).unwrap()
}

pub fn delete_queue(queue_url: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"QueueUrl": queue_url})).unwrap()
}
