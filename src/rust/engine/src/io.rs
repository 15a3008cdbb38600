//! Reading and writing model documents: JSON, optionally gzip-compressed,
//! with the format version checked before the content is trusted.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::format::{ModelDoc, FORMAT_MAJOR, FORMAT_MINOR, FORMAT_NAME};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

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
        GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::CorruptFile { file: String::new(), detail: format!("gzip data is damaged ({e})") })?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

pub fn read_file(path: &Path) -> Result<ModelDoc> {
    let name = path.display().to_string();
    let bytes = fs::read(path).map_err(|e| Error::Io { file: name.clone(), detail: e.to_string() })?;
    maybe_gunzip(bytes).and_then(|b| from_json_bytes(&b)).map_err(|e| e.in_file(&name))
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
    let json = to_json(doc, false)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path.file_name().ok_or_else(|| Error::Io { file: name.clone(), detail: "not a file path".into() })?;
    let tmp = dir.join(format!(".{}.tmp-{}", file_name.to_string_lossy(), std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let f = fs::File::create(&tmp)?;
        if gzip {
            let mut enc = GzEncoder::new(std::io::BufWriter::new(f), Compression::default());
            enc.write_all(json.as_bytes())?;
            enc.finish()?.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        } else {
            let mut w = std::io::BufWriter::new(f);
            w.write_all(json.as_bytes())?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    Ok(())
}
