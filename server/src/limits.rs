//! Request limits: body size and arrival deadline, a concurrency limit that sheds load, a per-client token bucket.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::errors::ApiError;

/// Read a whole body: at most `max` bytes (else 413) before `deadline` (else 408).
pub async fn read_body(body: Body, headers: &HeaderMap, max: usize, deadline: Instant) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            413,
            "too_large",
            format!("the request body is larger than {max} bytes, the most this server accepts"),
        )
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let read = Limited::new(body, max).collect();
    match tokio::time::timeout_at(deadline.into(), read).await {
        Err(_) => Err(ApiError::new(408, "timeout", "the request body did not arrive in time")),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::bad_request(format!("cannot read the request body: {e}"))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Predictions in flight, refused beyond the limit rather than queued: a client can retry elsewhere.
pub struct Concurrency {
    permits: Arc<Semaphore>,
    max: usize,
}

impl Concurrency {
    pub fn new(max: usize) -> Concurrency {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Concurrency { permits: Arc::new(Semaphore::new(max)), max }
    }

    pub fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        Arc::clone(&self.permits).try_acquire_owned().map_err(|_| {
            ApiError::new(
                503,
                "overloaded",
                format!("the server is busy ({} predictions in flight); retry shortly", self.max),
            )
            .retry_after(1)
        })
    }
}

/// Who a rate limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Client {
    Key(usize),
    Ip(IpAddr),
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets: each client gets `rate` requests a second and may save up `burst`.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<Client, Bucket>>,
}

/// Buckets kept before full ones (clients idle long enough to be back at `burst`) are dropped.
const MAX_BUCKETS: usize = 10_000;

impl RateLimiter {
    /// `None` when `rate` is 0 (no limit).
    pub fn new(rate: f64, burst: f64) -> Option<RateLimiter> {
        (rate > 0.0).then(|| RateLimiter { rate, burst: burst.max(1.0), buckets: Mutex::new(HashMap::new()) })
    }

    /// Take a token for `client`, or say how long until one is there.
    pub fn take(&self, client: Client, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&client) {
            let refill = Duration::from_secs_f64(self.burst / self.rate);
            buckets.retain(|_, b| now.duration_since(b.at) < refill);
        }
        let b = buckets.entry(client).or_insert(Bucket { tokens: self.burst, at: now });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * self.rate).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_at_the_rate() {
        let limiter = RateLimiter::new(2.0, 3.0).unwrap();
        let t0 = Instant::now();
        let c = Client::Key(0);
        for _ in 0..3 {
            assert!(limiter.take(c, t0).is_ok());
        }
        let wait = limiter.take(c, t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9);
        assert!(limiter.take(Client::Key(1), t0).is_ok(), "clients have their own buckets");
        assert!(limiter.take(c, t0 + Duration::from_millis(500)).is_ok());
        assert!(limiter.take(c, t0 + Duration::from_millis(500)).is_err());
        assert!(RateLimiter::new(0.0, 5.0).is_none());
    }
}
