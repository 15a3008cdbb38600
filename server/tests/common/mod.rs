//! The server binary on a free loopback port, a plain HTTP/1.1 client, and model files from the R package's
//! format fixtures. Every server is stopped when its handle is dropped, also when a test fails.

#![allow(dead_code)] // each test binary uses its own part of the helpers

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The R package's format fixtures (models the package wrote).
pub fn fixture(name: &str) -> PathBuf {
    fixture_in("1.0", name)
}

/// A fixture of format `version` (a model with a card, or with standard errors, needs 1.3).
pub fn fixture_in(version: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/testthat/fixtures")
        .join(format!("format-{version}"))
        .join(name)
}

/// A fresh directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "fastpredict-server-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Copy a fixture in under `name`.
    pub fn add(&self, fixture_name: &str, name: &str) -> PathBuf {
        self.add_in("1.0", fixture_name, name)
    }

    /// Copy a fixture of format `version` in under `name`.
    pub fn add_in(&self, version: &str, fixture_name: &str, name: &str) -> PathBuf {
        let to = self.0.join(name);
        std::fs::copy(fixture_in(version, fixture_name), &to).unwrap();
        to
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server.
pub struct Server {
    child: Child,
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

impl Server {
    /// Start the binary on `dir` with extra flags and environment, and wait for its "listening" line.
    pub fn start(dir: &Path, flags: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fastpredict-server"));
        cmd.args(["--host", "127.0.0.1", "--port", "0", "--threads", "2", "--workers", "2", "--models"])
            .arg(dir)
            .args(flags)
            .env_remove("FASTPREDICT_API_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Ok(v) = serde_json::from_str::<Value>(&line) {
                        if v["message"] == "listening" {
                            let _ = tx.send(v["address"].as_str().unwrap_or("").to_string());
                        }
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let mut server = Server { child, port: 0, lines };
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(address) => server.port = address.rsplit(':').next().unwrap().parse().unwrap(),
            Err(_) => panic!("the server did not start; its log:\n{}", server.log().join("\n")),
        }
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The JSON log lines whose message is `message`.
    pub fn log_events(&self, message: &str) -> Vec<Value> {
        self.log()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["message"] == message)
            .collect()
    }

    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill").args(["-s", name, &self.pid().to_string()]).status().unwrap().success();
        assert!(ok, "kill -s {name} failed");
    }

    /// Wait (bounded) for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s
    }

    /// One request on its own connection. `body` is sent without a Content-Type unless `headers` gives one.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut s = self.connect();
        write_head(&mut s, method, path, headers, body.len());
        s.write_all(body).unwrap();
        read_reply(&mut s)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }

    pub fn post(&self, path: &str, body: &str) -> Reply {
        self.request("POST", path, &[], body.as_bytes())
    }

    /// Poll `f` until it holds (bounded).
    pub fn eventually(&self, what: &str, limit: Duration, mut f: impl FnMut(&Server) -> bool) {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if f(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{what} did not happen within {limit:?}; the server's log:\n{}", self.log().join("\n"));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

pub fn write_head(s: &mut TcpStream, method: &str, path: &str, headers: &[(&str, &str)], len: usize) {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {len}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
}

/// Read a whole answer (the server closes the connection after it).
pub fn read_reply(s: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply { status, headers, body: raw[split + 4..].to_vec() }
}
