//! The master key every key's material is sealed under before it is stored: 32 random
//! bytes in `<data>/kms/master.key` (created mode 0600 on first start), or a fresh
//! random key per process with `--in-memory`. Sealing is AES-256-GCM (ring) with a
//! random nonce; the additional data binds a sealed value to its key and version, so
//! a stored blob cannot be moved onto another key.

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::Path;

pub struct MasterKey {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl MasterKey {
    /// Reads `<dir>/master.key`, creating it (0600) when absent.
    pub fn open(dir: &Path) -> Result<MasterKey, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join("master.key");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let b = random_bytes(32)?;
                write_private(&path, &b)?;
                b
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        if bytes.len() != 32 {
            return Err(format!("{} is not a 32-byte key", path.display()));
        }
        MasterKey::from_bytes(&bytes)
    }

    /// A key for this process only (`--in-memory`).
    pub fn ephemeral() -> Result<MasterKey, String> {
        MasterKey::from_bytes(&random_bytes(32)?)
    }

    fn from_bytes(bytes: &[u8]) -> Result<MasterKey, String> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| "bad master key".to_string())?;
        Ok(MasterKey { key: LessSafeKey::new(key), rng: SystemRandom::new() })
    }

    /// base64(nonce ‖ ciphertext ‖ tag) of `plain`, bound to `label`.
    pub fn seal(&self, label: &str, plain: &[u8]) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| "no randomness".to_string())?;
        let mut buf = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(label.as_bytes()), &mut buf)
            .map_err(|_| "seal failed".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    pub fn unseal(&self, label: &str, sealed: &str) -> Result<Vec<u8>, String> {
        let raw = base64::engine::general_purpose::STANDARD.decode(sealed).map_err(|e| e.to_string())?;
        if raw.len() < NONCE_LEN + 16 {
            return Err("sealed key material too short".into());
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "bad nonce".to_string())?;
        let mut buf = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(label.as_bytes()), &mut buf)
            .map_err(|_| format!("key material of {label} does not open under this data dir's master key"))?;
        Ok(plain.to_vec())
    }
}

pub fn random_bytes(n: usize) -> Result<Vec<u8>, String> {
    let mut b = vec![0u8; n];
    SystemRandom::new().fill(&mut b).map_err(|_| "no randomness".to_string())?;
    Ok(b)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_material_opens_only_under_its_label_and_survives_a_reopen() {
        let dir = std::env::temp_dir().join(format!("nimbus-kms-master-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let m = MasterKey::open(&dir).expect("open");
        let sealed = m.seal("a/1", b"secret").expect("seal");
        assert!(!sealed.contains("secret"));
        assert!(m.unseal("a/2", &sealed).is_err());
        let again = MasterKey::open(&dir).expect("reopen");
        assert_eq!(again.unseal("a/1", &sealed).expect("unseal"), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("master.key")).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
