//! The model directory: every model file loaded at start and on reload, the new set swapped in atomically.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use fastpredict_engine::wire::{self, Decoder};
use fastpredict_engine::Model;
use sha2::{Digest, Sha256};

/// One model as served.
pub struct Served {
    /// Shared with the metrics labels of its requests.
    pub name: Arc<str>,
    pub file: PathBuf,
    pub model: Model,
    pub decoder: Decoder,
    /// SHA-256 of the file's bytes, in hex.
    pub sha256: String,
    /// The engine's hash of what the model predicts (R's `fp_content_hash()`; a card records it).
    pub content_hash: String,
    /// The version clients see: the hash's first 12 digits, so a changed file is a new version.
    pub version: String,
    /// `GET /v2/models/{name}` and `GET /prototype`, written once.
    pub oip_metadata: Vec<u8>,
    pub prototype: Vec<u8>,
}

/// The models served at one time, and the files that failed to load.
#[derive(Default)]
pub struct ModelSet {
    pub models: BTreeMap<String, Arc<Served>>,
    /// The model of `/predict`.
    pub default: Option<String>,
    /// File name -> why it did not load (its model, if any, is the previous version).
    pub failures: BTreeMap<String, String>,
}

impl ModelSet {
    pub fn get(&self, name: &str) -> Option<&Arc<Served>> {
        self.models.get(name)
    }

    /// The loaded names, for messages.
    pub fn names(&self) -> String {
        if self.models.is_empty() {
            return "none".into();
        }
        self.models.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
    }
}

/// What a reload did, for the log and /metrics.
#[derive(Debug, Default)]
pub struct Report {
    pub loaded: Vec<String>,
    pub unchanged: usize,
    pub removed: Vec<String>,
    /// (file, error)
    pub failed: Vec<(String, String)>,
}

pub struct Repository {
    dir: PathBuf,
    model_name: Option<String>,
    default_model: Option<String>,
    current: RwLock<Arc<ModelSet>>,
    /// One reload at a time.
    reloading: Mutex<()>,
}

/// A model's name from its file name, if it is a model file. Hidden files are skipped: they are
/// temporaries being written (`fp_save` writes `.NAME.tmp-*`) and Kubernetes' `..data` links.
fn model_name(file: &str) -> Option<&str> {
    if file.starts_with('.') {
        return None;
    }
    let name = file.strip_suffix(".json.gz").or_else(|| file.strip_suffix(".json"))?;
    (!name.is_empty()).then_some(name)
}

/// A file's bytes: only a regular file (a FIFO would block), and no more than the engine's load limit.
fn read_model_file(path: &Path) -> Result<Vec<u8>, String> {
    let limit = fastpredict_engine::limits().file_bytes;
    let meta = fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > limit {
        return Err(format!("{} bytes, above the load limit of {limit}", meta.len()));
    }
    let mut open = fs::OpenOptions::new();
    open.read(true);
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK, in case a FIFO replaced the file since the check; regular files ignore it
        open.custom_flags(0o4000);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    open.open(path).and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes)).map_err(|e| e.to_string())?;
    Ok(bytes)
}

fn load(name: &str, path: &Path, bytes: &[u8], sha256: String) -> Result<Served, String> {
    let file = path.display().to_string();
    let model = Model::from_json(bytes).map_err(|e| e.in_file(&file).to_string())?;
    let content_hash = model.content_hash().map_err(|e| e.in_file(&file).to_string())?.to_string();
    let version = sha256[..12].to_string();
    let oip_metadata = wire::oip_model_metadata(&model, name, &version).to_string().into_bytes();
    let prototype = wire::vetiver_prototype(model.inputs()).to_string().into_bytes();
    let decoder = Decoder::for_model(&model);
    Ok(Served {
        name: Arc::from(name),
        file: path.to_path_buf(),
        model,
        decoder,
        sha256,
        content_hash,
        version,
        oip_metadata,
        prototype,
    })
}

impl Repository {
    /// Open the directory and load it (a directory that cannot be read is an error; files that do not load
    /// are reported).
    pub fn open(
        dir: PathBuf,
        model_name: Option<String>,
        default_model: Option<String>,
    ) -> Result<(Repository, Report), String> {
        fs::read_dir(&dir).map_err(|e| format!("cannot read the model directory '{}': {e}", dir.display()))?;
        let repo = Repository {
            dir,
            model_name,
            default_model,
            current: RwLock::new(Arc::new(ModelSet::default())),
            reloading: Mutex::new(()),
        };
        let report = repo.reload();
        Ok((repo, report))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The models now.
    pub fn current(&self) -> Arc<ModelSet> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Read the directory again: unchanged files (same hash) keep their loaded model, new and changed
    /// ones are loaded, a file that fails keeps its previous version, a removed file's model goes. The
    /// new set replaces the old one at once; requests in flight finish on the models they started with.
    pub fn reload(&self) -> Report {
        let _one = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.current();
        let mut report = Report::default();
        let mut next = ModelSet::default();
        let mut files: BTreeMap<String, Vec<(String, PathBuf)>> = BTreeMap::new();
        match fs::read_dir(&self.dir) {
            Ok(entries) => {
                for e in entries.flatten() {
                    let file = e.file_name().to_string_lossy().into_owned();
                    if let Some(name) = model_name(&file) {
                        files.entry(name.to_string()).or_default().push((file.clone(), e.path()));
                    }
                }
            }
            Err(e) => {
                let why = format!("cannot read the model directory: {e}");
                report.failed.push((self.dir.display().to_string(), why.clone()));
                next.failures.insert(self.dir.display().to_string(), why);
                next.models = old.models.clone();
            }
        }
        // KServe: the directory's one model goes by the InferenceService's name
        let rename = self.model_name.as_ref().filter(|_| files.len() == 1);
        for (name, found) in files {
            let name = rename.cloned().unwrap_or(name);
            let previous = old.models.get(&name);
            let [(file, path)] = found.as_slice() else {
                let listed = found.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(" and ");
                for (file, _) in &found {
                    let why = format!("{listed} would both be model '{name}'; remove one");
                    report.failed.push((file.clone(), why.clone()));
                    next.failures.insert(file.clone(), why);
                }
                if let Some(p) = previous {
                    next.models.insert(name, Arc::clone(p));
                }
                continue;
            };
            let outcome = read_model_file(path).and_then(|bytes| {
                let sha256 = hex(&Sha256::digest(&bytes));
                match previous.filter(|p| p.sha256 == sha256 && p.file == *path) {
                    Some(same) => Ok(Err(Arc::clone(same))),
                    None => load(&name, path, &bytes, sha256).map(Ok),
                }
            });
            match outcome {
                Ok(Ok(served)) => {
                    report.loaded.push(name.clone());
                    next.models.insert(name, Arc::new(served));
                }
                Ok(Err(same)) => {
                    report.unchanged += 1;
                    next.models.insert(name, same);
                }
                Err(why) => {
                    report.failed.push((file.clone(), why.clone()));
                    next.failures.insert(file.clone(), why);
                    if let Some(p) = previous {
                        next.models.insert(name, Arc::clone(p));
                    }
                }
            }
        }
        report.removed = old.models.keys().filter(|n| !next.models.contains_key(*n)).cloned().collect();
        next.default = match &self.default_model {
            Some(d) => next.models.contains_key(d).then(|| d.clone()),
            None if next.models.len() == 1 => next.models.keys().next().cloned(),
            None => None,
        };
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
        report
    }

    /// The configured default model, if it is not loaded (for the log).
    pub fn missing_default(&self) -> Option<String> {
        let d = self.default_model.as_ref()?;
        (!self.current().models.contains_key(d)).then(|| d.clone())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::model_name;

    #[test]
    fn model_files_and_their_names() {
        assert_eq!(model_name("lm.json"), Some("lm"));
        assert_eq!(model_name("forest.json.gz"), Some("forest"));
        assert_eq!(model_name(".lm.json.tmp-12-0"), None);
        assert_eq!(model_name("..data"), None);
        assert_eq!(model_name("notes.txt"), None);
        assert_eq!(model_name(".json"), None);
    }
}
