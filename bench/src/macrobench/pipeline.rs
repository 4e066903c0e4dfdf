//! The ingest pipeline shared by kevdb and the SQLite peer: one thread reads
//! NDJSON lines in batches and parses them, the calling thread stores them.
//! Both systems get the same shape (parse overlapped with writes, bounded
//! queue), so their ingest rates compare like for like.

use std::io::BufRead;
use std::path::Path;
use std::sync::mpsc::sync_channel;

/// Batches in flight between the parsing thread and the storing one.
const QUEUE: usize = 2;

/// Reads `file` in batches of `lines` NDJSON lines, calls `parse(batch,
/// first_line)` on a reader thread (`first_line` is the 0-based index of the
/// batch's first line) and `store` on the calling thread with each result,
/// in order. Returns the number of lines read.
pub fn run<T: Send>(
    file: &Path,
    lines: usize,
    parse: impl Fn(&[u8], u64) -> anyhow::Result<T> + Send,
    mut store: impl FnMut(T) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let f = std::fs::File::open(file).map_err(|e| anyhow::anyhow!("opening {}: {e}", file.display()))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, f);
    let (tx, rx) = sync_channel::<anyhow::Result<T>>(QUEUE);
    std::thread::scope(|s| {
        let reader_thread = s.spawn(move || -> anyhow::Result<u64> {
            let mut total = 0u64;
            let mut buf = Vec::with_capacity(lines * 1024);
            loop {
                buf.clear();
                let mut n = 0;
                while n < lines {
                    let before = buf.len();
                    if reader.read_until(b'\n', &mut buf)? == 0 {
                        break;
                    }
                    // Blank lines are not records.
                    if buf[before..].iter().all(u8::is_ascii_whitespace) {
                        buf.truncate(before);
                        continue;
                    }
                    n += 1;
                }
                if n == 0 {
                    return Ok(total);
                }
                let parsed = parse(&buf, total);
                total += n as u64;
                if tx.send(parsed).is_err() {
                    // The storing side stopped (with an error it reports).
                    return Ok(total);
                }
            }
        });
        let mut failure = None;
        for batch in rx.iter() {
            if let Err(e) = batch.and_then(&mut store) {
                failure = Some(e);
                break;
            }
        }
        // Dropping the receiver unblocks a reader waiting to send.
        drop(rx);
        let read = reader_thread.join().map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
        match failure {
            Some(e) => Err(e),
            None => read,
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn batches_arrive_in_order_with_their_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ndjson");
        let text: String = (0..10).map(|i| format!("{{\"i\":{i}}}\n\n")).collect();
        std::fs::write(&path, text).unwrap();
        let mut seen = Vec::new();
        let n = super::run(
            &path,
            3,
            |b, first| Ok((first, String::from_utf8(b.to_vec())?.lines().filter(|l| !l.is_empty()).count())),
            |(first, n)| {
                seen.push((first, n));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(n, 10);
        assert_eq!(seen, vec![(0, 3), (3, 3), (6, 3), (9, 1)]);
    }
}
