//! What `kevdb ingest` reads: files, standard input, directory trees
//! (must-gather, support bundles, `cluster-info dump --output-directory`)
//! and archives (sonobuoy results), each possibly gzip- or
//! zstd-compressed. Formats are told from the content, never the name.
//!
//! A file named on the command line is always read. Inside a directory or a
//! tar archive only the *event files* are: those with a path component
//! containing `event` (`events.yaml`, `Events.json`, `events/kube-system.json`,
//! `events.k8s.io/v1/events.yaml`), plus nested archives, which are opened in
//! turn; everything else in a dump (pods, logs, metrics) is passed over.

use anyhow::Context;
use std::io::{self, Cursor, Read};
use std::path::Path;

/// Archives nested deeper than this are not opened (a guard against
/// archive bombs).
const MAX_NESTING: usize = 4;
/// Bytes looked at to recognise compression and tar.
const SNIFF: usize = 512;

/// How the bytes of one input are wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrapping {
    Gzip,
    Zstd,
    Tar,
    Plain,
}

fn wrapping(head: &[u8]) -> Wrapping {
    if head.starts_with(&[0x1f, 0x8b]) {
        Wrapping::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Wrapping::Zstd
    } else if head.get(257..262) == Some(b"ustar") {
        Wrapping::Tar
    } else {
        Wrapping::Plain
    }
}

/// Whether a path inside a dump names an event file or an archive.
fn is_wanted(path: &Path) -> bool {
    let eventish = path.components().any(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase().contains("event"));
    eventish || is_archive_name(path)
}

fn is_archive_name(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd"].iter().any(|ext| name.ends_with(ext))
}

/// Reads up to `n` bytes, and gives them back in front of the rest.
fn sniff<'a>(mut reader: Box<dyn Read + 'a>) -> io::Result<(Vec<u8>, Box<dyn Read + 'a>)> {
    let mut head = Vec::with_capacity(SNIFF);
    (&mut reader).take(SNIFF as u64).read_to_end(&mut head)?;
    let prefix = Cursor::new(head.clone());
    Ok((head, Box::new(prefix.chain(reader))))
}

/// Walks the inputs, calling `visit` with the name and the decompressed
/// bytes of every event source found; `visit`'s errors stop the walk.
pub struct Walker<'v> {
    visit: &'v mut dyn FnMut(&str, &mut dyn Read) -> anyhow::Result<()>,
    /// Event sources read so far.
    pub sources: usize,
}

impl std::fmt::Debug for Walker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walker").field("sources", &self.sources).finish_non_exhaustive()
    }
}

impl<'v> Walker<'v> {
    pub fn new(visit: &'v mut dyn FnMut(&str, &mut dyn Read) -> anyhow::Result<()>) -> Walker<'v> {
        Walker { visit, sources: 0 }
    }

    /// A path named on the command line: a file (always read) or a
    /// directory (walked for event files and archives).
    pub fn path(
        &mut self,
        path: &Path,
        progress: &dyn Fn(Box<dyn Read>, Option<u64>) -> Box<dyn Read>,
    ) -> anyhow::Result<()> {
        let name = path.display().to_string();
        if path.is_dir() {
            return self.directory(path, path, progress);
        }
        let file = std::fs::File::open(path).with_context(|| format!("opening {name}"))?;
        let len = file.metadata().ok().map(|m| m.len());
        self.stream(&name, progress(Box::new(file), len), 0)
    }

    /// Standard input.
    pub fn stdin(&mut self) -> anyhow::Result<()> {
        self.stream("-", Box::new(io::stdin().lock()), 0)
    }

    /// Walks `dir`, a directory inside the tree rooted at `root`; files are
    /// chosen by their path below `root` (a tree kept under a folder named
    /// `events` must not make every file in it an event file).
    fn directory(
        &mut self,
        root: &Path,
        dir: &Path,
        progress: &dyn Fn(Box<dyn Read>, Option<u64>) -> Box<dyn Read>,
    ) -> anyhow::Result<()> {
        let name = dir.display();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading directory {name}"))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("reading directory {name}"))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let kind = entry.file_type().with_context(|| format!("reading {}", path.display()))?;
            if kind.is_dir() {
                self.directory(root, &path, progress)?;
            } else if kind.is_file() && is_wanted(path.strip_prefix(root).unwrap_or(&path)) {
                self.path(&path, progress)?;
            }
        }
        Ok(())
    }

    /// One stream of bytes: decompressed, opened as an archive, or read.
    fn stream<'a>(&mut self, name: &str, reader: Box<dyn Read + 'a>, depth: usize) -> anyhow::Result<()> {
        let (head, reader) = sniff(reader).with_context(|| format!("reading {name}"))?;
        let kind = wrapping(&head);
        if kind != Wrapping::Plain && depth >= MAX_NESTING {
            anyhow::bail!("{name}: archives nested more than {MAX_NESTING} deep are not opened");
        }
        match kind {
            Wrapping::Gzip => self.stream(name, Box::new(flate2::read::MultiGzDecoder::new(reader)), depth + 1),
            Wrapping::Zstd => {
                let decoder = zstd::stream::read::Decoder::new(reader).with_context(|| format!("reading {name}"))?;
                self.stream(name, Box::new(decoder), depth + 1)
            }
            Wrapping::Tar => self.archive(name, reader, depth + 1),
            Wrapping::Plain => {
                self.sources += 1;
                let mut reader = reader;
                (self.visit)(name, &mut reader)
            }
        }
    }

    fn archive<'a>(&mut self, name: &str, reader: Box<dyn Read + 'a>, depth: usize) -> anyhow::Result<()> {
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries().with_context(|| format!("reading the archive {name}"))? {
            let entry = entry.with_context(|| format!("reading the archive {name}"))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let path = entry.path().with_context(|| format!("reading the archive {name}"))?.into_owned();
            if is_wanted(&path) {
                self.stream(&format!("{name}!{}", path.display()), Box::new(entry), depth)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_files_are_told_by_path() {
        assert!(is_wanted(Path::new("namespaces/kube-system/core/events.yaml")));
        assert!(is_wanted(Path::new("resources/ns/default/Events.json")));
        assert!(is_wanted(Path::new("cluster-resources/events/default.json")));
        assert!(is_wanted(Path::new("must-gather.tar.gz")));
        assert!(!is_wanted(Path::new("namespaces/kube-system/pods/coredns.yaml")));
        assert!(!is_wanted(Path::new("resources/ns/default/Pods.json")));
    }

    #[test]
    fn wrappings_are_told_by_content() {
        assert_eq!(wrapping(&[0x1f, 0x8b, 8, 0]), Wrapping::Gzip);
        assert_eq!(wrapping(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Wrapping::Zstd);
        assert_eq!(wrapping(b"{\"kind\":\"EventList\"}"), Wrapping::Plain);
        let mut tar_head = vec![0u8; 512];
        tar_head[257..262].copy_from_slice(b"ustar");
        assert_eq!(wrapping(&tar_head), Wrapping::Tar);
    }
}
