//! The processes tests start (moto, Azurite, emulators, the functions themselves): a free
//! port to give them, waiting until they listen, killing them when done, and the tools
//! scripts/test installs into the test venv. Shared by test crates with `#[path]`.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port for a server a test starts. Not one the system hands out for port 0: a
/// server another test binds to port 0 while ours starts could take that one, and the
/// wait below would then find the other test's server listening (CI saw moto fail so).
/// Below the system's range instead (Linux's starts at 32768), a different port for each
/// call in this process, starting from one this process's id picks.
pub fn free_port() -> u16 {
    const LOW: u32 = 20_000;
    const PORTS: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7919) % PORTS;
    (0..PORTS)
        .map(|_| LOW + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % PORTS)
        .map(|port| port as u16)
        .find(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port between 20000 and 32000")
}

/// Waits until something listens on `port`, failing the test after `limit`.
pub fn wait_for(port: u16, what: &str, limit: Duration) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < limit,
            "{what} did not start within {} s",
            limit.as_secs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A tool from the test venv (scripts/test installs moto and cargo-lambda there).
pub fn venv_bin(name: &str) -> PathBuf {
    let python = std::env::var("MLGATE_TEST_PYTHON").expect(
        "MLGATE_TEST_PYTHON is not set: run the tests through scripts/test, which installs moto and cargo-lambda",
    );
    let bin = PathBuf::from(python).with_file_name(name);
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/test (it installs the test venv's tools)",
        bin.display()
    );
    bin
}
