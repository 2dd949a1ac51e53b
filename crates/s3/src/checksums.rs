//! S3's additional checksums: CRC32, CRC32C, CRC64NVME (on `crc-fast`), SHA1 and SHA256,
//! computed while an object's bytes stream to disk, each written as AWS writes it: the
//! big-endian digest in base64.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>

use base64::Engine;
use sha1::Digest as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 5] = [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme, Algorithm::Sha1, Algorithm::Sha256];

    /// The name as in `x-amz-sdk-checksum-algorithm` and the stored metadata (`CRC32`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The model's member name (`ChecksumCRC32`).
    pub fn member(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "ChecksumCRC32",
            Algorithm::Crc32c => "ChecksumCRC32C",
            Algorithm::Crc64Nvme => "ChecksumCRC64NVME",
            Algorithm::Sha1 => "ChecksumSHA1",
            Algorithm::Sha256 => "ChecksumSHA256",
        }
    }

    /// The header (`x-amz-checksum-crc32`).
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    pub fn parse(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name))
    }

    pub fn from_header(header: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.header().eq_ignore_ascii_case(header))
    }

    /// The digest's length in bytes (a value of another length is malformed).
    pub fn digest_len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }

    /// Whether a value is well-formed for this algorithm (base64 of the digest's length).
    pub fn valid_value(self, value: &str) -> bool {
        base64::engine::general_purpose::STANDARD.decode(value.trim()).is_ok_and(|b| b.len() == self.digest_len())
    }

    /// The CRC this algorithm is (`None` for the SHA digests).
    pub fn crc(self) -> Option<crc_fast::CrcAlgorithm> {
        match self {
            Algorithm::Crc32 => Some(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
            Algorithm::Crc32c => Some(crc_fast::CrcAlgorithm::Crc32Iscsi),
            Algorithm::Crc64Nvme => Some(crc_fast::CrcAlgorithm::Crc64Nvme),
            Algorithm::Sha1 | Algorithm::Sha256 => None,
        }
    }

    pub fn hasher(self) -> Hasher {
        match (self, self.crc()) {
            (_, Some(crc)) => Hasher::Crc(self, crc_fast::Digest::new(crc)),
            (Algorithm::Sha1, None) => Hasher::Sha1(sha1::Sha1::new()),
            (_, None) => Hasher::Sha256(sha2::Sha256::new()),
        }
    }
}

/// A running checksum.
#[derive(Clone)]
pub enum Hasher {
    Crc(Algorithm, crc_fast::Digest),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Hasher {
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Hasher::Crc(a, _) => *a,
            Hasher::Sha1(_) => Algorithm::Sha1,
            Hasher::Sha256(_) => Algorithm::Sha256,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc(_, d) => d.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    /// The base64 value.
    pub fn finish(self) -> String {
        let bytes: Vec<u8> = match self {
            Hasher::Crc(a, d) => {
                let v = d.finalize();
                if a == Algorithm::Crc64Nvme {
                    v.to_be_bytes().to_vec()
                } else {
                    (v as u32).to_be_bytes().to_vec()
                }
            }
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        };
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(a: Algorithm, data: &[u8]) -> String {
        let mut h = a.hasher();
        h.update(data);
        h.finish()
    }

    #[test]
    fn values_are_awss() {
        // Values as the AWS SDKs compute them for "Hello world".
        assert_eq!(of(Algorithm::Crc32, b"Hello world"), "i9aeUg==");
        assert_eq!(of(Algorithm::Crc32c, b"Hello world"), "crUfeA==");
        assert_eq!(of(Algorithm::Sha1, b"Hello world"), "e1AsOh9IyGCa4hLN+2Od7jlnP14=");
        assert_eq!(of(Algorithm::Sha256, b"Hello world"), "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=");
        assert_eq!(of(Algorithm::Crc64Nvme, b""), "AAAAAAAAAAA=");
        assert!(Algorithm::Crc32.valid_value("i9aeUg=="));
        assert!(!Algorithm::Crc32.valid_value("nope"));
    }
}
