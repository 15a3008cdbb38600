//! The seeds: model files from directories (the format fixtures, the
//! models the R tests save), each also as plain JSON text, as a parsed
//! value, and as the engine's own split gzip.

use std::fs;
use std::path::{Path, PathBuf};

use fastpredict_engine::io;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Seed {
    pub name: String,
    /// The file as it is.
    pub raw: Vec<u8>,
    /// Its document as compact JSON text, if it loads.
    pub text: Option<Vec<u8>>,
    pub json: Option<Value>,
    /// The document as the engine writes it compressed (`io::write_file`).
    pub split: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub seeds: Vec<Seed>,
    /// Every string of every seed (names, levels): splicing one elsewhere
    /// makes mutants that reach further than random text.
    pub strings: Vec<String>,
}

/// The fixtures of every format version, from the repository, oldest
/// first (each minor version adds a section the older ones lack).
pub fn fixture_dirs() -> std::io::Result<Vec<PathBuf>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/testthat/fixtures");
    let mut dirs: Vec<(Vec<u64>, PathBuf)> = fs::read_dir(&root)?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix("format-")?.split('.').map(|x| x.parse().ok()).collect::<Option<_>>()?;
            Some((version, e.path()))
        })
        .collect();
    dirs.sort();
    Ok(dirs.into_iter().map(|(_, d)| d).collect())
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                collect_strings(x, out);
            }
        }
        _ => {}
    }
}

impl Corpus {
    /// The regular files of `dirs` (not recursive), in name order within
    /// each directory, so that every process builds the same corpus.
    pub fn load(dirs: &[PathBuf]) -> std::io::Result<Corpus> {
        let scratch = std::env::temp_dir().join(format!("fastpredict-fuzz-seeds-{}", std::process::id()));
        fs::create_dir_all(&scratch)?;
        let mut corpus = Corpus::default();
        for dir in dirs {
            let mut files: Vec<PathBuf> =
                fs::read_dir(dir)?.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
            files.sort();
            for f in files {
                let raw = fs::read(&f)?;
                let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                corpus.seeds.push(seed(name, raw, &scratch));
            }
        }
        let _ = fs::remove_dir_all(&scratch);
        let mut strings = Vec::new();
        for s in &corpus.seeds {
            if let Some(j) = &s.json {
                collect_strings(j, &mut strings);
            }
        }
        strings.sort();
        strings.dedup();
        corpus.strings = strings;
        if corpus.seeds.is_empty() {
            return Err(std::io::Error::other("no seed files"));
        }
        Ok(corpus)
    }
}

fn seed(name: String, raw: Vec<u8>, scratch: &Path) -> Seed {
    let doc = io::from_bytes(&raw).ok();
    let text = doc.as_ref().and_then(|d| io::to_json(d, false).ok()).map(String::into_bytes);
    let json = text.as_ref().and_then(|t| serde_json::from_slice(t).ok());
    let split = doc.as_ref().and_then(|d| {
        let p = scratch.join("seed.json.gz");
        io::write_file(d, &p, true).ok()?;
        fs::read(&p).ok()
    });
    Seed { name, raw, text, json, split }
}
