//! Deployment packages: zips are kept by SHA-256 under the data directory and unpacked
//! once into a directory that becomes the function's task root (`LAMBDA_TASK_ROOT`).

use crate::errors::{LambdaError, LambdaResult};
use crate::function::{CodeRef, CodeSource};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest zip accepted in a request (AWS: 50 MB zipped for direct upload).
pub const MAX_ZIP_BYTES: usize = 50 * 1024 * 1024;
/// Largest unpacked size (AWS: 250 MB).
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;

pub struct CodeStore {
    root: PathBuf,
    /// Serialises unpacking: concurrent cold starts of one package must not rewrite
    /// files (e.g. `bootstrap`) that another environment is executing (ETXTBSY).
    unpacking: parking_lot::Mutex<()>,
}

impl CodeStore {
    pub fn new(root: PathBuf) -> std::io::Result<CodeStore> {
        std::fs::create_dir_all(root.join("zips"))?;
        std::fs::create_dir_all(root.join("unpacked"))?;
        Ok(CodeStore { root, unpacking: parking_lot::Mutex::new(()) })
    }

    /// Validates and stores a base64 zip; returns its reference.
    pub fn put_zip(&self, zip_b64: &str) -> LambdaResult<CodeRef> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(zip_b64.trim())
            .map_err(|_| LambdaError::invalid("Could not unzip uploaded file. Please check your file, then try to upload again."))?;
        if bytes.len() > MAX_ZIP_BYTES {
            return Err(LambdaError::RequestTooLarge(format!("Request must be smaller than {MAX_ZIP_BYTES} bytes for the CreateFunction operation")));
        }
        self.put_zip_bytes(&bytes)
    }

    /// Validates and stores a zip's bytes (from a request, or read from S3, where the
    /// zipped size is bounded only by the unzipped limit).
    pub fn put_zip_bytes(&self, bytes: &[u8]) -> LambdaResult<CodeRef> {
        let unzipped = unzipped_size(bytes)?;
        if unzipped > MAX_UNZIPPED_BYTES {
            return Err(LambdaError::invalid(format!("Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")));
        }
        let digest = Sha256::digest(bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let path = self.root.join("zips").join(format!("{hex}.zip"));
        if !path.exists() {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, &path)).map_err(|e| LambdaError::Service(format!("storing code: {e}")))?;
        }
        Ok(CodeRef {
            source: CodeSource::Zip { sha256_hex: hex },
            sha256_b64: base64::engine::general_purpose::STANDARD.encode(digest),
            size: bytes.len() as u64,
        })
    }

    /// A local directory used in place (hot reload).
    pub fn hot_reload(dir: &str) -> LambdaResult<CodeRef> {
        let p = Path::new(dir);
        if !p.is_absolute() || !p.is_dir() {
            return Err(LambdaError::invalid(format!("Hot-reload code path {dir} must be an existing absolute directory")));
        }
        let digest = Sha256::digest(dir.as_bytes());
        Ok(CodeRef {
            source: CodeSource::HotReload { dir: dir.to_string() },
            sha256_b64: base64::engine::general_purpose::STANDARD.encode(digest),
            size: 0,
        })
    }

    /// The directory holding the unpacked code (unpacking on first use).
    pub fn task_root(&self, code: &CodeRef) -> LambdaResult<PathBuf> {
        match &code.source {
            CodeSource::HotReload { dir } => Ok(PathBuf::from(dir)),
            CodeSource::Zip { sha256_hex } => {
                let dest = self.root.join("unpacked").join(sha256_hex);
                if dest.join(".complete").exists() {
                    return Ok(dest);
                }
                let _guard = self.unpacking.lock();
                if dest.join(".complete").exists() {
                    return Ok(dest);
                }
                let bytes = std::fs::read(self.root.join("zips").join(format!("{sha256_hex}.zip")))
                    .map_err(|e| LambdaError::Service(format!("reading code: {e}")))?;
                unpack(&bytes, &dest)?;
                std::fs::write(dest.join(".complete"), b"").map_err(|e| LambdaError::Service(e.to_string()))?;
                Ok(dest)
            }
        }
    }

    /// The stored zip (for GetFunction's code location).
    pub fn zip_path(&self, code: &CodeRef) -> Option<PathBuf> {
        match &code.source {
            CodeSource::Zip { sha256_hex } => Some(self.root.join("zips").join(format!("{sha256_hex}.zip"))),
            CodeSource::HotReload { .. } => None,
        }
    }
}

fn bad_zip() -> LambdaError {
    LambdaError::invalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
}

fn unzipped_size(bytes: &[u8]) -> LambdaResult<u64> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| bad_zip())?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        total += archive.by_index(i).map_err(|_| bad_zip())?.size();
    }
    Ok(total)
}

fn unpack(bytes: &[u8], dest: &Path) -> LambdaResult<()> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| bad_zip())?;
    let io = |e: std::io::Error| LambdaError::Service(format!("unpacking code: {e}"));
    std::fs::create_dir_all(dest).map_err(io)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|_| bad_zip())?;
        // enclosed_name refuses absolute paths and `..`.
        let Some(rel) = entry.enclosed_name() else { continue };
        let path = dest.join(rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(io)?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut data).map_err(io)?;
        std::fs::write(&path, &data).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let is_bootstrap = path.file_name().map(|n| n == "bootstrap").unwrap_or(false);
            let mode = entry.unix_mode().unwrap_or(0o644) | if is_bootstrap { 0o755 } else { 0 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o7777 | 0o400)).map_err(io)?;
        }
    }
    Ok(())
}
