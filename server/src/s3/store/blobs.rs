//! Object data: files named by the store (`blobs/ab/cd/<32 hex digits>`), never by a key,
//! so any key S3 accepts can be stored. A blob is written once, made durable, and only then
//! named in the index; a blob the index does not name is garbage (see `Store::open`).

use bytes::Bytes;
use futures_util::Stream;
use std::collections::{HashMap, HashSet};
use std::io::{self, Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Bytes gathered before one write to disk: large writes, and the next block arrives from
/// the network while the previous one is written. Each writer keeps two such buffers and
/// reuses them, so 16 parallel part uploads hold 32 MiB (4 MiB blocks held 128 MiB, and a
/// fresh mapping per block cost a page fault per 4 KiB written).
const WRITE_BLOCK: usize = 1024 * 1024;
/// Bytes read from disk at once for a response body.
const READ_BLOCK: usize = 1024 * 1024;

/// A blob's name: 32 lowercase hex digits.
pub fn new_id() -> String {
    rand::random::<[u8; 16]>().iter().map(|b| format!("{b:02x}")).collect()
}

fn is_id(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[derive(Clone)]
pub struct Blobs {
    dir: PathBuf,
    readers: Arc<Mutex<Readers>>,
}

/// Blobs being read, and those removed from the index while read: a reader's file is
/// unlinked when its last reader is done, so a GET never loses the rest of its object to a
/// concurrent overwrite or delete.
#[derive(Default)]
struct Readers {
    count: HashMap<String, usize>,
    doomed: HashSet<String>,
}

/// Holds blobs against removal while a response streams them.
pub struct ReadGuard {
    ids: Vec<String>,
    blobs: Blobs,
}

impl Drop for ReadGuard {
    fn drop(&mut self) {
        let mut doomed_now = Vec::new();
        {
            let mut readers = self.blobs.readers.lock().unwrap_or_else(|e| e.into_inner());
            for id in &self.ids {
                if let Some(count) = readers.count.get_mut(id) {
                    *count -= 1;
                    if *count == 0 {
                        readers.count.remove(id);
                        if readers.doomed.remove(id) {
                            doomed_now.push(id.clone());
                        }
                    }
                }
            }
        }
        for id in doomed_now {
            let _ = std::fs::remove_file(self.blobs.path(&id));
        }
    }
}

impl Blobs {
    pub fn new(dir: PathBuf) -> Self {
        Blobs {
            dir,
            readers: Arc::default(),
        }
    }

    pub fn path(&self, id: &str) -> PathBuf {
        self.dir.join(&id[0..2]).join(&id[2..4]).join(id)
    }

    /// Marks blobs as read until the guard drops.
    pub fn hold(&self, ids: Vec<String>) -> ReadGuard {
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        for id in &ids {
            *readers.count.entry(id.clone()).or_default() += 1;
        }
        drop(readers);
        ReadGuard {
            ids,
            blobs: self.clone(),
        }
    }

    /// Removes blobs the index no longer names (now, or when their last reader is done).
    pub fn discard(&self, ids: impl IntoIterator<Item = String>) {
        let mut unlink = Vec::new();
        {
            let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
            for id in ids {
                if readers.count.contains_key(&id) {
                    readers.doomed.insert(id);
                } else {
                    unlink.push(id);
                }
            }
        }
        for id in unlink {
            if let Err(e) = std::fs::remove_file(self.path(&id))
                && e.kind() != io::ErrorKind::NotFound
            {
                tracing::warn!(error = %e, blob = id, "could not remove a blob; it is removed at the next start");
            }
        }
    }

    /// Every blob on disk, by id (for the sweep of blobs the index does not name).
    pub fn all_ids(&self) -> io::Result<Vec<String>> {
        let mut found = Vec::new();
        let Ok(level1) = std::fs::read_dir(&self.dir) else {
            return Ok(found);
        };
        for a in level1 {
            let a = a?;
            if !a.file_type()?.is_dir() {
                continue;
            }
            for b in std::fs::read_dir(a.path())? {
                let b = b?;
                if !b.file_type()?.is_dir() {
                    continue;
                }
                for file in std::fs::read_dir(b.path())? {
                    let name = file?.file_name();
                    if let Some(name) = name.to_str()
                        && is_id(name)
                    {
                        found.push(name.to_string());
                    }
                }
            }
        }
        Ok(found)
    }

    /// A new blob file, removed again unless [`BlobWriter::finish`] is reached.
    pub async fn create(&self) -> io::Result<BlobWriter> {
        let id = new_id();
        let path = self.path(&id);
        let file = tokio::task::spawn_blocking({
            let path = path.clone();
            move || {
                std::fs::create_dir_all(path.parent().expect("blob paths have parents"))?;
                std::fs::File::create_new(&path)
            }
        })
        .await
        .map_err(io::Error::other)??;
        Ok(BlobWriter {
            id,
            path,
            file: Some(file),
            block: Vec::with_capacity(WRITE_BLOCK),
            spare: None,
            writing: None,
            len: 0,
        })
    }

    /// Copies `range` of the concatenated `sources` into a new blob (the kernel copies
    /// between files: `copy_file_range` where the file system allows).
    pub async fn copy(&self, sources: Vec<(String, u64)>, range: std::ops::Range<u64>) -> io::Result<BlobWriter> {
        let mut writer = self.create().await?;
        let file = writer.file.take().expect("a new writer has its file");
        let blobs = self.clone();
        let (file, written) = tokio::task::spawn_blocking(move || -> io::Result<(std::fs::File, u64)> {
            let mut out = file;
            let mut offset = 0u64;
            let mut written = 0u64;
            for (id, len) in sources {
                let (start, end) = (offset, offset + len);
                offset = end;
                if end <= range.start || start >= range.end {
                    continue;
                }
                let from = range.start.max(start) - start;
                let to = range.end.min(end) - start;
                let mut source = std::fs::File::open(blobs.path(&id))?;
                source.seek(io::SeekFrom::Start(from))?;
                written += io::copy(&mut source.take(to - from), &mut out)?;
            }
            Ok((out, written))
        })
        .await
        .map_err(io::Error::other)??;
        writer.file = Some(file);
        writer.len = written;
        writer.finish().await?;
        Ok(writer)
    }

    /// The bytes `range` of the concatenated blobs, read in large blocks. The first blob
    /// is opened before this returns, so a blob removed meanwhile shows as an error here
    /// rather than as a response cut short.
    pub async fn read(
        &self,
        blobs: Vec<(String, u64)>,
        range: std::ops::Range<u64>,
        guard: ReadGuard,
    ) -> io::Result<impl Stream<Item = io::Result<Bytes>> + Send + Sync + 'static> {
        let mut pieces = Vec::new();
        let mut offset = 0u64;
        for (id, len) in blobs {
            let (start, end) = (offset, offset + len);
            offset = end;
            if end <= range.start || start >= range.end || len == 0 {
                continue;
            }
            let from = range.start.max(start) - start;
            let to = range.end.min(end) - start;
            pieces.push((self.path(&id), from, to - from));
        }
        let mut pieces = pieces.into_iter();
        let first = match pieces.next() {
            Some((path, from, len)) => Some((open_at(path, from).await?, len)),
            None => None,
        };
        // One block is read ahead: the disk works on the next block while the network
        // sends this one. Each read is started by the stream, so a client gone stops it.
        let reading = start_reading(Cursor {
            file: first,
            rest: pieces,
        });
        Ok(futures_util::stream::unfold(
            (reading, guard),
            |(reading, guard)| async move {
                let read = reading?.await.map_err(io::Error::other).and_then(|r| r);
                match read {
                    Ok((block, cursor)) => Some((Ok(Bytes::from(block)), (start_reading(cursor), guard))),
                    Err(e) => Some((Err(e), (None, guard))),
                }
            },
        ))
    }
}

/// Where a read is: the open file with the bytes left to read in it, and the pieces after.
struct Cursor {
    file: Option<(std::fs::File, u64)>,
    rest: std::vec::IntoIter<(PathBuf, u64, u64)>,
}

type Reading = tokio::task::JoinHandle<io::Result<(Vec<u8>, Cursor)>>;

/// Starts reading the next block, or `None` at the end.
fn start_reading(cursor: Cursor) -> Option<Reading> {
    let more = cursor.file.as_ref().is_some_and(|(_, left)| *left > 0) || cursor.rest.len() > 0;
    more.then(|| tokio::task::spawn_blocking(move || read_block(cursor)))
}

fn read_block(mut cursor: Cursor) -> io::Result<(Vec<u8>, Cursor)> {
    let (mut file, remaining) = match cursor.file.take() {
        Some((file, left)) if left > 0 => (file, left),
        _ => {
            let (path, from, len) = cursor.rest.next().ok_or_else(|| io::Error::other("no bytes left"))?;
            (open_at_blocking(path, from)?, len)
        }
    };
    let want = remaining.min(READ_BLOCK as u64) as usize;
    let mut block = vec![0u8; want];
    file.read_exact(&mut block)?;
    cursor.file = Some((file, remaining - want as u64));
    Ok((block, cursor))
}

fn open_at_blocking(path: PathBuf, from: u64) -> io::Result<std::fs::File> {
    let mut file = std::fs::File::open(path)?;
    if from > 0 {
        file.seek(io::SeekFrom::Start(from))?;
    }
    Ok(file)
}

async fn open_at(path: PathBuf, from: u64) -> io::Result<std::fs::File> {
    tokio::task::spawn_blocking(move || open_at_blocking(path, from))
        .await
        .map_err(io::Error::other)?
}

/// The file and the emptied buffer, back from writing one block.
type BlockWritten = (std::fs::File, Vec<u8>);

/// A blob being written: bytes are gathered into large blocks, each written while the
/// next is gathered; [`finish`](Self::finish) makes it durable.
pub struct BlobWriter {
    pub id: String,
    path: PathBuf,
    file: Option<std::fs::File>,
    block: Vec<u8>,
    /// The other buffer, back from its write.
    spare: Option<Vec<u8>>,
    writing: Option<tokio::task::JoinHandle<io::Result<BlockWritten>>>,
    pub len: u64,
}

impl BlobWriter {
    pub async fn write(&mut self, mut data: &[u8]) -> io::Result<()> {
        self.len += data.len() as u64;
        while !data.is_empty() {
            let room = WRITE_BLOCK - self.block.len();
            let take = room.min(data.len());
            self.block.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.block.len() == WRITE_BLOCK {
                self.flush_block().await?;
            }
        }
        Ok(())
    }

    async fn wait(&mut self) -> io::Result<()> {
        if let Some(writing) = self.writing.take() {
            let (file, mut written) = writing.await.map_err(io::Error::other)??;
            written.clear();
            self.file = Some(file);
            self.spare = Some(written);
        }
        Ok(())
    }

    async fn flush_block(&mut self) -> io::Result<()> {
        self.wait().await?;
        let next = self.spare.take().unwrap_or_else(|| Vec::with_capacity(WRITE_BLOCK));
        let block = std::mem::replace(&mut self.block, next);
        let mut file = self.file.take().expect("the file is back after each write");
        self.writing = Some(tokio::task::spawn_blocking(move || {
            file.write_all(&block)?;
            Ok((file, block))
        }));
        Ok(())
    }

    /// Writes what is left and waits until the data and its directory entry are on disk.
    pub async fn finish(&mut self) -> io::Result<()> {
        if !self.block.is_empty() {
            self.flush_block().await?;
        }
        self.wait().await?;
        let file = self.file.take().expect("the file is back after each write");
        let dir = self.path.parent().map(Path::to_path_buf);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            file.sync_data()?;
            // A sweep took a blob untouched for a day (a write that stalled that long):
            // better refused than named while gone.
            std::fs::metadata(&path)?;
            if let Some(dir) = dir {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok::<_, io::Error>(())
        })
        .await
        .map_err(io::Error::other)??;
        Ok(())
    }

    /// The blob is now named in the index: dropping the writer keeps it.
    pub fn keep(mut self) -> String {
        std::mem::take(&mut self.id)
    }
}

impl Drop for BlobWriter {
    /// A write that did not reach the index (a client gone, an error, a refused
    /// condition) leaves nothing behind.
    fn drop(&mut self) {
        if !self.id.is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
