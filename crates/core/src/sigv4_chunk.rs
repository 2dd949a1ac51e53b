//! The signatures of a signed `aws-chunked` body (S3's streaming SigV4), with no I/O: each
//! chunk's signature chains from the previous one, starting at the seed signature of the
//! request's `Authorization` header, and the trailing headers (when the payload is
//! `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`) are signed last, from the final chunk's
//! signature.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>

use sha2::{Digest, Sha256};

/// `SHA256("")`, the fixed fourth line of a chunk's string to sign.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Verifies one signed body's chunk signatures in order.
#[derive(Clone)]
pub struct ChunkSigner {
    key: [u8; 32],
    amz_date: String,
    scope: String,
    previous: String,
}

impl std::fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSigner").field("scope", &self.scope).field("previous", &self.previous).finish_non_exhaustive()
    }
}

impl ChunkSigner {
    /// `key`: the request's signing key; `amz_date`: its `x-amz-date`; `scope`:
    /// `<date>/<region>/<service>/aws4_request`; `seed`: the `Authorization` signature.
    pub fn new(key: [u8; 32], amz_date: &str, scope: &str, seed: &str) -> ChunkSigner {
        ChunkSigner { key, amz_date: amz_date.to_string(), scope: scope.to_string(), previous: seed.to_ascii_lowercase() }
    }

    /// The signature the next chunk, whose data hashes to `data_sha256`, must carry.
    pub fn chunk_signature(&self, data_sha256: &[u8]) -> String {
        let string_to_sign = format!("AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{}", self.amz_date, self.scope, self.previous, hex(data_sha256));
        aws_sigv4::sign::v4::calculate_signature(self.key, string_to_sign.as_bytes())
    }

    /// Checks the next chunk's `chunk-signature` (its data hashing to `data_sha256`); on a
    /// match the chain moves on to it.
    pub fn verify_chunk(&mut self, sent: &str, data_sha256: &[u8]) -> bool {
        let expected = self.chunk_signature(data_sha256);
        self.accept(expected, sent)
    }

    /// Checks `x-amz-trailer-signature` over the trailing headers, given as
    /// `(lower-case name, value)` pairs in the order sent.
    pub fn verify_trailer(&mut self, sent: &str, trailers: &[(String, String)]) -> bool {
        let expected = self.trailer_signature(trailers);
        self.accept(expected, sent)
    }

    /// The `x-amz-trailer-signature` the trailing headers must carry.
    pub fn trailer_signature(&self, trailers: &[(String, String)]) -> String {
        let mut canonical = String::new();
        for (name, value) in trailers {
            canonical.push_str(name);
            canonical.push(':');
            canonical.push_str(value.trim());
            canonical.push('\n');
        }
        let string_to_sign = format!("AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}", self.amz_date, self.scope, self.previous, hex(&Sha256::digest(canonical.as_bytes())));
        aws_sigv4::sign::v4::calculate_signature(self.key, string_to_sign.as_bytes())
    }

    fn accept(&mut self, expected: String, sent: &str) -> bool {
        if crate::sigv4::constant_time_eq(expected.as_bytes(), sent.to_ascii_lowercase().as_bytes()) {
            self.previous = expected;
            true
        } else {
            false
        }
    }
}

use crate::hex::hex;

#[cfg(test)]
pub(crate) mod tests {
    //! AWS's worked example (sigv4-streaming.html: a 66,560-byte object of `a`s in a
    //! 65,536-byte chunk, a 1,024-byte chunk and the final empty chunk).
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    pub(crate) fn example_signer() -> ChunkSigner {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let day = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24
        let derived = aws_sigv4::sign::v4::generate_signing_key(secret, day, "us-east-1", "s3");
        let mut key = [0u8; 32];
        key.copy_from_slice(&derived.as_ref()[..32]);
        ChunkSigner::new(key, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
    }

    #[test]
    fn chains_the_documented_chunk_signatures() {
        let mut signer = example_signer();
        let first = vec![b'a'; 65_536];
        assert!(signer.verify_chunk("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648", &Sha256::digest(&first)));
        let second = vec![b'a'; 1024];
        assert!(!signer.verify_chunk("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648", &Sha256::digest(&second)), "a replayed signature fails");
        assert!(signer.verify_chunk("0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497", &Sha256::digest(&second)));
        assert!(signer.verify_chunk("b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9", &Sha256::digest(b"")));
    }

    #[test]
    fn the_trailer_signature_follows_the_final_chunk() {
        let mut signer = example_signer();
        let trailers = vec![("x-amz-checksum-crc32c".to_string(), "sOO8/Q==".to_string())];
        let expected = {
            let mut probe = signer.clone();
            let canonical = "x-amz-checksum-crc32c:sOO8/Q==\n";
            let sts = format!("AWS4-HMAC-SHA256-TRAILER\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n{}\n{}", probe.previous, hex(&Sha256::digest(canonical)));
            probe.previous.clear();
            aws_sigv4::sign::v4::calculate_signature(probe.key, sts.as_bytes())
        };
        assert!(!signer.verify_trailer(&"0".repeat(64), &trailers));
        assert!(signer.verify_trailer(&expected, &trailers));
    }
}
