//! The split gzip container.
//!
//! A compressed document is written as consecutive gzip members (RFC 1952
//! allows any number; every gzip reader concatenates them): the text before
//! the tree list, groups of whole trees, and the text after it. Each member
//! carries an extra-field subfield "FP" holding its own length and what it
//! holds, so a reader can find the members without decompressing and then
//! decompress and parse them on all threads. Any other gzip file is read
//! the ordinary way.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::{DeflateDecoder, MultiGzDecoder};
use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};

use crate::error::{Error, Result};

pub(super) const MAGIC: [u8; 2] = [0x1f, 0x8b];
/// A member's header: magic, deflate, FLG = FEXTRA, MTIME 0, XFL 0, OS unknown.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, FLG_FEXTRA, 0, 0, 0, 0, 0, 255];
const FLG_FEXTRA: u8 = 4;
/// XLEN: one subfield of 2 id bytes, 2 length bytes and 5 data bytes.
const XLEN: u16 = 9;
const SUBFIELD_ID: &[u8; 2] = b"FP";
/// Subfield data: the member's total length (u32) and its kind.
const SUBFIELD_LEN: u16 = 5;
/// Bytes before the deflate data: header, XLEN, the subfield.
const PREFIX: usize = HEADER.len() + 2 + 4 + SUBFIELD_LEN as usize;
/// CRC32 and ISIZE after the data.
const TRAILER: usize = 8;

pub(super) const KIND_HEAD: u8 = 0;
pub(super) const KIND_TREES: u8 = 1;
pub(super) const KIND_TAIL: u8 = 2;

fn damaged(what: impl std::fmt::Display) -> Error {
    Error::corrupt(format!("gzip data is damaged ({what})"))
}

/// One member holding `text`.
pub(super) fn member(text: &[u8], kind: u8) -> Result<Vec<u8>> {
    let mut enc = DeflateEncoder::new(Vec::with_capacity(text.len() / 3), Compression::default());
    let data = enc.write_all(text).and_then(|_| enc.finish()).map_err(|e| Error::internal(format!("deflate: {e}")))?;
    let mut crc = Crc::new();
    crc.update(text);
    let total = PREFIX + data.len() + TRAILER;
    let total32 = u32::try_from(total).map_err(|_| Error::internal("a gzip member over 4 GB"))?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&HEADER);
    out.extend_from_slice(&XLEN.to_le_bytes());
    out.extend_from_slice(SUBFIELD_ID);
    out.extend_from_slice(&SUBFIELD_LEN.to_le_bytes());
    out.extend_from_slice(&total32.to_le_bytes());
    out.push(kind);
    out.extend_from_slice(&data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE is the length modulo 2^32 (RFC 1952)
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    Ok(out)
}

/// The (start, end, kind) of every member, if the bytes are a split gzip
/// written as above.
pub(super) fn split_members(bytes: &[u8]) -> Option<Vec<(usize, usize, u8)>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let h = bytes.get(pos..pos.checked_add(PREFIX)?)?;
        if h[..4] != HEADER[..4] || h[10..12] != XLEN.to_le_bytes() || &h[12..14] != SUBFIELD_ID {
            return None;
        }
        let total = u32::from_le_bytes([h[16], h[17], h[18], h[19]]) as usize;
        if total < PREFIX + TRAILER || pos.checked_add(total)? > bytes.len() {
            return None;
        }
        out.push((pos, pos + total, h[20]));
        pos += total;
    }
    (out.len() > 1 || out.first().is_some_and(|m| m.2 == KIND_HEAD)).then_some(out)
}

/// Read all of `r`, failing once it passes `limit` bytes.
fn read_limited(r: impl Read, reserve: usize, limit: u64) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(reserve);
    r.take(limit.saturating_add(1)).read_to_end(&mut out).map_err(damaged)?;
    if out.len() as u64 > limit {
        crate::limits::check("a decompressed document", out.len() as u64, limit, "json_bytes")?;
    }
    Ok(out)
}

/// A reader that counts what it reads into a total shared by the members
/// inflated at once, and fails once the total passes `limit`: members
/// inflated in parallel must not each take the whole limit.
struct Counted<'a, R> {
    inner: R,
    total: &'a AtomicU64,
    limit: u64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.total.fetch_add(n as u64, Ordering::Relaxed) + n as u64 > self.limit {
            return Err(std::io::Error::other(OVER_LIMIT));
        }
        Ok(n)
    }
}

const OVER_LIMIT: &str = "over the json_bytes limit";

/// Decompress one member of a split gzip, and check it. `total` counts the
/// bytes that all members inflated so far.
pub(super) fn inflate_member(member: &[u8], total: &AtomicU64, limit: u64) -> Result<Vec<u8>> {
    let n = member.len();
    let word = |at: usize| u32::from_le_bytes([member[at], member[at + 1], member[at + 2], member[at + 3]]);
    let (want_crc, want_len) = (word(n - TRAILER), word(n - 4));
    // ISIZE is only a hint (and the member's own claim): reserve no more
    // than the compressed data can plausibly hold.
    let reserve = (want_len as usize).min(n.saturating_mul(16)).min(limit as usize);
    let counted = Counted { inner: DeflateDecoder::new(&member[PREFIX..n - TRAILER]), total, limit };
    let mut out = Vec::with_capacity(reserve);
    if let Err(e) = counted.take(limit.saturating_add(1)).read_to_end(&mut out) {
        if e.to_string() == OVER_LIMIT {
            let now = total.load(Ordering::Relaxed);
            return Err(crate::limits::check("a decompressed document", now, limit, "json_bytes")
                .err()
                .unwrap_or_else(|| Error::unsupported("a decompressed document over the load limit 'json_bytes'")));
        }
        return Err(damaged(e));
    }
    let mut crc = Crc::new();
    crc.update(&out);
    if crc.sum() != want_crc || out.len() as u32 != want_len {
        return Err(damaged("checksum mismatch"));
    }
    Ok(out)
}

/// Decompress an ordinary gzip file (any number of members).
pub(super) fn gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>> {
    read_limited(MultiGzDecoder::new(bytes), bytes.len().saturating_mul(4).min(limit as usize), limit)
}
