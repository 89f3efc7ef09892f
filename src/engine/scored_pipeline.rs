//! The worker side of the streamed model run ([`super::scored_stream::score_batches`]): the
//! reading thread hands each prepared batch to a pool of workers as jobs (one model chunk
//! each) and gets the batches back whole, in the order it handed them, while it reads and
//! prepares the next one.
//!
//! The job queue is bounded (one queued job per worker), so reading stays at most about a
//! batch ahead of the model. It can never block the reading thread forever: only the workers
//! hold its receiving end, so once every worker is gone (even by a panic that escaped) a send
//! fails; a panic inside a job is caught and ends the run with [`EngineError::Internal`]
//! naming it (a bug, not a problem of the data: the caller reports it, it does not retry in
//! memory).

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex, OnceLock};

use super::error::{EngineError, Result};

/// One job for a worker: (batch number, job index in the batch, job).
type Job<J> = (usize, usize, J);

/// A job's output: (batch number, job index, output).
type Done<O> = (usize, usize, Result<O>);

/// A batch whose jobs are with the workers.
struct Waiting<B, O> {
    batch: B,
    outs: Vec<Option<O>>,
    left: usize,
}

/// The reading thread's side of [`run`]: batches handed to the workers job by job, and given
/// back whole in the order they were handed.
pub(crate) struct Pipeline<'p, B, J, O> {
    jobs: Option<SyncSender<Job<J>>>,
    done: Receiver<Done<O>>,
    waiting: VecDeque<Waiting<B, O>>,
    /// Batch number of `waiting`'s first entry, and of the next batch.
    front: usize,
    next: usize,
    /// Fraction of the oldest waiting batch's jobs done.
    progress: &'p (dyn Fn(f32) + Sync),
}

impl<B, J, O> Pipeline<'_, B, J, O> {
    /// Hands `jobs` (the batch's, in order; at least one) to the workers; blocks while every
    /// worker has a job queued. `Err`: the workers are gone.
    pub fn submit(&mut self, batch: B, jobs: Vec<J>) -> Result<()> {
        let queue = self.jobs.as_ref().ok_or_else(gone)?;
        if jobs.is_empty() {
            return Err(EngineError::internal("a batch without jobs"));
        }
        let number = self.next;
        self.next += 1;
        self.waiting.push_back(Waiting {
            batch,
            outs: jobs.iter().map(|_| None).collect(),
            left: jobs.len(),
        });
        for (index, job) in jobs.into_iter().enumerate() {
            queue.send((number, index, job)).map_err(|_| gone())?;
        }
        Ok(())
    }

    /// Gives every batch at the front whose jobs are all done to `ready` (with its outputs in
    /// job order); `wait`: until no batch is left, else only what is done now. The first
    /// error of a job or of `ready` ends it.
    pub fn take(
        &mut self,
        wait: bool,
        ready: &mut impl FnMut(B, Vec<O>) -> Result<()>,
    ) -> Result<()> {
        loop {
            while self.waiting.front().is_some_and(|w| w.left == 0) {
                let Some(w) = self.waiting.pop_front() else {
                    break;
                };
                self.front += 1;
                ready(w.batch, w.outs.into_iter().flatten().collect())?;
            }
            if self.waiting.is_empty() {
                return Ok(());
            }
            let (batch, index, out) = if wait {
                self.done.recv().map_err(|_| gone())?
            } else {
                match self.done.try_recv() {
                    Ok(d) => d,
                    Err(TryRecvError::Empty) => return Ok(()),
                    Err(TryRecvError::Disconnected) => return Err(gone()),
                }
            };
            let w = batch
                .checked_sub(self.front)
                .and_then(|b| self.waiting.get_mut(b))
                .ok_or_else(|| EngineError::internal("a job of an unknown batch"))?;
            let slot = w
                .outs
                .get_mut(index)
                .ok_or_else(|| EngineError::internal("a job of an unknown index"))?;
            *slot = Some(out?);
            w.left -= 1;
            if batch == self.front {
                let n = w.outs.len();
                (self.progress)((n - w.left) as f32 / n as f32);
            }
        }
    }

    /// Closes the queue and gives every batch left to `ready`, in order.
    pub fn finish(&mut self, ready: &mut impl FnMut(B, Vec<O>) -> Result<()>) -> Result<()> {
        self.jobs = None;
        self.take(true, ready)
    }
}

fn gone() -> EngineError {
    EngineError::internal("the inference workers stopped")
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string())
}

/// A worker: runs queued jobs until the queue closes, the run stops, or the reading thread is
/// gone. A panicking job is recorded in `panicked` and sent back as an error.
fn work<J, O>(
    jobs: Arc<Mutex<Receiver<Job<J>>>>,
    done: Sender<Done<O>>,
    stop: &AtomicBool,
    panicked: &OnceLock<String>,
    run: &(impl Fn(J) -> Result<O> + Sync),
) {
    loop {
        // The lock is held only while waiting for a job; a poisoned lock ends the worker.
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((batch, index, job)) = job else {
            return;
        };
        let out = if stop.load(Ordering::Relaxed) {
            Err(EngineError::internal("the run stopped"))
        } else {
            catch_unwind(AssertUnwindSafe(|| run(job))).unwrap_or_else(|payload| {
                let message = panic_message(payload.as_ref());
                let _ = panicked.set(message.clone());
                Err(EngineError::internal(format!(
                    "an inference thread panicked: {message}"
                )))
            })
        };
        if done.send((batch, index, out)).is_err() {
            return;
        }
    }
}

/// Runs `body` on the calling thread with a [`Pipeline`] whose jobs `threads` workers run
/// with `run`; `progress` gets the fraction of the oldest waiting batch done. When `body`
/// returns, the workers skip the jobs still queued (if it failed) and are joined.
///
/// The outer `Err`: a worker panicked (the panic's message, whatever `body` returned, even
/// if it ended on the error that panic caused) or none could be started; otherwise `body`'s
/// result.
pub(crate) fn run<B, J: Send, O: Send, R>(
    threads: usize,
    run: impl Fn(J) -> Result<O> + Sync,
    progress: &(dyn Fn(f32) + Sync),
    body: impl FnOnce(&mut Pipeline<'_, B, J, O>) -> Result<R>,
) -> Result<Result<R>> {
    let (job_tx, job_rx) = sync_channel::<Job<J>>(threads.max(1));
    let (done_tx, done_rx) = channel::<Done<O>>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let stop = AtomicBool::new(false);
    let panicked = OnceLock::new();
    let (result, escaped) = std::thread::scope(|s| {
        let mut workers = Vec::new();
        for w in 0..threads.max(1) {
            let (jobs, done) = (Arc::clone(&job_rx), done_tx.clone());
            let (stop, panicked, run) = (&stop, &panicked, &run);
            let spawned = std::thread::Builder::new()
                .name(format!("assay-infer-{w}"))
                .spawn_scoped(s, move || work(jobs, done, stop, panicked, run));
            match spawned {
                Ok(h) => workers.push(h),
                Err(_) => break,
            }
        }
        // Only the workers hold the queue's receiving end and the outputs' sending end.
        drop((job_rx, done_tx));
        if workers.is_empty() {
            return (
                Err(EngineError::internal("cannot start an inference thread")),
                false,
            );
        }
        let mut pipeline = Pipeline {
            jobs: Some(job_tx),
            done: done_rx,
            waiting: VecDeque::new(),
            front: 0,
            next: 0,
            progress,
        };
        let result = body(&mut pipeline);
        stop.store(result.is_err(), Ordering::Relaxed);
        drop(pipeline);
        let escaped = workers.into_iter().any(|h| h.join().is_err());
        (Ok(result), escaped)
    });
    if let Some(message) = panicked.get() {
        return Err(EngineError::internal(format!(
            "an inference thread panicked: {message}"
        )));
    }
    if escaped {
        return Err(EngineError::internal("an inference thread panicked"));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`pipe`]'s `ready` got: (batch, outputs).
    type Got = Vec<(usize, Vec<usize>)>;

    /// Batches of `sizes[b]` jobs each (job = its value), run by `f`; what `ready` got.
    fn pipe(
        threads: usize,
        sizes: &[usize],
        f: impl Fn(usize) -> Result<usize> + Sync,
    ) -> Result<Result<Got>> {
        run(threads, f, &|_| {}, |p| {
            let mut got = Vec::new();
            let mut ready = |b: usize, outs: Vec<usize>| {
                got.push((b, outs));
                Ok(())
            };
            let mut value = 0;
            for (b, &n) in sizes.iter().enumerate() {
                p.submit(b, (value..value + n).collect())?;
                value += n;
                p.take(false, &mut ready)?;
            }
            p.finish(&mut ready)?;
            Ok(got)
        })
    }

    #[test]
    fn batches_come_back_whole_and_in_order() {
        let sizes = [3, 1, 5, 2, 8, 1];
        for threads in [1, 2, 4] {
            let got = pipe(threads, &sizes, |v| {
                // Later jobs finish first now and then.
                std::thread::sleep(std::time::Duration::from_micros(((v * 7) % 5) as u64 * 200));
                Ok(v * 10)
            });
            let mut value = 0;
            let want: Got = sizes
                .iter()
                .enumerate()
                .map(|(b, &n)| {
                    value += n;
                    (b, ((value - n)..value).map(|v| v * 10).collect())
                })
                .collect();
            assert_eq!(got.ok().and_then(|r| r.ok()), Some(want));
        }
    }

    #[test]
    fn a_failing_job_ends_the_run_with_its_error() {
        let got = pipe(2, &[4; 50], |v| {
            if v == 9 {
                Err(EngineError::usage("job 9 failed"))
            } else {
                Ok(v)
            }
        });
        match got {
            Ok(Err(e)) => assert_eq!(e.to_string(), "job 9 failed"),
            other => panic!("not job 9's error: {:?}", other.map(|r| r.is_ok())),
        }
    }

    #[test]
    fn panicking_workers_end_the_run_with_an_error_not_a_hang() {
        // Every job panics: many more jobs than the queue holds, so the reading thread would
        // block on a full queue if it waited for workers that are gone.
        for threads in [1, 2, 3] {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let got = pipe(threads, &[8; 100], |_| -> Result<usize> { panic!("boom") });
                let _ = tx.send(got.map(|r| r.is_ok()));
            });
            let got = rx.recv_timeout(std::time::Duration::from_secs(60));
            match got {
                Ok(Err(e)) => assert!(e.to_string().contains("panicked: boom"), "{e}"),
                other => panic!("no panic error within 60 s: {other:?}"),
            }
        }
    }

    #[test]
    fn a_panic_after_some_batches_is_reported() {
        let got = pipe(
            2,
            &[2; 40],
            |v| if v == 31 { panic!("at 31") } else { Ok(v) },
        );
        match got {
            Err(e) => assert!(e.to_string().contains("panicked: at 31"), "{e}"),
            Ok(r) => panic!("the panic was not reported: {:?}", r.is_ok()),
        }
    }
}
