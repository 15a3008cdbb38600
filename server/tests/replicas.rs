//! Replicas are stateless: three servers on the same model directory behind a small round-robin client (what
//! a Kubernetes Service and a client with retries do), a load, and one replica killed with SIGKILL mid-run.
//! A request that could not reach a replica goes to the next one; a request already sent to the killed replica
//! fails with an error naming it; nothing else is lost, and every answer is the same whichever replica gave it.

// A test may unwrap and panic: that is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, TempDir};

const REPLICAS: usize = 3;
const CLIENTS: usize = 4;
const REQUESTS: usize = 1200;
const KILLED: usize = 1;
/// The replica dies once this many requests have been started: a third of the way in.
const KILL_AT: usize = REQUESTS / 3;
/// Rows per request: enough work per request that some are likely in flight when the replica dies.
const ROWS: usize = 200;

/// Round robin over the replicas still up; a replica is taken out when a connection to it fails.
struct Balancer {
    ports: Vec<u16>,
    down: Vec<AtomicBool>,
    next: AtomicUsize,
}

impl Balancer {
    fn pick(&self) -> Option<usize> {
        (0..self.ports.len())
            .map(|_| self.next.fetch_add(1, Ordering::Relaxed) % self.ports.len())
            .find(|&i| !self.down[i].load(Ordering::Relaxed))
    }
}

enum Outcome {
    Answered { replica: usize, sent_at: Instant, status: u16, body: Vec<u8> },
    Failed { replica: usize, sent_at: Instant, error: String },
}

#[derive(Default)]
struct Tally {
    outcomes: Vec<Outcome>,
    /// Connections refused: the request never reached a replica and went to the next one.
    rerouted: usize,
}

/// One request through the balancer: reroute while the connection is refused; once the request is on its way,
/// an error is the caller's, with the replica named.
fn send(lb: &Balancer, body: &[u8], tally: &Mutex<Tally>) -> Outcome {
    loop {
        let replica = lb.pick().expect("every replica is down");
        let port = lb.ports[replica];
        let mut s = match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                lb.down[replica].store(true, Ordering::Relaxed);
                tally.lock().unwrap().rerouted += 1;
                continue;
            }
            Err(e) => panic!("connecting to replica {replica}: {e}"),
        };
        let sent_at = Instant::now();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let head = format!(
            "POST /models/lm/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut raw = Vec::new();
        let result =
            s.write_all(head.as_bytes()).and_then(|()| s.write_all(body)).and_then(|()| s.read_to_end(&mut raw));
        let parsed = result.and_then(|_| {
            let split = raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .ok_or_else(|| std::io::Error::other(format!("{} bytes and no whole answer", raw.len())))?;
            let status = String::from_utf8_lossy(&raw[..split]).split_whitespace().nth(1).unwrap_or("").parse();
            Ok((status.unwrap_or(0), raw[split + 4..].to_vec()))
        });
        return match parsed {
            Ok((status, body)) => Outcome::Answered { replica, sent_at, status, body },
            Err(e) => {
                lb.down[replica].store(true, Ordering::Relaxed);
                Outcome::Failed {
                    replica,
                    sent_at,
                    error: format!("replica {replica} (port {port}) lost the request before answering: {e}"),
                }
            }
        };
    }
}

#[test]
fn killing_a_replica_loses_only_its_requests_in_flight() {
    let dir = TempDir::new();
    dir.add("lm-mtcars.json", "lm.json");
    let mut servers: Vec<Server> = (0..REPLICAS).map(|_| Server::start(dir.path(), &[], &[])).collect();

    // The body: the model's own prototype record, ROWS times.
    let proto = servers[0].get("/models/lm/prototype").json();
    let record: serde_json::Map<String, serde_json::Value> =
        proto.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v["example"].clone())).collect();
    let body = serde_json::to_vec(&vec![record; ROWS]).unwrap();
    let expected = servers[0].request("POST", "/models/lm/predict", &[], &body);
    assert_eq!(expected.status, 200, "{}", expected.text());

    let lb = Arc::new(Balancer {
        ports: servers.iter().map(|s| s.port).collect(),
        down: (0..REPLICAS).map(|_| AtomicBool::new(false)).collect(),
        next: AtomicUsize::new(0),
    });
    let started = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (lb, started, killed, tally, body) =
                (Arc::clone(&lb), Arc::clone(&started), Arc::clone(&killed), Arc::clone(&tally), body.clone());
            std::thread::spawn(move || loop {
                let n = started.fetch_add(1, Ordering::SeqCst);
                if n >= REQUESTS {
                    break;
                }
                // The requests after KILL_AT wait for the kill, so that a fast run on a busy machine cannot
                // finish them all before it (the requests in flight then still meet it).
                while n >= KILL_AT && !killed.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let outcome = send(&lb, &body, &tally);
                tally.lock().unwrap().outcomes.push(outcome);
            })
        })
        .collect();

    // The killer: SIGKILL (no graceful shutdown) once a third of the requests have started, then wait until the
    // process is gone. Bounded by the load itself: the clients cannot finish before KILL_AT.
    while started.load(Ordering::SeqCst) < KILL_AT {
        std::thread::sleep(Duration::from_millis(1));
    }
    servers[KILLED].signal("KILL");
    let killed_at = Instant::now();
    killed.store(true, Ordering::SeqCst);
    let status = servers[KILLED].wait_exit(Duration::from_secs(10)).expect("the killed replica did not exit");
    let gone_at = Instant::now();
    assert!(!status.success(), "the killed replica exited with {status}");

    for c in clients {
        c.join().unwrap();
    }
    let tally = Arc::try_unwrap(tally).ok().unwrap().into_inner().unwrap();
    let mut answered = [0usize; REPLICAS];
    let mut answered_after = [0usize; REPLICAS];
    let mut failed = Vec::new();
    for o in &tally.outcomes {
        match o {
            Outcome::Answered { replica, sent_at, status, body } => {
                assert_eq!(*status, 200, "replica {replica}: {}", String::from_utf8_lossy(body));
                assert_eq!(body, &expected.body, "replica {replica} answered differently");
                answered[*replica] += 1;
                if *sent_at > killed_at {
                    answered_after[*replica] += 1;
                }
            }
            Outcome::Failed { replica, sent_at, error } => {
                // Only a request already sent to the killed replica may fail, and the client sees why.
                assert_eq!(*replica, KILLED, "{error}");
                assert!(*sent_at < gone_at, "a request sent after the replica was gone failed: {error}");
                assert!(error.contains(&format!("replica {KILLED}")), "{error}");
                failed.push(error.clone());
            }
        }
    }
    let total_answered: usize = answered.iter().sum();
    println!(
        "replica-kill: {REPLICAS} replicas, {CLIENTS} clients, {ROWS} rows a request, replica {KILLED} killed after \
         {KILL_AT} requests started: {REQUESTS} sent, {total_answered} answered, {} failed (in flight on the killed \
         replica), {} rerouted before reaching it; answered per replica {answered:?}, after the kill {answered_after:?}",
        failed.len(),
        tally.rerouted,
    );
    for e in &failed {
        println!("replica-kill: the client saw: {e}");
    }
    // Every request has an outcome: answered, or failed in flight on the killed replica (at most one per client).
    assert_eq!(tally.outcomes.len(), REQUESTS);
    assert_eq!(total_answered + failed.len(), REQUESTS);
    assert!(failed.len() <= CLIENTS, "{} failures from {CLIENTS} clients", failed.len());
    // The killed replica took its share before, and the others carried the load after.
    assert!(answered[KILLED] > 0);
    for r in (0..REPLICAS).filter(|&r| r != KILLED) {
        assert!(answered_after[r] > 0, "replica {r} answered nothing after the kill: {answered_after:?}");
    }
}
