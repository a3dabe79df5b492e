//! The ceiling of a workbook export (issue 14): rust_xlsxwriter alone, in constant-memory
//! mode, writing the same cells as a workbook Outreach wrote, with nothing else (no
//! database, no formats). It reads the workbook given, keeps every cell, then times only
//! the writing; it also leaves the cells as JSON lines for `benches/xlsx_python.py`, which
//! times Python's XlsxWriter on them.
//!
//! `cargo run --release --example xlsx_ceiling -- IMPACT.xlsx OUT_DIR`; see
//! `benches/workbook.sh`.

use std::io::Write;
use std::time::Instant;

use calamine::{open_workbook, Data, Reader, Xlsx};
use rust_xlsxwriter::Workbook;

type Sheet = (String, Vec<Vec<Data>>);

fn read(path: &str) -> Result<Vec<Sheet>, String> {
    let mut book: Xlsx<_> = open_workbook(path).map_err(|e| format!("cannot open {path}: {e}"))?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| format!("cannot read sheet {name}: {e}"))?;
        out.push((name, range.rows().map(<[Data]>::to_vec).collect()));
    }
    Ok(out)
}

fn write(sheets: &[Sheet], path: &std::path::Path) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let ws = book.add_worksheet_with_constant_memory()?;
        ws.set_name(name)?;
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    Data::Empty => {}
                    Data::Int(n) => {
                        ws.write_number(r, c, *n as f64)?;
                    }
                    Data::Float(n) => {
                        ws.write_number(r, c, *n)?;
                    }
                    Data::DateTime(d) => {
                        ws.write_number(r, c, d.as_f64())?;
                    }
                    Data::Bool(b) => {
                        ws.write_boolean(r, c, *b)?;
                    }
                    other => {
                        ws.write_string(r, c, other.to_string())?;
                    }
                }
            }
        }
    }
    book.save(path)
}

fn dump(sheets: &[Sheet], path: &std::path::Path) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (name, rows) in sheets {
        for (r, row) in rows.iter().enumerate() {
            let cells: Vec<serde_json::Value> = row
                .iter()
                .map(|cell| match cell {
                    Data::Empty => serde_json::Value::Null,
                    Data::Int(n) => serde_json::json!(*n as f64),
                    Data::Float(n) => serde_json::json!(n),
                    Data::DateTime(d) => serde_json::json!(d.as_f64()),
                    Data::Bool(b) => serde_json::json!(b),
                    other => serde_json::json!(other.to_string()),
                })
                .collect();
            serde_json::to_writer(&mut out, &serde_json::json!([name, r, cells]))?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()
}

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(dir)) = (args.next(), args.next()) else {
        return Err("usage: xlsx_ceiling IMPACT.xlsx OUT_DIR".into());
    };
    let dir = std::path::PathBuf::from(dir);
    let sheets = read(&input)?;
    let cells: usize = sheets
        .iter()
        .flat_map(|(_, rows)| rows.iter())
        .map(|row| row.iter().filter(|c| !matches!(c, Data::Empty)).count())
        .sum();
    dump(&sheets, &dir.join("cells.jsonl")).map_err(|e| e.to_string())?;
    let start = Instant::now();
    write(&sheets, &dir.join("ceiling.xlsx")).map_err(|e| e.to_string())?;
    let secs = start.elapsed().as_secs_f64();
    println!("rust_xlsxwriter alone: {cells} cells in {secs:.2} s");
    Ok(())
}
