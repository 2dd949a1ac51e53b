//! Multipart upload's rules, with no I/O: part numbers, the parts a
//! CompleteMultipartUpload names checked against the parts uploaded (InvalidPart,
//! InvalidPartOrder, EntityTooSmall), the multipart ETag (MD5 of the parts' binary MD5s,
//! `-N`) and composite checksums (the checksum of the parts' binary checksums, `-N`).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>

use crate::checksums::Algorithm;
use crate::errors::{S3Error, S3Result};
use base64::Engine;
use md5::{Digest, Md5};
use std::collections::BTreeMap;

/// Smallest part but the last (5 MiB).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
pub const MAX_PART_NUMBER: u32 = 10_000;
/// Default and largest `max-parts` / `max-uploads`.
pub const MAX_LISTED: usize = 1000;

/// One uploaded part as the upload keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub number: u32,
    pub size: u64,
    /// The part's MD5, hex (its ETag without quotes).
    pub md5_hex: String,
    /// The part's checksum in the upload's algorithm, base64, when it has one.
    pub checksum: Option<String>,
    pub last_modified_ms: u64,
}

impl Part {
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.md5_hex)
    }
}

/// A part named by CompleteMultipartUpload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPart {
    pub number: u32,
    pub etag: String,
    pub checksum: Option<String>,
}

/// `partNumber` of UploadPart / UploadPartCopy: 1 to 10,000.
pub fn part_number(value: Option<i64>) -> S3Result<u32> {
    match value {
        Some(n) if (1..=MAX_PART_NUMBER as i64).contains(&n) => Ok(n as u32),
        other => {
            let shown = other.map(|n| n.to_string()).unwrap_or_default();
            Err(S3Error::detailed(
                "InvalidArgument",
                400,
                "Part number must be an integer between 1 and 10000, inclusive",
                &[("ArgumentName", "partNumber"), ("ArgumentValue", &shown)],
            ))
        }
    }
}

pub fn no_such_upload(upload_id: &str) -> S3Error {
    S3Error::detailed(
        "NoSuchUpload",
        404,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        &[("UploadId", upload_id)],
    )
}

fn invalid_part(upload_id: &str, part: &NamedPart) -> S3Error {
    S3Error::detailed(
        "InvalidPart",
        400,
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        &[("UploadId", upload_id), ("PartNumber", &part.number.to_string()), ("ETag", &unquote(&part.etag))],
    )
}

fn unquote(etag: &str) -> String {
    etag.trim().trim_matches('"').to_string()
}

/// The uploaded parts CompleteMultipartUpload assembles, in order: every named part must
/// exist with its ETag (and checksum, when given), in ascending part-number order, and
/// every part but the last must be at least 5 MiB.
pub fn parts_to_complete<'a>(upload_id: &str, named: &[NamedPart], uploaded: &'a BTreeMap<u32, Part>) -> S3Result<Vec<&'a Part>> {
    if named.is_empty() {
        return Err(S3Error::other("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema"));
    }
    if named.windows(2).any(|w| w[0].number >= w[1].number) {
        return Err(S3Error::other(
            "InvalidPartOrder",
            400,
            "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
        ));
    }
    let mut parts = Vec::with_capacity(named.len());
    for n in named {
        let part = uploaded.get(&n.number).filter(|p| p.md5_hex.eq_ignore_ascii_case(&unquote(&n.etag))).ok_or_else(|| invalid_part(upload_id, n))?;
        if let (Some(sent), Some(stored)) = (&n.checksum, &part.checksum) {
            if sent.trim() != stored {
                return Err(invalid_part(upload_id, n));
            }
        }
        parts.push(part);
    }
    let last = parts.len() - 1;
    for (i, p) in parts.iter().enumerate() {
        if i < last && p.size < MIN_PART_SIZE {
            return Err(S3Error::detailed(
                "EntityTooSmall",
                400,
                "Your proposed upload is smaller than the minimum allowed size",
                &[("ProposedSize", &p.size.to_string()), ("MinSizeAllowed", &MIN_PART_SIZE.to_string()), ("PartNumber", &p.number.to_string()), ("ETag", &p.md5_hex)],
            ));
        }
    }
    Ok(parts)
}

/// The multipart ETag: MD5 of the concatenated binary part MD5s, `-<parts>`, quoted.
pub fn multipart_etag(parts: &[&Part]) -> String {
    let mut md5 = Md5::new();
    for p in parts {
        md5.update(decode_hex(&p.md5_hex));
    }
    format!("\"{}-{}\"", hex(&md5.finalize()), parts.len())
}

/// The composite checksum of a multipart object: the algorithm over the concatenated
/// binary part checksums, base64, `-<parts>`; `None` when a part has no checksum.
pub fn composite_checksum(parts: &[&Part], algorithm: Algorithm) -> Option<String> {
    let mut hasher = algorithm.hasher();
    for p in parts {
        hasher.update(&base64::engine::general_purpose::STANDARD.decode(p.checksum.as_deref()?).ok()?);
    }
    Some(format!("{}-{}", hasher.finish(), parts.len()))
}

/// The full-object CRC of a multipart object, combined from the parts' CRCs (CRC64NVME
/// uploads, and CRC32 / CRC32C ones created with `ChecksumType: FULL_OBJECT`).
pub fn full_object_crc(parts: &[&Part], algorithm: Algorithm) -> Option<String> {
    let crc = algorithm.crc()?;
    let mut combined: Option<u64> = None;
    for p in parts {
        let raw = base64::engine::general_purpose::STANDARD.decode(p.checksum.as_deref()?).ok()?;
        let value = raw.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64);
        combined = Some(match combined {
            None => value,
            Some(c) => crc_fast::checksum_combine(crc, c, value, p.size),
        });
    }
    let bytes = combined?.to_be_bytes();
    Some(base64::engine::general_purpose::STANDARD.encode(&bytes[8 - algorithm.digest_len()..]))
}

pub(crate) use nimbus_core::hex::hex;

fn decode_hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_core::AwsError;

    fn part(number: u32, size: u64, data: &[u8]) -> Part {
        Part { number, size, md5_hex: hex(&Md5::digest(data)), checksum: None, last_modified_ms: 0 }
    }

    fn named(p: &Part) -> NamedPart {
        NamedPart { number: p.number, etag: p.etag(), checksum: None }
    }

    fn code(r: S3Result<Vec<&Part>>) -> String {
        r.map(|_| "ok".to_string()).unwrap_or_else(|e| AwsError::from(e).code.to_string())
    }

    #[test]
    fn part_numbers_are_1_to_10000() {
        assert_eq!(part_number(Some(1)).unwrap(), 1);
        assert_eq!(part_number(Some(10_000)).unwrap(), 10_000);
        for bad in [Some(0), Some(10_001), Some(-1), None] {
            let e = AwsError::from(part_number(bad).unwrap_err());
            assert_eq!((e.code.as_ref(), e.status), ("InvalidArgument", 400));
            assert_eq!(e.members["ArgumentName"], "partNumber");
        }
    }

    #[test]
    fn completion_checks_order_existence_etags_and_sizes() {
        let big = part(1, MIN_PART_SIZE, b"one");
        let small = part(2, 10, b"two");
        let last = part(3, 1, b"three");
        let uploaded: BTreeMap<u32, Part> = [big.clone(), small.clone(), last.clone()].into_iter().map(|p| (p.number, p)).collect();
        assert_eq!(code(parts_to_complete("u", &[named(&big), named(&small)], &uploaded)), "ok", "the last part may be small");
        assert_eq!(code(parts_to_complete("u", &[named(&big)], &uploaded)), "ok", "a subset");
        assert_eq!(code(parts_to_complete("u", &[named(&big), named(&small), named(&last)], &uploaded)), "EntityTooSmall");
        assert_eq!(code(parts_to_complete("u", &[named(&small), named(&big)], &uploaded)), "InvalidPartOrder");
        assert_eq!(code(parts_to_complete("u", &[named(&big), named(&big)], &uploaded)), "InvalidPartOrder");
        let mut wrong = named(&small);
        wrong.etag = "\"0123\"".into();
        let e = AwsError::from(parts_to_complete("u", &[named(&big), wrong], &uploaded).unwrap_err());
        assert_eq!((e.code.as_ref(), e.members["PartNumber"].as_str()), ("InvalidPart", Some("2")));
        let missing = NamedPart { number: 9, etag: big.etag(), checksum: None };
        assert_eq!(code(parts_to_complete("u", &[missing], &uploaded)), "InvalidPart");
        assert_eq!(code(parts_to_complete("u", &[], &uploaded)), "MalformedXML");
        // Unquoted ETags are the same ETag.
        let unquoted = NamedPart { number: 1, etag: big.md5_hex.clone(), checksum: None };
        assert_eq!(code(parts_to_complete("u", &[unquoted], &uploaded)), "ok");
    }

    #[test]
    fn multipart_etag_is_md5_of_md5s() {
        let a = part(1, 1, b"a");
        let b = part(2, 1, b"b");
        let mut joined = Md5::digest(b"a").to_vec();
        joined.extend(Md5::digest(b"b"));
        assert_eq!(multipart_etag(&[&a, &b]), format!("\"{}-2\"", hex(&Md5::digest(&joined))));
    }

    #[test]
    fn composite_checksums_hash_the_binary_part_checksums() {
        let b64 = |v: &[u8]| base64::engine::general_purpose::STANDARD.encode(v);
        let mut a = part(1, 1, b"a");
        let mut b = part(2, 1, b"b");
        a.checksum = Some(b64(&[1, 2, 3, 4]));
        b.checksum = Some(b64(&[5, 6, 7, 8]));
        let mut whole = Algorithm::Crc32.hasher();
        whole.update(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let got = composite_checksum(&[&a, &b], Algorithm::Crc32);
        assert_eq!(got, Some(format!("{}-2", whole.finish())));
        b.checksum = None;
        assert_eq!(composite_checksum(&[&a, &b], Algorithm::Crc32), None);
    }

    #[test]
    fn full_object_crcs_combine_the_parts() {
        let of = |a: Algorithm, d: &[u8]| {
            let mut h = a.hasher();
            h.update(d);
            h.finish()
        };
        for a in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
            let mut p1 = part(1, 5, b"hello");
            let mut p2 = part(2, 6, b" world");
            p1.checksum = Some(of(a, b"hello"));
            p2.checksum = Some(of(a, b" world"));
            assert_eq!(full_object_crc(&[&p1, &p2], a), Some(of(a, b"hello world")), "{a:?}");
        }
    }
}
