//! The server's life: reload on a directory change, on SIGHUP and through a Kubernetes ConfigMap symlink
//! swap, a corrupt file keeping the previous version, graceful shutdown with a request in flight, and the
//! `health` subcommand.

// A test may unwrap and panic: that is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::os::unix::fs::symlink;
use std::process::Command;
use std::time::Duration;

use common::{read_reply, write_head, Server, TempDir};

const LM_ROW: &str = r#"[{"wt":2.62,"cyl":6,"hp":110,"disp":160,"qsec":16.46}]"#;

fn version(s: &Server, model: &str) -> Option<String> {
    let r = s.get(&format!("/v2/models/{model}"));
    (r.status == 200).then(|| r.json()["versions"][0].as_str().unwrap().to_string())
}

#[test]
fn reload_on_change_keeps_the_previous_version_of_a_corrupt_file() {
    let dir = TempDir::new();
    dir.add("lm-mtcars.json", "lm.json");
    let s = Server::start(dir.path(), &[], &[]);
    let v1 = version(&s, "lm").unwrap();
    // a new file is picked up by the directory watch
    dir.add("rpart-warpbreaks.json", "tree.json");
    s.eventually("tree.json loaded", Duration::from_secs(10), |s| version(s, "tree").is_some());
    // a corrupt file is reported and the previous version keeps serving
    std::fs::write(dir.path().join("lm.json"), "{\"format\": \"fastpredict-model\", \"format_ver").unwrap();
    s.eventually("the failure in /metrics", Duration::from_secs(10), |s| {
        s.get("/metrics").text().contains("fastpredict_model_load_failed{file=\"lm.json\"")
    });
    assert_eq!(version(&s, "lm").as_deref(), Some(v1.as_str()));
    assert_eq!(s.post("/models/lm/predict", LM_ROW).status, 200);
    s.eventually("the failure in the log", Duration::from_secs(5), |s| {
        s.log()
            .iter()
            .any(|l| l.contains("failed to load") && l.contains("\"file\":\"lm.json\"") && l.contains("corrupt"))
    });
    // a good file again (a different model) is a new version
    std::fs::copy(common::fixture("glm-poisson-iris.json"), dir.path().join("lm.json")).unwrap();
    s.eventually("the new version", Duration::from_secs(10), |s| version(s, "lm").is_some_and(|v| v != v1));
    assert!(!s.get("/metrics").text().contains("fastpredict_model_load_failed{file="));
    // a removed file's model goes
    std::fs::remove_file(dir.path().join("tree.json")).unwrap();
    s.eventually("tree removed", Duration::from_secs(10), |s| version(s, "tree").is_none());
}

#[test]
fn sighup_reloads_without_a_watch() {
    let dir = TempDir::new();
    dir.add("lm-mtcars.json", "lm.json");
    let s = Server::start(dir.path(), &["--watch", "false"], &[]);
    dir.add("rpart-warpbreaks.json", "tree.json");
    std::thread::sleep(Duration::from_millis(600));
    assert!(version(&s, "tree").is_none(), "reloaded without being asked");
    s.signal("HUP");
    s.eventually("tree.json loaded after SIGHUP", Duration::from_secs(10), |s| version(s, "tree").is_some());
    assert!(s.get("/metrics").text().contains("fastpredict_reloads_total{result=\"ok\"} 2"));
}

#[test]
fn a_configmap_symlink_swap_is_a_reload() {
    // what the kubelet writes: NAME -> ..data/NAME, ..data -> ..<timestamp>/
    let dir = TempDir::new();
    let first = dir.path().join("..2026_01_01");
    std::fs::create_dir(&first).unwrap();
    std::fs::copy(common::fixture("lm-mtcars.json"), first.join("model.json")).unwrap();
    symlink("..2026_01_01", dir.path().join("..data")).unwrap();
    symlink("..data/model.json", dir.path().join("model.json")).unwrap();
    let s = Server::start(dir.path(), &["--model_name", "mtcars"], &[]);
    let v1 = version(&s, "mtcars").expect("the only model goes by --model_name");
    assert_eq!(s.post("/predict", LM_ROW).status, 200);
    let second = dir.path().join("..2026_02_01");
    std::fs::create_dir(&second).unwrap();
    std::fs::copy(common::fixture("glm-poisson-iris.json"), second.join("model.json")).unwrap();
    symlink("..2026_02_01", dir.path().join("..data_tmp")).unwrap();
    std::fs::rename(dir.path().join("..data_tmp"), dir.path().join("..data")).unwrap();
    s.eventually("the swapped model", Duration::from_secs(10), |s| version(s, "mtcars").is_some_and(|v| v != v1));
}

#[test]
fn sigterm_finishes_the_request_in_flight_and_exits_0() {
    let dir = TempDir::new();
    dir.add("lm-mtcars.json", "lm.json");
    let mut s = Server::start(dir.path(), &[], &[]);
    let mut inflight = s.connect();
    write_head(&mut inflight, "POST", "/predict", &[], LM_ROW.len());
    inflight.write_all(&LM_ROW.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    s.signal("TERM");
    s.eventually("the shutdown log line", Duration::from_secs(5), |s| {
        !s.log_events("shutting down: no new connections; finishing the requests in flight").is_empty()
    });
    // no new connections ...
    std::thread::sleep(Duration::from_millis(100));
    assert!(std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err(), "still accepting after SIGTERM");
    // ... but the one in flight is answered
    inflight.write_all(&LM_ROW.as_bytes()[10..]).unwrap();
    let r = read_reply(&mut inflight);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()[".pred"].is_array());
    let status = s.wait_exit(Duration::from_secs(10)).expect("the server did not exit");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn health_subcommand_probes_readiness() {
    let dir = TempDir::new();
    let bin = env!("CARGO_BIN_EXE_fastpredict-server");
    let probe = |port: u16| Command::new(bin).args(["health", "--port", &port.to_string()]).output().unwrap();
    // no model: not ready
    let s = Server::start(dir.path(), &[], &[]);
    assert_eq!(s.get("/v2/health/ready").status, 503);
    assert_eq!(probe(s.port).status.code(), Some(1));
    dir.add("lm-mtcars.json", "lm.json");
    s.eventually("ready", Duration::from_secs(10), |s| s.get("/v2/health/ready").status == 200);
    let out = probe(s.port);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let port = s.port;
    drop(s);
    assert_eq!(probe(port).status.code(), Some(1), "nothing listens there now");
}

#[test]
fn a_missing_model_directory_is_refused_at_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_fastpredict-server"))
        .args(["--models", "/nonexistent/fastpredict-models", "--port", "0", "--host", "127.0.0.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cannot read the model directory"));
}
