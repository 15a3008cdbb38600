//! fastpredict's mutation fuzzer: hostile model files against the
//! engine's loader and predictor. Stable Rust, std and the engine's public
//! API only (and serde_json for the structural mutations). See `main.rs`
//! for the command line and `driver` for the parent/worker design.

pub mod corpus;
pub mod driver;
pub mod exercise;
pub mod gzip;
pub mod mutate;
pub mod rng;
