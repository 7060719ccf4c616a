//! Toxiproxy's config file: a JSON array of proxies, as `POST /populate` takes.

use crate::api::proxy_spec;
use crate::proxies::ProxySpec;
use serde_json::Value;
use std::path::Path;

/// A config file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser says.
        message: String,
    },
    /// The JSON is not an array of proxies.
    #[error("{path}: {message} (expected an array of {{\"name\", \"listen\", \"upstream\"}} objects, as Toxiproxy's -config takes)")]
    Shape {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads the proxies of a config file.
pub fn read_config(path: &Path) -> Result<Vec<ProxySpec>, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    parse_config(&text, &shown)
}

/// Parses the text of a config file; `path` names it in errors.
pub fn parse_config(text: &str, path: &str) -> Result<Vec<ProxySpec>, ConfigError> {
    let value: Value = serde_json::from_str(text).map_err(|error| ConfigError::Syntax {
        path: path.to_owned(),
        line: error.line(),
        column: error.column(),
        message: error.to_string(),
    })?;
    let shape = |message: String| ConfigError::Shape {
        path: path.to_owned(),
        message,
    };
    let Value::Array(entries) = value else {
        return Err(shape("the top level is not an array".to_owned()));
    };
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| match entry {
            Value::Object(object) => {
                proxy_spec(object, Some(index + 1)).map_err(|error| shape(error.error))
            }
            _ => Err(shape(format!("proxy {} is not an object", index + 1))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_the_place() {
        let error = parse_config(
            "[\n  {\"name\": \"db\",\n  \"upstream\": }\n]",
            "proxies.json",
        )
        .expect_err("bad json");
        assert!(error.to_string().starts_with("proxies.json:3:"), "{error}");
        let error = parse_config(r#"[{"name": "db"}]"#, "proxies.json").expect_err("no upstream");
        assert!(
            error
                .to_string()
                .contains("missing required field: upstream at proxy 1"),
            "{error}"
        );
        let specs = parse_config(
            r#"[{"name":"db","listen":"127.0.0.1:0","upstream":"127.0.0.1:5432"}]"#,
            "proxies.json",
        )
        .expect("a valid config");
        assert_eq!(specs[0].name, "db");
        assert!(specs[0].enabled);
    }
}
