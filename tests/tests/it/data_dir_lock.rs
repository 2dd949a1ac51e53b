//! One nimbus per data directory: a second server started on a directory another nimbus
//! holds exits at once, naming that process, instead of waiting on SQLite's locks.

use nimbus_tests::Nimbus;
use std::time::{Duration, Instant};

fn second_server(dir: &std::path::Path) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let out = std::process::Command::new(Nimbus::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run a second nimbus");
    (out, started.elapsed())
}

#[test]
fn a_second_nimbus_on_the_same_data_directory_exits_at_once_naming_the_first() {
    let mut first = Nimbus::start();
    if first.is_external() {
        return;
    }
    let dir = first.data_dir().expect("data dir");
    let holder = std::fs::read_to_string(dir.join("nimbus.pid")).expect("nimbus.pid");
    let pid = holder.trim();
    assert!(pid.parse::<u32>().is_ok(), "nimbus.pid holds the PID: {holder:?}");

    let (out, took) = second_server(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("another nimbus (PID {pid}) holds the data directory")), "{stderr}");
    assert!(stderr.contains(dir.canonicalize().unwrap().to_str().unwrap()), "names the directory: {stderr}");
    // SQLite's busy timeout is ~5 s; the lock answers immediately.
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // The first server is unharmed.
    assert_eq!(first.http("GET", "/_nimbus/health", None).expect("health").0, 200);

    // After the holder dies (even by SIGKILL) the directory is free again.
    first.kill9();
    first.restart();
    assert_eq!(first.http("GET", "/_nimbus/health", None).expect("health").0, 200);
    let again = std::fs::read_to_string(dir.join("nimbus.pid")).expect("nimbus.pid");
    assert_ne!(again.trim(), pid, "the new server wrote its own PID");
}

/// An `--in-memory` server keeps Lambda code in `<tmp>/nimbus-<pid>`; a killed one leaves
/// it behind. The next in-memory server removes the dirs of processes that no longer run
/// (and keeps those that do).
#[test]
fn in_memory_servers_sweep_the_temp_dirs_of_dead_ones() {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    // A PID above the kernel's largest (4,194,304) can never be running.
    let dead = std::env::temp_dir().join("nimbus-4194399");
    std::fs::create_dir_all(dead.join("lambda")).expect("fake dir");
    let alive = std::env::temp_dir().join(format!("nimbus-{}", std::process::id()));
    std::fs::create_dir_all(&alive).expect("live dir");
    let n = Nimbus::start_in_memory();
    if n.is_external() {
        return;
    }
    assert!(!dead.exists(), "the dead server's dir is gone");
    assert!(alive.exists(), "a running process's dir stays");
    let _ = std::fs::remove_dir_all(&alive);
}
