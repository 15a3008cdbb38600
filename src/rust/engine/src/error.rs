//! One error type for the whole engine. Each variant has a stable `kind()`
//! string; the R layer turns it into the condition class
//! `fastpredict_error_<kind>`, so keep the names stable.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A column the model needs is not in the input.
    MissingColumn { column: String },
    /// A column has a type the model cannot use (factor where a number is
    /// expected, and the reverse).
    WrongType { column: String, expected: String, found: String },
    /// A factor level that the model did not see in training.
    UnseenLevel { column: String, level: String },
    /// The input columns do not have one common length.
    LengthMismatch { column: String, expected: usize, found: usize },
    /// A model file that cannot be parsed: empty, truncated, not JSON, not
    /// a fastpredict model, or structurally invalid.
    CorruptFile { file: String, detail: String },
    /// A model file written by a newer, incompatible format version.
    NewerFormat { file: String, found: String, supported: String },
    /// A model document that parses but is inconsistent.
    InvalidModel { detail: String },
    /// Something the engine deliberately does not do.
    Unsupported { what: String },
    /// A bad argument to a prediction call.
    BadArgument { detail: String },
    /// Reading or writing a file failed.
    Io { file: String, detail: String },
    /// The user interrupted a long prediction.
    Interrupted,
    /// A prediction ran past its deadline (a server's per-request limit).
    Timeout { seconds: f64 },
    /// A broken invariant of fastpredict itself: a bug to report.
    Internal { detail: String },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Stable machine-readable name of the error class.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::MissingColumn { .. } => "missing_column",
            Error::WrongType { .. } => "wrong_type",
            Error::UnseenLevel { .. } => "unseen_level",
            Error::LengthMismatch { .. } => "length_mismatch",
            Error::CorruptFile { .. } => "corrupt_file",
            Error::NewerFormat { .. } => "newer_format",
            Error::InvalidModel { .. } => "invalid_model",
            Error::Unsupported { .. } => "unsupported",
            Error::BadArgument { .. } => "bad_argument",
            Error::Io { .. } => "io",
            Error::Interrupted => "interrupted",
            Error::Timeout { .. } => "timeout",
            Error::Internal { .. } => "internal",
        }
    }

    pub fn invalid(detail: impl Into<String>) -> Self {
        Error::InvalidModel { detail: detail.into() }
    }

    /// Refuse non-finite numbers: JSON cannot hold them, so a model with one
    /// could not be saved and read back.
    pub fn check_finite(what: &str, values: &[f64]) -> Result<()> {
        match values.iter().find(|v| !v.is_finite()) {
            Some(v) => Err(Error::invalid(format!("{what} holds the non-finite number {v}"))),
            None => Ok(()),
        }
    }

    /// A document that cannot be read as a model (the file name is added
    /// by `in_file` where there is one).
    pub fn corrupt(detail: impl Into<String>) -> Self {
        Error::CorruptFile { file: String::new(), detail: detail.into() }
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Error::Internal { detail: detail.into() }
    }

    /// Say where a document error was found ("tree 3: ...").
    pub fn context(self, prefix: impl std::fmt::Display) -> Self {
        match self {
            Error::InvalidModel { detail } => Error::InvalidModel { detail: format!("{prefix}: {detail}") },
            Error::CorruptFile { file, detail } => Error::CorruptFile { file, detail: format!("{prefix}: {detail}") },
            Error::Unsupported { what } => Error::Unsupported { what: format!("{what} ({prefix})") },
            other => other,
        }
    }

    pub fn bad_argument(detail: impl Into<String>) -> Self {
        Error::BadArgument { detail: detail.into() }
    }

    pub fn unsupported(what: impl Into<String>) -> Self {
        Error::Unsupported { what: what.into() }
    }

    /// Attach a file name to an error raised while parsing a document that
    /// came from that file.
    pub fn in_file(self, file: &str) -> Self {
        match self {
            Error::CorruptFile { detail, .. } => Error::CorruptFile { file: file.to_string(), detail },
            Error::NewerFormat { found, supported, .. } => {
                Error::NewerFormat { file: file.to_string(), found, supported }
            }
            Error::InvalidModel { detail } => Error::CorruptFile { file: file.to_string(), detail },
            other => other,
        }
    }
}

fn describe_file(file: &str) -> String {
    if file.is_empty() {
        "model document".to_string()
    } else {
        format!("model file '{file}'")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MissingColumn { column } => {
                write!(f, "column '{column}' is used by the model but missing from newdata")
            }
            Error::WrongType { column, expected, found } => {
                write!(f, "column '{column}' must be {expected}, but {found} was supplied")
            }
            Error::UnseenLevel { column, level } => {
                write!(f, "column '{column}' has level '{level}', which the model did not see in training")
            }
            Error::LengthMismatch { column, expected, found } => {
                write!(f, "column '{column}' has {found} values, but other columns have {expected}")
            }
            Error::CorruptFile { file, detail } => {
                write!(f, "{} is corrupt or not a fastpredict model: {detail}", describe_file(file))
            }
            Error::NewerFormat { file, found, supported } => write!(
                f,
                "{} uses format version {found}, newer than this fastpredict supports ({supported}); \
                 upgrade fastpredict to read it",
                describe_file(file)
            ),
            Error::InvalidModel { detail } => write!(f, "invalid model: {detail}"),
            Error::Unsupported { what } => write!(f, "not supported: {what}"),
            Error::BadArgument { detail } => write!(f, "{detail}"),
            Error::Io { file, detail } => write!(f, "cannot access '{file}': {detail}"),
            Error::Interrupted => write!(f, "prediction interrupted by the user"),
            Error::Timeout { seconds } => write!(f, "the prediction took longer than the {seconds} s allowed"),
            Error::Internal { detail } => write!(f, "internal error in fastpredict (please report it): {detail}"),
        }
    }
}

impl std::error::Error for Error {}
