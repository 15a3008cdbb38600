//! Reading and writing model documents: JSON, optionally gzip-compressed,
//! with the format version checked before the content is trusted.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use flate2::read::{DeflateDecoder, MultiGzDecoder};
use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};
use rayon::prelude::*;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::format::{ModelDoc, TreeSpec, TreesSpec, FORMAT_MAJOR, FORMAT_MINOR, FORMAT_NAME};
use crate::parallel;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Uncompressed text per gzip member when a document is split.
const MEMBER_TEXT: usize = 4 << 20;

/// Serialize a document. Numbers are written in their shortest form that
/// reads back to the same double, so a round trip is exact.
pub fn to_json(doc: &ModelDoc, pretty: bool) -> Result<String> {
    let r = if pretty { serde_json::to_string_pretty(doc) } else { serde_json::to_string(doc) };
    r.map_err(|e| Error::invalid(format!("cannot serialize the model: {e}")))
}

#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    format_version: Option<String>,
}

fn check_header(format: Option<&str>, version: Option<&str>) -> Result<()> {
    let corrupt = |detail: String| Error::CorruptFile { file: String::new(), detail };
    match format {
        Some(FORMAT_NAME) => {}
        Some(other) => return Err(corrupt(format!("'format' is '{other}', expected '{FORMAT_NAME}'"))),
        None => return Err(corrupt("there is no 'format' field".to_string())),
    }
    let version = version.ok_or_else(|| corrupt("there is no 'format_version' field".to_string()))?;
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .ok_or_else(|| corrupt(format!("'format_version' '{version}' is not MAJOR.MINOR")))?;
    if major > FORMAT_MAJOR {
        return Err(Error::NewerFormat {
            file: String::new(),
            found: version.to_string(),
            supported: format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"),
        });
    }
    if major < 1 {
        return Err(corrupt(format!("unknown format version '{version}'")));
    }
    Ok(())
}

/// Parse a document from JSON bytes (not compressed).
pub fn from_json_bytes(bytes: &[u8]) -> Result<ModelDoc> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::CorruptFile { file: String::new(), detail: "it is empty".to_string() });
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
            Err(Error::CorruptFile { file: String::new(), detail: e.to_string() })
        }
    }
}

/// Decompress if the bytes are gzip, by their magic number rather than the
/// file name.
pub fn maybe_gunzip(bytes: Vec<u8>) -> Result<Vec<u8>> {
    if bytes.len() >= 2 && bytes[..2] == GZIP_MAGIC {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::CorruptFile { file: String::new(), detail: format!("gzip data is damaged ({e})") })?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Parse a document from file bytes: gzip or not, split or not.
pub fn from_file_bytes(bytes: Vec<u8>) -> Result<ModelDoc> {
    match split_members(&bytes) {
        Some(members) => from_members(&bytes, &members),
        None => from_json_bytes(&maybe_gunzip(bytes)?),
    }
}

pub fn read_file(path: &Path) -> Result<ModelDoc> {
    let name = path.display().to_string();
    let bytes = fs::read(path).map_err(|e| Error::Io { file: name.clone(), detail: e.to_string() })?;
    from_file_bytes(bytes).map_err(|e| e.in_file(&name))
}

/// Whether a path asks for compression (`.gz`).
pub fn wants_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Write `doc` to `path` atomically: into a temporary file in the same
/// directory, then renamed over the target, so readers never see half a
/// file.
pub fn write_file(doc: &ModelDoc, path: &Path, gzip: bool) -> Result<()> {
    let name = path.display().to_string();
    let io_err = |e: std::io::Error| Error::Io { file: name.clone(), detail: e.to_string() };
    let bytes = if gzip { to_gzip(doc)? } else { to_json(doc, false)?.into_bytes() };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name =
        path.file_name().ok_or_else(|| Error::Io { file: name.clone(), detail: "not a file path".into() })?;
    let tmp = dir.join(format!(".{}.tmp-{}", file_name.to_string_lossy(), std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    Ok(())
}

// --- Split gzip -------------------------------------------------------------
//
// A compressed document is written as consecutive gzip members (RFC 1952
// allows any number; every gzip reader concatenates them): the text before
// the tree list, groups of whole trees, and the text after it. Each member
// carries an extra-field subfield "FP" holding its own length and what it
// holds, so a reader can find the members without decompressing and then
// decompress and parse them on all threads. Any other gzip file is read
// the ordinary way.

const KIND_HEAD: u8 = 0;
const KIND_TREES: u8 = 1;
const KIND_TAIL: u8 = 2;

/// The JSON of `doc` as (text before the tree list, one text per tree, text
/// after), when it has trees to split; otherwise `None`.
fn json_pieces(doc: &ModelDoc) -> Result<Option<(String, Vec<String>, String)>> {
    let spec = match &doc.trees {
        Some(t) if t.trees.len() > 1 => t,
        _ => return Ok(None),
    };
    let shell = ModelDoc {
        format: doc.format.clone(),
        format_version: doc.format_version.clone(),
        producer: doc.producer.clone(),
        kind: doc.kind,
        inputs: doc.inputs.clone(),
        linear: doc.linear.clone(),
        trees: Some(TreesSpec {
            algorithm: spec.algorithm.clone(),
            features: spec.features.clone(),
            split: spec.split,
            missing: spec.missing,
            nan: spec.nan,
            aggregation: spec.aggregation.clone(),
            types: spec.types.clone(),
            default_type: spec.default_type.clone(),
            classes: spec.classes.clone(),
            trees: Vec::new(),
        }),
        extensions: doc.extensions.clone(),
    };
    let text = to_json(&shell, false)?;
    // The empty tree list is the first `"trees":[]` after the `"trees":{`
    // section starts; inside strings quotes are escaped, so it cannot occur
    // there.
    let section = text.find("\"trees\":{").ok_or_else(|| Error::invalid("tree section not found"))?;
    let at = text[section..].find("\"trees\":[]").map(|p| section + p + "\"trees\":[".len());
    let at = at.ok_or_else(|| Error::invalid("tree list not found"))?;
    let trees = parallel::pool(parallel::default_threads())?.install(|| {
        spec.trees
            .par_iter()
            .map(|t| serde_json::to_string(t).map_err(|e| Error::invalid(e.to_string())))
            .collect::<Result<Vec<_>>>()
    })?;
    Ok(Some((text[..at].to_string(), trees, text[at..].to_string())))
}

fn gzip_member(text: &[u8], kind: u8) -> std::io::Result<Vec<u8>> {
    let mut enc = DeflateEncoder::new(Vec::with_capacity(text.len() / 3), Compression::default());
    enc.write_all(text)?;
    let data = enc.finish()?;
    let mut crc = Crc::new();
    crc.update(text);
    // header (10) + XLEN (2) + subfield "FP" (4 + 5) + data + CRC32 + ISIZE
    let total = 10 + 2 + 9 + data.len() + 8;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 255]);
    out.extend_from_slice(&9u16.to_le_bytes());
    out.extend_from_slice(b"FP");
    out.extend_from_slice(&5u16.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.push(kind);
    out.extend_from_slice(&data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    Ok(out)
}

fn to_gzip(doc: &ModelDoc) -> Result<Vec<u8>> {
    let zerr = |e: std::io::Error| Error::invalid(format!("cannot compress the model: {e}"));
    let pieces: Vec<(Vec<u8>, u8)> = match json_pieces(doc)? {
        None => vec![(to_json(doc, false)?.into_bytes(), KIND_HEAD)],
        Some((head, trees, tail)) => {
            let mut pieces = vec![(head.into_bytes(), KIND_HEAD)];
            let mut group = Vec::new();
            for (i, t) in trees.iter().enumerate() {
                if i > 0 {
                    group.push(b',');
                }
                group.extend_from_slice(t.as_bytes());
                if group.len() >= MEMBER_TEXT {
                    pieces.push((std::mem::take(&mut group), KIND_TREES));
                }
            }
            if !group.is_empty() {
                pieces.push((group, KIND_TREES));
            }
            pieces.push((tail.into_bytes(), KIND_TAIL));
            pieces
        }
    };
    let members = parallel::pool(parallel::default_threads())?
        .install(|| pieces.par_iter().map(|(text, kind)| gzip_member(text, *kind)).collect::<std::io::Result<Vec<_>>>())
        .map_err(zerr)?;
    Ok(members.concat())
}

/// The (start, end, kind) of every member, if the bytes are a split gzip
/// written as above.
fn split_members(bytes: &[u8]) -> Option<Vec<(usize, usize, u8)>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let h = bytes.get(pos..pos + 21)?;
        if h[..4] != [0x1f, 0x8b, 8, 4] || h[10..12] != 9u16.to_le_bytes() || &h[12..14] != b"FP" {
            return None;
        }
        let total = u32::from_le_bytes([h[16], h[17], h[18], h[19]]) as usize;
        if total < 29 || pos + total > bytes.len() {
            return None;
        }
        out.push((pos, pos + total, h[20]));
        pos += total;
    }
    (out.len() > 1 || out.first().is_some_and(|m| m.2 == KIND_HEAD)).then_some(out)
}

fn inflate_member(member: &[u8]) -> Result<Vec<u8>> {
    let damaged =
        |what: &str| Error::CorruptFile { file: String::new(), detail: format!("gzip data is damaged ({what})") };
    let n = member.len();
    let want_crc = u32::from_le_bytes(member[n - 8..n - 4].try_into().map_err(|_| damaged("short member"))?);
    let want_len = u32::from_le_bytes(member[n - 4..].try_into().map_err(|_| damaged("short member"))?);
    let mut out = Vec::with_capacity(want_len as usize);
    DeflateDecoder::new(&member[21..n - 8]).read_to_end(&mut out).map_err(|e| damaged(&e.to_string()))?;
    let mut crc = Crc::new();
    crc.update(&out);
    if crc.sum() != want_crc || out.len() as u32 != want_len {
        return Err(damaged("checksum mismatch"));
    }
    Ok(out)
}

enum Part {
    Text(Vec<u8>),
    Trees(Vec<TreeSpec>),
}

/// Decompress and parse the members of a split gzip on all threads.
fn from_members(bytes: &[u8], members: &[(usize, usize, u8)]) -> Result<ModelDoc> {
    let parts = parallel::pool(parallel::default_threads())?.install(|| {
        members
            .par_iter()
            .map(|&(a, b, kind)| {
                let text = inflate_member(&bytes[a..b])?;
                if kind != KIND_TREES {
                    return Ok(Part::Text(text));
                }
                let mut list = Vec::with_capacity(text.len() + 2);
                list.push(b'[');
                list.extend_from_slice(text.strip_prefix(b",").unwrap_or(&text));
                list.push(b']');
                serde_json::from_slice::<Vec<TreeSpec>>(&list)
                    .map(Part::Trees)
                    .map_err(|e| Error::CorruptFile { file: String::new(), detail: e.to_string() })
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
    let mut doc = from_json_bytes(&shell)?;
    if !trees.is_empty() {
        match doc.trees.as_mut() {
            Some(spec) if spec.trees.is_empty() => spec.trees = trees,
            _ => return Err(Error::CorruptFile { file: String::new(), detail: "misplaced tree data".into() }),
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests;
