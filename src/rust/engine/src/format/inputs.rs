//! The input prototype: the columns a model reads and their R types.

use serde::{Deserialize, Serialize};

/// What R type a column had at training time, which decides what is
/// accepted at prediction time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    /// Double or integer.
    Numeric,
    /// Logical only.
    Logical,
    /// Factor or character, matched to `levels` by name.
    Factor,
    /// As `Factor`; the training column was an ordered factor.
    Ordered,
    /// As `Factor`; the training column was a character vector.
    Character,
    /// Any atomic type: the model converts it itself, as R's inline
    /// `factor(x)` or `as.numeric(x)` do.
    Any,
    /// A number, a logical (0/1) or a factor read by its level code, as
    /// `data.matrix()` reads them (ranger without its training levels).
    /// Text is refused: its codes would depend on the data and the locale.
    /// Since format 1.1.
    Coded,
}

impl InputType {
    pub fn as_str(&self) -> &'static str {
        match self {
            InputType::Numeric => "numeric",
            InputType::Logical => "logical",
            InputType::Factor => "factor",
            InputType::Ordered => "ordered",
            InputType::Character => "character",
            InputType::Any => "any",
            InputType::Coded => "coded",
        }
    }

    pub fn is_categorical(&self) -> bool {
        matches!(self, InputType::Factor | InputType::Ordered | InputType::Character)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: InputType,
    /// Training levels of a factor or character column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<String>>,
}
