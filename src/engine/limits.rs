//! The documented ranges of counts a user can ask for (README, section "Limits"), in one
//! place: the CLI checks them at parse time (`cli/args.rs`), and a workspace file's settings
//! are checked against them when it is loaded (`workspace.rs`), so a number from a file can
//! no more start an allocation of exabytes or a run of years than one typed on the command
//! line.

/// Bootstrap resamples (0 turns intervals off).
pub const MAX_BOOTSTRAP: u64 = 100_000;
/// Inference threads.
pub const MAX_THREADS: u64 = 1024;
/// Permutation-importance and perf repeats.
pub const MAX_REPEATS: u64 = 1000;
/// Perf single-row calls and warm-up calls.
pub const MAX_CALLS: u64 = 1_000_000;
/// Perf batch sizes.
pub const MAX_BATCH: u64 = 1_000_000;
/// Perf rows per throughput repeat.
pub const MAX_ROWS_PER_REPEAT: u64 = 100_000_000;
/// KernelSHAP coalitions per row.
pub const MAX_NSAMPLES: u64 = 1_000_000;
/// SHAP background rows.
pub const MAX_BACKGROUND: u64 = 100_000;
/// PDP grid points per feature.
pub const MAX_GRID: u64 = 1000;
/// Listed rows (`--top`).
pub const MAX_TOP: u64 = 10_000;
/// Sampled rows (robustness, rows explained in a report).
pub const MAX_SAMPLE_ROWS: u64 = 1_000_000;
/// Rows the adversarial search runs on.
pub const MAX_ADVERSARIAL_ROWS: u64 = 100_000;
/// Fairness quantile bins.
pub const MAX_BINS: u64 = 100;
/// Fairness minimum group size.
pub const MAX_MIN_GROUP: u64 = 1_000_000_000;
