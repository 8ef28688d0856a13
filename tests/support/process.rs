//! The processes tests start (moto, Azurite, emulators, the functions themselves): a free
//! port to give them, waiting until they listen, killing them when done, and the tools
//! scripts/test installs into the test venv. Shared by test crates with `#[path]`.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
