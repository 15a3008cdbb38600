//! `fastpredict-fuzz`: mutation fuzzing of the engine's loader and
//! predictor.
//!
//! ```text
//! fastpredict-fuzz [--inputs N] [--seed S] [--mem-mb M] [--budget-ms T]
//!                  [--out DIR] [--progress K] [--no-fixtures] [SEED_DIR...]
//! fastpredict-fuzz --replay FILE_OR_DIR...
//! fastpredict-fuzz --show I [--seed S] [SEED_DIR...]   (input I to stdout)
//! ```
//!
//! Seeds are the format fixtures plus every file of the SEED_DIRs. Prints
//! `inputs N, panics P, aborts A, hangs H` at the end and exits 1 if any
//! input failed. Failing inputs are written to the output directory.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fastpredict_fuzz::corpus::fixture_dirs;
use fastpredict_fuzz::driver::{files_in, line_of, run, worker, Config, Inputs, Source};

struct Args {
    inputs: u64,
    seed: u64,
    mem_mb: u64,
    budget_ms: u64,
    out: PathBuf,
    progress: u64,
    fixtures: bool,
    dirs: Vec<PathBuf>,
    replay: Vec<PathBuf>,
    worker: bool,
    start: u64,
    show: Option<u64>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        inputs: 10_000,
        seed: 1,
        mem_mb: 4096,
        budget_ms: 2000,
        out: std::env::temp_dir().join("fastpredict-fuzz-findings"),
        progress: 0,
        fixtures: true,
        dirs: Vec::new(),
        replay: Vec::new(),
        worker: false,
        start: 0,
        show: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let mut number = |name: &str| -> Result<u64, String> {
            let v = value(name)?;
            v.replace('_', "").parse::<u64>().map_err(|_| format!("{name}: '{v}' is not a whole number"))
        };
        match arg.as_str() {
            "--inputs" | "-n" => a.inputs = number("--inputs")?,
            "--seed" => a.seed = number("--seed")?,
            "--mem-mb" => a.mem_mb = number("--mem-mb")?,
            "--budget-ms" => a.budget_ms = number("--budget-ms")?,
            "--progress" => a.progress = number("--progress")?,
            "--start" => a.start = number("--start")?,
            "--show" => a.show = Some(number("--show")?),
            "--out" => a.out = PathBuf::from(value("--out")?),
            "--corpus" => a.dirs.push(PathBuf::from(value("--corpus")?)),
            "--replay" => a.replay.push(PathBuf::from(value("--replay")?)),
            "--no-fixtures" => a.fixtures = false,
            "--worker" => a.worker = true,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s => a.dirs.push(PathBuf::from(s)),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\nusage: fastpredict-fuzz [--inputs N] [--seed S] [--mem-mb M] [--budget-ms T] [--out DIR] [--progress K] [--no-fixtures] [SEED_DIR...]\n       fastpredict-fuzz --replay FILE_OR_DIR...");
            return ExitCode::from(2);
        }
    };
    if a.worker {
        let source = if a.replay.is_empty() {
            Source::Generated { dirs: a.dirs, seed: a.seed, inputs: a.inputs }
        } else {
            Source::Files(a.replay)
        };
        return match worker(source, a.start) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("worker: {e}");
                ExitCode::from(3)
            }
        };
    }
    let source = if a.replay.is_empty() {
        let mut dirs = Vec::new();
        if a.fixtures {
            match fixture_dirs() {
                Ok(d) => dirs.extend(d),
                Err(e) => {
                    eprintln!("cannot list the format fixtures: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        dirs.extend(a.dirs);
        Source::Generated { dirs, seed: a.seed, inputs: a.inputs }
    } else {
        let mut files = Vec::new();
        for p in &a.replay {
            if p.is_dir() {
                match files_in(p) {
                    Ok(f) => files.extend(f),
                    Err(e) => {
                        eprintln!("{}: {e}", p.display());
                        return ExitCode::from(2);
                    }
                }
            } else {
                files.push(p.clone());
            }
        }
        Source::Files(files)
    };
    if let Some(i) = a.show {
        let bytes = Inputs::new(source).and_then(|s| s.get(i));
        return match bytes {
            Ok((b, _)) => {
                let _ = std::io::stdout().write_all(&b);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        };
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot find this program: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = Config {
        source,
        mem_mb: a.mem_mb,
        budget: Duration::from_millis(a.budget_ms),
        out: a.out,
        exe,
        progress: a.progress,
    };
    match run(&cfg) {
        Ok(s) => {
            println!("{}", line_of(&s, s.wall));
            println!("memory cap {} MB, budget {} ms per input", cfg.mem_mb, cfg.budget.as_millis());
            if s.failures() > 0 {
                println!("failing inputs are in {}", cfg.out.display());
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("fuzz run failed: {e}");
            ExitCode::from(2)
        }
    }
}
