//! Reading and writing model documents: JSON, optionally gzip-compressed,
//! with the format version checked before the content is trusted, and the
//! sizes checked against the load limits before they are read.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::format::{ModelDoc, TreeSpec, FORMAT_MAJOR, FORMAT_MINOR, FORMAT_NAME};
pub use crate::import::SourceFormat;
use crate::limits::{self, limits};
use crate::runtime;

mod gzip;

/// A hash of what a document predicts: SHA-256 of the compact JSON of its
/// kind, inputs, section and extensions (not its producer, version or
/// card), as "sha256:<hex>".
pub fn content_hash(doc: &ModelDoc) -> Result<String> {
    use sha2::{Digest, Sha256};
    // Destructured in full so that a new section cannot be left out of the hash.
    let ModelDoc {
        format: _,
        format_version: _,
        producer: _,
        card: _,
        kind,
        inputs,
        linear,
        trees,
        glmnet,
        boosted,
        extensions,
    } = doc;
    #[derive(serde::Serialize)]
    struct Content<'d> {
        kind: &'d crate::format::ModelKind,
        inputs: &'d [crate::format::InputSpec],
        linear: &'d Option<crate::format::LinearSpec>,
        trees: &'d Option<crate::format::TreesSpec>,
        // the sections added later are left out when absent, so that earlier
        // models keep their hashes
        #[serde(skip_serializing_if = "Option::is_none")]
        glmnet: Option<&'d crate::format::GlmnetSpec>,
        #[serde(skip_serializing_if = "Option::is_none")]
        boosted: Option<&'d crate::format::BoostedSpec>,
        extensions: &'d serde_json::Map<String, serde_json::Value>,
    }
    struct Hasher(Sha256);
    impl Write for Hasher {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.update(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let content =
        Content { kind, inputs, linear, trees, glmnet: glmnet.as_ref(), boosted: boosted.as_ref(), extensions };
    let mut h = Hasher(Sha256::new());
    serde_json::to_writer(&mut h, &content).map_err(|e| Error::internal(format!("cannot hash the model: {e}")))?;
    Ok(format!("sha256:{}", h.0.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// Uncompressed text per gzip member when a document is split.
const MEMBER_TEXT: usize = 4 << 20;

/// Serialize a document. Numbers are written in their shortest form that
/// reads back to the same double, so a round trip is exact.
pub fn to_json(doc: &ModelDoc, pretty: bool) -> Result<String> {
    let r = if pretty { serde_json::to_string_pretty(doc) } else { serde_json::to_string(doc) };
    r.map_err(|e| Error::internal(format!("cannot serialize the model: {e}")))
}

#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    format_version: Option<String>,
}

fn check_header(format: Option<&str>, version: Option<&str>) -> Result<()> {
    match format {
        Some(FORMAT_NAME) => {}
        Some(other) => return Err(Error::corrupt(format!("'format' is '{other}', expected '{FORMAT_NAME}'"))),
        None => return Err(Error::corrupt("there is no 'format' field")),
    }
    let version = version.ok_or_else(|| Error::corrupt("there is no 'format_version' field"))?;
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .ok_or_else(|| Error::corrupt(format!("'format_version' '{version}' is not MAJOR.MINOR")))?;
    if major > FORMAT_MAJOR {
        return Err(Error::NewerFormat {
            file: String::new(),
            found: version.to_string(),
            supported: format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"),
        });
    }
    if major < 1 {
        return Err(Error::corrupt(format!("unknown format version '{version}'")));
    }
    Ok(())
}

/// Parse a fastpredict document from JSON text (not compressed).
pub(crate) fn from_json_text(bytes: &[u8]) -> Result<ModelDoc> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::corrupt("it is empty"));
    }
    match serde_json::from_slice::<ModelDoc>(bytes) {
        Ok(doc) => {
            check_header(Some(&doc.format), Some(&doc.format_version))?;
            Ok(doc)
        }
        Err(e) => {
            // A newer major version may lay things out differently: say so
            // rather than report the first field that does not fit.
            if let Ok(h) = serde_json::from_slice::<Header>(bytes) {
                check_header(h.format.as_deref(), h.format_version.as_deref())?;
            }
            Err(Error::corrupt(e.to_string()))
        }
    }
}

/// Parse a document from the bytes of a file: a fastpredict document (JSON,
/// gzip or split gzip), an xgboost JSON model or a LightGBM text model
/// (either also gzip-compressed), recognised by content, not by name. The
/// libraries' models are imported.
pub fn from_bytes(bytes: &[u8]) -> Result<ModelDoc> {
    import(bytes, SourceFormat::Auto)
}

/// As `from_bytes`, for a file of the given format (`Auto`: recognised by
/// its content).
pub fn import(bytes: &[u8], format: SourceFormat) -> Result<ModelDoc> {
    let limit = limits().json_bytes;
    if matches!(format, SourceFormat::Auto | SourceFormat::Fastpredict) {
        if let Some(members) = gzip::split_members(bytes) {
            return from_members(bytes, &members, limit);
        }
    }
    if bytes.starts_with(&gzip::MAGIC) {
        return crate::import::import_text(&gzip::gunzip(bytes, limit)?, format);
    }
    limits::check("a document", bytes.len() as u64, limit, "json_bytes")?;
    crate::import::import_text(bytes, format)
}

/// Read a model file (any format `from_bytes` reads). Only a regular file
/// is read (a FIFO or a device would block or never end), and no more of it
/// than the load limit.
pub fn read_file(path: &Path) -> Result<ModelDoc> {
    import_file(path, SourceFormat::Auto)
}

/// Read a model file of the given format.
pub fn import_file(path: &Path, format: SourceFormat) -> Result<ModelDoc> {
    let name = path.display().to_string();
    let io_err = |e: std::io::Error| Error::Io { file: name.clone(), detail: e.to_string() };
    let not_file = || Error::Io { file: name.clone(), detail: "not a regular file".into() };
    let max = limits().file_bytes;
    if !fs::metadata(path).map_err(io_err)?.is_file() {
        return Err(not_file());
    }
    let mut f = open_nonblocking(path).map_err(io_err)?;
    let meta = f.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(not_file());
    }
    limits::check("a model file", meta.len(), max, "file_bytes").map_err(|e| e.in_file(&name))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    Read::by_ref(&mut f).take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(io_err)?;
    limits::check("a model file", bytes.len() as u64, max, "file_bytes").map_err(|e| e.in_file(&name))?;
    import(&bytes, format).map_err(|e| e.in_file(&name))
}

/// Open for reading without blocking on a FIFO swapped in after the check.
fn open_nonblocking(path: &Path) -> std::io::Result<fs::File> {
    let mut o = fs::OpenOptions::new();
    o.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK; regular files ignore it
        o.custom_flags(0o4000);
    }
    o.open(path)
}

/// Whether a path asks for compression (`.gz`).
pub fn wants_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Write `doc` to `path` atomically: into a temporary file of its own in
/// the same directory, then renamed over the target, so readers never see
/// half a file. Temporaries that dead processes left behind are removed.
pub fn write_file(doc: &ModelDoc, path: &Path, gzip: bool) -> Result<()> {
    let name = path.display().to_string();
    let io_err = |e: std::io::Error| Error::Io { file: name.clone(), detail: e.to_string() };
    let bytes = if gzip { to_gzip(doc)? } else { to_json(doc, false)?.into_bytes() };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::Io { file: name.clone(), detail: "not a file path".into() })?
        .to_string_lossy();
    // The rename would replace whatever the path names: a device, a FIFO
    // or a directory is not ours to replace (as root, `/dev/null` would
    // become a regular file).
    if let Ok(m) = fs::symlink_metadata(path) {
        if !m.file_type().is_file() && !m.file_type().is_symlink() {
            return Err(Error::Io { file: name, detail: "not a regular file".into() });
        }
    }
    remove_stale_temporaries(dir, &file_name);
    let (tmp, mut f) = create_temporary(dir, &file_name).map_err(io_err)?;
    let result = f.write_all(&bytes).and_then(|_| f.sync_all()).and_then(|_| fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    Ok(())
}

fn temp_prefix(file_name: &str) -> String {
    format!(".{file_name}.tmp-")
}

/// A new file `.<name>.tmp-<pid>-<n>` that no other writer has.
fn create_temporary(dir: &Path, file_name: &str) -> std::io::Result<(PathBuf, fs::File)> {
    static N: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = N.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!("{}{}-{n}", temp_prefix(file_name), std::process::id()));
        match fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Remove this file's temporaries whose writing process no longer runs
/// (a save killed mid-write). Only where process ids can be checked.
fn remove_stale_temporaries(dir: &Path, file_name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = temp_prefix(file_name);
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let entry_name = e.file_name();
        let Some(rest) = entry_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// The JSON of `doc` as (text before the tree list, one text per tree, text
/// after), when it has trees to split; otherwise `None`.
fn json_pieces(doc: &ModelDoc) -> Result<Option<(String, Vec<String>, String)>> {
    let spec = match &doc.trees {
        Some(t) if t.trees.len() > 1 => t,
        _ => return Ok(None),
    };
    let text = to_json(&doc.shell(), false)?;
    // The empty tree list is the first `"trees":[]` after the `"trees":{`
    // section starts; inside strings quotes are escaped, so it cannot occur
    // there.
    let section = text.find("\"trees\":{").ok_or_else(|| Error::internal("tree section not found"))?;
    let at = text[section..].find("\"trees\":[]").map(|p| section + p + "\"trees\":[".len());
    let at = at.ok_or_else(|| Error::internal("tree list not found"))?;
    let trees = runtime::pool(runtime::default_threads())?.install(|| {
        spec.trees
            .par_iter()
            .map(|t| serde_json::to_string(t).map_err(|e| Error::internal(e.to_string())))
            .collect::<Result<Vec<_>>>()
    })?;
    Ok(Some((text[..at].to_string(), trees, text[at..].to_string())))
}

fn to_gzip(doc: &ModelDoc) -> Result<Vec<u8>> {
    let pieces: Vec<(Vec<u8>, u8)> = match json_pieces(doc)? {
        None => vec![(to_json(doc, false)?.into_bytes(), gzip::KIND_HEAD)],
        Some((head, trees, tail)) => {
            let mut pieces = vec![(head.into_bytes(), gzip::KIND_HEAD)];
            let mut group = Vec::new();
            for (i, t) in trees.iter().enumerate() {
                if i > 0 {
                    group.push(b',');
                }
                group.extend_from_slice(t.as_bytes());
                if group.len() >= MEMBER_TEXT {
                    pieces.push((std::mem::take(&mut group), gzip::KIND_TREES));
                }
            }
            if !group.is_empty() {
                pieces.push((group, gzip::KIND_TREES));
            }
            pieces.push((tail.into_bytes(), gzip::KIND_TAIL));
            pieces
        }
    };
    let members = runtime::pool(runtime::default_threads())?
        .install(|| pieces.par_iter().map(|(text, kind)| gzip::member(text, *kind)).collect::<Result<Vec<_>>>())?;
    Ok(members.concat())
}

enum Part {
    Text(Vec<u8>),
    Trees(Vec<TreeSpec>),
}

/// Decompress and parse the members of a split gzip on all threads.
fn from_members(bytes: &[u8], members: &[(usize, usize, u8)], limit: u64) -> Result<ModelDoc> {
    // the members' sizes together count against the limit
    let used = AtomicU64::new(0);
    let parts = runtime::pool(runtime::default_threads())?.install(|| {
        members
            .par_iter()
            .map(|&(a, b, kind)| {
                // the members' bytes count against the limit as they inflate
                let text = gzip::inflate_member(&bytes[a..b], &used, limit)?;
                if kind != gzip::KIND_TREES {
                    return Ok(Part::Text(text));
                }
                let mut list = Vec::with_capacity(text.len() + 2);
                list.push(b'[');
                list.extend_from_slice(text.strip_prefix(b",").unwrap_or(&text));
                list.push(b']');
                serde_json::from_slice::<Vec<TreeSpec>>(&list)
                    .map(Part::Trees)
                    .map_err(|e| Error::corrupt(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let mut shell = Vec::new();
    let mut trees = Vec::new();
    for p in parts {
        match p {
            Part::Text(t) => shell.extend_from_slice(&t),
            Part::Trees(t) => trees.extend(t),
        }
    }
    let mut doc = from_json_text(&shell)?;
    if !trees.is_empty() {
        match doc.trees.as_mut() {
            Some(spec) if spec.trees.is_empty() => spec.trees = trees,
            _ => return Err(Error::corrupt("misplaced tree data")),
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests;
