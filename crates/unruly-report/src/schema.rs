//! The JSON Schema of `report.json`.

use unruly_core::Report;

/// The JSON Schema (draft 7) of [`Report`], generated from the type itself.
///
/// The same schema is committed as `crates/unruly-report/schema/report.schema.json`;
/// a test fails when the two differ (run the tests with `UPDATE_SCHEMA=1` to
/// regenerate the committed copy after a deliberate change, and bump
/// [`unruly_core::SCHEMA_VERSION`] if the change is incompatible).
pub fn report_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Report);
    // A schema is plain data (maps, strings, numbers): converting it cannot fail.
    serde_json::to_value(schema).expect("a JSON Schema converts to JSON")
}
