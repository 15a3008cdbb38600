//! What the integration tests share: temporary directories and the
//! proptest configuration here, the random generator (`rng`), owned test
//! data (`data`) and hand-written documents (`build`).

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod build;
pub mod data;
pub mod rng;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::test_runner::Config as ProptestConfig;

/// A directory removed on drop (also when a property fails).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "fastpredict-{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub fn config(cases: u32) -> ProptestConfig {
    // no regression files: the suites must not write into the source tree
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}
