//! Deterministic data parallelism on one pool of worker threads: work is split into fixed
//! pieces whose results are combined in piece order, so the output never depends on how
//! many threads ran or which finished first. The pool lives as long as the process: a
//! tree asks for parallel work on every node, thousands of times per fit, too often to
//! start threads each time.

use rayon::prelude::*;
use std::sync::OnceLock;

/// Threads to use: `MLGATE_THREADS` if set, else the machine's parallelism.
pub fn threads() -> usize {
    std::env::var("MLGATE_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The process's pool, of `threads()` workers, or `None` when it cannot start (the
/// callers then run on the calling thread).
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads())
            .thread_name(|i| format!("mlgate-train-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// Runs `f` on a worker of the pool: the parallel work it asks for (every node of every
/// tree, every pass over the rows) is then shared among the workers directly, instead of
/// waking them from outside and waiting for them each time.
pub fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match pool() {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// `f(i)` for every `i` in `0..n`, results in index order, on at most `threads` threads.
pub fn map<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    match pool() {
        Some(pool) if threads > 1 && n > 1 => pool.install(|| {
            (0..n)
                .into_par_iter()
                .with_min_len(min_pieces(n, threads))
                .map(&f)
                .collect()
        }),
        _ => (0..n).map(f).collect(),
    }
}

/// The fewest of `n` pieces one task takes: about four tasks per thread, so that a
/// thread that finishes early takes work from one that is behind. (Rayon halves a range
/// only while each half keeps this many: `n / threads` would leave an odd `n` whole.)
fn min_pieces(n: usize, threads: usize) -> usize {
    n.div_ceil(threads * 4)
}

/// `a()` and `b()`, on two threads of the pool when there is one.
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    match pool() {
        Some(pool) => pool.install(|| rayon::join(a, b)),
        None => (a(), b()),
    }
}

/// `f(item)` for every item, results in the items' order, on at most `threads` threads.
pub fn map_owned<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    match pool() {
        Some(pool) if threads > 1 && items.len() > 1 => pool.install(|| {
            let n = items.len();
            items
                .into_par_iter()
                .with_min_len(min_pieces(n, threads))
                .map(&f)
                .collect()
        }),
        _ => items.into_iter().map(f).collect(),
    }
}

/// Applies `f` to consecutive chunks of `data` (fixed size, `f` gets each chunk's
/// offset), on at most `threads` threads.
pub fn for_chunks<T: Send>(
    data: &mut [T],
    chunk: usize,
    threads: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let chunk = chunk.max(1);
    match pool() {
        Some(pool) if threads > 1 && data.len() > chunk => pool.install(|| {
            let pieces = data.len().div_ceil(chunk);
            data.par_chunks_mut(chunk)
                .with_min_len(min_pieces(pieces, threads))
                .enumerate()
                .for_each(|(i, c)| f(i * chunk, c))
        }),
        _ => data
            .chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| f(i * chunk, c)),
    }
}

/// `for_chunks` over two slices of the same length at once: `f` gets each chunk's offset
/// and the two chunks.
pub fn for_chunk_pairs<T: Send, U: Send>(
    a: &mut [T],
    b: &mut [U],
    chunk: usize,
    threads: usize,
    f: impl Fn(usize, &mut [T], &mut [U]) + Sync,
) {
    let chunk = chunk.max(1);
    match pool() {
        Some(pool) if threads > 1 && a.len() > chunk => pool.install(|| {
            let pieces = a.len().div_ceil(chunk);
            a.par_chunks_mut(chunk)
                .zip(b.par_chunks_mut(chunk))
                .with_min_len(min_pieces(pieces, threads))
                .enumerate()
                .for_each(|(i, (x, y))| f(i * chunk, x, y))
        }),
        _ => a
            .chunks_mut(chunk)
            .zip(b.chunks_mut(chunk))
            .enumerate()
            .for_each(|(i, (x, y))| f(i * chunk, x, y)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_index_order_whatever_the_threads() {
        let squares: Vec<usize> = (0..1000).map(|i| i * i).collect();
        for threads in [1, 2, 3, 8] {
            assert_eq!(map(1000, threads, |i| i * i), squares);
            let mut data = vec![0usize; 1000];
            for_chunks(&mut data, 7, threads, |start, c| {
                c.iter_mut()
                    .enumerate()
                    .for_each(|(i, v)| *v = (start + i).pow(2))
            });
            assert_eq!(data, squares);
            // Each owned item once, whatever thread takes it.
            let mut cells = vec![0usize; 1000];
            let items: Vec<(usize, &mut usize)> = cells.iter_mut().enumerate().collect();
            let units = map_owned(items, threads, |(i, cell)| *cell = i * i);
            assert_eq!((cells, units.len()), (squares.clone(), 1000));
            let owned: Vec<usize> = (0..1000).collect();
            assert_eq!(map_owned(owned, threads, |i| i * i), squares);
        }
    }
}
