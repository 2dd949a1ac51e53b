//! Notification signatures, as subscribers verify them: an RSA key generated when first
//! needed (kept in `<data dir>/sns/signing-key.pem`; per process with `--in-memory`), a
//! self-signed X.509 certificate for it served at `SigningCertURL`
//! (`/_aws/sns/SimpleNotificationService.pem`), and the signature of each message's
//! canonical string: SHA1withRSA for SignatureVersion 1, SHA256withRSA for 2.
//! https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html

use base64::Engine;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub struct Signer {
    key: RsaPrivateKey,
    cert_pem: String,
}

/// The signer, loaded (or generated: ~150 ms of CPU) when first needed, so servers that
/// never sign — most test servers — do not pay for a key.
#[derive(Clone)]
pub struct Signing {
    cell: Arc<OnceLock<Result<Signer, String>>>,
    dir: Option<PathBuf>,
}

impl Signing {
    /// The key under `dir` (`None`: a key for this process), made on first use.
    pub fn new(dir: Option<PathBuf>) -> Signing {
        Signing { cell: Arc::new(OnceLock::new()), dir }
    }

    /// `sign` on a blocking thread (an RSA signature, or the first key, is CPU-heavy).
    pub async fn sign_off_thread(&self, version: String, fields: Vec<(String, String)>) -> String {
        let s = self.clone();
        let job = tokio::task::spawn_blocking(move || {
            let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            s.sign(&version, &borrowed)
        });
        job.await.unwrap_or_default()
    }

    fn get(&self) -> &Result<Signer, String> {
        self.cell.get_or_init(|| Signer::load_or_create(self.dir.as_deref()))
    }

    /// The base64 signature of `fields` (the canonical string's keys and values, in order).
    pub fn sign(&self, version: &str, fields: &[(&str, &str)]) -> String {
        match self.get() {
            Ok(s) => s.sign(version, &canonical(fields)),
            Err(e) => {
                tracing::error!(error = %e, "SNS signing key unavailable; message left unsigned");
                String::new()
            }
        }
    }

    /// The certificate (PEM) subscribers verify signatures with.
    pub fn certificate(&self) -> Option<String> {
        self.get().as_ref().ok().map(|s| s.cert_pem.clone())
    }
}

/// `Key\nValue\n` for each field, the string AWS signs.
pub fn canonical(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}\n{v}\n")).collect()
}

impl Signer {
    fn load_or_create(dir: Option<&Path>) -> Result<Signer, String> {
        let path = dir.map(|d| d.join("signing-key.pem"));
        let existing = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok());
        let key = match existing {
            Some(pem) => RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| format!("stored SNS signing key: {e}"))?,
            None => {
                let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).map_err(|e| e.to_string())?;
                if let (Some(d), Some(p)) = (dir, &path) {
                    std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
                    let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| e.to_string())?;
                    // Written whole then renamed: a crash never leaves half a key.
                    let tmp = p.with_extension("tmp");
                    std::fs::write(&tmp, pem.as_bytes()).map_err(|e| format!("{}: {e}", tmp.display()))?;
                    std::fs::rename(&tmp, p).map_err(|e| format!("{}: {e}", p.display()))?;
                }
                key
            }
        };
        let cert_pem = certificate(&key)?;
        Ok(Signer { key, cert_pem })
    }

    fn sign(&self, version: &str, text: &str) -> String {
        let signed = if version == "2" {
            self.key.sign(Pkcs1v15Sign::new::<sha2::Sha256>(), &sha2::Sha256::digest(text.as_bytes()))
        } else {
            self.key.sign(Pkcs1v15Sign::new::<sha1::Sha1>(), &sha1::Sha1::digest(text.as_bytes()))
        };
        signed.map(|s| B64.encode(s)).unwrap_or_default()
    }
}

// --- a minimal DER writer for the self-signed certificate -------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// sha256WithRSAEncryption (1.2.840.113549.1.1.11) with NULL parameters.
fn sha256_with_rsa() -> Vec<u8> {
    seq(&[tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]), vec![0x05, 0x00]])
}

/// `CN=sns.amazonaws.com` (nimbus's stand-in).
fn name() -> Vec<u8> {
    let cn = seq(&[tlv(0x06, &[0x55, 0x04, 0x03]), tlv(0x0c, b"sns.amazonaws.com")]);
    seq(&[tlv(0x31, &cn)])
}

/// A self-signed X.509 v3 certificate for the key, valid 2020–2099, as PEM (the same
/// for the same key: PKCS#1 v1.5 signatures are deterministic).
fn certificate(key: &RsaPrivateKey) -> Result<String, String> {
    let spki = key.to_public_key().to_public_key_der().map_err(|e| e.to_string())?;
    // The serial comes from the key, so the same key always gives the same certificate.
    let digest = sha2::Sha256::digest(spki.as_bytes());
    // A DER INTEGER is minimal and positive: the first byte neither 0x00 (OpenSSL refuses
    // such a certificate: one key in ~256 gave one) nor above 0x7f.
    let mut serial: Vec<u8> = digest[..8].to_vec();
    serial[0] = (serial[0] & 0x7f) | 0x40;
    let tbs = seq(&[
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &serial),
        sha256_with_rsa(),
        name(),
        seq(&[tlv(0x17, b"200101000000Z"), tlv(0x18, b"20991231235959Z")]),
        name(),
        spki.as_bytes().to_vec(),
    ]);
    let sig = key.sign(Pkcs1v15Sign::new::<sha2::Sha256>(), &sha2::Sha256::digest(&tbs)).map_err(|e| e.to_string())?;
    let mut bits = vec![0u8];
    bits.extend(sig);
    let der = seq(&[tbs, sha256_with_rsa(), tlv(0x03, &bits)]);
    let b64 = B64.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
    Ok(format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn canonical_strings_are_key_newline_value_newline() {
        assert_eq!(super::canonical(&[("Message", "m"), ("Type", "Notification")]), "Message\nm\nType\nNotification\n");
    }

    #[test]
    fn serials_are_minimal_positive_der_integers() {
        for _ in 0..300 {
            let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 512).expect("key");
            let pem = super::certificate(&key).expect("certificate");
            let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            let der = base64::Engine::decode(&super::B64, b64).expect("base64");
            // SEQUENCE (long form) > SEQUENCE tbs (long form) > [0] version (5 bytes) > INTEGER serial.
            let tbs = 2 + (der[1] & 0x7f) as usize;
            let serial = tbs + 2 + (der[tbs + 1] & 0x7f) as usize + 5;
            assert_eq!(der[serial], 0x02);
            let (len, first) = (der[serial + 1], der[serial + 2]);
            assert_eq!(len, 8);
            assert!(first != 0 && first < 0x80, "serial starts {first:#x}");
        }
    }

    #[test]
    fn der_lengths_use_the_long_form_above_127() {
        assert_eq!(&super::tlv(0x04, &[0; 200])[..3], &[0x04, 0x81, 200]);
        assert_eq!(&super::tlv(0x04, &[0; 300])[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
