//! Pages of rows of a large CSV file read without parsing it from the start: one pass over the
//! bytes finds where every `every`-th row starts (a newline outside double quotes ends a row),
//! then a page is those bytes, after the header, parsed with the file's column types.
//!
//! The index is only used when it counts exactly the rows the file was summarised with;
//! otherwise (blank lines, a quoting the scan reads differently) pages are read by slice
//! ([`super::batches::read_slice`]).

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use polars::prelude::*;

use super::scan_frame;
use crate::engine::error::{EngineError, Result};
use crate::engine::fsio::check_regular;
use crate::engine::progress::Progress;

/// Where rows start in a CSV file.
pub struct CsvRows {
    /// The header line, with its newline.
    header: Vec<u8>,
    /// Byte offset of rows 0, `every`, 2·`every`, …
    starts: Vec<u64>,
    /// Rows per entry of `starts`.
    every: usize,
    /// The file's length.
    end: u64,
    schema: SchemaRef,
    separator: u8,
}

impl CsvRows {
    /// Scans the CSV file at `path`; `None` when it does not hold exactly `rows` rows as the
    /// scan counts them.
    pub fn index(
        path: &Path,
        every: usize,
        rows: usize,
        progress: &Progress,
    ) -> Result<Option<CsvRows>> {
        let every = every.max(1);
        let mut lf = scan_frame(path, super::Format::Csv, false, Some(10_000))?;
        let schema = lf.collect_schema().map_err(|e| {
            EngineError::file(
                path,
                format!("cannot read CSV data: {}", super::clean_polars(&e)),
            )
        })?;
        let separator = super::csv_separator(path);
        let mut file = check_regular(path, "dataset").and_then(|_| {
            std::fs::File::open(path).map_err(|e| EngineError::file(path, e.to_string()))
        })?;
        let end = file
            .metadata()
            .map_err(|e| EngineError::file(path, e.to_string()))?
            .len();
        let mut buf = vec![0u8; 1 << 20];
        let (mut pos, mut quoted, mut header_end) = (0u64, false, None::<u64>);
        let (mut count, mut row_start) = (0usize, false);
        let mut header = Vec::new();
        let mut starts = Vec::with_capacity(rows / every + 1);
        loop {
            progress.check()?;
            let n = file
                .read(&mut buf)
                .map_err(|e| EngineError::file(path, e.to_string()))?;
            if n == 0 {
                break;
            }
            for (i, &b) in buf[..n].iter().enumerate() {
                let at = pos + i as u64;
                if row_start {
                    row_start = false;
                    if count % every == 0 {
                        starts.push(at);
                    }
                    count += 1;
                }
                if b == b'"' {
                    quoted = !quoted;
                } else if b == b'\n' && !quoted {
                    if header_end.is_none() {
                        header_end = Some(at + 1);
                        header.extend_from_slice(&buf[..=i]);
                    }
                    row_start = true;
                }
            }
            if header_end.is_none() {
                // The header is longer than a buffer: keep reading it.
                header.extend_from_slice(&buf[..n]);
            }
            pos += n as u64;
        }
        if header_end.is_none() || count != rows || quoted {
            return Ok(None);
        }
        Ok(Some(CsvRows {
            header,
            starts,
            every,
            end,
            schema,
            separator,
        }))
    }

    /// Rows `page * every ..` (at most `every`) of the file at `path`.
    pub fn page(&self, path: &Path, page: usize) -> Result<DataFrame> {
        let Some(&start) = self.starts.get(page) else {
            return Ok(DataFrame::empty_with_schema(&self.schema));
        };
        let stop = self.starts.get(page + 1).copied().unwrap_or(self.end);
        let mut bytes = self.header.clone();
        let mut file =
            std::fs::File::open(path).map_err(|e| EngineError::file(path, e.to_string()))?;
        file.seek(SeekFrom::Start(start))
            .map_err(|e| EngineError::file(path, e.to_string()))?;
        file.take(stop.saturating_sub(start))
            .read_to_end(&mut bytes)
            .map_err(|e| EngineError::file(path, e.to_string()))?;
        CsvReadOptions::default()
            .with_has_header(true)
            .with_schema(Some(self.schema.clone()))
            .with_parse_options(CsvParseOptions::default().with_separator(self.separator))
            .into_reader_with_file_handle(Cursor::new(bytes))
            .finish()
            .map(|df| df.head(Some(self.every)))
            .map_err(|e| {
                EngineError::file(
                    path,
                    format!("cannot read CSV data: {}", super::clean_polars(&e)),
                )
            })
    }
}
