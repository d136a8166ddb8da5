//! The allocator and its tuning: mimalloc, with arenas committed lazily and, for a compile,
//! freed memory given back at once.

// lvsdr allocates and frees millions of small strings for a large cluster; mimalloc does
// that in much less time than glibc's allocator (scripts/bench measures it; the figures
// are in docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options, by their place in `mi_option_e` (mimalloc.h of the v3 sources that
/// libmimalloc-sys builds); `allocator_options_are_these` checks them against the library.
const MI_OPTION_ARENA_EAGER_COMMIT: std::ffi::c_int = 4;
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Arenas are committed as they are used, not all at once: mimalloc's default (eager
/// arenas) makes every command's peak memory higher, a small manifest's most, for no time
/// saved (scripts/bench's peak RSS; docs/benchmarks.md).
///
/// It runs from `.init_array`, before the Rust runtime allocates anything: mimalloc makes
/// its first arena at the first allocation, with the options it has then.
extern "C" fn commit_arenas_lazily() {
    // SAFETY: setting an option is a store mimalloc allows at any time, from any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) }
}

#[used]
#[link_section = ".init_array"]
static COMMIT_ARENAS_LAZILY: extern "C" fn() = commit_arenas_lazily;

/// Memory is given back to the system as soon as it is freed, for a compile: the
/// manifest's text and raw form are freed before the model's peak, and the writer's
/// threads free each host as they go. With mimalloc's default (a second's delay) those
/// pages stay resident beside the rest and raise a compile's peak, for no time saved.
/// `check` keeps the delay: it reuses the freed pages for the model at once, and
/// returning them costs it a noticeable part of its time for little memory. scripts/bench
/// measures both (docs/benchmarks.md).
pub fn return_freed_memory_at_once() {
    // SAFETY: as in `commit_arenas_lazily`.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

#[cfg(test)]
mod tests {
    /// The option numbers name the options meant: the purge delay's default in mimalloc's
    /// options.c (v3) is 1000 ms, and `commit_arenas_lazily` set eager arenas (default 2)
    /// to 0 before this test ran.
    #[test]
    fn allocator_options_are_these() {
        // SAFETY: reading an option is a load mimalloc allows at any time.
        let (purge_delay, arena_eager_commit) = unsafe {
            (
                libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY),
                libmimalloc_sys::mi_option_get(super::MI_OPTION_ARENA_EAGER_COMMIT),
            )
        };
        assert_eq!((purge_delay, arena_eager_commit), (1000, 0));
    }
}
