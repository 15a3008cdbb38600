//! Parent and worker. The worker exercises inputs one after another and
//! says on stdout when each starts and ends; the parent runs it under a
//! memory cap (`ulimit -v`) and a time budget per input, so that an abort
//! (a failed allocation, a stack overflow, a signal) or a hang costs one
//! input, which is recorded, and the worker is started again after it. An
//! input over the budget is run once more in a fresh worker, and is a hang
//! only if it is over the budget again.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::corpus::Corpus;
use crate::exercise::{exercise, quiet_panics};
use crate::mutate::generate;
use crate::rng::{hash, mix, Rng};

/// Where the inputs come from: generated from the corpus and a seed, or
/// files to replay.
#[derive(Debug, Clone)]
pub enum Source {
    Generated { dirs: Vec<PathBuf>, seed: u64, inputs: u64 },
    Files(Vec<PathBuf>),
}

/// The inputs of a source, built the same way in every process.
pub struct Inputs {
    source: Source,
    corpus: Option<Corpus>,
}

impl Inputs {
    pub fn new(source: Source) -> std::io::Result<Inputs> {
        let corpus = match &source {
            Source::Generated { dirs, .. } => Some(Corpus::load(dirs)?),
            Source::Files(_) => None,
        };
        Ok(Inputs { source, corpus })
    }

    pub fn len(&self) -> u64 {
        match &self.source {
            Source::Generated { inputs, .. } => *inputs,
            Source::Files(f) => f.len() as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Input `i`, and the seed of the generator its predictions use (a
    /// hash of the bytes).
    pub fn get(&self, i: u64) -> std::io::Result<(Vec<u8>, u64)> {
        match (&self.source, &self.corpus) {
            (Source::Generated { seed, .. }, Some(c)) => {
                // predictions are seeded by the bytes, so a recorded input
                // replays exactly
                let bytes = generate(c, &mut Rng::new(mix(*seed, i)));
                let s = hash(&bytes);
                Ok((bytes, s))
            }
            (Source::Files(files), _) => {
                let bytes = fs::read(&files[i as usize])?;
                let s = hash(&bytes);
                Ok((bytes, s))
            }
            _ => Err(std::io::Error::other("no corpus")),
        }
    }

    pub fn name(&self, i: u64) -> String {
        match &self.source {
            Source::Generated { seed, .. } => format!("{seed}-{i}"),
            Source::Files(f) => f[i as usize].file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub source: Source,
    /// Address-space cap of the worker.
    pub mem_mb: u64,
    /// Time budget of one input.
    pub budget: Duration,
    /// Where failing inputs are written.
    pub out: PathBuf,
    /// This program, run as the worker.
    pub exe: PathBuf,
    /// Print progress every this many inputs (0: never).
    pub progress: u64,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub inputs: u64,
    pub panics: u64,
    pub aborts: u64,
    pub hangs: u64,
    pub mismatches: u64,
    /// Inputs over the budget once and within it when run again alone.
    pub retried: u64,
    pub loaded: u64,
    pub ok: u64,
    pub err: u64,
    pub wall: Duration,
}

impl Summary {
    pub fn failures(&self) -> u64 {
        self.panics + self.aborts + self.hangs + self.mismatches
    }
}

fn source_args(s: &Source) -> Vec<String> {
    match s {
        Source::Generated { dirs, seed, inputs } => {
            let mut a = vec!["--seed".into(), seed.to_string(), "--inputs".into(), inputs.to_string()];
            for d in dirs {
                a.push("--corpus".into());
                a.push(d.display().to_string());
            }
            a
        }
        Source::Files(files) => {
            let mut a = Vec::new();
            for f in files {
                a.push("--replay".into());
                a.push(f.display().to_string());
            }
            a
        }
    }
}

/// The worker's side: exercise inputs `start..` and report on stdout.
pub fn worker(source: Source, start: u64) -> std::io::Result<()> {
    quiet_panics();
    let inputs = Inputs::new(source)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "R")?;
    out.flush()?;
    for i in start..inputs.len() {
        writeln!(out, "S {i}")?;
        out.flush()?;
        let (bytes, s) = inputs.get(i)?;
        let t = exercise(&bytes, &mut Rng::new(s));
        for p in &t.panics {
            writeln!(out, "P {i} {}", p.replace('\n', " "))?;
        }
        for m in &t.mismatches {
            writeln!(out, "M {i} {}", m.replace('\n', " "))?;
        }
        writeln!(out, "D {i} {} {} {}", u8::from(t.loaded), t.ok, t.err)?;
        out.flush()?;
    }
    writeln!(out, "E")?;
    out.flush()
}

struct Worker {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

fn spawn(cfg: &Config, start: u64) -> std::io::Result<Worker> {
    // `ulimit -v` in the shell, then exec: the worker keeps the shell's pid
    let script = format!("ulimit -v {} && exec \"$0\" \"$@\"", cfg.mem_mb * 1024);
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(&cfg.exe)
        .arg("--worker")
        .arg("--start")
        .arg(start.to_string())
        .args(source_args(&cfg.source))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout"))?;
    let mut stderr = child.stderr.take().ok_or_else(|| std::io::Error::other("no stderr"))?;
    let (tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let kept = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&kept);
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut k = sink.lock().unwrap_or_else(|e| e.into_inner());
            k.extend_from_slice(&buf[..n]);
            let len = k.len();
            if len > 16384 {
                k.drain(..len - 8192);
            }
        }
    });
    Ok(Worker { child, lines, stderr: kept })
}

fn record(cfg: &Config, inputs: &Inputs, i: u64, kind: &str, detail: &str) {
    let _ = fs::create_dir_all(&cfg.out);
    let base = cfg.out.join(format!("{kind}-{}", inputs.name(i)));
    // (a fuzzer bug may panic while rebuilding the input: keep going)
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inputs.get(i))) {
        Ok(Ok((bytes, _))) => {
            let _ = fs::write(base.with_extension("bin"), bytes);
        }
        _ => eprintln!("cannot rebuild input {}", inputs.name(i)),
    }
    let _ = fs::write(base.with_extension("txt"), format!("{kind} on input {}: {detail}\n", inputs.name(i)));
    eprintln!("{kind} on input {}: {}", inputs.name(i), detail.lines().last().unwrap_or(""));
}

/// The parent's side: run every input of `cfg.source` in workers.
pub fn run(cfg: &Config) -> std::io::Result<Summary> {
    let t0 = Instant::now();
    let inputs = Inputs::new(cfg.source.clone())?;
    let total = inputs.len();
    let mut s = Summary::default();
    let mut next = 0u64;
    // a worker that dies before its first input twice in a row is broken
    let mut failed_starts = 0;
    // the input last run again after going over the budget: on a shared
    // machine a busy moment can push a slow input past it, a real hang is
    // over it every time
    let mut retrying: Option<u64> = None;
    while next < total {
        let mut w = spawn(cfg, next)?;
        match w.lines.recv_timeout(Duration::from_secs(120)) {
            Ok(l) if l == "R" => failed_starts = 0,
            _ => {
                let _ = w.child.kill();
                let _ = w.child.wait();
                failed_starts += 1;
                if failed_starts >= 2 {
                    let err = String::from_utf8_lossy(&w.stderr.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
                    return Err(std::io::Error::other(format!("the worker does not start: {err}")));
                }
                continue;
            }
        }
        let mut current: Option<(u64, Instant)> = None;
        let mut panicked = false;
        loop {
            let wait = match current {
                Some((_, started)) => (started + cfg.budget).saturating_duration_since(Instant::now()),
                None => cfg.budget,
            };
            match w.lines.recv_timeout(wait) {
                Ok(line) => {
                    let mut parts = line.splitn(3, ' ');
                    let tag = parts.next().unwrap_or("");
                    let i: u64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(next);
                    let rest = parts.next().unwrap_or("");
                    match tag {
                        "S" => {
                            current = Some((i, Instant::now()));
                            panicked = false;
                        }
                        "P" => {
                            if !panicked {
                                s.panics += 1;
                                panicked = true;
                            }
                            record(cfg, &inputs, i, "panic", rest);
                        }
                        "M" => {
                            s.mismatches += 1;
                            record(cfg, &inputs, i, "mismatch", rest);
                        }
                        "D" => {
                            let v: Vec<u64> = rest.split(' ').filter_map(|x| x.parse().ok()).collect();
                            s.loaded += v.first().copied().unwrap_or(0);
                            s.ok += v.get(1).copied().unwrap_or(0);
                            s.err += v.get(2).copied().unwrap_or(0);
                            s.inputs += 1;
                            if retrying == Some(i) {
                                s.retried += 1;
                            }
                            current = None;
                            next = i + 1;
                            if cfg.progress > 0 && s.inputs % cfg.progress == 0 {
                                eprintln!("{}", line_of(&s, t0.elapsed()));
                            }
                        }
                        "E" => {
                            next = total;
                        }
                        _ => {}
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let i = current.map_or(next, |c| c.0);
                    let _ = w.child.kill();
                    let _ = w.child.wait();
                    if retrying != Some(i) {
                        retrying = Some(i);
                        next = i;
                        break;
                    }
                    s.hangs += 1;
                    s.inputs += 1;
                    record(cfg, &inputs, i, "hang", &format!("over the budget of {:?}", cfg.budget));
                    next = i + 1;
                    break;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = w.child.wait()?;
                    if let Some((i, _)) = current {
                        s.aborts += 1;
                        s.inputs += 1;
                        let err =
                            String::from_utf8_lossy(&w.stderr.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
                        record(cfg, &inputs, i, "abort", &format!("{status}\n{err}"));
                        next = i + 1;
                    } else if next < total {
                        return Err(std::io::Error::other(format!("the worker stopped between inputs: {status}")));
                    }
                    break;
                }
            }
        }
    }
    s.wall = t0.elapsed();
    Ok(s)
}

pub fn line_of(s: &Summary, wall: Duration) -> String {
    format!(
        "inputs {}, panics {}, aborts {}, hangs {} ({} mismatches; {} over the budget once, within it alone; {} loaded, \
         {} predictions, {} errors; {:.1} s)",
        s.inputs,
        s.panics,
        s.aborts,
        s.hangs,
        s.mismatches,
        s.retried,
        s.loaded,
        s.ok,
        s.err,
        wall.as_secs_f64()
    )
}

/// The regression files under `dir`, in name order.
pub fn files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut f: Vec<PathBuf> = fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e != "txt" && e != "md"))
        .collect();
    f.sort();
    Ok(f)
}
