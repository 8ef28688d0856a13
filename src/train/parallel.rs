//! Deterministic data parallelism on scoped threads: work is split into fixed pieces
//! whose results are combined in piece order, so the output never depends on how many
//! threads ran or which finished first.

/// Threads to use: `MLGATE_THREADS` if set, else the machine's parallelism.
pub fn threads() -> usize {
    std::env::var("MLGATE_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f(i)` for every `i` in `0..n`, results in index order.
pub fn map<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return (0..n).map(f).collect();
    }
    let f = &f;
    let mut parts: Vec<Vec<(usize, T)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || (t..n).step_by(threads).map(|i| (i, f(i))).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for (i, v) in parts.iter_mut().flat_map(std::mem::take) {
        out[i] = Some(v);
    }
    out.into_iter().flatten().collect()
}

/// Applies `f` to consecutive chunks of `data` (fixed size), in parallel.
pub fn for_chunks<T: Send>(
    data: &mut [T],
    chunk: usize,
    threads: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let chunk = chunk.max(1);
    if threads <= 1 || data.len() <= chunk {
        data.chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| f(i * chunk, c));
        return;
    }
    let f = &f;
    let pieces: Vec<(usize, &mut [T])> = data
        .chunks_mut(chunk)
        .enumerate()
        .map(|(i, c)| (i * chunk, c))
        .collect();
    let per = pieces.len().div_ceil(threads);
    let mut pieces = pieces;
    std::thread::scope(|scope| {
        while !pieces.is_empty() {
            let rest = pieces.split_off(per.min(pieces.len()));
            let mine = std::mem::replace(&mut pieces, rest);
            scope.spawn(move || mine.into_iter().for_each(|(start, c)| f(start, c)));
        }
    });
}
