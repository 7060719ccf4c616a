//! The report stage of unruly: what a run saw, rendered.
//!
//! * [`render_terminal`]: the compact summary printed when a run ends.
//! * [`write_report_json`] and [`render_load_json`]: `report.json`, the versioned
//!   contract described by [`report_schema`] (committed as
//!   `schema/report.schema.json`, documented in `REPORT.md`).
//! * [`render_html`] and [`write_report_html`]: `report.html`, one self-contained page
//!   (inline SVG charts, no network, a Content-Security-Policy) from the same report.
//! * [`EventsWriter`]: `events.jsonl`, one event a line, written as the run goes.
//!
//! This crate computes no statistics: it renders the [`Report`](unruly_core::Report)
//! it is given. Everything in a report that came from the target is untrusted: the
//! terminal renderer strips control characters and escape sequences from it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod events;
mod html;
mod json;
mod junit;
mod redact;
mod schema;
mod terminal;

pub use events::{EventsWriter, EVENTS_FILE};
pub use html::{render_html, write_report_html, HTML_FILE};
pub use json::{render_load_json, write_report_json, REPORT_FILE};
pub use junit::{render_junit, write_junit_xml, JUNIT_FILE};
pub use redact::{redact_finding, redact_report, redact_text};
pub use schema::report_schema;
pub use terminal::{render_terminal, sanitize, TerminalStyle};
