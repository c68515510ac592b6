//! The JSON report: the figures as they are, for other tools.

use super::data::ReportData;

/// JSON form of the report.
pub fn to_json(d: &ReportData) -> String {
    serde_json::to_string_pretty(d).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
