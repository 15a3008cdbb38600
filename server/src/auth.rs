//! API keys: read from FASTPREDICT_API_KEY or a file, checked in constant time against their SHA-256.

use std::path::Path;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The accepted keys, kept only as digests.
pub struct Keys {
    digests: Vec<[u8; 32]>,
}

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Missing,
    Wrong,
}

fn digest(key: &[u8]) -> [u8; 32] {
    Sha256::digest(key).into()
}

impl Keys {
    /// The keys from the environment variable (comma-separated) and the file (one per line, `#` comments),
    /// or `None` when neither gives one (then the server is open).
    pub fn load(env: Option<String>, file: Option<&Path>) -> Result<Option<Keys>, String> {
        let mut keys: Vec<String> = Vec::new();
        if let Some(v) = env {
            keys.extend(v.split(',').map(|k| k.trim().to_string()));
        }
        if let Some(f) = file {
            let text = std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read the API key file '{}': {e}", f.display()))?;
            keys.extend(text.lines().map(str::trim).filter(|l| !l.starts_with('#')).map(String::from));
        }
        keys.retain(|k| !k.is_empty());
        if keys.is_empty() {
            return Ok(None);
        }
        Ok(Some(Keys { digests: keys.iter().map(|k| digest(k.as_bytes())).collect() }))
    }

    /// The index of the key a request presents (`Authorization: Bearer`, `Authorization: Key`, `X-API-Key`).
    /// Every stored digest is compared, so the time taken does not depend on which one matches.
    pub fn check(&self, headers: &HeaderMap) -> Result<usize, Refused> {
        let presented = presented(headers).ok_or(Refused::Missing)?;
        let d = digest(presented);
        let mut found = None;
        for (i, k) in self.digests.iter().enumerate() {
            if bool::from(k.ct_eq(&d)) {
                found = Some(i);
            }
        }
        found.ok_or(Refused::Wrong)
    }
}

fn presented(headers: &HeaderMap) -> Option<&[u8]> {
    if let Some(v) = headers.get("x-api-key") {
        return Some(v.as_bytes());
    }
    let auth = headers.get(axum::http::header::AUTHORIZATION)?.as_bytes();
    let space = auth.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = auth.split_at(space);
    let key = rest.trim_ascii();
    (scheme.eq_ignore_ascii_case(b"bearer") || scheme.eq_ignore_ascii_case(b"key")).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn every_scheme_and_wrong_keys() {
        let keys = Keys::load(Some("alpha, beta".into()), None).unwrap().unwrap();
        assert_eq!(keys.check(&headers(&[("authorization", "Bearer beta")])), Ok(1));
        assert_eq!(keys.check(&headers(&[("authorization", "Key alpha")])), Ok(0));
        assert_eq!(keys.check(&headers(&[("x-api-key", "alpha")])), Ok(0));
        assert_eq!(keys.check(&headers(&[("authorization", "bearer  alpha ")])), Ok(0));
        assert_eq!(keys.check(&headers(&[("authorization", "Basic alpha")])), Err(Refused::Missing));
        assert_eq!(keys.check(&headers(&[("x-api-key", "alph")])), Err(Refused::Wrong));
        assert_eq!(keys.check(&headers(&[])), Err(Refused::Missing));
        assert!(Keys::load(Some(" ".into()), None).unwrap().is_none());
    }
}
