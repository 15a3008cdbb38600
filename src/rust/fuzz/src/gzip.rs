//! Gzip written by hand (stored deflate blocks, so no compressor is
//! needed): plain gzip, and the engine's split container with its "FP"
//! extra subfield (see `engine/src/io/gzip.rs`). Also the member walk that
//! the header mutations use.

/// CRC-32 (IEEE), as gzip's trailer holds it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *t = c;
    }
    !data.iter().fold(!0u32, |c, &b| table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8))
}

/// A deflate stream of stored blocks.
pub fn stored_deflate(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 65535 * 5 + 5);
    let mut chunks = data.chunks(65535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(c) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = c.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(c);
    }
    out
}

fn trailer(out: &mut Vec<u8>, text: &[u8]) {
    out.extend_from_slice(&crc32(text).to_le_bytes());
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
}

/// An ordinary one-member gzip file.
pub fn plain(text: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend_from_slice(&stored_deflate(text));
    trailer(&mut out, text);
    out
}

pub const KIND_HEAD: u8 = 0;
pub const KIND_TREES: u8 = 1;
pub const KIND_TAIL: u8 = 2;
/// Header, XLEN, subfield id and length, member length and kind.
pub const PREFIX: usize = 10 + 2 + 4 + 5;

/// One member of the split container.
pub fn member(text: &[u8], kind: u8) -> Vec<u8> {
    let data = stored_deflate(text);
    let total = (PREFIX + data.len() + 8) as u32;
    let mut out = vec![0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 255];
    out.extend_from_slice(&9u16.to_le_bytes());
    out.extend_from_slice(b"FP");
    out.extend_from_slice(&5u16.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.push(kind);
    out.extend_from_slice(&data);
    trailer(&mut out, text);
    out
}

/// Where the members of a gzip file start: by the split container's length
/// fields while they make sense, else by searching for the magic.
pub fn members(bytes: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut pos = 0;
    while pos + PREFIX <= bytes.len() && bytes[pos..].starts_with(&[0x1f, 0x8b]) {
        starts.push(pos);
        if &bytes[pos + 12..pos + 14] != b"FP" {
            break;
        }
        let total = u32::from_le_bytes([bytes[pos + 16], bytes[pos + 17], bytes[pos + 18], bytes[pos + 19]]) as usize;
        if total == 0 {
            break;
        }
        pos = pos.saturating_add(total);
    }
    if starts.len() <= 1 {
        starts = (0..bytes.len().saturating_sub(1)).filter(|&i| bytes[i] == 0x1f && bytes[i + 1] == 0x8b).collect();
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_a_known_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn empty_and_long_stored_streams() {
        assert_eq!(stored_deflate(b""), vec![1, 0, 0, 0xff, 0xff]);
        let long = vec![b' '; 70_000];
        let d = stored_deflate(&long);
        assert_eq!(d.len(), 70_000 + 10);
        assert_eq!(d[0], 0);
    }
}
