//! Runs per-host work on every core and hands the results back in host order.
//!
//! Hosts are taken in chunks from a shared counter, so the threads work on neighbouring
//! hosts and the results waiting for an earlier, slower chunk stay few. The first few
//! hosts (the directors, whose files list every membership and are by far the slowest to
//! render in a large cluster) are a chunk each, so that they render side by side.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

/// Hosts per unit of work: large enough to amortise the hand-off, small enough to keep
/// the threads busy to the end.
const CHUNK: usize = 16;

/// At most this many threads: beyond it the filesystem, not the CPU, limits a compile.
const MAX_THREADS: usize = 8;

/// How many chunks a thread may run ahead of the one the caller waits for. A director's
/// chunk takes seconds in a large cluster (its files list every real server); without a
/// bound the other threads finish thousands of hosts meanwhile, and their results wait
/// in memory (index entries by the thousand).
const WINDOW: usize = 64;

/// The hosts of `chunk`: the first `singles` one to a chunk, then `CHUNK` at a time.
fn chunk_hosts(chunk: usize, singles: usize, count: usize) -> std::ops::Range<usize> {
    let (start, end) = match chunk.checked_sub(singles) {
        None => (chunk, chunk + 1),
        Some(later) => (singles + later * CHUNK, singles + (later + 1) * CHUNK),
    };
    start.min(count)..end.min(count)
}

/// Calls `work` for hosts `0..count` on every core and `consume` with each result in host
/// order, on the calling thread; hosts `0..singles` are slow ones, each run on its own.
/// Stops at the first error, from either.
pub fn in_order<R: Send, E: Send>(
    count: usize,
    singles: usize,
    work: impl Fn(usize) -> Result<R, E> + Sync,
    mut consume: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_THREADS);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // The first chunk not yet consumed, and its signal.
    let consumed = Mutex::new(0usize);
    let advanced = Condvar::new();
    std::thread::scope(|scope| {
        let (send, receive) = mpsc::sync_channel::<(usize, Result<Vec<R>, E>)>(threads * 2);
        for _ in 0..threads {
            let send = send.clone();
            let (next, stop, work, consumed, advanced) = (&next, &stop, &work, &consumed, &advanced);
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let chunk = next.fetch_add(1, Ordering::Relaxed);
                let hosts = chunk_hosts(chunk, singles, count);
                if hosts.is_empty() {
                    break;
                }
                let mut first = consumed.lock().unwrap_or_else(|e| e.into_inner());
                while chunk >= *first + WINDOW && !stop.load(Ordering::Relaxed) {
                    first = advanced.wait(first).unwrap_or_else(|e| e.into_inner());
                }
                drop(first);
                let result: Result<Vec<R>, E> = hosts.map(work).collect();
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
                *consumed.lock().unwrap_or_else(|e| e.into_inner()) = expected;
                advanced.notify_all();
                if let Err(error) = result.and_then(|items| items.into_iter().try_for_each(&mut consume)) {
                    stop.store(true, Ordering::Relaxed);
                    advanced.notify_all();
                    outcome = Err(error);
                    break;
                }
            }
        }
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slow first chunk holds the others back to the window, and every result still
    /// arrives once, in order.
    #[test]
    fn results_come_in_order_behind_a_slow_first_chunk() {
        let ahead = AtomicUsize::new(0);
        let mut seen = Vec::new();
        let result: Result<(), ()> = in_order(
            CHUNK * (WINDOW * 3),
            0,
            |n| {
                if n == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    // Nobody got further than the window while the first chunk ran.
                    assert!(ahead.load(Ordering::Relaxed) < CHUNK * (WINDOW + 1));
                }
                ahead.fetch_max(n, Ordering::Relaxed);
                Ok(n)
            },
            |n| {
                seen.push(n);
                Ok(())
            },
        );
        assert_eq!(result, Ok(()));
        assert_eq!(seen, (0..CHUNK * WINDOW * 3).collect::<Vec<_>>());
    }

    /// The slow hosts come one to a chunk, the rest in chunks; every host once, in order.
    #[test]
    fn slow_hosts_are_a_chunk_each() {
        assert_eq!([0, 1, 2, 3].map(|c| chunk_hosts(c, 2, 40)), [0..1, 1..2, 2..18, 18..34]);
        assert_eq!([4, 5].map(|c| chunk_hosts(c, 2, 40)), [34..40, 40..40]);
        assert_eq!(chunk_hosts(0, 0, 5), 0..5);
        // Each slow host waits (up to ten seconds) for the other to start: they must run
        // at the same time (with one core there is one thread, and they cannot).
        let started = AtomicUsize::new(0);
        let together = AtomicUsize::new(0);
        let two_threads = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
        let mut seen = Vec::new();
        let result: Result<(), ()> = in_order(
            100,
            2,
            |n| {
                if n < 2 && two_threads {
                    started.fetch_add(1, Ordering::SeqCst);
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                    while started.load(Ordering::SeqCst) < 2 && std::time::Instant::now() < deadline {
                        std::thread::yield_now();
                    }
                    if started.load(Ordering::SeqCst) == 2 {
                        together.fetch_add(1, Ordering::SeqCst);
                    }
                }
                Ok(n)
            },
            |n| {
                seen.push(n);
                Ok(())
            },
        );
        if two_threads {
            assert_eq!(together.load(Ordering::SeqCst), 2, "the two slow hosts ran one after the other");
        }
        assert_eq!(result, Ok(()));
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }

    /// An error in a late chunk stops the run without leaving a thread waiting.
    #[test]
    fn an_error_stops_every_thread() {
        let result = in_order(CHUNK * (WINDOW * 4), 0, |n| if n == CHUNK * 70 { Err(n) } else { Ok(n) }, |_| Ok(()));
        assert_eq!(result, Err(CHUNK * 70));
    }
}
