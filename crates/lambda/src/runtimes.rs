//! The bootstraps nimbus ships for interpreted runtimes, written to the data directory at
//! start (see `runtimes/README.md`).

use std::path::Path;

const PYTHON_BOOTSTRAP: &str = include_str!("../runtimes/python/bootstrap.py");
const NODE_BOOTSTRAP: &str = include_str!("../runtimes/node/bootstrap.mjs");

pub fn install(dir: &Path) -> std::io::Result<()> {
    for (sub, file, text) in [("python", "bootstrap.py", PYTHON_BOOTSTRAP), ("node", "bootstrap.mjs", NODE_BOOTSTRAP)] {
        let d = dir.join(sub);
        std::fs::create_dir_all(&d)?;
        let path = d.join(file);
        if std::fs::read_to_string(&path).map(|t| t != text).unwrap_or(true) {
            std::fs::write(&path, text)?;
        }
    }
    Ok(())
}
