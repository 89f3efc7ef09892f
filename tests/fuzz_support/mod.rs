//! Shared by the `fuzz_*` test binaries: seeded mutators (generic byte mutations plus
//! protobuf-, zip- and tar-aware ones), and a runner that gives every case a time bound, a
//! memory cap and a label for failures.
//!
//! Stable toolchain, no fuzzing engine: a fixed seed and a fixed number of cases per target
//! (`ASSAY_FUZZ_SCALE=10` runs ten times as many, `ASSAY_FUZZ_SEED=N` another sequence,
//! `ASSAY_FUZZ_VERBOSE=1` prints each case before it runs — useful with `--nocapture` when
//! a case aborts the process on the memory cap).
//!
//! Memory: each test binary installs [`cap::Cap`] as its global allocator; [`Runner::case`]
//! sets the allocator's limit to what is allocated now plus the per-case cap, so a case that
//! tries to allocate past it fails (the allocation is refused and the process aborts with
//! "memory allocation of N bytes failed") instead of taking the machine down. Cases run one
//! at a time ([`serial`]), so the count is the case's own.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::alloc::System;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::{Rng, RngCore, SeedableRng};
use rand_pcg::Pcg64;

pub type Alloc = cap::Cap<System>;

/// The fixed seed of every target (override with `ASSAY_FUZZ_SEED`).
pub const SEED: u64 = 0x5EED_0016;

/// Tests of one binary run one at a time (the allocator's count is process-wide).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// A seeded generator for target `salt` (each target its own stream).
pub fn rng(salt: u64) -> Pcg64 {
    Pcg64::seed_from_u64(
        env_u64("ASSAY_FUZZ_SEED").unwrap_or(SEED) ^ salt.wrapping_mul(0x9E37_79B9),
    )
}

/// `n` scaled by `ASSAY_FUZZ_SCALE`.
pub fn cases(n: usize) -> usize {
    n * env_u64("ASSAY_FUZZ_SCALE").unwrap_or(1).max(1) as usize
}

/// Per-target bookkeeping: case count, slowest case, time and memory caps.
pub struct Runner {
    pub name: &'static str,
    alloc: &'static Alloc,
    pub case_time: Duration,
    pub case_bytes: usize,
    started: Instant,
    pub ran: usize,
    pub slowest: Duration,
    verbose: bool,
}

impl Runner {
    pub fn new(name: &'static str, alloc: &'static Alloc) -> Runner {
        Runner {
            name,
            alloc,
            // Generous for a debug build on a loaded 2-core machine; a hang or a blow-up in
            // time is orders of magnitude past it.
            case_time: Duration::from_secs(20),
            // The seeds are at most a few hundred kilobytes.
            case_bytes: 256 << 20,
            started: Instant::now(),
            ran: 0,
            slowest: Duration::ZERO,
            verbose: std::env::var_os("ASSAY_FUZZ_VERBOSE").is_some(),
        }
    }

    /// Runs one case on its own thread: a panic, a time past `case_time` or an allocation
    /// past `case_bytes` fails the test, naming the case.
    pub fn case<T: Send + 'static>(
        &mut self,
        label: impl Into<String>,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let label = label.into();
        if self.verbose {
            eprintln!("[{}] case {}: {label}", self.name, self.ran);
        }
        let base = self.alloc.allocated();
        let _ = self.alloc.set_limit(base.saturating_add(self.case_bytes));
        let (tx, rx) = std::sync::mpsc::channel();
        let t0 = Instant::now();
        let spawned = std::thread::Builder::new()
            .name(format!("fuzz-{}", self.name))
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
                let _ = tx.send(r.map_err(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()))
                        .unwrap_or_else(|| "panic".into())
                }));
            });
        let got = match spawned {
            Ok(_) => rx.recv_timeout(self.case_time),
            Err(e) => panic!("[{}] cannot start a case thread: {e}", self.name),
        };
        let _ = self.alloc.set_limit(usize::MAX);
        let took = t0.elapsed();
        self.ran += 1;
        self.slowest = self.slowest.max(took);
        match got {
            Ok(Ok(v)) => v,
            Ok(Err(msg)) => panic!("[{}] case '{label}' panicked: {msg}", self.name),
            Err(_) => panic!(
                "[{}] case '{label}' did not finish within {:?}",
                self.name, self.case_time
            ),
        }
    }

    /// Prints the summary line (visible with `--nocapture`) and returns it.
    pub fn finish(&self) -> String {
        let line = format!(
            "fuzz {}: {} cases in {:.1} s (slowest {:.0} ms), peak heap {:.1} MiB",
            self.name,
            self.ran,
            self.started.elapsed().as_secs_f64(),
            self.slowest.as_secs_f64() * 1e3,
            self.alloc.max_allocated() as f64 / (1 << 20) as f64,
        );
        eprintln!("{line}");
        line
    }
}

// ---------------------------------------------------------------------------------------
// Generic byte mutations.

const INTERESTING: [u64; 12] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x7fff_ffff_ffff_ffff,
    u64::MAX,
];

fn pos(rng: &mut Pcg64, len: usize) -> usize {
    if len == 0 {
        0
    } else {
        rng.random_range(0..len)
    }
}

/// One random byte-level mutation of `b`; returns its name.
pub fn mutate_bytes(rng: &mut Pcg64, b: &mut Vec<u8>) -> &'static str {
    match rng.random_range(0..9u32) {
        0 => {
            for _ in 0..rng.random_range(1..=4) {
                let i = pos(rng, b.len());
                if let Some(x) = b.get_mut(i) {
                    *x ^= 1 << rng.random_range(0..8);
                }
            }
            "bit flips"
        }
        1 => {
            let i = pos(rng, b.len());
            if let Some(x) = b.get_mut(i) {
                *x = [0u8, 0xff, 0x7f, 0x80, b'/', b'.', b'"', b'\n'][rng.random_range(0..8usize)];
            }
            "byte set"
        }
        2 => {
            let n = pos(rng, b.len());
            b.truncate(n);
            "truncation"
        }
        3 => {
            let i = pos(rng, b.len() + 1);
            let mut ins = vec![0u8; rng.random_range(1..=32)];
            rng.fill_bytes(&mut ins);
            b.splice(i..i, ins);
            "insertion"
        }
        4 => {
            let i = pos(rng, b.len());
            let n = rng.random_range(1..=64).min(b.len() - i.min(b.len()));
            b.drain(i..i + n);
            "deletion"
        }
        5 => {
            // A chunk copied elsewhere (repeats structures: entries, fields, records).
            let i = pos(rng, b.len());
            let n = rng.random_range(1..=256).min(b.len() - i.min(b.len()));
            let chunk = b[i..i + n].to_vec();
            let at = pos(rng, b.len() + 1);
            b.splice(at..at, chunk);
            "chunk duplication"
        }
        6 => {
            let v = INTERESTING[rng.random_range(0..INTERESTING.len())];
            let width = [2usize, 4, 8][rng.random_range(0..3usize)];
            let i = pos(rng, b.len().saturating_sub(width - 1));
            for (k, byte) in v.to_le_bytes().iter().take(width).enumerate() {
                if let Some(x) = b.get_mut(i + k) {
                    *x = *byte;
                }
            }
            "interesting integer"
        }
        7 => {
            // A large protobuf varint (a length or count) spliced in.
            let v = INTERESTING[rng.random_range(6..INTERESTING.len())];
            let i = pos(rng, b.len() + 1);
            b.splice(i..i, varint(v));
            "huge varint inserted"
        }
        _ => {
            if !b.is_empty() {
                let i = pos(rng, b.len());
                let j = pos(rng, b.len());
                b.swap(i, j);
            }
            "byte swap"
        }
    }
}

/// `k` stacked byte-level mutations (1 to 4); returns their names.
pub fn mutate_stacked(rng: &mut Pcg64, b: &mut Vec<u8>) -> String {
    let k = rng.random_range(1..=4);
    (0..k)
        .map(|_| mutate_bytes(rng, b))
        .collect::<Vec<_>>()
        .join("+")
}

// ---------------------------------------------------------------------------------------
// Protobuf: length prefixes found by walking the wire format.

pub fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn read_varint(b: &[u8], mut i: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(i)?;
        i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((v, i));
        }
    }
    None
}

/// A length-delimited field: where its length varint is and what it says.
#[derive(Debug, Clone, Copy)]
pub struct LenField {
    pub len_at: usize,
    pub len_end: usize,
    pub len: u64,
    /// The whole field, tag included.
    pub field_start: usize,
}

/// Every length-delimited field of a protobuf message, nested ones included (a field whose
/// payload parses as a message is walked too), in file order; `max` bounds the walk.
pub fn proto_len_fields(b: &[u8], max: usize) -> Vec<LenField> {
    let mut out = Vec::new();
    walk(b, 0, b.len(), 0, max, &mut out);
    out
}

fn walk(
    b: &[u8],
    start: usize,
    end: usize,
    depth: usize,
    max: usize,
    out: &mut Vec<LenField>,
) -> bool {
    let mut i = start;
    while i < end {
        if out.len() >= max {
            return true;
        }
        let field_start = i;
        let Some((key, j)) = read_varint(b, i) else {
            return false;
        };
        if key >> 3 == 0 {
            return false;
        }
        i = j;
        match key & 7 {
            0 => match read_varint(b, i) {
                Some((_, j)) => i = j,
                None => return false,
            },
            1 => i += 8,
            5 => i += 4,
            2 => {
                let Some((len, j)) = read_varint(b, i) else {
                    return false;
                };
                let Some(stop) = usize::try_from(len).ok().and_then(|l| j.checked_add(l)) else {
                    return false;
                };
                if stop > end {
                    return false;
                }
                out.push(LenField {
                    len_at: i,
                    len_end: j,
                    len,
                    field_start,
                });
                if depth < 12 {
                    let mark = out.len();
                    if !walk(b, j, stop, depth + 1, max, out) {
                        // Not a message (a string or packed numbers): forget what was found.
                        out.truncate(mark);
                    }
                }
                i = stop;
            }
            _ => return false,
        }
    }
    i == end
}

/// A protobuf-aware mutation: a length prefix inflated, shrunk or made huge, or a whole
/// length-delimited field repeated (many copies: amplification).
pub fn mutate_proto(rng: &mut Pcg64, b: &mut Vec<u8>, fields: &[LenField]) -> String {
    if fields.is_empty() {
        return mutate_stacked(rng, b);
    }
    let f = fields[rng.random_range(0..fields.len())];
    match rng.random_range(0..4u32) {
        0 | 1 => {
            let new = match rng.random_range(0..6u32) {
                0 => f.len + rng.random_range(1..=16),
                1 => f.len.saturating_sub(rng.random_range(1..=16)),
                2 => 0,
                3 => (b.len() as u64) * 2,
                4 => 0x7fff_ffff,
                _ => INTERESTING[rng.random_range(8..INTERESTING.len())],
            };
            b.splice(f.len_at..f.len_end, varint(new));
            format!("length {} -> {new}", f.len)
        }
        2 => {
            // The field repeated up to 64 times (a node, an input, an attribute…).
            let end = (f.len_end + f.len as usize).min(b.len());
            let field = b[f.field_start..end].to_vec();
            let n = rng.random_range(2..=64);
            let mut rep = Vec::with_capacity(field.len() * n);
            for _ in 0..n {
                rep.extend_from_slice(&field);
            }
            b.splice(f.field_start..end, rep);
            format!("field repeated {n} times")
        }
        _ => {
            // The field's payload mutated in place (lengths kept consistent when it grows).
            let end = (f.len_end + f.len as usize).min(b.len());
            let mut payload = b[f.len_end..end].to_vec();
            let what = mutate_bytes(rng, &mut payload);
            let mut new = varint(payload.len() as u64);
            new.extend_from_slice(&payload);
            b.splice(f.len_at..end, new);
            format!("payload {what}")
        }
    }
}

// ---------------------------------------------------------------------------------------
// Zip: the fixed fields of local headers, central directory records and end records.

/// A header signature and its (offset, width) fields.
type ZipHeader = (&'static [u8; 4], &'static [(usize, usize)]);

const ZIP_FIELDS: &[ZipHeader] = &[
    // Local file header: flags, method, crc, compressed, uncompressed, name len, extra len.
    (
        b"PK\x03\x04",
        &[(6, 2), (8, 2), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2)],
    ),
    // Central directory: method, crc, sizes, name/extra/comment lengths, attributes, offset.
    (
        b"PK\x01\x02",
        &[
            (10, 2),
            (16, 4),
            (20, 4),
            (24, 4),
            (28, 2),
            (30, 2),
            (32, 2),
            (38, 4),
            (42, 4),
        ],
    ),
    // End of central directory: entry counts, directory size and offset, comment length.
    (b"PK\x05\x06", &[(8, 2), (10, 2), (12, 4), (16, 4), (20, 2)]),
];

/// A zip-aware mutation: a size, count, offset, length or mode field of a header set to an
/// interesting value.
pub fn mutate_zip(rng: &mut Pcg64, b: &mut [u8]) -> String {
    let mut spots = Vec::new();
    for (sig, fields) in ZIP_FIELDS {
        let mut i = 0;
        while let Some(p) = b[i..].windows(4).position(|w| w == *sig) {
            for &(off, width) in *fields {
                spots.push((i + p + off, width, sig[2]));
            }
            i += p + 1;
        }
    }
    if spots.is_empty() {
        return "no zip header".into();
    }
    let (at, width, kind) = spots[rng.random_range(0..spots.len())];
    let v = match rng.random_range(0..4u32) {
        0 => INTERESTING[rng.random_range(0..INTERESTING.len())],
        1 => 0xA1ED_0000, // a symbolic link's mode in the external attributes
        2 => rng.random::<u64>(),
        _ => {
            let old = b.get(at..at + width).map_or(0, |s| {
                s.iter().rev().fold(0u64, |a, &x| a << 8 | u64::from(x))
            });
            old.wrapping_mul(1000)
        }
    };
    for (k, byte) in v.to_le_bytes().iter().take(width).enumerate() {
        if let Some(x) = b.get_mut(at + k) {
            *x = *byte;
        }
    }
    format!("zip field {kind:#x}@{at} = {v:#x}")
}

// ---------------------------------------------------------------------------------------
// Tar: header fields of the uncompressed stream, with the checksum usually fixed up.

fn tar_headers(b: &[u8]) -> Vec<usize> {
    (0..b.len() / 512)
        .map(|k| k * 512)
        .filter(|&h| b.get(h + 257..h + 262) == Some(b"ustar"))
        .collect()
}

fn set_field(b: &mut [u8], at: usize, width: usize, value: &[u8]) {
    for k in 0..width {
        if let Some(x) = b.get_mut(at + k) {
            *x = value.get(k).copied().unwrap_or(0);
        }
    }
}

fn fix_checksum(b: &mut [u8], h: usize) {
    if b.len() < h + 512 {
        return;
    }
    b[h + 148..h + 156].fill(b' ');
    let sum: u32 = b[h..h + 512].iter().map(|&x| u32::from(x)).sum();
    let text = format!("{sum:06o}\0 ");
    set_field(b, h + 148, 8, text.as_bytes());
}

/// A tar-aware mutation of an uncompressed tar stream: a header's name, size, type or link
/// name replaced by a hostile value, the checksum fixed up (most of the time) so the entry
/// is read rather than refused as corrupt.
pub fn mutate_tar(rng: &mut Pcg64, b: &mut Vec<u8>) -> String {
    let headers = tar_headers(b);
    if headers.is_empty() || rng.random_range(0..6u32) == 0 {
        return mutate_stacked(rng, b);
    }
    let h = headers[rng.random_range(0..headers.len())];
    let what = match rng.random_range(0..7u32) {
        0 => {
            let names: [&[u8]; 7] = [
                b"../evil",
                b"/etc/evil",
                b"pkg/../../evil",
                b"pkg/model.onnx",
                b"other/model.onnx",
                b"pkg//x",
                b"pkg/a\\..\\..\\b",
            ];
            let n = names[rng.random_range(0..names.len())];
            set_field(b, h, 100, n);
            format!("name {}", String::from_utf8_lossy(n))
        }
        1 => {
            let sizes: [&[u8]; 5] = [
                b"77777777777\0",
                b"00000000000\0",
                b"10000000000\0",
                b"\x80\0\0\0\x7f\xff\xff\xff\xff\xff\xff\xff",
                b"00000001000\0",
            ];
            let s = sizes[rng.random_range(0..sizes.len())];
            set_field(b, h + 124, 12, s);
            "size".into()
        }
        2 => {
            let t = [
                b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'L', b'K', b'x', b'g', b'S', 0,
            ][rng.random_range(0..13usize)];
            b[h + 156] = t;
            format!("type {:?}", t as char)
        }
        3 => {
            set_field(b, h + 157, 100, b"/dev/zero");
            b[h + 156] = b'2';
            "symlink to /dev/zero".into()
        }
        4 => {
            let modes: [&[u8]; 3] = [b"0000777\0", b"0004755\0", b"0170000\0"];
            let mode = modes[rng.random_range(0..3usize)];
            set_field(b, h + 100, 8, mode);
            "mode".into()
        }
        5 => {
            // Duplicate the whole entry (header + data) right after itself.
            let size = std::str::from_utf8(&b[h + 124..h + 135])
                .ok()
                .and_then(|s| {
                    u64::from_str_radix(s.trim_matches(|c| c == '\0' || c == ' '), 8).ok()
                })
                .unwrap_or(0) as usize;
            let end = (h + 512 + size.div_ceil(512) * 512).min(b.len());
            let entry = b[h..end].to_vec();
            b.splice(end..end, entry);
            "entry duplicated".into()
        }
        _ => {
            let mut field = b[h..h + 512].to_vec();
            let m = mutate_bytes(rng, &mut field);
            field.resize(512, 0);
            b[h..h + 512].copy_from_slice(&field);
            format!("header {m}")
        }
    };
    if rng.random_range(0..5u32) != 0 {
        fix_checksum(b, h);
    }
    what
}

/// gzip of `b` (fast).
pub fn gzip(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// gunzip of `b` (a trusted, test-made archive).
pub fn gunzip(b: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

// ---------------------------------------------------------------------------------------
// JSON: structure-aware mutations of a document.

/// Replaces one random node of `v` with a hostile value.
pub fn mutate_json(rng: &mut Pcg64, v: &mut serde_json::Value) -> String {
    use serde_json::{json, Value};
    let mut paths: Vec<Vec<PathStep>> = Vec::new();
    collect_paths(v, &mut Vec::new(), &mut paths);
    let path = paths[rng.random_range(0..paths.len())].clone();
    let Some(node) = node_at(v, &path) else {
        return "no node".into();
    };
    let deep = {
        let mut d = json!(0);
        for _ in 0..rng.random_range(1..200) {
            d = json!([d]);
        }
        d
    };
    let replacement: Value = match rng.random_range(0..14u32) {
        0 => json!(u64::MAX),
        1 => json!(-1),
        2 => json!(1e308),
        3 => json!(-0.0),
        4 => json!(null),
        5 => json!(""),
        6 => json!("../../../etc/passwd"),
        7 => json!("x\n# Injected\n[link](http://example.invalid)"),
        8 => Value::Array(vec![node.clone(); rng.random_range(0..50)]),
        9 => json!({}),
        10 => deep,
        11 => json!(true),
        12 => json!(0.5),
        _ => json!("\u{202e}\u{0}\u{ffff}"),
    };
    *node = replacement;
    format!("{path:?} replaced")
}

#[derive(Debug, Clone)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

fn collect_paths(v: &serde_json::Value, at: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    out.push(at.clone());
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                at.push(PathStep::Key(k.clone()));
                collect_paths(x, at, out);
                at.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(PathStep::Index(i));
                collect_paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn node_at<'a>(
    v: &'a mut serde_json::Value,
    path: &[PathStep],
) -> Option<&'a mut serde_json::Value> {
    let mut cur = v;
    for s in path {
        cur = match s {
            PathStep::Key(k) => cur.get_mut(k.as_str())?,
            PathStep::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}
