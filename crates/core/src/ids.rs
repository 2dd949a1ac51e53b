//! Identifiers in AWS's formats, from the thread-local userspace RNG (no system call per
//! id: request and message ids are made on every request).

/// A random UUID (request ids, message ids, task handles, …).
pub fn uuid() -> String {
    let id = uuid::Builder::from_random_bytes(rand::random::<[u8; 16]>()).into_uuid();
    // Encoded into a buffer and copied once (`to_string` goes through `fmt` and grows).
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    id.hyphenated().encode_lower(&mut buf).to_string()
}

/// A request id like AWS's: a random UUID.
pub fn request_id() -> String {
    uuid()
}
