//! What a prediction looks like, and the one way every family writes it.
//!
//! The caller allocates the output once (an R vector, a server's buffer)
//! and hands it over as [`OutBuf`]s, one per part. The output is cut into
//! [`RowBlock`]s: the same rows of every column of every part, borrowed
//! mutably. Blocks are disjoint, so tasks fill them in parallel without
//! `unsafe`.

use std::ops::Range;

use serde::Serialize;

use crate::error::{Error, Result};

/// What the values of a prediction are.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Doubles.
    Real,
    /// A factor: 1-based integer codes into these levels (`i32::MIN` is NA).
    Factor(Vec<String>),
    /// Text drawn from these labels, written as a factor's codes and given
    /// to R as a character vector (glmnet's classes).
    Character(Vec<String>),
}

impl ValueKind {
    /// Whether the values are written as integer codes.
    pub fn is_codes(&self) -> bool {
        matches!(self, ValueKind::Factor(_) | ValueKind::Character(_))
    }
}

/// One array of a prediction: a vector (`dim` = None) or an array whose
/// first dimension is the rows, with optional names per dimension.
/// Column-major, as R stores it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArrayShape {
    pub values: ValueKind,
    pub dim: Option<Vec<usize>>,
    pub dimnames: Option<Vec<Option<Vec<String>>>>,
    /// A class attribute the source package puts on the result.
    pub class: Option<Vec<String>>,
    /// Named numbers the source package attaches to the result
    /// (`predict.lm(type = "terms")`'s "constant").
    pub attributes: Vec<(String, f64)>,
    /// The source package returns a single row as a plain vector, named
    /// by the last dimension's names (as `drop()` does): the values are
    /// those of the array, without its dimensions.
    pub drop: bool,
}

impl ArrayShape {
    pub fn vector() -> ArrayShape {
        ArrayShape {
            values: ValueKind::Real,
            dim: None,
            dimnames: None,
            class: None,
            attributes: Vec::new(),
            drop: false,
        }
    }

    pub fn factor(levels: Vec<String>) -> ArrayShape {
        ArrayShape { values: ValueKind::Factor(levels), ..ArrayShape::vector() }
    }

    /// A rows x `cols` matrix of doubles with these column names.
    pub fn matrix(cols: usize, names: Option<Vec<String>>) -> ArrayShape {
        ArrayShape { dim: Some(vec![0, cols]), dimnames: Some(vec![None, names]), ..ArrayShape::vector() }
    }

    /// Values per row (the product of the dimensions after the first).
    pub fn ncols(&self) -> usize {
        self.dim.as_ref().map_or(1, |d| d[1..].iter().product())
    }

    /// Number of values for `nrows` rows.
    pub fn len(&self, nrows: usize) -> usize {
        nrows * self.ncols()
    }

    fn with_rows(mut self, nrows: usize) -> ArrayShape {
        if let Some(d) = self.dim.as_mut() {
            d[0] = nrows;
        }
        self
    }
}

/// The shape of a whole prediction: one array, or a list of named parts
/// (as `predict.lm(se.fit = TRUE)` returns).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputShape {
    Array(ArrayShape),
    List(Vec<(String, Part)>),
}

/// One part of a list: an array with a value per row, or a number known
/// before the call runs (`predict.lm`'s `df` and `residual.scale`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Array(ArrayShape),
    Number(f64),
    /// Numbers known before the call runs, not one per row (a survival
    /// forest's `unique.death.times`).
    Numbers(Vec<f64>),
}

impl OutputShape {
    /// The arrays in order (one for an array): the parts that need buffers.
    pub fn parts(&self) -> Vec<&ArrayShape> {
        match self {
            OutputShape::Array(a) => vec![a],
            OutputShape::List(l) => l
                .iter()
                .filter_map(|(_, p)| match p {
                    Part::Array(a) => Some(a),
                    Part::Number(_) | Part::Numbers(_) => None,
                })
                .collect(),
        }
    }

    /// The array, if the prediction is one.
    pub fn array(&self) -> Option<&ArrayShape> {
        match self {
            OutputShape::Array(a) => Some(a),
            OutputShape::List(_) => None,
        }
    }

    /// The same shape with the row count filled in.
    pub(crate) fn with_rows(self, nrows: usize) -> OutputShape {
        match self {
            OutputShape::Array(a) => OutputShape::Array(a.with_rows(nrows)),
            OutputShape::List(l) => OutputShape::List(
                l.into_iter()
                    .map(|(n, p)| match p {
                        Part::Array(a) => (n, Part::Array(a.with_rows(nrows))),
                        number => (n, number),
                    })
                    .collect(),
            ),
        }
    }
}

impl From<ArrayShape> for OutputShape {
    fn from(a: ArrayShape) -> OutputShape {
        OutputShape::Array(a)
    }
}

/// The caller's buffer for one part, allocated once for the whole call.
#[derive(Debug)]
pub enum OutBuf<'o> {
    Real(&'o mut [f64]),
    Int(&'o mut [i32]),
}

impl OutBuf<'_> {
    fn len(&self) -> usize {
        match self {
            OutBuf::Real(o) => o.len(),
            OutBuf::Int(o) => o.len(),
        }
    }
}

/// An owned prediction, for callers that do not bring their own buffers.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub shape: OutputShape,
    pub nrows: usize,
    pub parts: Vec<Values>,
}

/// The values of one part, column-major.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Real(Vec<f64>),
    Int(Vec<i32>),
}

impl Values {
    pub(crate) fn alloc(shape: &ArrayShape, nrows: usize) -> Values {
        if shape.values.is_codes() {
            Values::Int(vec![0; shape.len(nrows)])
        } else {
            Values::Real(vec![0.0; shape.len(nrows)])
        }
    }

    pub(crate) fn buf(&mut self) -> OutBuf<'_> {
        match self {
            Values::Real(v) => OutBuf::Real(v),
            Values::Int(v) => OutBuf::Int(v),
        }
    }
}

/// One column of a block.
enum ColMut<'o> {
    Real(&'o mut [f64]),
    Int(&'o mut [i32]),
}

/// Rows `rows` of every output column: the columns of the first part, then
/// those of the next.
pub(crate) struct RowBlock<'o> {
    rows: Range<usize>,
    cols: Vec<ColMut<'o>>,
}

impl RowBlock<'_> {
    /// The block's rows, as indices into the whole input.
    pub fn rows(&self) -> Range<usize> {
        self.rows.clone()
    }

    /// Column `c` of a real part (empty if it is not one, which the shape
    /// check before a run rules out).
    pub fn real(&mut self, c: usize) -> &mut [f64] {
        match self.cols.get_mut(c) {
            Some(ColMut::Real(s)) => s,
            _ => &mut [],
        }
    }

    /// Column `c` of an integer part.
    pub fn int(&mut self, c: usize) -> &mut [i32] {
        match self.cols.get_mut(c) {
            Some(ColMut::Int(s)) => s,
            _ => &mut [],
        }
    }
}

/// Check `parts` against `shape` for `nrows` rows, and cut them into
/// blocks of `task_rows` rows.
pub(crate) fn split_rows<'o>(
    parts: Vec<OutBuf<'o>>,
    shape: &OutputShape,
    nrows: usize,
    task_rows: usize,
) -> Result<Vec<RowBlock<'o>>> {
    // a single array (most predictions) needs no list of its parts
    let (single, list);
    let arrays: &[&ArrayShape] = match shape {
        OutputShape::Array(a) => {
            single = [a];
            &single
        }
        OutputShape::List(_) => {
            list = shape.parts();
            &list
        }
    };
    if parts.len() != arrays.len() {
        return Err(Error::internal(format!("{} output parts for a shape of {}", parts.len(), arrays.len())));
    }
    for (p, a) in parts.iter().zip(arrays) {
        let int = a.values.is_codes();
        if p.len() != a.len(nrows) || int != matches!(p, OutBuf::Int(_)) {
            return Err(Error::internal("an output buffer does not match the prediction's shape"));
        }
    }
    let task_rows = task_rows.max(1);
    let nblocks = nrows.div_ceil(task_rows);
    let mut blocks: Vec<RowBlock> = (0..nblocks)
        .map(|b| RowBlock { rows: b * task_rows..((b + 1) * task_rows).min(nrows), cols: Vec::new() })
        .collect();
    if nrows == 0 {
        return Ok(blocks);
    }
    for (p, a) in parts.into_iter().zip(arrays) {
        let ncols = a.ncols();
        match p {
            OutBuf::Real(buf) => {
                for col in buf.chunks_mut(nrows).take(ncols) {
                    for (b, piece) in blocks.iter_mut().zip(col.chunks_mut(task_rows)) {
                        b.cols.push(ColMut::Real(piece));
                    }
                }
            }
            OutBuf::Int(buf) => {
                for col in buf.chunks_mut(nrows).take(ncols) {
                    for (b, piece) in blocks.iter_mut().zip(col.chunks_mut(task_rows)) {
                        b.cols.push(ColMut::Int(piece));
                    }
                }
            }
        }
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests;
