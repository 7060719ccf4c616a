//! The list of bugs planted in [`Variant::Buggy`](crate::Variant::Buggy).

/// What it takes for a planted bug to show: whether `unruly explore` can find it from the
/// inputs it sends alone, or whether it needs load, concurrency, a watch on the process,
/// unruly's user behaviours or a fault in a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// One request (or a short sequence, such as a create then a read of what was created)
    /// with the right input shows it: `unruly explore` finds it from the OpenAPI document.
    Input,
    /// It shows only under sustained load (tail latency grows with the arrival rate).
    Load,
    /// It shows only when requests arrive at the same moment (a race).
    Concurrency,
    /// It shows only to someone watching the process (its memory, its logs) over many
    /// requests.
    Watch,
    /// It shows only to unruly's user behaviours: requests released together, the same
    /// submission repeated, slow clients; `unruly explore` applies them.
    Behaviour,
    /// It shows only when a dependency of the service fails (slow, down, resetting
    /// connections, answering 5xx, squeezed bandwidth): a fault proxy between the service
    /// and its shipping dependency ([`DemoOptions::shipping`](crate::DemoOptions)) shows it.
    Dependency,
}

impl Trigger {
    /// `"input"`, `"load"`, `"concurrency"`, `"watch"`, `"behaviour"` or `"dependency"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Input => "input",
            Trigger::Load => "load",
            Trigger::Concurrency => "concurrency",
            Trigger::Watch => "watch",
            Trigger::Behaviour => "behaviour",
            Trigger::Dependency => "dependency",
        }
    }
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// What it takes to make the bug show.
    pub trigger: Trigger,
    /// What is wrong and how it shows.
    pub description: &'static str,
}

/// Every bug planted in [`Variant::Buggy`](crate::Variant::Buggy). The correct variant has
/// none of them.
pub const PLANTED_BUGS: &[PlantedBug] = &[
    PlantedBug {
        operation: "GET /products/{id}",
        kind: "server_error",
        trigger: Trigger::Input,
        description: "an id that does not exist (0, 21, ...) or is not a number answers 500 \
                      instead of 404 or 400",
    },
    PlantedBug {
        operation: "GET /products/{id}",
        kind: "information_leak",
        trigger: Trigger::Input,
        description: "those 500s carry a Python traceback with file paths (unknown id) or a \
                      Rust panic message with a source location (non-numeric id)",
    },
    PlantedBug {
        operation: "GET /products",
        kind: "server_error",
        trigger: Trigger::Input,
        description: "limit=0 passes validation (only the upper bound is checked) and the page \
                      count divides by it: the panic is caught and answered 500 \
                      `Service panicked` instead of 400",
    },
    PlantedBug {
        operation: "GET /search",
        kind: "server_error",
        trigger: Trigger::Input,
        description: "a search term with a single quote, or an empty or missing one, answers \
                      500 instead of 200 or 400",
    },
    PlantedBug {
        operation: "GET /search",
        kind: "information_leak",
        trigger: Trigger::Input,
        description: "those 500s carry a PostgreSQL syntax error with the SQL query (quote: \
                      an injection point) or a Java stack trace (empty term)",
    },
    PlantedBug {
        operation: "POST /orders",
        kind: "latency_under_load",
        trigger: Trigger::Load,
        description: "every order holds one global lock for ~2 ms of simulated database work, \
                      so throughput caps near 500/s and tail latency grows with concurrency",
    },
    PlantedBug {
        operation: "POST /orders",
        kind: "race_condition",
        trigger: Trigger::Concurrency,
        description: "stock is checked, then decremented ~1 ms later without a lock, so \
                      concurrent orders oversell: GET /products/{id} then shows a negative \
                      stock, which the schema forbids (minimum 0)",
    },
    PlantedBug {
        operation: "POST /orders",
        kind: "accepted_invalid_input",
        trigger: Trigger::Input,
        description: "a quantity above 10 or a customer longer than 64 characters (up to 1024) \
                      is accepted with 201",
    },
    PlantedBug {
        operation: "POST /orders",
        kind: "response_schema_violation",
        trigger: Trigger::Input,
        description: "the 201 answering such an order carries it as stored, breaking the Order \
                      schema (quantity above 10, customer longer than 64 characters)",
    },
    PlantedBug {
        operation: "POST /orders",
        kind: "memory_growth",
        trigger: Trigger::Watch,
        description: "every request body is kept forever in a 16 KiB buffer (capped at \
                      256 MiB in all), so memory grows with the number of orders",
    },
    PlantedBug {
        operation: "GET /orders/{id}",
        kind: "response_schema_violation",
        trigger: Trigger::Input,
        description: "an id past 2^31-1 (2147483648, 2^53, 2^63, ...) does not fit the int4 \
                      column: it falls through to a plain-text 404 (`text/plain`, which the \
                      spec does not document); orders accepted out of bounds also read back \
                      breaking the Order schema",
    },
    PlantedBug {
        operation: "POST /users",
        kind: "server_error",
        trigger: Trigger::Input,
        description: "a name longer than 16 bytes is cut with `&name[..16]` for a log line: \
                      when byte 16 falls inside a multi-byte character (e.g. 15 ASCII letters \
                      then `é`, or 6 CJK characters) the panic is answered 500",
    },
    PlantedBug {
        operation: "POST /users",
        kind: "information_leak",
        trigger: Trigger::Input,
        description: "that 500 carries the Rust panic message with its source location \
                      (`panicked at src/users.rs:42:23`) and the name",
    },
    PlantedBug {
        operation: "POST /users",
        kind: "slow_response",
        trigger: Trigger::Input,
        description: "the email is checked first by a backtracking matcher of \
                      `^([A-Za-z0-9._%+-]+)*@` (a nested quantifier): a run of 24 or more \
                      such characters not followed by `@` (`aaaaaaaaaaaaaaaaaaaaaaaa!`, a \
                      long string) takes exponential time, ~0.4-1.5 s instead of microseconds",
    },
    PlantedBug {
        operation: "GET /users/{id}",
        kind: "response_schema_violation",
        trigger: Trigger::Input,
        description: "display_name keeps only the ASCII letters, digits and spaces of the \
                      name; a user created with a name that has none (`🎉`, `مرحبا`, a \
                      zero-width space) reads back with `\"display_name\": null`, which the \
                      schema (a string) forbids",
    },
    PlantedBug {
        operation: "POST /accounts/{id}/withdrawals",
        kind: "race_condition",
        trigger: Trigger::Behaviour,
        description: "the balance is checked, then debited ~1 ms later without a lock: 20 \
                      withdrawals of 60 released together on a balance of 100 all pass the \
                      check, so GET /accounts/{id} then shows a negative balance, which the \
                      schema forbids (minimum 0)",
    },
    PlantedBug {
        operation: "POST /orders",
        kind: "duplicate_side_effect",
        trigger: Trigger::Behaviour,
        description: "the documented Idempotency-Key header is ignored: the same order \
                      submitted twice with the same key is placed twice, with two ids and \
                      the stock taken twice, instead of the first answer being replayed",
    },
    PlantedBug {
        operation: "POST /orders",
        kind: "resource_exhaustion",
        trigger: Trigger::Behaviour,
        description: "every request, GET /health included, first takes one of 32 request \
                      readers and holds it until its body has arrived, and slow headers are \
                      never timed out: 32 clients trickling their bodies a byte a second \
                      make every other request wait for as long as they upload",
    },
    PlantedBug {
        operation: "GET /products/{id}/shipping",
        kind: "dependency_cascade",
        trigger: Trigger::Dependency,
        description: "the shipping dependency is called with no timeout (connect or answer) \
                      while the catalog lock is held: while it is slow or its bandwidth \
                      squeezed, GET /products, GET /products/{id} and GET /search wait as \
                      long as it does; when it fails (refused, reset, 5xx, a body that is not \
                      a quote) the answer is a 500 with the shipping client's Python \
                      traceback instead of the last good quote or a 503 with Retry-After. \
                      GET /health does not depend on it",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trigger_is_used_and_named() {
        for trigger in [
            Trigger::Input,
            Trigger::Load,
            Trigger::Concurrency,
            Trigger::Watch,
            Trigger::Behaviour,
            Trigger::Dependency,
        ] {
            assert!(
                PLANTED_BUGS.iter().any(|b| b.trigger == trigger),
                "{trigger}"
            );
            assert_eq!(trigger.to_string(), trigger.as_str());
        }
    }

    #[test]
    fn bugs_are_listed_once() {
        for (i, a) in PLANTED_BUGS.iter().enumerate() {
            for b in &PLANTED_BUGS[i + 1..] {
                assert!(
                    (a.operation, a.kind) != (b.operation, b.kind),
                    "{} {} is listed twice",
                    a.operation,
                    a.kind
                );
            }
        }
    }
}
