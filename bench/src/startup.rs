//! `nimbus-bench startup`: time from spawn to the first 200 from GET /_nimbus/health,
//! median of N runs, then the idle resident set size.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Config {
    pub bin: PathBuf,
    pub runs: usize,
    pub port: Option<u16>,
    pub timeout: Duration,
    pub idle: Duration,
    pub health_path: String,
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// One blocking GET; true on a 200.
fn health_ok(addr: SocketAddr, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(50)) else {
        return false;
    };
    let _ = s.set_nodelay(true);
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    let mut n = 0;
    while n < 12 {
        match s.read(&mut buf[n..]) {
            Ok(0) | Err(_) => return false,
            Ok(k) => n += k,
        }
    }
    buf.starts_with(b"HTTP/1.1 200") || buf.starts_with(b"HTTP/1.0 200")
}

fn make_data_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!(
        "nimbus-bench-startup-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    Ok(dir)
}

fn spawn(bin: &Path, port: u16, data_dir: &Path, log: &Path) -> Result<Child, String> {
    let log = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    Command::new(bin)
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", bin.display()))
}

/// SIGTERM, wait up to 3 s, then SIGKILL.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn vm_rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Spawns, polls every ~1 ms until healthy; returns the child and the time to healthy.
fn start_and_wait(cfg: &Config, data_dir: &Path, log: &Path) -> Result<(Child, Duration, u16), String> {
    let port = match cfg.port {
        Some(p) => p,
        None => free_port()?,
    };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let t0 = Instant::now();
    let mut child = spawn(&cfg.bin, port, data_dir, log)?;
    loop {
        if health_ok(addr, &cfg.health_path) {
            return Ok((child, t0.elapsed(), port));
        }
        if let Ok(Some(status)) = child.try_wait() {
            let out = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("server exited with {status} before becoming healthy:\n{out}"));
        }
        if t0.elapsed() > cfg.timeout {
            stop(&mut child);
            return Err(format!("not healthy after {:?}", cfg.timeout));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

pub fn run(cfg: Config) -> Result<(), String> {
    let mut times = Vec::new();
    let root = make_data_dir()?;
    let result = (|| {
        for i in 0..cfg.runs {
            // A fresh, empty data directory each time: cold start.
            let dir = root.join(format!("run{i}"));
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let (mut child, t, _) = start_and_wait(&cfg, &dir, &root.join(format!("run{i}.log")))?;
            eprintln!("run {}: healthy after {:.1} ms", i + 1, t.as_secs_f64() * 1e3);
            times.push(t);
            stop(&mut child);
        }
        times.sort();
        let median = times[times.len() / 2];
        // Idle RSS: one more start, then ~idle seconds of nothing.
        let dir = root.join("rss");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let (mut child, _, _) = start_and_wait(&cfg, &dir, &root.join("rss.log"))?;
        let rss_at_ready = vm_rss_kib(child.id());
        std::thread::sleep(cfg.idle);
        let rss_idle = vm_rss_kib(child.id());
        stop(&mut child);

        println!();
        println!("== startup: {}", cfg.bin.display());
        println!(
            "spawn -> first 200 from {} (median of {}): {:.1} ms   [min {:.1} ms, max {:.1} ms]",
            cfg.health_path,
            times.len(),
            median.as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3
        );
        let mib = |k: Option<u64>| k.map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or("n/a".into());
        println!(
            "VmRSS when healthy: {}   after {:.1} s idle: {}",
            mib(rss_at_ready),
            cfg.idle.as_secs_f64(),
            mib(rss_idle)
        );
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&root);
    result
}
