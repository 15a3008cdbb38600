//! The tests' one random generator: SplitMix64. Proptest draws the shape of
//! a case (what shrinks); details come from these streams, so that shrinking
//! one part of a case leaves the others unchanged.

#[derive(Clone)]
pub struct Rng(u64);

fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// The stream keyed by (seed, stream): independent streams from one seed.
    pub fn new(seed: u64, stream: u64) -> Rng {
        Rng(finalize(seed.wrapping_add(finalize(stream ^ 0x5DEE_CE66_D1CE_4E5B))))
    }

    /// Plain SplitMix64 from `state`, for tests that need one fixed stream.
    pub fn from_state(state: u64) -> Rng {
        Rng(state)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        finalize(self.0)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            xs.swap(i, self.below(i + 1));
        }
    }
}
