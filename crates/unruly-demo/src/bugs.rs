//! The list of bugs planted in [`Variant::Buggy`](crate::Variant::Buggy).

/// One production bug planted in the buggy variant, and the finding unruly should report
/// for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlantedBug {
    /// The operation, as unruly names it: method and path as written in the OpenAPI
    /// document, e.g. `GET /products/{id}`.
    pub operation: &'static str,
    /// The finding kind unruly should report, by its stable snake_case name
    /// (see `unruly_core::FindingKind`), e.g. `server_error`.
    pub kind: &'static str,
    /// What is wrong and how it shows.
    pub description: &'static str,
}

/// Every bug planted in [`Variant::Buggy`](crate::Variant::Buggy). The correct variant has
/// none of them.
pub const PLANTED_BUGS: &[PlantedBug] = &[
    PlantedBug {
        operation: "GET /products/{id}",
        kind: "server_error",
        description: "an id that does not exist (0, 21, ...) or is not a number answers 500 \
                      instead of 404 or 400",
    },
    PlantedBug {
        operation: "GET /products/{id}",
        kind: "information_leak",
        description: "those 500s carry a Python traceback with file paths (unknown id) or a \
                      Rust panic message with a source location (non-numeric id)",
    },
    PlantedBug {
        operation: "GET /search",
        kind: "server_error",
        description: "a search term with a single quote, or an empty or missing one, answers \
                      500 instead of 200 or 400",
    },
    PlantedBug {
        operation: "GET /search",
        kind: "information_leak",
        description: "those 500s carry a PostgreSQL syntax error with the SQL query (quote: \
                      an injection point) or a Java stack trace (empty term)",
    },
    PlantedBug {
        operation: "POST /orders",
        kind: "latency_under_load",
        description: "every order holds one global lock for ~2 ms of simulated database work, \
                      so throughput caps near 500/s and tail latency grows with concurrency",
    },
    PlantedBug {
        operation: "POST /orders",
        kind: "race_condition",
        description: "stock is checked, then decremented ~1 ms later without a lock, so \
                      concurrent orders oversell: GET /products/{id} then shows a negative \
                      stock, which the schema forbids (minimum 0)",
    },
    PlantedBug {
        operation: "POST /orders",
        kind: "accepted_invalid_input",
        description: "a quantity above 10 or a customer longer than 64 characters (up to 1024) \
                      is accepted with 201",
    },
    PlantedBug {
        operation: "POST /orders",
        kind: "memory_growth",
        description: "every request body is kept forever in a 16 KiB buffer (capped at \
                      256 MiB in all), so memory grows with the number of orders",
    },
];
