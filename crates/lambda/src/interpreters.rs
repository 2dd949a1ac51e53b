//! Which host interpreter runs each managed runtime: `python3.X` on a Python 3.X, and
//! `nodejsNN.x` on a Node.js NN — never another version silently.
//!
//! Lookup order for one runtime (the first candidate whose reported version matches wins):
//! 1. an explicit path: `--runtime python3.12=/path` (the binary's flag), else the variable
//!    `NIMBUS_RUNTIME_PYTHON3_12` (`NIMBUS_RUNTIME_NODEJS22_X`, …), else a line
//!    `python3.12 = /path` of the runtimes file (`--runtimes-file`). An explicit path that
//!    does not run or is another version is an error, not a reason to look elsewhere;
//! 2. `PATH`: `python3.12`, then `python3` and `python` (Node: `node22`, `nodejs22`, then
//!    `node`), each only if it reports the right version. Shims are not run: a pyenv
//!    shim stands for the active pyenv version's executable, asdf's and mise's are
//!    skipped (their installs are searched in step 3);
//! 3. version managers, newest patch release first: pyenv (`$PYENV_ROOT`, `~/.pyenv`),
//!    uv (`$UV_PYTHON_INSTALL_DIR`, `~/.local/share/uv/python`), asdf (`$ASDF_DATA_DIR`,
//!    `~/.asdf`), mise (`$MISE_DATA_DIR`, `~/.local/share/mise`), nvm (`$NVM_DIR`,
//!    `~/.nvm`), fnm (`$FNM_DIR`, `~/.local/share/fnm`, `~/.fnm`), Volta (`~/.volta`),
//!    Homebrew's versioned kegs (`/opt/homebrew/opt/python@3.12`, `node@22`).
//!
//! Each candidate is run once (`--version`-like probe that also prints the real
//! executable, so a pyenv shim resolves to the interpreter behind it and cold starts
//! skip the shim). Found interpreters are cached; a miss is looked up again next time,
//! so installing an interpreter needs no restart.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Python runtimes nimbus accepts (AWS's `python3.8` … `python3.14`).
pub const PYTHON_MINORS: std::ops::RangeInclusive<u32> = 8..=14;
/// Node.js runtimes nimbus accepts (`nodejs18.x` … `nodejs24.x`).
pub const NODE_MAJORS: &[u32] = &[18, 20, 22, 24];

/// A managed runtime nimbus runs on a host interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Managed {
    /// Python 3.minor
    Python(u32),
    /// Node.js major
    Node(u32),
}

impl Managed {
    /// `python3.12` → Python(12); `nodejs22.x` → Node(22); anything else → None.
    pub fn parse(runtime: &str) -> Option<Managed> {
        if let Some(minor) = runtime.strip_prefix("python3.").and_then(|m| m.parse::<u32>().ok()) {
            return PYTHON_MINORS.contains(&minor).then_some(Managed::Python(minor));
        }
        let major = runtime.strip_prefix("nodejs")?.strip_suffix(".x")?.parse::<u32>().ok()?;
        NODE_MAJORS.contains(&major).then_some(Managed::Node(major))
    }

    /// Every runtime nimbus runs on an interpreter, in AWS's naming.
    pub fn all() -> Vec<Managed> {
        PYTHON_MINORS.map(Managed::Python).chain(NODE_MAJORS.iter().map(|m| Managed::Node(*m))).collect()
    }

    pub fn name(&self) -> String {
        match self {
            Managed::Python(m) => format!("python3.{m}"),
            Managed::Node(m) => format!("nodejs{m}.x"),
        }
    }

    /// The interpreter it needs, as people call it: "Python 3.12", "Node.js 22".
    pub fn interpreter(&self) -> String {
        match self {
            Managed::Python(m) => format!("Python 3.{m}"),
            Managed::Node(m) => format!("Node.js {m}"),
        }
    }

    /// `NIMBUS_RUNTIME_PYTHON3_12`, `NIMBUS_RUNTIME_NODEJS22_X`.
    pub fn variable(&self) -> String {
        format!("NIMBUS_RUNTIME_{}", self.name().to_ascii_uppercase().replace('.', "_"))
    }

    /// Does a reported version (`3.12.1`, `22.11.0`) belong to this runtime?
    fn accepts(&self, version: &str) -> bool {
        let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
        match self {
            Managed::Python(minor) => parts.next() == Some(Some(3)) && parts.next() == Some(Some(*minor)),
            Managed::Node(major) => parts.next() == Some(Some(*major)),
        }
    }
}

/// An interpreter found for a runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The executable nimbus starts (the real one behind a shim).
    pub path: PathBuf,
    /// The version it reported, e.g. `3.12.1`.
    pub version: String,
    /// Where it was found: the flag or variable, `PATH`, `pyenv`, `uv`, `nvm`, …
    pub source: String,
}

/// Why a runtime has no interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// Nothing matching on PATH or in the version managers.
    NotFound { runtime: Managed },
    /// An explicit path that does not run or is another version.
    Misconfigured { runtime: Managed, origin: String, path: PathBuf, problem: String },
}

impl Missing {
    /// The message CreateFunction answers with (InvalidParameterValueException).
    pub fn message(&self) -> String {
        match self {
            Missing::NotFound { runtime } => format!(
                "The runtime parameter of {name} is not available on this nimbus host: no {interp} interpreter was found \
                 ({looked}). Install {interp}, or point nimbus at one with {var}=/path/to/{exe}; `nimbus runtimes` lists what was found.",
                name = runtime.name(),
                interp = runtime.interpreter(),
                looked = looked_in(*runtime),
                var = runtime.variable(),
                exe = match runtime {
                    Managed::Python(m) => format!("python3.{m}"),
                    Managed::Node(_) => "node".into(),
                },
            ),
            Missing::Misconfigured { runtime, origin, path, problem } => format!(
                "The runtime parameter of {} is not available on this nimbus host: {origin} names {}, which {problem}; it must be a {} interpreter.",
                runtime.name(),
                path.display(),
                runtime.interpreter()
            ),
        }
    }
}

fn looked_in(runtime: Managed) -> String {
    match runtime {
        Managed::Python(m) => format!("looked at {}, python3.{m}, python3 and python on PATH, pyenv, uv, asdf, mise and Homebrew", runtime.variable()),
        Managed::Node(m) => format!("looked at {}, node{m}, nodejs{m} and node on PATH, nvm, fnm, asdf, mise, Volta and Homebrew", runtime.variable()),
    }
}

/// Interpreters named explicitly, by runtime name: the command line's
/// (`--runtime python3.12=/path`), which win over the `NIMBUS_RUNTIME_*` variables, and the
/// runtimes file's, which those variables win over.
#[derive(Debug, Clone, Default)]
pub struct Explicit {
    pub flags: HashMap<String, PathBuf>,
    /// Path and where it was given ("runtimes file F, line N").
    pub file: HashMap<String, (PathBuf, String)>,
}

impl Explicit {
    /// Reads a runtimes file: one `runtime = /path/to/interpreter` per line; blank lines
    /// and lines starting with `#` are ignored. Anything else is an error naming the line.
    pub fn read_file(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the runtimes file {}: {e}", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = format!("runtimes file {}, line {}", path.display(), i + 1);
            let (runtime, exe) = line.split_once('=').ok_or_else(|| format!("{at}: expected `runtime = /path/to/interpreter`, got {line:?}"))?;
            let (runtime, exe) = (runtime.trim(), exe.trim());
            if Managed::parse(runtime).is_none() {
                return Err(format!("{at}: {runtime} is not a runtime nimbus runs on an interpreter (python3.8-python3.14, nodejs18.x-nodejs24.x)"));
            }
            if exe.is_empty() {
                return Err(format!("{at}: no interpreter path for {runtime}"));
            }
            self.file.insert(runtime.to_string(), (PathBuf::from(exe), at));
        }
        Ok(())
    }
}

/// Finds and caches interpreters.
pub struct Interpreters {
    explicit: Explicit,
    found: Mutex<HashMap<Managed, Found>>,
}

impl Interpreters {
    pub fn new(explicit: Explicit) -> Interpreters {
        Interpreters { explicit, found: Mutex::new(HashMap::new()) }
    }

    /// The interpreter for `runtime`, looked up on first use (blocking: runs candidates).
    pub fn resolve(&self, runtime: Managed) -> Result<Found, Missing> {
        if let Some(f) = self.found.lock().get(&runtime) {
            return Ok(f.clone());
        }
        let found = lookup(runtime, &self.explicit, &Host::from_env())?;
        self.found.lock().insert(runtime, found.clone());
        Ok(found)
    }
}

/// What the lookup reads from the process environment (a struct, so tests can vary it).
pub struct Host {
    pub vars: HashMap<String, String>,
}

impl Host {
    pub fn from_env() -> Host {
        Host { vars: std::env::vars().collect() }
    }

    fn var(&self, k: &str) -> Option<&str> {
        self.vars.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn home(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }

    /// `$XDG_DATA_HOME`, else `~/.local/share`.
    fn data_home(&self) -> Option<PathBuf> {
        self.var("XDG_DATA_HOME").map(PathBuf::from).or_else(|| self.home().map(|h| h.join(".local/share")))
    }

    fn pyenv_root(&self) -> Option<PathBuf> {
        self.var("PYENV_ROOT").map(PathBuf::from).or_else(|| self.home().map(|h| h.join(".pyenv")))
    }

    /// `exe` in each `PATH` directory. Version-manager shims are not run (a pyenv shim
    /// costs a few hundred milliseconds per start): a pyenv shim stands for the active
    /// version's executable (`PYENV_VERSION`, else `.python-version` here or above,
    /// else `$PYENV_ROOT/version`), and other shims (asdf, mise) are left to the
    /// version-manager step.
    fn on_path(&self, exe: &str) -> Vec<PathBuf> {
        let Some(path) = self.var("PATH") else { return Vec::new() };
        let pyenv_shims = self.pyenv_root().map(|r| r.join("shims"));
        std::env::split_paths(path)
            .filter_map(|d| {
                if Some(&d) == pyenv_shims.as_ref() {
                    return self.pyenv_active(exe);
                }
                if d.file_name().is_some_and(|n| n == "shims") {
                    return None;
                }
                Some(d.join(exe))
            })
            .filter(|p| is_executable(p))
            .collect()
    }

    /// What pyenv's shim for `exe` runs: the first active version that has it.
    fn pyenv_active(&self, exe: &str) -> Option<PathBuf> {
        let root = self.pyenv_root()?;
        let names = match self.var("PYENV_VERSION") {
            Some(v) => v.to_string(),
            None => {
                let cwd = std::env::current_dir().ok();
                let local = cwd.iter().flat_map(|d| d.ancestors()).find_map(|d| std::fs::read_to_string(d.join(".python-version")).ok());
                local.or_else(|| std::fs::read_to_string(root.join("version")).ok())?
            }
        };
        names.split(|c: char| c.is_whitespace() || c == ':').filter(|n| !n.is_empty() && *n != "system").map(|n| root.join("versions").join(n).join("bin").join(exe)).find(|p| is_executable(p))
    }
}

/// Looks one runtime up in the order the module comment gives.
pub fn lookup(runtime: Managed, given: &Explicit, host: &Host) -> Result<Found, Missing> {
    let explicit = given
        .flags
        .get(&runtime.name())
        .map(|p| (format!("--runtime {}={}", runtime.name(), p.display()), p.clone()))
        .or_else(|| host.var(&runtime.variable()).map(|p| (runtime.variable(), PathBuf::from(p))))
        .or_else(|| given.file.get(&runtime.name()).map(|(p, at)| (at.clone(), p.clone())));
    if let Some((origin, path)) = explicit {
        return match probe(runtime, &path) {
            Ok((version, real)) if runtime.accepts(&version) => Ok(Found { path: real, version, source: origin }),
            Ok((version, _)) => Err(Missing::Misconfigured { runtime, origin, path, problem: format!("is version {version}") }),
            Err(problem) => Err(Missing::Misconfigured { runtime, origin, path, problem }),
        };
    }
    for (source, path) in candidates(runtime, host) {
        if let Ok((version, real)) = probe(runtime, &path) {
            if runtime.accepts(&version) {
                return Ok(Found { path: real, version, source });
            }
        }
    }
    Err(Missing::NotFound { runtime })
}

/// Every place the runtime's interpreter may be, in lookup order.
fn candidates(runtime: Managed, host: &Host) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    let home = host.home();
    let data = host.data_home();
    match runtime {
        Managed::Python(minor) => {
            let exe = format!("python3.{minor}");
            for name in [exe.as_str(), "python3", "python"] {
                out.extend(host.on_path(name).into_iter().map(|p| ("PATH".to_string(), p)));
            }
            let prefix = format!("3.{minor}");
            if let Some(root) = host.pyenv_root() {
                out.extend(versions(&root.join("versions"), "", &prefix).into_iter().map(|d| ("pyenv".into(), d.join("bin").join(&exe))));
            }
            let uv = host.var("UV_PYTHON_INSTALL_DIR").map(PathBuf::from).or_else(|| data.as_ref().map(|d| d.join("uv/python")));
            if let Some(root) = uv {
                out.extend(versions(&root, "cpython-", &prefix).into_iter().map(|d| ("uv".into(), d.join("bin").join(&exe))));
            }
            for (source, root) in managers(host, "python") {
                out.extend(versions(&root, "", &prefix).into_iter().map(|d| (source.clone(), d.join("bin").join(&exe))));
            }
            for brew in ["/opt/homebrew/opt", "/usr/local/opt"] {
                out.push(("Homebrew".into(), Path::new(brew).join(format!("python@3.{minor}")).join("bin").join(&exe)));
            }
        }
        Managed::Node(major) => {
            for name in [format!("node{major}"), format!("nodejs{major}"), "node".to_string()] {
                out.extend(host.on_path(&name).into_iter().map(|p| ("PATH".to_string(), p)));
            }
            let prefix = major.to_string();
            let nvm = host.var("NVM_DIR").map(PathBuf::from).or_else(|| home.as_ref().map(|h| h.join(".nvm")));
            if let Some(root) = nvm {
                out.extend(versions(&root.join("versions/node"), "v", &prefix).into_iter().map(|d| ("nvm".into(), d.join("bin/node"))));
            }
            let mut fnm: Vec<PathBuf> = host.var("FNM_DIR").map(PathBuf::from).into_iter().collect();
            fnm.extend(data.as_ref().map(|d| d.join("fnm")));
            fnm.extend(home.as_ref().map(|h| h.join(".fnm")));
            fnm.extend(home.as_ref().map(|h| h.join("Library/Application Support/fnm")));
            for root in fnm {
                out.extend(versions(&root.join("node-versions"), "v", &prefix).into_iter().map(|d| ("fnm".into(), d.join("installation/bin/node"))));
            }
            for (source, root) in managers(host, "nodejs") {
                out.extend(versions(&root, "", &prefix).into_iter().map(|d| (source.clone(), d.join("bin/node"))));
            }
            if let Some(h) = &home {
                out.extend(versions(&h.join(".volta/tools/image/node"), "", &prefix).into_iter().map(|d| ("Volta".into(), d.join("bin/node"))));
            }
            for brew in ["/opt/homebrew/opt", "/usr/local/opt"] {
                out.push(("Homebrew".into(), Path::new(brew).join(format!("node@{major}")).join("bin/node")));
            }
        }
    }
    out.retain(|(_, p)| is_executable(p));
    out
}

/// asdf's and mise's install directories for a tool (`python`; `nodejs`, which mise
/// calls `node`).
fn managers(host: &Host, tool: &str) -> Vec<(String, PathBuf)> {
    let home = host.home();
    let mut out = Vec::new();
    if let Some(asdf) = host.var("ASDF_DATA_DIR").map(PathBuf::from).or_else(|| home.as_ref().map(|h| h.join(".asdf"))) {
        out.push(("asdf".to_string(), asdf.join("installs").join(tool)));
    }
    let mise_tool = if tool == "nodejs" { "node" } else { tool };
    if let Some(mise) = host.var("MISE_DATA_DIR").map(PathBuf::from).or_else(|| host.data_home().map(|d| d.join("mise"))) {
        out.push(("mise".to_string(), mise.join("installs").join(mise_tool)));
    }
    out
}

/// Subdirectories of `dir` named `<lead><prefix>` or `<lead><prefix>.<digits>…` (with a
/// lead, anything after a `-`, as uv's `cpython-3.12.7-linux-x86_64-gnu`), newest first.
/// Free-threaded (`+freethreaded`, `3.13t`) and development builds are skipped.
fn versions(dir: &Path, lead: &str, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(lead)?;
            // uv's names carry the platform after a `-`; elsewhere a `-` is a dev build.
            let version = if lead.is_empty() { rest } else { rest.split('-').next()? };
            let numbers: Option<Vec<u32>> = version.split('.').map(|p| p.parse::<u32>().ok()).collect();
            let numbers = numbers?;
            let wanted: Vec<u32> = prefix.split('.').filter_map(|p| p.parse().ok()).collect();
            (numbers.len() >= wanted.len() && numbers[..wanted.len()] == wanted[..]).then(|| (numbers, e.path()))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Runs a candidate and returns (its version, its real executable), or why it failed.
/// Outcomes are remembered per path for the process's life: a pyenv shim costs a few
/// hundred milliseconds per run, and `python3` is a candidate of every Python runtime.
fn probe(runtime: Managed, path: &Path) -> Result<(String, PathBuf), String> {
    type Probes = Mutex<HashMap<(bool, PathBuf), Result<(String, PathBuf), String>>>;
    static PROBES: std::sync::OnceLock<Probes> = std::sync::OnceLock::new();
    let key = (matches!(runtime, Managed::Python(_)), std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
    let probes = PROBES.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(known) = probes.lock().get(&key) {
        return known.clone();
    }
    let outcome = run_probe(runtime, path);
    if path.exists() {
        probes.lock().insert(key, outcome.clone());
    }
    outcome
}

fn run_probe(runtime: Managed, path: &Path) -> Result<(String, PathBuf), String> {
    if !path.exists() {
        return Err("does not exist".into());
    }
    let mut cmd = Command::new(path);
    match runtime {
        Managed::Python(_) => cmd.args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)"]),
        Managed::Node(_) => cmd.args(["-e", "console.log(process.versions.node); console.log(process.execPath)"]),
    };
    let out = cmd.stdin(Stdio::null()).stderr(Stdio::null()).output().map_err(|e| format!("cannot be run ({e})"))?;
    if !out.status.success() {
        return Err(format!("does not run ({})", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let version = lines.next().map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| "reported no version".to_string())?.to_string();
    let real = lines.next().map(str::trim).filter(|p| !p.is_empty()).map(PathBuf::from).unwrap_or_else(|| path.to_path_buf());
    Ok((version, real))
}

/// One line per runtime for `nimbus runtimes`; and the same as JSON objects.
pub fn report(given: &Explicit) -> Vec<(Managed, Result<Found, Missing>)> {
    let host = Host::from_env();
    // In parallel: each lookup may run several interpreters.
    std::thread::scope(|s| {
        let handles: Vec<_> = Managed::all().into_iter().map(|r| { let host = &host; (r, s.spawn(move || lookup(r, given, host))) }).collect();
        handles.into_iter().map(|(r, h)| (r, h.join().unwrap_or(Err(Missing::NotFound { runtime: r })))).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(Managed::parse("python3.12"), Some(Managed::Python(12)));
        assert_eq!(Managed::parse("nodejs22.x"), Some(Managed::Node(22)));
        assert_eq!(Managed::parse("nodejs24.x"), Some(Managed::Node(24)));
        assert_eq!(Managed::parse("python3.7"), None);
        assert_eq!(Managed::parse("nodejs16.x"), None);
        assert_eq!(Managed::parse("provided.al2023"), None);
        assert_eq!(Managed::Python(12).variable(), "NIMBUS_RUNTIME_PYTHON3_12");
        assert_eq!(Managed::Node(22).variable(), "NIMBUS_RUNTIME_NODEJS22_X");
        assert!(Managed::Python(12).accepts("3.12.1"));
        assert!(!Managed::Python(12).accepts("3.1.2"));
        assert!(!Managed::Python(1).accepts("3.12.1"));
        assert!(Managed::Node(20).accepts("20.20.2"));
        assert!(!Managed::Node(20).accepts("2.0.0"));
    }

    #[test]
    fn version_directories_newest_first() {
        let dir = tempfile_dir();
        for d in ["3.12.1", "3.12.10", "3.11.7", "3.12-dev", "3.13.0t", "cpython-3.12.3-linux-x86_64-gnu", "cpython-3.12.4+freethreaded-linux"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let names = |v: Vec<PathBuf>| v.into_iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect::<Vec<_>>();
        assert_eq!(names(versions(&dir, "", "3.12")), ["3.12.10", "3.12.1"]);
        assert_eq!(names(versions(&dir, "cpython-", "3.12")), ["cpython-3.12.3-linux-x86_64-gnu"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_explicit_path_that_is_wrong_is_an_error_not_a_fallback() {
        let host = Host { vars: HashMap::from([("NIMBUS_RUNTIME_PYTHON3_12".to_string(), "/nonexistent/python".to_string())]) };
        let err = lookup(Managed::Python(12), &Explicit::default(), &host).unwrap_err();
        let m = err.message();
        assert!(m.contains("NIMBUS_RUNTIME_PYTHON3_12 names /nonexistent/python, which does not exist"), "{m}");
        let err = lookup(Managed::Node(22), &Explicit::default(), &Host { vars: HashMap::new() }).unwrap_err();
        assert_eq!(err, Missing::NotFound { runtime: Managed::Node(22) });
        assert!(err.message().contains("no Node.js 22 interpreter was found"), "{}", err.message());
    }

    #[test]
    fn runtimes_file_lines_and_precedence() {
        let dir = tempfile_dir();
        let file = dir.join("runtimes.conf");
        std::fs::write(&file, "# mine\n\npython3.12 = /nonexistent/file-python\nnodejs22.x=/nonexistent/node\n").unwrap();
        let mut given = Explicit::default();
        given.read_file(&file).unwrap();
        let m = lookup(Managed::Python(12), &given, &Host { vars: HashMap::new() }).unwrap_err().message();
        assert!(m.contains(&format!("runtimes file {}, line 3 names /nonexistent/file-python", file.display())), "{m}");
        // The variable wins over the file, the flag over both.
        let host = Host { vars: HashMap::from([("NIMBUS_RUNTIME_PYTHON3_12".to_string(), "/nonexistent/var-python".to_string())]) };
        assert!(lookup(Managed::Python(12), &given, &host).unwrap_err().message().contains("/nonexistent/var-python"));
        given.flags.insert("python3.12".into(), "/nonexistent/flag-python".into());
        assert!(lookup(Managed::Python(12), &given, &host).unwrap_err().message().contains("/nonexistent/flag-python"));
        for bad in ["python3.12 /x", "java21 = /x", "nodejs22.x ="] {
            std::fs::write(&file, format!("{bad}\n")).unwrap();
            let err = Explicit::default().read_file(&file).unwrap_err();
            assert!(err.contains("line 1"), "{bad}: {err}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("nimbus-interp-{}-{}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
