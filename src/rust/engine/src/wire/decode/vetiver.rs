//! vetiver request bodies: an array of records or an object of columns.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{parse, KeyMemo, Table};
use crate::model::PredictOptions;
use crate::wire::cells::{Cells, Scalar};
use crate::wire::{Decoder, Failure, Request, WireLimits};

/// What a vetiver body must be, for messages.
const VETIVER_SHAPE: &str =
    "a vetiver request is a JSON array of records ([{\"x\": 1.5, \"f\": \"a\"}, ...]) or an object of columns ({\"x\": [1.5, 2]})";

pub(crate) fn vetiver(dec: &Decoder, body: &[u8], limits: &WireLimits) -> Result<Request, Failure> {
    let mut table = Table::new(dec, limits, body);
    let parsed = parse(body, Vetiver(&mut table));
    if let Some(f) = table.failure.take() {
        return Err(f);
    }
    parsed?;
    let frame = table.finish()?;
    Ok(Request { frame, options: PredictOptions::default(), id: None })
}

/// The top of a vetiver body: records or columns.
struct Vetiver<'t, 'd>(&'t mut Table<'d>);

impl<'de> DeserializeSeed<'de> for Vetiver<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Vetiver<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(VETIVER_SHAPE)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let t = self.0;
        loop {
            if t.rows == t.max_rows {
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(t.too_many_rows());
                }
                break;
            }
            let row = t.rows;
            if seq.next_element_seed(Record { t: &mut *t, row })?.is_none() {
                break;
            }
            t.rows += 1;
        }
        if t.rows == 0 {
            return Err(t.fail(Failure::Malformed("the request holds no rows".into())));
        }
        // the missing values that records leaving keys out will get
        let present = t.cols.iter().flatten().map(|c| t.rows - c.len()).sum();
        t.spend(present)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let t = self.0;
        while let Some(key) = map.next_key_seed(Key { dec: t.dec, memo: None })? {
            let Some(input) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if t.cols[input].is_some() {
                let msg = format!("column '{}' is given twice", t.dec.inputs[input].name);
                return Err(t.fail(Failure::Malformed(msg)));
            }
            t.cols[input] = Some(Cells::default());
            map.next_value_seed(Column { t: &mut *t, input })?;
            let n = t.cols[input].as_ref().map_or(0, Cells::len);
            t.rows = t.rows.max(n);
        }
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Err(self.0.fail(Failure::Malformed(format!("the body is null; {VETIVER_SHAPE}"))))
    }
}

/// A JSON object key, as the index of the model input it names.
struct Key<'m, 'd> {
    dec: &'d Decoder,
    /// In a record: the keys of the records before, by position, and the
    /// key's position. Records list their keys in the same order, so a key
    /// is first compared with the one at its position (hashing every key
    /// was a fifth of the time of a 1,000-row body).
    memo: Option<(&'m mut KeyMemo, usize)>,
}

/// Key positions a record's memo keeps.
const MEMO_KEYS: usize = 256;

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a column name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        let Some((memo, pos)) = self.memo else {
            return Ok(self.dec.input(v));
        };
        match memo.get(pos) {
            Some((key, input)) if key == v => return Ok(*input),
            _ => {}
        }
        let input = self.dec.input(v);
        if pos < memo.len() {
            memo[pos] = (v.to_owned(), input);
        } else if pos == memo.len() && pos < MEMO_KEYS {
            memo.push((v.to_owned(), input));
        }
        Ok(input)
    }
}

/// One record (row `row`).
struct Record<'t, 'd> {
    t: &'t mut Table<'d>,
    row: usize,
}

impl<'de> DeserializeSeed<'de> for Record<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Record<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "row {} to be a JSON object (a record)", self.row + 1)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Record { t, row } = self;
        let mut pos = 0;
        while let Some(key) = map.next_key_seed(Key { dec: t.dec, memo: Some((&mut t.keys, pos)) })? {
            pos += 1;
            let Some(input) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let len = t.cols[input].as_ref().map_or(0, Cells::len);
            if len > row {
                let msg = format!("column '{}' is given twice in row {}", t.dec.inputs[input].name, row + 1);
                return Err(t.fail(Failure::Malformed(msg)));
            }
            t.spend(row - len + 1)?;
            t.cols[input].get_or_insert_with(Cells::default).pad_to(row);
            map.next_value_seed(Value { t: &mut *t, input, row })?;
        }
        Ok(())
    }

    /// A matrix row (a model that predicts from a matrix): the values of
    /// the inputs in their order, all of them.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Record { t, row } = self;
        let p = t.dec.inputs.len();
        if !t.dec.matrix {
            let msg = format!("row {} is an array; {VETIVER_SHAPE}", row + 1);
            return Err(t.fail(Failure::Malformed(msg)));
        }
        let mut input = 0;
        loop {
            if input == p {
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    let msg = format!("row {} has more than {p} values, the model's inputs", row + 1);
                    return Err(t.fail(Failure::Malformed(msg)));
                }
                return Ok(());
            }
            let len = t.cols[input].as_ref().map_or(0, Cells::len);
            t.spend(row.saturating_sub(len) + 1)?;
            t.cols[input].get_or_insert_with(Cells::default).pad_to(row);
            if seq.next_element_seed(Value { t: &mut *t, input, row })?.is_none() {
                let msg = format!("row {} has {input} values; the model reads {p} inputs", row + 1);
                return Err(t.fail(Failure::Malformed(msg)));
            }
            input += 1;
        }
    }
}

/// One value of a column.
struct Value<'t, 'd> {
    t: &'t mut Table<'d>,
    input: usize,
    row: usize,
}

impl<'de> DeserializeSeed<'de> for Value<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a string, true, false or null")
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.t.push(self.input, self.row, Scalar::Num(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.t.push(self.input, self.row, Scalar::Num(v as f64))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.t.push(self.input, self.row, Scalar::Num(v as f64))
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.t.push(self.input, self.row, Scalar::Bool(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.t.push(self.input, self.row, Scalar::Str(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.t.push(self.input, self.row, Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.nested("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.nested("an object"))
    }
}

impl Value<'_, '_> {
    fn nested<E: serde::de::Error>(self, what: &str) -> E {
        let msg = format!(
            "column '{}' holds {what} in row {}; a column holds one value per row",
            self.t.dec.inputs[self.input].name,
            self.row + 1
        );
        self.t.fail(Failure::Malformed(msg))
    }
}

/// A whole column (`"x": [1, 2]`), or one value (`"x": 1`, a single row).
struct Column<'t, 'd> {
    t: &'t mut Table<'d>,
    input: usize,
}

impl<'de> DeserializeSeed<'de> for Column<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'t, 'd> Column<'t, 'd> {
    /// A column given as a single value is one row.
    fn one(self) -> Value<'t, 'd> {
        Value { t: self.t, input: self.input, row: 0 }
    }
}

impl<'de> Visitor<'de> for Column<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of values")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Column { t, input } = self;
        let mut row = 0;
        loop {
            if row == t.max_rows {
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(t.too_many_rows());
                }
                return Ok(());
            }
            t.spend(1)?;
            if seq.next_element_seed(Value { t: &mut *t, input, row })?.is_none() {
                return Ok(());
            }
            row += 1;
        }
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.one().visit_f64(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.one().visit_i64(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.one().visit_u64(v)
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.one().visit_bool(v)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.one().visit_str(v)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.one().visit_unit()
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        let msg =
            format!("column '{}' holds an object; give it an array of values", self.t.dec.inputs[self.input].name);
        Err(self.t.fail(Failure::Malformed(msg)))
    }
}
