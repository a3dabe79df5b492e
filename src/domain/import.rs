//! Import of schools from the national register's CSV: upsert by URN, in one transaction.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use serde::Serialize;

use crate::db::AnyConnection;
use crate::domain::schools::{self, SchoolInput};
use crate::domain::types::Phase;
use crate::domain::{audit, Actor};
use crate::error::{AppError, AppResult};

pub const COL_URN: &str = "URN";
pub const COL_NAME: &str = "EstablishmentName";
pub const COL_LA: &str = "LA (name)";
pub const COL_DISTRICT: &str = "DistrictAdministrative (name)";
pub const COL_PHASE: &str = "PhaseOfEducation (name)";
pub const COL_TYPE: &str = "TypeOfEstablishment (name)";
pub const COL_POSTCODE: &str = "Postcode";
pub const COL_PUPILS: &str = "NumberOfPupils";
pub const COL_FSM: &str = "PercentageFSM";
pub const COL_STATUS: &str = "EstablishmentStatus (name)";
pub const COL_TOWN: &str = "Town";

const REQUIRED: [&str; 2] = [COL_URN, COL_NAME];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rejection {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped_closed: usize,
    pub rejected: Vec<Rejection>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub include_closed: bool,
}

/// True when the whole source is valid UTF-8, read in blocks (nothing is kept).
fn is_utf8<R: Read>(src: &mut R) -> std::io::Result<bool> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut carried = 0;
    loop {
        let n = src.read(&mut buf[carried..])?;
        if n == 0 {
            return Ok(carried == 0);
        }
        let end = carried + n;
        match std::str::from_utf8(&buf[..end]) {
            Ok(_) => carried = 0,
            Err(e) if e.error_len().is_some() => return Ok(false),
            Err(e) => {
                // A character cut at the end of the block: carry its bytes to the next.
                let valid = e.valid_up_to();
                buf.copy_within(valid..end, 0);
                carried = end - valid;
            }
        }
    }
}

/// The file as UTF-8 text: as it is (a byte-order mark dropped), or decoded from
/// Windows-1252 when it is not valid UTF-8. Streams; the file is never held whole.
pub fn text_reader<'a, R: Read + Seek + 'a>(mut src: R) -> std::io::Result<Box<dyn Read + 'a>> {
    let utf8 = is_utf8(&mut src)?;
    src.seek(SeekFrom::Start(0))?;
    if utf8 {
        let mut bom = [0u8; 3];
        let mut got = 0;
        while got < 3 {
            let n = src.read(&mut bom[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        if bom[..got] != b"\xEF\xBB\xBF"[..] {
            src.seek(SeekFrom::Start(0))?;
        }
        Ok(Box::new(src))
    } else {
        Ok(Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding_rs::WINDOWS_1252))
                .build(src),
        ))
    }
}

/// One register row, read; `None` when it is skipped as closed.
type Parsed = Result<Option<SchoolInput>, String>;

struct Columns(HashMap<&'static str, usize>);

impl Columns {
    fn read(headers: &csv::StringRecord) -> AppResult<Columns> {
        let all = [
            COL_URN,
            COL_NAME,
            COL_LA,
            COL_DISTRICT,
            COL_PHASE,
            COL_TYPE,
            COL_POSTCODE,
            COL_PUPILS,
            COL_FSM,
            COL_STATUS,
            COL_TOWN,
        ];
        let mut map = HashMap::new();
        for name in all {
            if let Some(i) = headers.iter().position(|h| h.trim() == name) {
                map.insert(name, i);
            }
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|c| !map.contains_key(c))
            .collect();
        if !missing.is_empty() {
            return Err(AppError::field(
                "file",
                format!(
                    "this is not a register file: the header has no column {}",
                    missing
                        .iter()
                        .map(|c| format!("'{c}'"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ));
        }
        Ok(Columns(map))
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, name: &str) -> &'r str {
        self.0
            .get(name)
            .and_then(|&i| record.get(i))
            .map(str::trim)
            .unwrap_or("")
    }
}

fn phase_of(phase: &str, kind: &str) -> Phase {
    let kind = kind.to_lowercase();
    if kind.contains("special") || kind.contains("pupil referral") {
        return Phase::Special;
    }
    match phase.to_lowercase().as_str() {
        "primary" | "middle deemed primary" | "nursery" => Phase::Primary,
        "secondary" | "middle deemed secondary" => Phase::Secondary,
        "all-through" | "all through" => Phase::AllThrough,
        "16 plus" => Phase::FurtherEducation,
        _ => Phase::Other,
    }
}

fn parse_row(cols: &Columns, record: &csv::StringRecord, options: ImportOptions) -> Parsed {
    let status = cols.get(record, COL_STATUS);
    if !options.include_closed && status.eq_ignore_ascii_case("closed") {
        return Ok(None);
    }
    let urn_text = cols.get(record, COL_URN);
    let urn: i32 = match urn_text.parse() {
        Ok(n) if n > 0 => n,
        _ if urn_text.is_empty() => return Err("the URN is missing".into()),
        _ => return Err(format!("the URN '{urn_text}' is not a number")),
    };
    let name = cols.get(record, COL_NAME);
    if name.is_empty() {
        return Err("the establishment name is missing".into());
    }
    if name.chars().count() > 200 {
        return Err("the establishment name is longer than 200 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("the establishment name holds control characters".into());
    }
    let pupils = match cols.get(record, COL_PUPILS) {
        "" => None,
        t => match t.parse::<i32>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return Err(format!("the number of pupils '{t}' is not a whole number")),
        },
    };
    // The register writes "SUPP" where a figure is suppressed; that is no figure, not an error.
    let fsm_percent = match cols.get(record, COL_FSM) {
        "" => None,
        t => match t.parse::<f64>() {
            Ok(n) if (0.0..=100.0).contains(&n) => Some(n),
            Ok(_) => {
                return Err(format!(
                    "the free school meals percentage '{t}' is not between 0 and 100"
                ))
            }
            Err(_) if t.chars().all(|c| c.is_ascii_alphabetic()) => None,
            Err(_) => {
                return Err(format!(
                    "the free school meals percentage '{t}' is not a number"
                ))
            }
        },
    };
    // Control characters (a NUL is an error to PostgreSQL) are dropped from the rest.
    let short = |s: &str, n: usize| {
        s.chars()
            .filter(|c| !c.is_control())
            .take(n)
            .collect::<String>()
    };
    Ok(Some(SchoolInput {
        name: name.to_string(),
        urn: Some(urn),
        local_authority: short(cols.get(record, COL_LA), 100),
        district: short(cols.get(record, COL_DISTRICT), 100),
        phase: phase_of(cols.get(record, COL_PHASE), cols.get(record, COL_TYPE)),
        postcode: short(&cols.get(record, COL_POSTCODE).to_uppercase(), 10),
        pupils,
        fsm_percent,
        town: short(cols.get(record, COL_TOWN), 100),
        contact_email: None,
    }))
}

/// `import_schools_from` on a file held in memory.
pub fn import_schools(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    bytes: &[u8],
    options: ImportOptions,
    progress: &dyn Fn(u64, u64),
) -> AppResult<ImportReport> {
    import_schools_from(conn, actor, std::io::Cursor::new(bytes), options, progress)
}

/// Reads the whole file first (a file that is not CSV changes nothing), then upserts
/// every good row in one transaction. `progress` is told how many rows are done. The
/// file is read as a stream; only the parsed rows are kept.
pub fn import_schools_from<R: Read + Seek>(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    src: R,
    options: ImportOptions,
    progress: &dyn Fn(u64, u64),
) -> AppResult<ImportReport> {
    let text = text_reader(src)
        .map_err(|e| AppError::field("file", format!("the file cannot be read: {e}")))?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text);
    let headers = reader
        .headers()
        .map_err(|e| AppError::field("file", format!("the file cannot be read as CSV: {e}")))?
        .clone();
    let cols = Columns::read(&headers)?;
    let mut rows: Vec<(u64, Parsed)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            AppError::field(
                "file",
                format!("line {line} is not valid CSV, so nothing was imported: {e}"),
            )
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        rows.push((line, parse_row(&cols, &record, options)));
    }
    let total = rows.len() as u64;
    // Each attempt of the transaction starts its report afresh.
    crate::db::write(conn, |conn| {
        let mut report = ImportReport::default();
        let mut seen: HashMap<i32, u64> = HashMap::new();
        for (done, (line, parsed)) in rows.iter().enumerate() {
            let line = *line;
            match parsed.clone() {
                Err(reason) => report.rejected.push(Rejection { line, reason }),
                Ok(None) => report.skipped_closed += 1,
                Ok(Some(school)) => {
                    let urn = school.urn.unwrap_or_default();
                    if let Some(first) = seen.insert(urn, line) {
                        report.rejected.push(Rejection {
                            line,
                            reason: format!("URN {urn} already appeared on line {first}"),
                        });
                    } else {
                        upsert(conn, actor, &school, &mut report)?;
                    }
                }
            }
            if done % 500 == 0 || done as u64 + 1 == total {
                progress(done as u64 + 1, total);
            }
        }
        audit::record(
            conn,
            actor.map(|a| a.user_id),
            "school_import",
            0,
            "import",
            None,
            Some(&serde_json::json!({
                "inserted": report.inserted, "updated": report.updated,
                "skipped_closed": report.skipped_closed, "rejected": report.rejected.len()
            })),
        )?;
        Ok::<_, AppError>(report)
    })
}

fn upsert(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    school: &SchoolInput,
    report: &mut ImportReport,
) -> AppResult<()> {
    let urn = school.urn.unwrap_or_default();
    match schools::find_by_urn(conn, urn)? {
        None => {
            let id = schools::insert(conn, school)?;
            audit::record(
                conn,
                actor.map(|a| a.user_id),
                "school",
                id,
                "import",
                None,
                Some(&serde_json::json!({"urn": urn, "name": school.name})),
            )?;
            report.inserted += 1;
        }
        Some(existing) => {
            let current = SchoolInput {
                name: existing.name.clone(),
                urn: existing.urn,
                local_authority: existing.local_authority.clone(),
                district: existing.district.clone(),
                phase: existing.phase,
                postcode: existing.postcode.clone(),
                pupils: existing.pupils,
                fsm_percent: existing.fsm_percent,
                town: existing.town.clone(),
                contact_email: None,
            };
            if &current == school {
                report.unchanged += 1;
            } else {
                schools::overwrite(conn, existing.id, school)?;
                audit::record(
                    conn,
                    actor.map(|a| a.user_id),
                    "school",
                    existing.id,
                    "import",
                    Some(&crate::domain::to_json(&existing)),
                    None,
                )?;
                report.updated += 1;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> String {
        let mut out = String::new();
        text_reader(std::io::Cursor::new(bytes))
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn windows_1252_is_decoded() {
        let bytes = b"URN,EstablishmentName\n1,St Bega\x92s\n";
        assert!(decode(bytes).contains("St Bega\u{2019}s"));
        assert_eq!(decode("\u{feff}URN".as_bytes()), "URN");
        assert_eq!(decode("caf\u{e9}".as_bytes()), "caf\u{e9}");
    }

    #[test]
    fn utf8_cut_across_blocks_is_still_utf8() {
        let mut text = "a".repeat(64 * 1024 - 1);
        text.push('\u{2019}');
        assert!(is_utf8(&mut std::io::Cursor::new(text.as_bytes())).unwrap());
        let mut bad = text.into_bytes();
        bad.push(0xff);
        assert!(!is_utf8(&mut std::io::Cursor::new(&bad)).unwrap());
    }

    #[test]
    fn phases_map_from_register_names() {
        assert_eq!(phase_of("Primary", "Academy converter"), Phase::Primary);
        assert_eq!(
            phase_of("Not applicable", "Community special school"),
            Phase::Special
        );
        assert_eq!(
            phase_of("16 plus", "Further education"),
            Phase::FurtherEducation
        );
        assert_eq!(phase_of("All-through", ""), Phase::AllThrough);
        assert_eq!(
            phase_of("Not applicable", "Other independent school"),
            Phase::Other
        );
    }
}
