//! The one seeded random number generator every random choice flows from.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic, portable RNG: the same seed gives the same sequence on every
/// platform and every run.
///
/// Independent streams (one per virtual user, say) are derived with
/// [`SeededRng::fork`], so adding a user does not change the choices of the others.
#[derive(Debug, Clone)]
pub struct SeededRng {
    inner: ChaCha8Rng,
}

impl SeededRng {
    /// A generator for this seed.
    pub fn new(seed: u64) -> Self {
        Self {
            inner: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// An independent generator for the numbered stream `stream` of the same seed.
    pub fn fork(seed: u64, stream: u64) -> Self {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream);
        Self { inner }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A value in `low..=high` (inclusive); `low` when the range is empty.
    pub fn range_inclusive(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        let span = (high as i128 - low as i128 + 1) as u128;
        let pick = (self.next_u64() as u128) % span;
        (low as i128 + pick as i128) as i64
    }

    /// A float in `[0, 1)`.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl RngCore for SeededRng {
    fn next_u32(&mut self) -> u32 {
        self.inner.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.inner.fill_bytes(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_forks_differ() {
        let a: Vec<u64> = (0..4).map(|_| SeededRng::new(7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut one = SeededRng::fork(7, 1);
        let mut two = SeededRng::fork(7, 2);
        assert_ne!(one.next_u64(), two.next_u64());
    }

    #[test]
    fn range_stays_inside_bounds() {
        let mut rng = SeededRng::new(1);
        for _ in 0..10_000 {
            let v = rng.range_inclusive(-3, 5);
            assert!((-3..=5).contains(&v));
        }
        assert_eq!(rng.range_inclusive(4, 4), 4);
        // The full range does not overflow and is not stuck at one end.
        let wide: Vec<i64> = (0..64)
            .map(|_| rng.range_inclusive(i64::MIN, i64::MAX))
            .collect();
        assert!(wide.iter().any(|v| *v < 0) && wide.iter().any(|v| *v > 0));
    }
}
