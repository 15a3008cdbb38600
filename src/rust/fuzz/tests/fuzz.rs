//! The fuzzer inside `make test`: a short bounded run, and the replay of
//! every regression input, both through the binary (parent and worker), so
//! that an abort or a hang is caught and counted too. `cargo test` builds
//! with overflow checks, so these runs have them on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Inputs of the bounded run (about 15 s in a debug build here).
const INPUTS: u64 = 4000;
/// Time budget of one input: a debug build runs some inputs 20 times
/// slower than `make fuzz` (2 s there), and the machine may be busy; a
/// real hang has no end.
const BUDGET_MS: &str = "30000";

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fastpredict-fuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Run the binary; its report line and whether it exited cleanly.
fn run(args: &[&str], out: &Path) -> (String, bool) {
    let o = Command::new(env!("CARGO_BIN_EXE_fastpredict-fuzz"))
        .args(args)
        .args(["--budget-ms", BUDGET_MS])
        .arg("--out")
        .arg(out)
        .output()
        .expect("the fuzzer runs");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    println!("{stdout}{stderr}");
    (stdout, o.status.success())
}

fn count(report: &str, what: &str) -> u64 {
    let at = report.find(&format!("{what} ")).unwrap_or_else(|| panic!("no '{what}' in {report}"));
    report[at + what.len() + 1..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

#[test]
fn a_bounded_fuzz_run_finds_nothing() {
    let out = out_dir("bounded");
    let n = INPUTS.to_string();
    let mut args = vec!["--inputs", n.as_str(), "--seed", "20261202"];
    // the models the R tests saved, when `make test` ran them first
    let saved = std::env::var("FASTPREDICT_SCHEMA_OUT").unwrap_or_default();
    if !saved.is_empty() && Path::new(&saved).is_dir() {
        args.push(&saved);
    }
    let (report, ok) = run(&args, &out);
    assert_eq!(count(&report, "inputs"), INPUTS, "{report}");
    for what in ["panics", "aborts", "hangs"] {
        assert_eq!(count(&report, what), 0, "{what}: see {}\n{report}", out.display());
    }
    assert!(ok, "{report}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn every_regression_input_is_handled() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let out = out_dir("regressions");
    let (report, ok) = run(&["--replay", dir.to_str().unwrap()], &out);
    assert!(count(&report, "inputs") > 0, "{report}");
    for what in ["panics", "aborts", "hangs"] {
        assert_eq!(count(&report, what), 0, "{what}: see {}\n{report}", out.display());
    }
    assert!(ok, "{report}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn hand_written_gzip_reads_as_the_engine_reads_it() {
    use fastpredict_engine::io;
    use fastpredict_fuzz::gzip;
    let text = std::fs::read(fastpredict_fuzz::corpus::fixture_dirs().unwrap()[0].join("lm-mtcars.json")).unwrap();
    let doc = io::from_bytes(&text).unwrap();
    assert_eq!(io::from_bytes(&gzip::plain(&text)).unwrap(), doc);
    let json = io::to_json(&doc, false).unwrap();
    let split = [gzip::member(json.as_bytes(), gzip::KIND_HEAD)].concat();
    assert_eq!(io::from_bytes(&split).unwrap(), doc);
}

/// Each regression file is named `<outcome>--<what>`: the error kind its
/// load must end in, or `ok` for a model that loads (and then predicts).
#[test]
fn regressions_end_as_their_names_say() {
    use fastpredict_engine::Model;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let files = fastpredict_fuzz::driver::files_in(&dir).unwrap();
    assert!(!files.is_empty());
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let want = name.split("--").next().unwrap();
        let bytes = std::fs::read(&f).unwrap();
        let got = match Model::from_json(&bytes) {
            Ok(m) => {
                let t = fastpredict_fuzz::exercise::exercise(&bytes, &mut fastpredict_fuzz::rng::Rng::new(1));
                assert!(t.panics.is_empty() && t.mismatches.is_empty(), "{name}: {t:?}");
                assert!(t.ok > 0, "{name}: no prediction succeeded ({t:?})");
                drop(m);
                "ok".to_string()
            }
            Err(e) => format!("{}: {e}", e.kind()),
        };
        assert!(got == want || got.starts_with(&format!("{want}: ")), "{name}: {got}");
    }
}

/// Found by the fuzzer: a t quantile asked for below one degree of freedom
/// (statrs panics below 1e-323) is refused, and standard errors alone
/// compute none.
#[test]
fn intervals_below_one_degree_of_freedom_are_refused() {
    use fastpredict_engine::{ColumnBuf, FrameBuf, Model, PredictOptions};
    let dir = fastpredict_fuzz::corpus::fixture_dirs().unwrap();
    let lm = dir.iter().map(|d| d.join("lm-mtcars.json")).find(|f| f.to_string_lossy().contains("format-1.2")).unwrap();
    let m = Model::load(&lm).unwrap();
    let mut f = FrameBuf::new();
    for (name, x) in [("wt", 3.0), ("cyl", 6.0), ("hp", 110.0), ("disp", 160.0), ("qsec", 17.0)] {
        f.push(name, ColumnBuf::Real(vec![x; 3]));
    }
    f.set_nrows(3);
    let frame = f.frame();
    let scaled = |df: f64, interval: Option<&str>| PredictOptions {
        se_fit: Some(true),
        scale: Some(2.0),
        df: Some(df),
        interval: interval.map(String::from),
        ..PredictOptions::default()
    };
    for df in [5e-324, 1e-300, 0.5] {
        let e = m.prepare(&frame, &scaled(df, Some("confidence"))).err().unwrap();
        assert_eq!(e.kind(), "unsupported", "{e}");
        assert!(m.prepare(&frame, &scaled(df, None)).unwrap().predict(1).is_ok());
    }
    assert!(m.prepare(&frame, &scaled(1.0, Some("prediction"))).unwrap().predict(1).is_ok());
}
