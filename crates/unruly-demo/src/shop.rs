//! The in-memory state of the shop: products with their stock and shipping estimates (behind
//! the catalog lock), orders, users, accounts, the Idempotency-Keys of orders, the client of
//! the shipping dependency, the last log lines, and (in the buggy variant) the leaked
//! request bodies and the pool of request readers.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

use crate::accounts::{AccountStore, MAX_ACCOUNTS};
use crate::idempotency::IdempotencyStore;
use crate::pool::ReaderPool;
use crate::quote::Quote;
use crate::shipping::ShippingClient;
use crate::users::{UserStore, MAX_USERS};
use crate::Variant;

/// The seeded catalogue: `(name, price_cents, stock)`, ids 1..=20 in order. Products 3 and 13
/// have a stock of 5 (races show quickly), product 7 is out of stock.
const CATALOGUE: [(&str, i64, i64); 20] = [
    ("Espresso Cup", 1200, 1000),
    ("Coffee Mug", 1500, 1000),
    ("Limited Edition Teapot", 8900, 5),
    ("Tea Strainer", 700, 1000),
    ("French Press", 3400, 1000),
    ("Pour-Over Kettle", 5600, 1000),
    ("Vintage Grinder", 12900, 0),
    ("Milk Frother", 2900, 1000),
    ("Travel Tumbler", 2400, 1000),
    ("Cold Brew Jar", 1900, 1000),
    ("Bamboo Coaster Set", 900, 1000),
    ("Ceramic Dripper", 2200, 1000),
    ("Signed Barista Apron", 4500, 5),
    ("Paper Filters", 500, 1000),
    ("Digital Scale", 3900, 1000),
    ("Latte Art Pitcher", 1800, 1000),
    ("Sugar Bowl", 1100, 1000),
    ("Tea Sampler Box", 2700, 1000),
    ("Glass Teacup", 1300, 1000),
    ("Descaling Tablets", 800, 1000),
];

/// The number of products; their ids are `1..=PRODUCT_COUNT`.
pub(crate) const PRODUCT_COUNT: i64 = CATALOGUE.len() as i64;

/// How much the buggy variant keeps per `POST /orders` request.
pub(crate) const LEAK_PER_REQUEST: usize = 16 * 1024;

/// The most the buggy variant ever leaks, so the demo can never take the machine down.
pub(crate) const LEAK_CAP: usize = 256 * 1024 * 1024;

/// How many log lines the shop keeps.
const LOG_LINES: usize = 64;

/// A product and its live stock.
#[derive(Debug)]
pub(crate) struct Product {
    pub(crate) id: i64,
    pub(crate) name: &'static str,
    pub(crate) price_cents: i64,
    /// Signed: the buggy variant oversells below zero.
    pub(crate) stock: AtomicI64,
}

/// A product as it goes on the wire.
#[derive(Debug, Serialize)]
pub(crate) struct ProductView {
    id: i64,
    name: &'static str,
    price_cents: i64,
    stock: i64,
}

impl Product {
    /// A snapshot for a response.
    pub(crate) fn view(&self) -> ProductView {
        ProductView {
            id: self.id,
            name: self.name,
            price_cents: self.price_cents,
            stock: self.stock.load(Ordering::SeqCst),
        }
    }
}

/// A placed order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Order {
    pub(crate) id: u64,
    pub(crate) product_id: i64,
    pub(crate) quantity: i64,
    pub(crate) customer: String,
    pub(crate) total_cents: i64,
}

/// The whole shop.
#[derive(Debug)]
pub(crate) struct Shop {
    /// Which twin this is.
    pub(crate) variant: Variant,
    products: Vec<Product>,
    /// The catalog lock, with the last good shipping quote of each product: product reads
    /// take it (shared) while they read the catalogue, a refresh of an estimate (exclusive)
    /// while it writes one. The buggy variant holds it across the call to the dependency.
    pub(crate) catalog: tokio::sync::RwLock<HashMap<i64, Quote>>,
    /// The client of the shipping-quote dependency.
    pub(crate) shipping: ShippingClient,
    orders: Mutex<HashMap<u64, Order>>,
    next_order_id: AtomicU64,
    /// The buggy variant's global "database" lock.
    pub(crate) global_lock: tokio::sync::Mutex<()>,
    /// The buggy variant's leak.
    pub(crate) leak: LeakStore,
    /// The registered users.
    pub(crate) users: UserStore,
    /// The open accounts.
    pub(crate) accounts: AccountStore,
    /// The correct variant's Idempotency-Keys of `POST /orders`.
    pub(crate) idempotency: IdempotencyStore,
    /// The buggy variant's request readers (no pool in the correct one).
    pub(crate) readers: ReaderPool,
    /// The last [`LOG_LINES`] lines the service logged (it has no other log).
    log: Mutex<VecDeque<String>>,
    /// Whether each logged line is also written to stderr.
    pub(crate) log_to_stderr: bool,
    /// Requests answered (or failed), for `GET /metrics`.
    pub(crate) requests: AtomicU64,
    /// Lines logged, for `GET /metrics`.
    logged: AtomicU64,
}

impl Shop {
    /// A freshly seeded shop, whose shipping dependency is at `shipping` (no connection is
    /// made yet).
    pub(crate) fn new(variant: Variant, shipping: SocketAddr) -> Shop {
        let products = CATALOGUE
            .iter()
            .zip(1..)
            .map(|(&(name, price_cents, stock), id)| Product {
                id,
                name,
                price_cents,
                stock: AtomicI64::new(stock),
            })
            .collect();
        Shop {
            variant,
            products,
            catalog: tokio::sync::RwLock::new(HashMap::new()),
            shipping: ShippingClient::new(shipping),
            orders: Mutex::new(HashMap::new()),
            next_order_id: AtomicU64::new(1),
            global_lock: tokio::sync::Mutex::new(()),
            leak: LeakStore::new(LEAK_CAP),
            users: UserStore::new(MAX_USERS),
            accounts: AccountStore::new(MAX_ACCOUNTS),
            idempotency: IdempotencyStore::new(),
            readers: ReaderPool::new(variant),
            log: Mutex::new(VecDeque::with_capacity(LOG_LINES)),
            log_to_stderr: false,
            requests: AtomicU64::new(0),
            logged: AtomicU64::new(0),
        }
    }

    /// Logs a line, forgetting the oldest past [`LOG_LINES`].
    pub(crate) fn log(&self, line: String) {
        self.logged.fetch_add(1, Ordering::Relaxed);
        if self.log_to_stderr {
            use std::io::Write;
            // A closed stderr must not take the service down.
            let _ = writeln!(std::io::stderr().lock(), "{}", line.trim_end());
        }
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if log.len() == LOG_LINES {
            log.pop_front();
        }
        log.push_back(line);
    }

    /// The shop's own metrics in Prometheus text format, as a service exposes them at
    /// `GET /metrics`: requests, orders, log lines, and the bytes the buggy variant leaks.
    pub(crate) fn exposition(&self) -> String {
        let orders = self.next_order_id.load(Ordering::Relaxed).saturating_sub(1);
        format!(
            "# HELP shop_requests_total Requests received.\n\
             # TYPE shop_requests_total counter\n\
             shop_requests_total {}\n\
             # HELP shop_orders_total Orders placed.\n\
             # TYPE shop_orders_total counter\n\
             shop_orders_total {orders}\n\
             # HELP shop_log_lines_total Lines logged.\n\
             # TYPE shop_log_lines_total counter\n\
             shop_log_lines_total {}\n\
             # HELP shop_retained_bytes Request bodies kept in memory.\n\
             # TYPE shop_retained_bytes gauge\n\
             shop_retained_bytes {}\n",
            self.requests.load(Ordering::Relaxed),
            self.logged.load(Ordering::Relaxed),
            self.leak.retained_bytes()
        )
    }

    /// The logged lines, oldest first.
    #[cfg(test)]
    pub(crate) fn log_lines(&self) -> Vec<String> {
        let log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.iter().cloned().collect()
    }

    /// All products, by id.
    pub(crate) fn products(&self) -> &[Product] {
        &self.products
    }

    /// The product with this id, if any.
    pub(crate) fn product(&self, id: i64) -> Option<&Product> {
        let index = usize::try_from(id.checked_sub(1)?).ok()?;
        self.products.get(index)
    }

    /// Records an order and returns it with its new id.
    pub(crate) fn place_order(&self, product: &Product, quantity: i64, customer: String) -> Order {
        let order = Order {
            id: self.next_order_id.fetch_add(1, Ordering::Relaxed),
            product_id: product.id,
            quantity,
            customer,
            total_cents: product.price_cents.saturating_mul(quantity),
        };
        self.orders().insert(order.id, order.clone());
        order
    }

    /// The order with this id, if any.
    pub(crate) fn order(&self, id: u64) -> Option<Order> {
        self.orders().get(&id).cloned()
    }

    fn orders(&self) -> MutexGuard<'_, HashMap<u64, Order>> {
        // The map is consistent after every insert, so a poisoned lock is still usable.
        self.orders
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Request bodies kept forever (the buggy variant's memory leak), up to a cap.
#[derive(Debug)]
pub(crate) struct LeakStore {
    cap: usize,
    retained: AtomicUsize,
    buffers: Mutex<Vec<Vec<u8>>>,
}

impl LeakStore {
    /// An empty store that keeps at most `cap` bytes.
    pub(crate) fn new(cap: usize) -> LeakStore {
        LeakStore {
            cap,
            retained: AtomicUsize::new(0),
            buffers: Mutex::new(Vec::new()),
        }
    }

    /// Keeps `body` in a buffer of at least [`LEAK_PER_REQUEST`] bytes, every byte written so
    /// that it really is resident, unless that would pass the cap.
    pub(crate) fn retain(&self, body: &[u8]) {
        let size = body.len().max(LEAK_PER_REQUEST);
        let reserved = self
            .retained
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |held| {
                held.checked_add(size).filter(|&total| total <= self.cap)
            });
        if reserved.is_err() {
            return;
        }
        let mut buffer = Vec::with_capacity(size);
        buffer.extend_from_slice(body);
        buffer.resize(size, b' ');
        self.buffers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(buffer);
    }

    /// How many bytes are kept.
    pub(crate) fn retained_bytes(&self) -> usize {
        self.retained.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dependency address these tests never call.
    fn nowhere() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9))
    }

    #[test]
    fn catalogue_ids_are_one_to_twenty() {
        let shop = Shop::new(Variant::Correct, nowhere());
        assert_eq!(shop.products().len() as i64, PRODUCT_COUNT);
        for (index, product) in shop.products().iter().enumerate() {
            assert_eq!(product.id, index as i64 + 1);
            assert!(shop.product(product.id).is_some());
        }
        for id in [i64::MIN, -1, 0, 21, i64::MAX] {
            assert!(shop.product(id).is_none(), "{id}");
        }
    }

    #[test]
    fn leak_keeps_bodies_up_to_the_cap() {
        let store = LeakStore::new(3 * LEAK_PER_REQUEST);
        store.retain(b"{}");
        assert_eq!(store.retained_bytes(), LEAK_PER_REQUEST);
        store.retain(&[b'a'; LEAK_PER_REQUEST + 1]);
        assert_eq!(store.retained_bytes(), 2 * LEAK_PER_REQUEST + 1);
        // The next one would pass the cap: it is dropped.
        store.retain(b"{}");
        assert_eq!(store.retained_bytes(), 2 * LEAK_PER_REQUEST + 1);
    }

    #[test]
    fn the_log_keeps_the_last_lines() {
        let shop = Shop::new(Variant::Correct, nowhere());
        for i in 0..LOG_LINES + 3 {
            shop.log(format!("line {i}"));
        }
        let lines = shop.log_lines();
        assert_eq!(lines.len(), LOG_LINES);
        assert_eq!(lines[0], "line 3");
    }

    #[test]
    fn orders_get_increasing_ids() {
        let shop = Shop::new(Variant::Correct, nowhere());
        let product = shop.product(1).expect("product 1");
        let first = shop.place_order(product, 2, "ann".into());
        let second = shop.place_order(product, 1, "bob".into());
        assert_eq!((first.id, second.id), (1, 2));
        assert_eq!(first.total_cents, 2400);
        assert_eq!(shop.order(2).map(|o| o.customer), Some("bob".into()));
        assert!(shop.order(3).is_none());
    }
}
