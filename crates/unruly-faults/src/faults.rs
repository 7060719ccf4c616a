//! What a proxy does now, shared with its connections: they read it on every chunk, so a
//! toxic added or removed acts on the connections already open, as in Toxiproxy.

use crate::http_fault::HttpFault;
use crate::toxic::{Stream, Toxic};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// A toxic with the id it got when it was added: decisions are keyed by it, so that a
/// toxic updated in place keeps its decisions and one deleted and re-added gets new ones.
#[derive(Debug, Clone)]
pub(crate) struct Placed<T> {
    pub uid: u64,
    pub item: T,
}

/// A proxy's toxics and HTTP faults, in the order they were added.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    pub toxics: Vec<Placed<Toxic>>,
    pub http: Vec<Placed<HttpFault>>,
}

/// The faults as the connections see them: swapped whole on every change.
pub(crate) type SharedFaults = Arc<Faults>;

impl Faults {
    /// The toxics on `stream` that apply to connection `connection` (each decided once per
    /// connection by its toxicity).
    pub fn applying<'a>(
        &'a self,
        stream: Stream,
        dice: &'a Dice,
    ) -> impl Iterator<Item = &'a Placed<Toxic>> + 'a {
        self.toxics.iter().filter(move |placed| {
            placed.item.stream == stream && dice.applies(placed.uid, placed.item.toxicity)
        })
    }
}

/// The seeded decisions of one connection: whether a toxic applies to it (its toxicity),
/// and the draws of jitter, slice sizes and HTTP fault percentages. The same seed, the same
/// connection number and the same toxics give the same decisions, so a run can be repeated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dice {
    seed: u64,
    connection: u64,
}

impl Dice {
    pub fn new(seed: u64, connection: u64) -> Dice {
        Dice { seed, connection }
    }

    /// Whether the toxic `uid` with this toxicity applies to the connection: one draw per
    /// (seed, connection, toxic), whatever else happens on the connection.
    pub fn applies(&self, uid: u64, toxicity: f64) -> bool {
        if toxicity >= 1.0 {
            return true;
        }
        if toxicity <= 0.0 {
            return false;
        }
        self.rng(0xA11, uid).random::<f64>() < toxicity
    }

    /// A generator for one purpose (`salt`) and one item of this connection.
    pub fn rng(&self, salt: u64, item: u64) -> ChaCha8Rng {
        let mixed = self.seed
            ^ self.connection.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ item.wrapping_mul(0xC2B2_AE3D_27D4_EB4F).rotate_left(17)
            ^ salt.rotate_left(41);
        ChaCha8Rng::seed_from_u64(mixed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toxicity_is_decided_per_connection_and_repeatable() {
        let decide = |seed| -> Vec<bool> {
            (0..1000)
                .map(|connection| Dice::new(seed, connection).applies(7, 0.3))
                .collect()
        };
        let first = decide(42);
        assert_eq!(first, decide(42), "the same seed gives the same decisions");
        assert_ne!(first, decide(43), "another seed gives others");
        let share = first.iter().filter(|applies| **applies).count();
        assert!(
            (240..=360).contains(&share),
            "about 30% of 1000 connections, got {share}"
        );
        assert!(Dice::new(1, 1).applies(7, 1.0));
        assert!(!Dice::new(1, 1).applies(7, 0.0));
    }
}
