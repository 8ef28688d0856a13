//! The CSV decoder alone: each file read from memory into batches of field spans by
//! `RowReader` (the thread that decodes a part's rows), no checks, no profile. The scan's
//! other half (the checks) is measured by `bench/shapes`; this isolates the first half.
//! Prints per file the best and median of REPEAT passes, in ms and MB/s.
//!
//! Usage: cargo bench --bench rows -- REPEAT FILE.csv [FILE.csv ...]

use mlgate::data::rows::RowReader;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some((repeat, files)) = args.split_first() else {
        // `cargo test --all-targets` runs benches without arguments: nothing to measure.
        eprintln!("usage: rows REPEAT FILE.csv [FILE.csv ...]");
        return Ok(());
    };
    let repeat: usize = repeat.parse()?;
    println!("| file | MB | rows | best ms | median ms | MB/s (best) |");
    println!("|---|---|---|---|---|---|");
    for file in files {
        let bytes = std::fs::read(file)?;
        let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let columns = header.split(|&b| b == b',').count();
        let mut times = Vec::with_capacity(repeat);
        let mut rows = 0;
        for _ in 0..repeat.max(1) {
            let started = Instant::now();
            let input = std::io::BufReader::with_capacity(1 << 20, &bytes[..]);
            let mut reader = RowReader::new(input, b',', b'"', columns).skipping_header();
            rows = 0;
            while let Some(batch) = reader.next_batch() {
                rows += batch.map_err(|e| format!("{file}: {e:?}"))?.num_rows();
            }
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let mb = bytes.len() as f64 / 1e6;
        println!(
            "| {file} | {mb:.1} | {rows} | {:.1} | {:.1} | {:.0} |",
            times[0],
            times[times.len() / 2],
            mb / times[0] * 1e3
        );
    }
    Ok(())
}
