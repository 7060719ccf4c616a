//! A shipping quote: what the shipping dependency answers for a product, and what the shop
//! passes on to its clients.

use serde::{Deserialize, Serialize};

/// The carriers the stub quotes with, picked by product id.
const CARRIERS: [&str; 4] = ["Parcelbird", "Swiftline", "Cargo Owl", "Postmark Express"];

/// The bounds the shop's OpenAPI document gives a quote's fields (`ShippingQuote`).
const MAX_CARRIER: usize = 100;
const MAX_DAYS: i64 = 365;

/// One quote for shipping one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Quote {
    /// The product quoted for.
    pub(crate) product_id: i64,
    /// Who would carry it.
    pub(crate) carrier: String,
    /// How many days it would take.
    pub(crate) days: i64,
    /// What it would cost.
    pub(crate) price_cents: i64,
}

impl Quote {
    /// The quote the stub gives for `product_id` (any id of at least 1): always the same.
    pub(crate) fn for_product(product_id: i64) -> Quote {
        let n = product_id.unsigned_abs();
        let carrier = CARRIERS[(n % CARRIERS.len() as u64) as usize];
        Quote {
            product_id,
            carrier: carrier.to_owned(),
            days: 1 + (n % 7) as i64,
            price_cents: 299 + ((n % 900) * 137 % 900) as i64,
        }
    }

    /// Whether this is a quote the shop may pass on for `product_id`: for that product,
    /// within the document's bounds.
    pub(crate) fn fits(&self, product_id: i64) -> bool {
        self.product_id == product_id
            && (1..=MAX_CARRIER).contains(&self.carrier.chars().count())
            && (0..=MAX_DAYS).contains(&self.days)
            && self.price_cents >= 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_deterministic_and_fit() {
        for id in [1, 2, 7, 20, 1000, i64::MAX] {
            let quote = Quote::for_product(id);
            assert_eq!(quote, Quote::for_product(id));
            assert!(quote.fits(id), "{quote:?}");
            assert!(!quote.fits(id.wrapping_add(1)));
        }
        assert_ne!(Quote::for_product(1), Quote::for_product(2));
    }

    #[test]
    fn out_of_bounds_quotes_do_not_fit() {
        let good = Quote::for_product(3);
        for bad in [
            Quote {
                carrier: String::new(),
                ..good.clone()
            },
            Quote {
                carrier: "x".repeat(101),
                ..good.clone()
            },
            Quote {
                days: -1,
                ..good.clone()
            },
            Quote {
                days: 366,
                ..good.clone()
            },
            Quote {
                price_cents: -1,
                ..good.clone()
            },
        ] {
            assert!(!bad.fits(3), "{bad:?}");
        }
    }
}
