//! The mutations, at three levels: raw bytes, JSON structure (a parsed
//! `serde_json::Value`), and gzip framing (plain and split containers with
//! damaged header fields).

use serde_json::{Map, Number, Value};

use crate::corpus::{Corpus, Seed};
use crate::gzip;
use crate::rng::Rng;

/// Numbers that break sizes, indices and strides.
const NUMBERS: &[f64] = &[
    -1.0,
    0.0,
    1.0,
    2.0,
    3.0,
    -0.5,
    0.5,
    1.5,
    63.0,
    64.0,
    65.0,
    255.0,
    256.0,
    1000.0,
    65535.0,
    65536.0,
    100_000.0,
    1_000_000.0,
    16_777_215.0,
    16_777_216.0,
    2_147_483_647.0,
    2_147_483_648.0,
    -2_147_483_648.0,
    -2_147_483_649.0,
    4_294_967_295.0,
    4_294_967_296.0,
    9_007_199_254_740_992.0,
    9_223_372_036_854_775_807.0,
    18_446_744_073_709_551_615.0,
    1e300,
    1e308,
    -1e308,
    5e-324,
    -0.0,
];

/// Number spellings that JSON allows but doubles find awkward, and some
/// it does not allow.
const NUMBER_TEXTS: &[&str] = &[
    "-0",
    "1e999",
    "-1e999",
    "1e-999",
    "18446744073709551616",
    "18446744073709551615",
    "-9223372036854775809",
    "4294967295",
    "4294967296",
    "2147483648",
    "0.30000000000000004",
    "1E+2",
    "00",
    "1.",
    ".5",
    "+1",
    "NaN",
    "Infinity",
    "0x10",
    "1e400000000000",
];

fn odd_strings() -> Vec<String> {
    vec![
        String::new(),
        "\0".into(),
        "a\0b".into(),
        "NA".into(),
        "\u{feff}".into(),
        "\u{202e}abc".into(),
        "e\u{301}".into(),
        "\u{10ffff}".into(),
        "\u{1d518}".into(),
        "%s%n%d".into(),
        "\\".into(),
        "\"".into(),
        " ".into(),
        "linear".into(),
        "trees".into(),
        "route".into(),
        "na_row".into(),
        "error".into(),
        "sum".into(),
        "votes".into(),
        "prob_mean".into(),
        "single".into(),
        "mean".into(),
        "softmax".into(),
        "categorical".into(),
        "codes".into(),
        "coded".into(),
        "inference".into(),
        "card".into(),
        "lm".into(),
        "glm".into(),
        "terms".into(),
        "glmnet".into(),
        "elnet".into(),
        "multnet".into(),
        "coxnet".into(),
        "lambda.min".into(),
        "numeric".into(),
        "factor".into(),
        "any".into(),
        "last".into(),
        "missing".into(),
        "compare".into(),
        "le".into(),
        "lt".into(),
        "contrasts".into(),
        "indicators".into(),
        "poly_raw".into(),
        "spline".into(),
        "response".into(),
        "link".into(),
        "class".into(),
        "prob".into(),
        "vote".into(),
        "matrix".into(),
        "vector".into(),
        "2.0".into(),
        "1.99".into(),
        "fastpredict-model".into(),
        "x".repeat(10_000),
    ]
}

/// An input for the fuzz run, from one seed.
pub fn generate(corpus: &Corpus, rng: &mut Rng) -> Vec<u8> {
    let seed = rng.pick(&corpus.seeds).clone();
    match rng.below(10) {
        0..=2 => {
            let mut b = base_bytes(&seed, rng);
            for _ in 0..rng.range(1, 8) {
                byte_op(&mut b, corpus, rng);
            }
            b
        }
        3..=7 => {
            let Some(mut v) = seed.json.clone() else { return seed.raw.clone() };
            for _ in 0..[1, 1, 1, 2, 2, 3, 4][rng.below(7)] {
                json_op(&mut v, corpus, rng);
            }
            let mut text = serialize(&v, rng);
            if rng.chance(1, 6) {
                byte_op(&mut text, corpus, rng);
            }
            match rng.below(10) {
                0 => gzip::plain(&text),
                1 => split(&v, rng).unwrap_or(text),
                _ => text,
            }
        }
        _ => {
            let mut b = match rng.below(4) {
                0 => seed.split.clone().unwrap_or_else(|| seed.raw.clone()),
                1 => gzip::plain(seed.text.as_ref().unwrap_or(&seed.raw)),
                _ => {
                    let mut v = seed.json.clone().unwrap_or(Value::Null);
                    if rng.chance(1, 2) {
                        json_op(&mut v, corpus, rng);
                    }
                    split(&v, rng).unwrap_or_else(|| gzip::plain(&serialize(&v, rng)))
                }
            };
            for _ in 0..rng.range(1, 3) {
                gzip_op(&mut b, corpus, rng);
            }
            b
        }
    }
}

fn base_bytes(seed: &Seed, rng: &mut Rng) -> Vec<u8> {
    match rng.below(4) {
        0 => seed.split.clone(),
        1 => seed.text.clone(),
        _ => None,
    }
    .unwrap_or_else(|| seed.raw.clone())
}

// ---- bytes ---------------------------------------------------------------

const INTERESTING_BYTES: &[u8] =
    b"\0\x01\x7f\x80\xff\"{}[],:0123456789-+.eE\\ntfu \x1f\x8b\x08\xc3\xa9\xed\xa0\x80\xf4\x90";

fn range_in(len: usize, rng: &mut Rng) -> (usize, usize) {
    let a = rng.below(len + 1);
    let n = match rng.below(4) {
        0 => rng.below(4) + 1,
        1 => rng.below(64) + 1,
        _ => rng.below(len.max(1) / 4 + 1) + 1,
    };
    (a, (a + n).min(len))
}

pub fn byte_op(b: &mut Vec<u8>, corpus: &Corpus, rng: &mut Rng) {
    let len = b.len();
    match rng.below(11) {
        0 if len > 0 => {
            let i = rng.below(len);
            b[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            b[i] = *rng.pick(INTERESTING_BYTES);
        }
        2 => {
            let at = rng.below(len + 1);
            let n = rng.range(1, 16);
            let ins: Vec<u8> = (0..n).map(|_| *rng.pick(INTERESTING_BYTES)).collect();
            b.splice(at..at, ins);
        }
        3 => {
            let (a, e) = range_in(len, rng);
            b.drain(a..e);
        }
        4 => {
            let (a, e) = range_in(len, rng);
            let piece = b[a..e].to_vec();
            let at = rng.below(b.len() + 1);
            b.splice(at..at, piece);
        }
        5 => b.truncate(rng.below(len + 1)),
        6 => {
            // a piece of another seed
            let other = &rng.pick(&corpus.seeds).raw;
            let (a, e) = range_in(other.len(), rng);
            let at = rng.below(len + 1);
            b.splice(at..at, other[a..e].iter().copied());
        }
        7 | 8 => number_text(b, rng),
        9 if len > 0 => {
            // swap two bytes
            let (i, j) = (rng.below(len), rng.below(len));
            b.swap(i, j);
        }
        _ => {
            let i = rng.below(len + 1);
            let n = rng.range(1, 4);
            b.splice(i..i, std::iter::repeat_n(*rng.pick(INTERESTING_BYTES), n));
        }
    }
}

/// Replace a run of digits with an awkward number.
fn number_text(b: &mut Vec<u8>, rng: &mut Rng) {
    let starts: Vec<usize> =
        (0..b.len()).filter(|&i| b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit())).collect();
    if starts.is_empty() {
        return;
    }
    let a = *rng.pick(&starts);
    let mut e = a;
    while e < b.len() && (b[e].is_ascii_digit() || b"eE.+-".contains(&b[e])) {
        e += 1;
    }
    let text: String =
        if rng.chance(1, 2) { rng.pick(NUMBER_TEXTS).to_string() } else { fmt_number(*rng.pick(NUMBERS)) };
    b.splice(a..e, text.into_bytes());
}

fn fmt_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1.8e19 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

// ---- JSON ----------------------------------------------------------------

#[derive(Clone, Copy)]
enum Kind {
    Any,
    Number,
    Array,
    Object,
    Str,
}

fn is(v: &Value, k: Kind) -> bool {
    match k {
        Kind::Any => true,
        Kind::Number => v.is_number(),
        Kind::Array => v.is_array(),
        Kind::Object => v.is_object(),
        Kind::Str => v.is_string(),
    }
}

fn count(v: &Value, k: Kind) -> usize {
    let here = usize::from(is(v, k));
    here + match v {
        Value::Array(a) => a.iter().map(|x| count(x, k)).sum(),
        Value::Object(o) => o.values().map(|x| count(x, k)).sum(),
        _ => 0,
    }
}

/// The `n`-th node of kind `k` in preorder.
fn nth_mut<'a>(v: &'a mut Value, k: Kind, n: &mut usize) -> Option<&'a mut Value> {
    if is(v, k) {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
    }
    match v {
        Value::Array(a) => a.iter_mut().find_map(|x| nth_mut(x, k, n)),
        Value::Object(o) => o.values_mut().find_map(|x| nth_mut(x, k, n)),
        _ => None,
    }
}

fn nth(v: &Value, k: Kind, n: &mut usize) -> Option<Value> {
    if is(v, k) {
        if *n == 0 {
            return Some(v.clone());
        }
        *n -= 1;
    }
    match v {
        Value::Array(a) => a.iter().find_map(|x| nth(x, k, n)),
        Value::Object(o) => o.values().find_map(|x| nth(x, k, n)),
        _ => None,
    }
}

fn random_node(v: &Value, rng: &mut Rng) -> Value {
    let mut n = rng.below(count(v, Kind::Any));
    nth(v, Kind::Any, &mut n).unwrap_or(Value::Null)
}

fn number(x: f64) -> Value {
    if x.fract() == 0.0 && (0.0..1.8e19).contains(&x) {
        Value::Number(Number::from(x as u64))
    } else if x.fract() == 0.0 && x < 0.0 && x > -9.2e18 {
        Value::Number(Number::from(x as i64))
    } else {
        Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// Key of the marker that asks `serialize` to write an object's key twice.
pub const DUP_KEY: &str = "\u{1}fuzz-duplicate";

pub fn json_op(doc: &mut Value, corpus: &Corpus, rng: &mut Rng) {
    let kind = match rng.below(10) {
        0..=3 => Kind::Number,
        4 | 5 => Kind::Array,
        6 => Kind::Object,
        7 => Kind::Str,
        _ => Kind::Any,
    };
    let total = count(doc, kind);
    if total == 0 {
        return;
    }
    // a copy of some node, taken before the target is borrowed
    let donor = if rng.chance(1, 4) {
        match rng.pick(&corpus.seeds).json.as_ref() {
            Some(other) => random_node(other, rng),
            None => Value::Null,
        }
    } else {
        random_node(doc, rng)
    };
    let doc_size = approx_size(doc);
    let mut n = rng.below(total);
    let Some(node) = nth_mut(doc, kind, &mut n) else { return };
    if rng.chance(1, 12) {
        *node = match rng.below(8) {
            0 => Value::Null,
            1 => Value::Bool(rng.chance(1, 2)),
            2 => Value::Array(vec![]),
            3 => Value::Object(Map::new()),
            4 => Value::String(String::new()),
            5 => number(*rng.pick(NUMBERS)),
            _ => donor,
        };
        return;
    }
    match node {
        Value::Number(x) => {
            let cur = x.as_f64().unwrap_or(0.0);
            *node = match rng.below(6) {
                0 => number(cur + 1.0),
                1 => number(cur - 1.0),
                2 => number(cur * 2f64.powi(rng.range(1, 40) as i32)),
                3 => number(-cur),
                _ => number(*rng.pick(NUMBERS)),
            };
        }
        Value::Array(a) => array_op(a, donor, doc_size, rng),
        // flags: offset, by_position, intercept, weighted, grouped
        Value::Bool(b) => *b = !*b,
        Value::Object(o) => object_op(o, donor, corpus, rng),
        Value::String(s) => {
            *s = match rng.below(3) {
                0 if !corpus.strings.is_empty() => rng.pick(&corpus.strings).clone(),
                1 if !s.is_empty() => {
                    let mut t = s.clone();
                    let odd = odd_strings();
                    let o: &String = rng.pick(&odd);
                    t.push_str(o);
                    t
                }
                _ => rng.pick(&odd_strings()).clone(),
            };
        }
        _ => *node = donor,
    }
}

fn array_op(a: &mut Vec<Value>, donor: Value, doc_size: usize, rng: &mut Rng) {
    let len = a.len();
    match rng.below(9) {
        0 if len > 0 => {
            a.remove(rng.below(len));
        }
        1 if len > 0 => {
            let x = a[rng.below(len)].clone();
            a.insert(rng.below(len + 1), x);
        }
        2 if len > 1 => {
            let (i, j) = (rng.below(len), rng.below(len));
            a.swap(i, j);
        }
        3 if len > 0 => {
            // grow: repeat the contents up to a target length
            let target = match rng.below(4) {
                0 => len + 1,
                1 => 2 * len,
                2 => 1000,
                _ => 10_000,
            };
            // keep inputs under a megabyte or so: the budget is for the engine
            let room = 100_000usize.saturating_sub(doc_size);
            // (the largest element: the copies cycle through all of them)
            let per = a.iter().map(approx_size).max().unwrap_or(1);
            let target = target.min(room / per).max(len + 1);
            let mut i = 0;
            while a.len() < target {
                a.push(a[i % len].clone());
                i += 1;
            }
        }
        4 => a.truncate(rng.below(len.min(2) + 1)),
        5 => a.reverse(),
        6 => a.insert(rng.below(len + 1), donor),
        7 if len > 0 => {
            let i = rng.below(len);
            a[i] = donor;
        }
        _ => a.push(number(*rng.pick(NUMBERS))),
    }
}

/// Size in JSON text, roughly, in units of 8 bytes.
fn approx_size(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.iter().map(approx_size).sum::<usize>() + 1,
        Value::Object(o) => o.iter().map(|(k, x)| k.len() / 8 + approx_size(x)).sum::<usize>() + 1,
        Value::String(s) => s.len() / 8 + 1,
        _ => 1,
    }
}

fn object_op(o: &mut Map<String, Value>, donor: Value, corpus: &Corpus, rng: &mut Rng) {
    let keys: Vec<String> = o.keys().filter(|k| *k != DUP_KEY).cloned().collect();
    if keys.is_empty() {
        o.insert(rng.pick(&corpus.strings).clone(), donor);
        return;
    }
    let key = rng.pick(&keys).clone();
    match rng.below(6) {
        0 => {
            o.remove(&key);
        }
        1 => {
            // write the key twice (serde keeps the last, or refuses)
            o.insert(DUP_KEY.to_string(), Value::String(key));
        }
        2 => {
            let other = rng.pick(&keys).clone();
            if let (Some(a), Some(b)) = (o.get(&key).cloned(), o.get(&other).cloned()) {
                o.insert(key, b);
                o.insert(other, a);
            }
        }
        3 => {
            o.insert(key, donor);
        }
        4 => {
            let name = if corpus.strings.is_empty() { "extra".to_string() } else { rng.pick(&corpus.strings).clone() };
            o.insert(name, donor);
        }
        _ => {
            // rename
            if let Some(v) = o.remove(&key) {
                let name = if corpus.strings.is_empty() { "x".to_string() } else { rng.pick(&corpus.strings).clone() };
                o.insert(name, v);
            }
        }
    }
}

/// JSON text of `v`, compact or indented, writing the key a `DUP_KEY`
/// marker names twice.
pub fn serialize(v: &Value, rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(v, &mut out, rng.chance(1, 8));
    out
}

fn write_value(v: &Value, out: &mut Vec<u8>, pretty: bool) {
    match v {
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if pretty {
                    out.extend_from_slice(b"\n  ");
                }
                write_value(x, out, pretty);
            }
            out.push(b']');
        }
        Value::Object(o) => {
            let dup = o.get(DUP_KEY).and_then(Value::as_str);
            out.push(b'{');
            let mut first = true;
            let entries = o.iter().filter(|(k, _)| *k != DUP_KEY);
            let again = o.iter().filter(|(k, _)| Some(k.as_str()) == dup);
            for (k, x) in entries.chain(again) {
                if !first {
                    out.push(b',');
                }
                first = false;
                if pretty {
                    out.extend_from_slice(b"\n ");
                }
                out.extend_from_slice(serde_json::to_string(k).unwrap_or_default().as_bytes());
                out.push(b':');
                write_value(x, out, pretty);
            }
            out.push(b'}');
        }
        leaf => out.extend_from_slice(serde_json::to_string(leaf).unwrap_or_default().as_bytes()),
    }
}

// ---- gzip ----------------------------------------------------------------

/// `v` in the split container, cut as the engine cuts it (the text before
/// the tree list, groups of trees, the text after), if it has trees.
fn split(v: &Value, rng: &mut Rng) -> Option<Vec<u8>> {
    let trees = v.get("trees")?.get("trees")?.as_array()?.clone();
    let mut shell = v.clone();
    *shell.get_mut("trees")?.get_mut("trees")? = Value::Array(vec![]);
    let text = serialize(&shell, rng);
    let text = String::from_utf8_lossy(&text).into_owned();
    let section = text.find("\"trees\":{")?;
    let at = section + text[section..].find("\"trees\":[]")? + "\"trees\":[".len();
    let mut out = gzip::member(&text.as_bytes()[..at], gzip::KIND_HEAD);
    let per = rng.range(1, 4);
    for (g, group) in trees.chunks(per).enumerate() {
        let mut t = Vec::new();
        for (i, tree) in group.iter().enumerate() {
            if g > 0 || i > 0 {
                t.push(b',');
            }
            t.extend_from_slice(&serialize(tree, rng));
        }
        out.extend(gzip::member(&t, gzip::KIND_TREES));
    }
    out.extend(gzip::member(&text.as_bytes()[at..], gzip::KIND_TAIL));
    Some(out)
}

const U32S: &[u32] = &[0, 1, 2, 7, 20, 21, 28, 29, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff, 1 << 24];

fn put_u32(b: &mut [u8], at: usize, x: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&x.to_le_bytes());
    }
}

pub fn gzip_op(b: &mut Vec<u8>, corpus: &Corpus, rng: &mut Rng) {
    let starts = gzip::members(b);
    if starts.is_empty() {
        byte_op(b, corpus, rng);
        return;
    }
    let k = rng.below(starts.len());
    let m = starts[k];
    let end = starts.get(k + 1).copied().unwrap_or(b.len());
    let split = b.get(m + 12..m + 14) == Some(b"FP".as_slice());
    match rng.below(12) {
        0 => {
            // ISIZE
            let x = if rng.chance(1, 2) {
                *rng.pick(U32S)
            } else {
                let at = end.saturating_sub(4);
                let cur = match b.get(at..at + 4) {
                    Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
                    None => 0,
                };
                cur.wrapping_add(rng.below(3) as u32).wrapping_sub(1)
            };
            put_u32(b, end.saturating_sub(4), x);
        }
        1 if split => {
            // the member's declared length
            let real = (end - m) as u32;
            let x = match rng.below(3) {
                0 => *rng.pick(U32S),
                1 => real.wrapping_add(rng.below(3) as u32).wrapping_sub(1),
                _ => b.len() as u32,
            };
            put_u32(b, m + 16, x);
        }
        2 => {
            // FLG: FTEXT 1, FHCRC 2, FEXTRA 4, FNAME 8, FCOMMENT 16, reserved
            if let Some(f) = b.get_mut(m + 3) {
                *f ^= 1 << rng.below(8);
            }
        }
        3 if split => {
            if let Some(kind) = b.get_mut(m + 20) {
                *kind = *rng.pick(&[0, 1, 2, 3, 255]);
            }
        }
        4 => {
            // CRC
            let at = end.saturating_sub(8);
            if at < b.len() {
                b[at] ^= 1 << rng.below(8);
            }
        }
        5 => {
            // XLEN, or the subfield's length
            let at = if rng.chance(1, 2) { m + 10 } else { m + 14 };
            let x = *rng.pick(&[0u16, 1, 4, 5, 8, 9, 10, 0xffff]);
            if let Some(s) = b.get_mut(at..at + 2) {
                s.copy_from_slice(&x.to_le_bytes());
            }
        }
        6 => {
            // compression method
            if let Some(x) = b.get_mut(m + 2) {
                *x = *rng.pick(&[0, 7, 9, 255]);
            }
        }
        7 if starts.len() > 1 => {
            b.drain(m..end);
        }
        8 => {
            let piece = b[m..end].to_vec();
            let at = *rng.pick(&starts);
            b.splice(at..at, piece);
        }
        9 => {
            // cut inside the member
            let cut = rng.range(m, end);
            b.truncate(cut);
        }
        10 => {
            // another member after it: a plain one, or the split kind
            let text: &[u8] = match rng.below(3) {
                0 => b"",
                1 => b" ",
                _ => b",{\"feature\":[-1],\"threshold\":[0],\"value\":[1]}",
            };
            let extra = if rng.chance(1, 2) { gzip::plain(text) } else { gzip::member(text, rng.below(4) as u8) };
            b.splice(end..end, extra);
        }
        _ => {
            // damage the deflate data
            let at = rng.range(m + 10, end);
            if at < b.len() {
                b[at] ^= 1 << rng.below(8);
            }
        }
    }
}
