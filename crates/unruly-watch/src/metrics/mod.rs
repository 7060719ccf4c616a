//! Metrics: the target's Prometheus endpoint scraped (`--scrape`), unruly's own exposed (`--metrics-addr`).
