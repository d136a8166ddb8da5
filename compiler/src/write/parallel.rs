//! Runs per-host work on every core and hands the results back in host order.
//!
//! Hosts are taken in chunks from a shared counter, so the threads work on neighbouring
//! hosts and the results waiting for an earlier, slower chunk stay few.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// Hosts per unit of work: large enough to amortise the hand-off, small enough to keep
/// the threads busy to the end.
const CHUNK: usize = 16;

/// At most this many threads: beyond it the filesystem, not the CPU, limits a compile.
const MAX_THREADS: usize = 8;

/// Calls `work` for hosts `0..count` on every core and `consume` with each result in host
/// order, on the calling thread. Stops at the first error, from either.
pub fn in_order<R: Send, E: Send>(
    count: usize,
    work: impl Fn(usize) -> Result<R, E> + Sync,
    mut consume: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_THREADS);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (send, receive) = mpsc::sync_channel::<(usize, Result<Vec<R>, E>)>(threads * 2);
        for _ in 0..threads {
            let send = send.clone();
            let (next, stop, work) = (&next, &stop, &work);
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let chunk = next.fetch_add(1, Ordering::Relaxed);
                let start = chunk * CHUNK;
                if start >= count {
                    break;
                }
                let result: Result<Vec<R>, E> = (start..(start + CHUNK).min(count)).map(work).collect();
                let failed = result.is_err();
                if send.send((chunk, result)).is_err() || failed {
                    break;
                }
            });
        }
        drop(send);
        let mut waiting = BTreeMap::new();
        let mut expected = 0;
        let mut outcome = Ok(());
        // Receives until every worker has finished, so none is left blocked on a send.
        for (chunk, result) in receive {
            if outcome.is_err() {
                continue;
            }
            waiting.insert(chunk, result);
            while let Some(result) = waiting.remove(&expected) {
                expected += 1;
                if let Err(error) = result.and_then(|items| items.into_iter().try_for_each(&mut consume)) {
                    stop.store(true, Ordering::Relaxed);
                    outcome = Err(error);
                    break;
                }
            }
        }
        outcome
    })
}
