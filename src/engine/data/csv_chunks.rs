//! One CSV file parsed in chunks of about a fixed number of bytes, read with ordinary reads.
//! Polars' streaming CSV source memory-maps the whole file, so every page it has parsed stays
//! in the process's resident set (a 1 GB file adds 1 GB to the peak RSS); here only a chunk's
//! bytes and its frame are held at a time (the next chunk is parsed on a second thread while
//! the caller works on the current one).
//!
//! Chunks end at a record boundary: a newline outside double quotes. Each chunk is parsed with
//! the file's column types as given (those [`super::batches`] infers from the first 10,000
//! rows); a value that does not fit them is an error (callers fall back to [`super::load`]).

use std::io::Read;
use std::path::Path;
use std::sync::mpsc::sync_channel;

use polars::prelude::*;

use crate::engine::error::{EngineError, Result};

/// The end (index of the newline) of the last complete record of `buf`, which starts at a
/// record boundary.
fn last_record_end(buf: &[u8]) -> Option<usize> {
    let mut quoted = false;
    let mut last = None;
    for (i, &b) in buf.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => last = Some(i),
            _ => {}
        }
    }
    last
}

/// The end of the first record of `buf`.
fn first_record_end(buf: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for (i, &b) in buf.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// Calls `f` on consecutive frames of the CSV (or TSV, by extension) file at `path` after its
/// header line, each parsed from about `chunk_bytes` bytes with the columns and types of
/// `schema`, in file order; returns the number of rows read.
pub fn for_each_chunk(
    path: &Path,
    schema: SchemaRef,
    chunk_bytes: usize,
    mut f: impl FnMut(DataFrame) -> Result<()>,
) -> Result<usize> {
    let sep = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
    {
        b'\t'
    } else {
        b','
    };
    let chunk_bytes = chunk_bytes.max(1 << 10);
    let (tx, rx) = sync_channel::<Result<DataFrame>>(1);
    std::thread::scope(move |s| {
        s.spawn(move || {
            let sent = read_chunks(path, &schema, sep, chunk_bytes, &mut |df| {
                tx.send(Ok(df)).is_ok()
            });
            if let Err(e) = sent {
                tx.send(Err(e)).ok();
            }
        });
        let mut total = 0usize;
        for df in &rx {
            let df = df?;
            total += df.height();
            f(df)?;
        }
        Ok(total)
    })
}

/// Reads and parses the chunks; `send` returns false when the receiver is gone.
fn read_chunks(
    path: &Path,
    schema: &SchemaRef,
    sep: u8,
    chunk_bytes: usize,
    send: &mut dyn FnMut(DataFrame) -> bool,
) -> Result<()> {
    let io = |e: std::io::Error| EngineError::file(path, format!("cannot read: {e}"));
    let wrap = |e: PolarsError| {
        EngineError::file(
            path,
            format!("cannot read Csv data: {}", super::clean_polars(&e)),
        )
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut buf: Vec<u8> = Vec::new();
    let mut header = true;
    loop {
        let start = buf.len();
        buf.resize(start + chunk_bytes, 0);
        let mut filled = start;
        let mut eof = false;
        while filled < buf.len() {
            let n = file.read(&mut buf[filled..]).map_err(io)?;
            if n == 0 {
                eof = true;
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        let cut = if eof {
            buf.len()
        } else {
            match last_record_end(&buf) {
                Some(p) => p + 1,
                // A record longer than a chunk: read on.
                None => continue,
            }
        };
        let rest = buf.split_off(cut);
        let mut part = std::mem::replace(&mut buf, rest);
        if header {
            match first_record_end(&part) {
                Some(p) => {
                    part.drain(..=p);
                    header = false;
                }
                None => part.clear(),
            }
        }
        if part.iter().any(|b| !b.is_ascii_whitespace()) {
            let df = CsvReadOptions::default()
                .with_has_header(false)
                .with_schema(Some(schema.clone()))
                .map_parse_options(|p| p.with_separator(sep))
                .into_reader_with_file_handle(std::io::Cursor::new(part))
                .finish()
                .map_err(wrap)?;
            if !send(df) {
                return Ok(());
            }
        }
        if eof {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_file_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let mut text = String::from("a,b\n");
        for i in 0..3000 {
            text.push_str(&format!("{i},\"x{}\ny, \"\"q\"\"\"\n", i % 7));
        }
        std::fs::write(&path, &text).unwrap();
        let mut lf =
            super::super::scan_frame(&path, super::super::Format::Csv, false, None).unwrap();
        let schema = lf.collect_schema().unwrap();
        let whole = lf.collect().unwrap();
        let mut parts = Vec::new();
        let n = for_each_chunk(&path, schema, 1000, |df| {
            parts.push(df);
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 3000);
        assert!(parts.len() > 10);
        let mut all = parts.remove(0);
        for p in &parts {
            all.vstack_mut(p).unwrap();
        }
        assert!(all.equals_missing(&whole));
    }
}
