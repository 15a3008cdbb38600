//! Request bodies, read in one pass straight into columns (no JSON tree is
//! built, so a body costs about the size of its values). A serde visitor
//! can only fail with a message; a failure that must keep its kind is put
//! in the state and the parse stopped.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::cells::{Cells, Scalar};
use super::{Decoder, Failure, WireLimits, SPARE_VALUES};
use crate::error::Error;
use crate::frame::FrameBuf;

/// The columns being read, one slot per model input.
struct Table<'d> {
    dec: &'d Decoder,
    cols: Vec<Option<Cells>>,
    rows: usize,
    /// Values stored so far, and how many the body may expand to.
    values: usize,
    max_values: usize,
    max_rows: usize,
    failure: Option<Failure>,
    /// The keys of a vetiver record, by position (see `vetiver::Key`).
    keys: KeyMemo,
}

/// Keys by their position in an object, and the inputs they name.
type KeyMemo = Vec<(String, Option<usize>)>;

impl<'d> Table<'d> {
    fn new(dec: &'d Decoder, limits: &WireLimits, body: &[u8]) -> Table<'d> {
        Table {
            dec,
            cols: (0..dec.inputs.len()).map(|_| None).collect(),
            rows: 0,
            values: 0,
            max_values: body.len().saturating_add(SPARE_VALUES),
            max_rows: limits.max_rows,
            failure: None,
            keys: Vec::new(),
        }
    }

    /// Record a failure and stop the parse.
    fn fail<E: serde::de::Error>(&mut self, f: Failure) -> E {
        if self.failure.is_none() {
            self.failure = Some(f);
        }
        E::custom("stopped")
    }

    /// Count `n` more values against the budget.
    fn spend<E: serde::de::Error>(&mut self, n: usize) -> Result<(), E> {
        self.values = self.values.saturating_add(n);
        if self.values > self.max_values {
            let msg = format!(
                "the request expands to more than {} values; send fewer rows or leave out fewer columns",
                self.max_values
            );
            return Err(self.fail(Failure::TooLarge(msg)));
        }
        Ok(())
    }

    /// The most values a tensor may hold: one per row, or a row of values
    /// per row for a model that reads a matrix (whose rows are counted once
    /// the tensor's shape is known).
    fn max_cells(&self) -> usize {
        if self.dec.matrix {
            self.max_rows.saturating_mul(self.dec.inputs.len())
        } else {
            self.max_rows
        }
    }

    fn too_many_rows<E: serde::de::Error>(&mut self) -> E {
        let f = too_many_rows(self.max_rows);
        self.fail(f)
    }

    fn push<E: serde::de::Error>(&mut self, input: usize, row: usize, x: Scalar) -> Result<(), E> {
        let cells = self.cols[input].get_or_insert_with(Cells::default);
        if let Err((expected, found)) = cells.push(x) {
            let column = self.dec.inputs[input].name.clone();
            let found = format!("{found} (row {})", row + 1);
            return Err(self.fail(Failure::Engine(Error::WrongType { column, expected, found })));
        }
        Ok(())
    }

    /// The frame: each input the body gave, checked against its type.
    fn finish(self) -> Result<FrameBuf, Failure> {
        let mut frame = FrameBuf::new();
        for (spec, cells) in self.dec.inputs.iter().zip(self.cols) {
            if let Some(mut cells) = cells {
                cells.pad_to(self.rows);
                frame.push(spec.name.clone(), cells.finish(spec)?);
            }
        }
        frame.set_nrows(self.rows);
        Ok(frame)
    }
}

fn too_many_rows(max_rows: usize) -> Failure {
    Failure::TooLarge(format!("the request has more than {max_rows} rows, the most this server accepts per request"))
}

/// Parse `body` with `seed`; a syntax error becomes a message with its
/// place. (A stopped parse is reported from the table's `failure`, which
/// the caller checks first.)
fn parse<'de, S: DeserializeSeed<'de, Value = ()>>(body: &'de [u8], seed: S) -> Result<(), Failure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Failure::Malformed("the request body is empty".into()));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let result = seed.deserialize(&mut de).and_then(|_| de.end());
    result.map_err(|e| Failure::Malformed(format!("the request body is not valid JSON: {e}")))
}

/// Whether the top level of a JSON object has `key` (false if the body is
/// not an object, or not JSON before the key). Stops reading at the key.
pub(crate) fn has_top_level_key(body: &[u8], key: &str) -> bool {
    struct Keys<'k> {
        key: &'k str,
        found: &'k mut bool,
    }
    impl<'de> Visitor<'de> for Keys<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if k == self.key {
                    // the parse stops here, unfinished: its result says nothing
                    *self.found = true;
                    return Ok(());
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let mut found = false;
    let mut de = serde_json::Deserializer::from_slice(body);
    let _ = serde::Deserializer::deserialize_map(&mut de, Keys { key, found: &mut found });
    found
}

mod oip;
pub(super) mod typed;
mod vetiver;

pub(crate) use oip::oip;
use oip::{add_tensor, unknown_datatype, Tensor};
pub(crate) use vetiver::vetiver;
