//! `dbpolicy audit report --section access`: the access section alone, in every format, with the log, period and
//! chain status it was read under, so the evidence stands on its own. In its own file because it reads the
//! other printers' pieces (HTML style, CSV quoting) while those print the access section inside the full report.

use std::fmt::Write as _;

use super::access::{csv_rows, html, markdown};
use super::data::{ChainStatus, ReportData};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Which part of the report to print (`dbpolicy audit report --section`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Section {
    /// Everything.
    #[default]
    All,
    /// Only the chain status and break-glass access, for access reviews.
    Access,
}

fn chain_line(c: &ChainStatus) -> String {
    if c.intact {
        format!(
            "Chain INTACT: {} records, head seq {}; signatures {}.",
            c.records,
            c.head_seq.unwrap_or(0),
            c.signatures
        )
    } else {
        format!(
            "Chain DAMAGED ({} problem(s)): {}",
            c.damages,
            c.first_damage.clone().unwrap_or_default()
        )
    }
}

/// The access section alone in `format` (`md`, `html`, `csv` or `json`), with the log, period and chain status
/// it was read under, so the evidence stands on its own.
pub fn section_only(d: &ReportData, format: &str) -> String {
    let period = format!(
        "{} to {}",
        d.from.clone().unwrap_or_else(|| "start".into()),
        d.to.clone().unwrap_or_else(|| "end".into())
    );
    match format {
        "html" => format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Access review evidence</title><style>{}</style></head><body><h1>Access review evidence</h1><p class=\"muted\">Log <code>{}</code> &middot; generated {} &middot; period {}</p><p>{}</p>{}</body></html>\n",
            super::html::CSS,
            esc(&d.log),
            esc(&d.generated_at),
            esc(&period),
            esc(&chain_line(&d.chain)),
            html(&d.access)
        ),
        "csv" => {
            let mut rows = vec![[
                "chain".to_string(),
                String::new(),
                "intact".to_string(),
                d.chain.intact.to_string(),
            ]];
            rows.extend(csv_rows(&d.access));
            let mut o = String::from("section,key,metric,value\n");
            for row in rows {
                let cells: Vec<String> = row.iter().map(|f| super::csv::csv_field(f)).collect();
                let _ = writeln!(o, "{}", cells.join(","));
            }
            o
        }
        "json" => serde_json::to_string_pretty(&serde_json::json!({
            "log": d.log,
            "generated_at": d.generated_at,
            "from": d.from,
            "to": d.to,
            "chain": d.chain,
            "access": d.access,
        }))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")),
        _ => format!(
            "# Access review evidence\n\nLog `{}`, generated {}, period {}.\n\n{}\n{}",
            d.log,
            d.generated_at,
            period,
            chain_line(&d.chain),
            markdown(&d.access)
        ),
    }
}
