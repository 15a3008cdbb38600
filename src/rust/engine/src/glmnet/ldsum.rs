//! R's `sum()` of doubles, which adds in C's `long double` and rounds the
//! total to a double once. The multinomial response divides by such a sum
//! (`apply(exp(link), c(2, 3), sum)` in `predict.multnet()`); adding in
//! doubles would differ from R in the last bit now and then.
//!
//! The additions are emulated exactly, in integers: each partial sum is
//! rounded to the significand of the platform's `long double` (to nearest,
//! ties to even), the total then to a double.

/// Bits of the `long double` significand R is built with: the x87
/// extended format on x86, IEEE quadruple precision on 64-bit ARM Linux,
/// and a plain double elsewhere (macOS on ARM, where the two are one).
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
const PRECISION: u32 = 64;
#[cfg(all(target_arch = "aarch64", not(target_vendor = "apple")))]
const PRECISION: u32 = 113;
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    all(target_arch = "aarch64", not(target_vendor = "apple"))
)))]
const PRECISION: u32 = 53;

/// Where a significand's top bit sits while two are added: two bits of
/// room for the carry above it, and at least 12 guard bits below the
/// kept ones.
const TOP: u32 = 125;

/// A positive number `m * 2^e` with `m`'s top bit at `TOP` (or zero).
#[derive(Debug, Clone, Copy)]
struct Wide {
    m: u128,
    e: i32,
}

impl Wide {
    const ZERO: Wide = Wide { m: 0, e: 0 };

    /// A finite double of at least zero.
    fn of(x: f64) -> Wide {
        let bits = x.to_bits();
        let (frac, exp) = (bits & ((1 << 52) - 1), ((bits >> 52) & 0x7ff) as i32);
        let (m, e) = if exp == 0 { (frac, -1074) } else { (frac | (1 << 52), exp - 1075) };
        if m == 0 {
            return Wide::ZERO;
        }
        let shift = m.leading_zeros() as i32 + 64 - (127 - TOP as i32);
        Wide { m: (m as u128) << shift, e: e - shift }
    }

    /// `self + other`, rounded to `PRECISION` bits.
    fn add(self, other: Wide) -> Wide {
        let (a, b) = if other.m == 0 || (self.m != 0 && self.e >= other.e) { (self, other) } else { (other, self) };
        if b.m == 0 {
            return a;
        }
        let shift = (a.e - b.e) as u32;
        let (bm, sticky) = if shift >= 128 { (0, true) } else { (b.m >> shift, b.m & ((1u128 << shift) - 1) != 0) };
        let sum = a.m + bm;
        let top = 127 - sum.leading_zeros();
        round(sum, a.e, top, PRECISION, sticky)
    }

    /// The nearest double (ties to even), infinite above the largest.
    fn to_f64(self) -> f64 {
        if self.m == 0 {
            return 0.0;
        }
        // the value is 1.x * 2^exp
        let exp = self.e + TOP as i32;
        if exp > 1023 {
            return f64::INFINITY;
        }
        if exp >= -1022 {
            let r = round(self.m, self.e, TOP, 53, false);
            let exp = r.e + TOP as i32;
            if exp > 1023 {
                return f64::INFINITY;
            }
            let m = (r.m >> (TOP - 52)) as u64;
            return f64::from_bits((((exp + 1023) as u64) << 52) | (m & ((1 << 52) - 1)));
        }
        // subnormal: fewer significant bits, down to 2^-1074
        let keep = exp + 1075;
        if keep <= 0 {
            // below half the smallest subnormal is zero; exactly half is a
            // tie, to even: zero
            return if keep == 0 && self.m > (1u128 << TOP) { f64::from_bits(1) } else { 0.0 };
        }
        let r = round(self.m, self.e, TOP, keep as u32, false);
        // a whole number of 2^-1074, which is the subnormal's bit pattern
        // (2^52 of them is the smallest normal, whose pattern it also is)
        f64::from_bits((r.m >> (-1074 - r.e) as u32) as u64)
    }
}

/// `m * 2^e`, whose top bit is `top`, rounded to `bits` significant bits
/// (to nearest, ties to even; `sticky`: some nonzero bits below `m` were
/// dropped), renormalised to `TOP`.
fn round(m: u128, e: i32, top: u32, bits: u32, sticky: bool) -> Wide {
    let cut = top + 1 - bits;
    let mut kept = m >> cut;
    let rest = m & ((1u128 << cut) - 1);
    let half = 1u128 << (cut - 1);
    if rest > half || (rest == half && (sticky || kept & 1 == 1)) {
        kept += 1;
    }
    let mut e = e + cut as i32;
    if kept >> bits != 0 {
        kept >>= 1;
        e += 1;
    }
    let shift = TOP + 1 - bits;
    Wide { m: kept << shift, e: e - shift as i32 }
}

/// `sum(x)` as R computes it, for values that are at least zero: NaN if
/// one is (the first), infinite if one is.
pub(super) fn sum(x: impl Iterator<Item = f64>) -> f64 {
    let mut s = Wide::ZERO;
    let mut inf = false;
    for v in x {
        if v.is_nan() {
            return v;
        }
        if v.is_infinite() {
            inf = true;
            continue;
        }
        s = s.add(Wide::of(v));
    }
    if inf {
        f64::INFINITY
    } else {
        s.to_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum_of(x: &[f64]) -> f64 {
        sum(x.iter().copied())
    }

    #[test]
    fn doubles_round_trip() {
        for x in [0.0, 1.0, 0.1, 3.5e-300, f64::MIN_POSITIVE, 5e-324, 1e-310, f64::MAX, 123456.789] {
            assert_eq!(Wide::of(x).to_f64().to_bits(), x.to_bits(), "{x}");
        }
    }

    #[test]
    fn exact_sums_are_exact() {
        assert_eq!(sum_of(&[1.0, 2.0, 3.5]), 6.5);
        assert_eq!(sum_of(&[]), 0.0);
        assert_eq!(sum_of(&[5e-324, 5e-324]), 1e-323);
        assert_eq!(sum_of(&[f64::MAX, f64::MAX]), f64::INFINITY);
        assert!(sum_of(&[1.0, f64::NAN]).is_nan());
        assert_eq!(sum_of(&[1.0, f64::INFINITY]), f64::INFINITY);
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    #[test]
    fn extended_precision_keeps_what_doubles_lose() {
        // 1 + 2^-60 - 1 in doubles is 0; with a 64-bit significand 2^-60 survives
        let tiny = 2f64.powi(-60);
        assert_eq!(sum_of(&[1.0, tiny, -0.0]), 1.0);
        assert_eq!(sum_of(&[2f64.powi(-60), 1.0]), 1.0);
        // 1 + 2^-53 + 2^-53: doubles give 1 (two ties to even); R's long
        // double keeps both halves and gives 1 + 2^-52
        let h = 2f64.powi(-53);
        assert_eq!(sum_of(&[1.0, h, h]), 1.0 + 2f64.powi(-52));
        assert_eq!(1.0 + h + h, 1.0);
        // 2^64 + 1 rounds (tie, to even) to 2^64 in 64 bits; + 1 again: still a tie
        let big = 2f64.powi(64);
        assert_eq!(sum_of(&[big, 1.0, 1.0]), big);
        assert_eq!(sum_of(&[big, 1.0, 1.0, 1.0, 1.0]), big);
        // 2^63 + 1 is exact in 64 bits, and rounds to 2^63 as a double
        assert_eq!(sum_of(&[2f64.powi(63), 1.0]), 2f64.powi(63));
        // 2^63 + 1025 is exact in 64 bits and rounds up to 2^63 + 2048; in
        // doubles the 1 is lost and 1024 is a tie, to 2^63
        assert_eq!(sum_of(&[2f64.powi(63), 1.0, 1024.0]), 2f64.powi(63) + 2048.0);
    }
}
