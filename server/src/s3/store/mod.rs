//! The embedded object store behind the local backend. Keys are data: an ordered index
//! (redb, `index.redb`) maps `bucket, key` to the object's record (size, ETag, attributes,
//! tags, checksums and the blobs holding its bytes); the bytes live in files the store
//! names ([`blobs`]). So any key S3 accepts is stored exactly as given, a listing is a range
//! scan of the index, and a multipart upload completes by naming its parts' blobs.
//!
//! Writes are crash-safe: a blob is durable before the index names it, the index commits
//! durably, and a blob the index does not name is removed at the next start (a write cut
//! short by a crash or a kill). The store knows nothing of keys, policies or S3 requests.

pub mod blobs;
pub mod listing;
pub mod migrate;

use blobs::{BlobWriter, Blobs, ReadGuard};
use redb::{Database, ReadableDatabase as _, ReadableTable as _, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `bucket 0x00 key` → [`Object`] (JSON). Bucket names hold no 0x00, so one bucket's keys
/// are one contiguous range, in the keys' byte order.
const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");
/// upload id → [`Upload`] (JSON).
const UPLOADS: TableDefinition<&str, &[u8]> = TableDefinition::new("uploads");
/// `upload id, part number (big-endian u32)` → [`Part`] (JSON).
const PARTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("parts");

/// The store's own directory inside the objects directory: no bucket name starts with a
/// dot, so it can never be a bucket of the former layout (see [`migrate`]).
pub const STORE_DIR: &str = ".stook-store";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blob {
    pub id: String,
    pub len: u64,
}

/// What an upload says about its object, kept and given back as it came.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_metadata: Option<HashMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_redirect_location: Option<String>,
}

/// Checksums an upload asked for (base64, as S3 prints them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksums {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    pub size: u64,
    /// Without quotes: an MD5 in hex, or `<hex>-<parts>` for a multipart upload.
    pub etag: String,
    pub modified_ms: i64,
    /// The bytes, in order (a completed multipart upload keeps its parts' blobs).
    pub blobs: Vec<Blob>,
    #[serde(default)]
    pub attributes: Attributes,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub checksums: Checksums,
}

impl Object {
    fn blob_ids(&self) -> impl Iterator<Item = String> + '_ {
        self.blobs.iter().map(|b| b.id.clone())
    }

    fn pieces(&self) -> Vec<(String, u64)> {
        self.blobs.iter().map(|b| (b.id.clone(), b.len)).collect()
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Upload {
    pub bucket: String,
    pub key: String,
    pub initiated_ms: i64,
    #[serde(default)]
    pub attributes: Attributes,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Part {
    pub number: u32,
    pub blob: Blob,
    /// MD5 of the part in hex.
    pub etag: String,
    pub modified_ms: i64,
}

/// The state a write is conditional on (`If-None-Match: *`, `If-Match`).
#[derive(Clone, Debug, Default)]
pub enum Expect {
    #[default]
    Anything,
    Absent,
    Present,
    ETag(String),
}

#[derive(Debug)]
pub enum WriteError {
    /// The object's current state is not the one the write expected.
    Precondition,
    Io(io::Error),
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

#[derive(Debug)]
pub enum UploadError<E> {
    NoSuchUpload,
    /// The caller's check refused the parts.
    Refused(E),
    Precondition,
    Io(io::Error),
}

fn db_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("index: {e}"))
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn object_key(bucket: &str, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket.len() + 1 + key.len());
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k.extend_from_slice(key);
    k
}

fn part_key(upload: &str, number: u32) -> Vec<u8> {
    let mut k = upload.as_bytes().to_vec();
    k.extend_from_slice(&number.to_be_bytes());
    k
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> io::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| db_error(format!("unreadable record: {e}")))
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialize")
}

/// Checks `expect` against the current record.
fn holds(expect: &Expect, current: Option<&Object>) -> bool {
    match (expect, current) {
        (Expect::Anything, _) => true,
        (Expect::Absent, current) => current.is_none(),
        (Expect::Present, current) => current.is_some(),
        (Expect::ETag(wanted), Some(current)) => current.etag == wanted.trim_matches('"'),
        (Expect::ETag(_), None) => false,
    }
}

#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    pub blobs: Blobs,
    /// The lock file, held while the store is open: no other process opens it meanwhile.
    _in_use: Arc<std::fs::File>,
}

fn flock(file: &std::fs::File, operation: libc::c_int) -> io::Result<()> {
    use std::os::fd::AsRawFd as _;
    // SAFETY: flock on a descriptor this process owns, for as long as the file is open.
    if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The stores this process has open, by directory: each is opened once and shared.
static OPEN_HERE: std::sync::Mutex<BTreeMap<PathBuf, OpenStore>> = std::sync::Mutex::new(BTreeMap::new());

/// A store of this process, held weakly: it closes when its last user drops it.
struct OpenStore {
    db: std::sync::Weak<Database>,
    blobs: Blobs,
    in_use: std::sync::Weak<std::fs::File>,
}

impl OpenStore {
    fn of(store: &Store) -> OpenStore {
        OpenStore {
            db: Arc::downgrade(&store.db),
            blobs: store.blobs.clone(),
            in_use: Arc::downgrade(&store._in_use),
        }
    }

    fn upgrade(&self) -> Option<Store> {
        Some(Store {
            db: self.db.upgrade()?,
            blobs: self.blobs.clone(),
            _in_use: self.in_use.upgrade()?,
        })
    }
}

/// Takes the store's lock for this process alone. A store of this process that is closing
/// lets go of it within a moment, so a refusal is retried briefly.
fn take_lock(lock: &std::fs::File, dir: &Path) -> io::Result<()> {
    for _ in 0..20 {
        if flock(lock, libc::LOCK_EX | libc::LOCK_NB).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(io::Error::new(
        io::ErrorKind::WouldBlock,
        format!(
            "another stook process is using it ({} is locked): the local backend's objects belong to one \
             process (several instances share objects through the proxy backend, STOOK_S3_BACKEND=proxy)",
            dir.join("in-use.lock").display()
        ),
    ))
}

/// Runs blocking index work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(io::Error::other)
}

impl Store {
    /// Opens (or creates) the store in `objects`, moves objects of the former layout in
    /// (see [`migrate`]) and removes blobs no record names.
    ///
    /// One process owns a store: which blobs are being read is known only in its memory,
    /// so a second process replacing an object would unlink bytes a reader still streams.
    /// Another process opening the same directory is refused (a lock file says so); in this
    /// process every opening shares one store. Several instances share objects through the
    /// proxy backend.
    pub fn open(objects: &Path) -> io::Result<Store> {
        let dir = objects.join(STORE_DIR);
        std::fs::create_dir_all(dir.join("blobs"))?;
        let dir = dir.canonicalize()?;
        let mut open_here = OPEN_HERE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(store) = open_here.get(&dir).and_then(OpenStore::upgrade) {
            return Ok(store);
        }
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("in-use.lock"))?;
        take_lock(&lock, &dir)?;
        let db = Database::create(dir.join("index.redb")).map_err(db_error)?;
        {
            let txn = db.begin_write().map_err(db_error)?;
            txn.open_table(OBJECTS).map_err(db_error)?;
            txn.open_table(UPLOADS).map_err(db_error)?;
            txn.open_table(PARTS).map_err(db_error)?;
            txn.commit().map_err(db_error)?;
        }
        let store = Store {
            db: Arc::new(db),
            blobs: Blobs::new(dir.join("blobs")),
            _in_use: Arc::new(lock),
        };
        migrate::former_layout(&store, objects)?;
        let removed = store.remove_unnamed_blobs()?;
        if removed > 0 {
            tracing::info!(removed, "removed blobs of writes cut short");
        }
        open_here.insert(dir, OpenStore::of(&store));
        Ok(store)
    }

    /// Blobs no object or part names: writes a crash or kill cut short, removals a crash
    /// interrupted. Run at the opening, when no write of this store can be in flight.
    fn remove_unnamed_blobs(&self) -> io::Result<usize> {
        // Listed before the index is read: a blob named after the read was on disk before.
        let on_disk = self.blobs.all_ids()?;
        let mut named = HashSet::new();
        let txn = self.db.begin_read().map_err(db_error)?;
        for row in txn.open_table(OBJECTS).map_err(db_error)?.iter().map_err(db_error)? {
            let (_, value) = row.map_err(db_error)?;
            named.extend(decode::<Object>(value.value())?.blobs.into_iter().map(|b| b.id));
        }
        for row in txn.open_table(PARTS).map_err(db_error)?.iter().map_err(db_error)? {
            let (_, value) = row.map_err(db_error)?;
            named.insert(decode::<Part>(value.value())?.blob.id);
        }
        let unnamed: Vec<String> = on_disk.into_iter().filter(|id| !named.contains(id)).collect();
        let count = unnamed.len();
        self.blobs.discard(unnamed);
        Ok(count)
    }

    /// A new blob to write an object's or a part's bytes into.
    pub async fn create_blob(&self) -> io::Result<BlobWriter> {
        self.blobs.create().await
    }

    /// A new blob holding `range` of an object's bytes.
    pub async fn copy_blob(&self, object: &Object, range: std::ops::Range<u64>) -> io::Result<BlobWriter> {
        self.blobs.copy(object.pieces(), range).await
    }

    pub async fn get(&self, bucket: &str, key: &str) -> io::Result<Option<Object>> {
        let (db, k) = (self.db.clone(), object_key(bucket, key.as_bytes()));
        blocking(move || {
            let txn = db.begin_read().map_err(db_error)?;
            let table = txn.open_table(OBJECTS).map_err(db_error)?;
            match table.get(k.as_slice()).map_err(db_error)? {
                Some(value) => Ok(Some(decode(value.value())?)),
                None => Ok(None),
            }
        })
        .await?
    }

    /// The object with its blobs held against removal until the guard drops.
    pub async fn get_for_reading(&self, bucket: &str, key: &str) -> io::Result<Option<(Object, ReadGuard)>> {
        let mut found = self.get(bucket, key).await?;
        loop {
            let Some(object) = found else { return Ok(None) };
            let guard = self.blobs.hold(object.blob_ids().collect());
            // A removal that came between the read and the hold may have unlinked them:
            // the object must still be the one held.
            let now = self.get(bucket, key).await?;
            if now.as_ref().is_some_and(|n| n.blobs == object.blobs) {
                return Ok(Some((object, guard)));
            }
            found = now;
        }
    }

    /// The object's bytes in `range`.
    pub async fn read(
        &self,
        object: &Object,
        range: std::ops::Range<u64>,
        guard: ReadGuard,
    ) -> io::Result<impl futures_util::Stream<Item = io::Result<bytes::Bytes>> + Send + Sync + 'static> {
        self.blobs.read(object.pieces(), range, guard).await
    }

    /// Stores `object` under `key` if the current state is as expected; `blobs` are the
    /// new blobs the record names. The replaced object's blobs are removed.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        object: Object,
        blobs: Vec<BlobWriter>,
        expect: Expect,
    ) -> Result<(), WriteError> {
        let (db, k) = (self.db.clone(), object_key(bucket, key.as_bytes()));
        let replaced = blocking(move || -> Result<Option<Object>, WriteError> {
            let txn = db.begin_write().map_err(db_error)?;
            let replaced = {
                let mut table = txn.open_table(OBJECTS).map_err(db_error)?;
                let current = match table.get(k.as_slice()).map_err(db_error)? {
                    Some(value) => Some(decode::<Object>(value.value())?),
                    None => None,
                };
                if !holds(&expect, current.as_ref()) {
                    return Err(WriteError::Precondition);
                }
                table
                    .insert(k.as_slice(), encode(&object).as_slice())
                    .map_err(db_error)?;
                current
            };
            txn.commit().map_err(db_error)?;
            Ok(replaced)
        })
        .await??;
        for blob in blobs {
            blob.keep();
        }
        if let Some(replaced) = replaced {
            self.blobs.discard(replaced.blob_ids());
        }
        Ok(())
    }

    /// Changes the stored record in place (tags): `None` when there is no object.
    pub async fn update(
        &self,
        bucket: &str,
        key: &str,
        change: impl FnOnce(&mut Object) + Send + 'static,
    ) -> io::Result<Option<Object>> {
        let (db, k) = (self.db.clone(), object_key(bucket, key.as_bytes()));
        blocking(move || {
            let txn = db.begin_write().map_err(db_error)?;
            let updated = {
                let mut table = txn.open_table(OBJECTS).map_err(db_error)?;
                let current = match table.get(k.as_slice()).map_err(db_error)? {
                    Some(value) => Some(decode::<Object>(value.value())?),
                    None => None,
                };
                match current {
                    Some(mut object) => {
                        change(&mut object);
                        table
                            .insert(k.as_slice(), encode(&object).as_slice())
                            .map_err(db_error)?;
                        Some(object)
                    }
                    None => None,
                }
            };
            txn.commit().map_err(db_error)?;
            Ok(updated)
        })
        .await?
    }

    /// Removes objects; returns those that existed.
    pub async fn delete(&self, bucket: &str, keys: Vec<String>) -> io::Result<Vec<String>> {
        let (db, bucket) = (self.db.clone(), bucket.to_string());
        let removed = blocking(move || -> io::Result<Vec<(String, Object)>> {
            let txn = db.begin_write().map_err(db_error)?;
            let mut removed = Vec::new();
            {
                let mut table = txn.open_table(OBJECTS).map_err(db_error)?;
                for key in keys {
                    if let Some(value) = table
                        .remove(object_key(&bucket, key.as_bytes()).as_slice())
                        .map_err(db_error)?
                    {
                        removed.push((key, decode::<Object>(value.value())?));
                    }
                }
            }
            txn.commit().map_err(db_error)?;
            Ok(removed)
        })
        .await??;
        let mut keys = Vec::with_capacity(removed.len());
        for (key, object) in removed {
            self.blobs.discard(object.blob_ids());
            keys.push(key);
        }
        Ok(keys)
    }

    /// One page of the bucket's listing (see [`listing::page`]).
    pub async fn list(
        &self,
        bucket: &str,
        prefix: String,
        delimiter: Option<String>,
        after: Option<Vec<u8>>,
        max: usize,
    ) -> io::Result<listing::Page<Object>> {
        let (db, bucket) = (self.db.clone(), bucket.to_string());
        blocking(move || {
            let txn = db.begin_read().map_err(db_error)?;
            let table = txn.open_table(OBJECTS).map_err(db_error)?;
            let base = object_key(&bucket, b"");
            let query = listing::Query {
                prefix: prefix.as_bytes(),
                delimiter: delimiter.as_deref().map(str::as_bytes),
                after: after.as_deref(),
                max,
            };
            let failure: std::cell::RefCell<Option<io::Error>> = std::cell::RefCell::default();
            let page = listing::page(&query, |from| {
                let from = match from {
                    Bound::Included(k) => Bound::Included(object_key(&bucket, &k)),
                    Bound::Excluded(k) => Bound::Excluded(object_key(&bucket, &k)),
                    Bound::Unbounded => Bound::Included(base.clone()),
                };
                let rows = match table.range((from.as_ref().map(Vec::as_slice), Bound::<&[u8]>::Unbounded)) {
                    Ok(rows) => Some(rows),
                    Err(e) => {
                        *failure.borrow_mut() = Some(db_error(e));
                        None
                    }
                };
                let base = &base;
                let failure = &failure;
                rows.into_iter().flatten().map_while(move |row| {
                    let (key, value) = match row {
                        Ok(row) => row,
                        Err(e) => {
                            *failure.borrow_mut() = Some(db_error(e));
                            return None;
                        }
                    };
                    let key = key.value();
                    // The bucket's range ends where the next bucket's starts.
                    let name = key.strip_prefix(base.as_slice())?.to_vec();
                    match decode::<Object>(value.value()) {
                        Ok(object) => Some((name, object)),
                        Err(e) => {
                            *failure.borrow_mut() = Some(e);
                            None
                        }
                    }
                })
            });
            match failure.into_inner() {
                Some(e) => Err(e),
                None => Ok(page),
            }
        })
        .await?
    }

    /// Starts an upload unless its bucket already has `most` in progress (`None` then):
    /// counted and added in one write, so parallel starts cannot pass the bound together.
    pub async fn create_upload(&self, upload: Upload, most: usize) -> io::Result<Option<String>> {
        let db = self.db.clone();
        let id = blobs::new_id();
        let key = id.clone();
        let created = blocking(move || -> io::Result<bool> {
            let txn = db.begin_write().map_err(db_error)?;
            {
                let mut table = txn.open_table(UPLOADS).map_err(db_error)?;
                let mut in_bucket = 0;
                for row in table.iter().map_err(db_error)? {
                    let (_, value) = row.map_err(db_error)?;
                    if decode::<Upload>(value.value())?.bucket == upload.bucket {
                        in_bucket += 1;
                    }
                }
                if in_bucket >= most {
                    return Ok(false);
                }
                table
                    .insert(key.as_str(), encode(&upload).as_slice())
                    .map_err(db_error)?;
            }
            txn.commit().map_err(db_error)?;
            Ok(true)
        })
        .await??;
        Ok(created.then_some(id))
    }

    /// The upload, if it exists and is for this bucket and key.
    pub async fn upload(&self, id: &str, bucket: &str, key: &str) -> io::Result<Option<(Upload, Vec<Part>)>> {
        let (db, id, bucket, key) = (self.db.clone(), id.to_string(), bucket.to_string(), key.to_string());
        blocking(move || {
            let txn = db.begin_read().map_err(db_error)?;
            let upload = match txn
                .open_table(UPLOADS)
                .map_err(db_error)?
                .get(id.as_str())
                .map_err(db_error)?
            {
                Some(value) => decode::<Upload>(value.value())?,
                None => return Ok(None),
            };
            if upload.bucket != bucket || upload.key != key {
                return Ok(None);
            }
            let parts = parts_of(&txn.open_table(PARTS).map_err(db_error)?, &id)?;
            Ok(Some((upload, parts)))
        })
        .await?
    }

    /// Records a part whose bytes are in `blob`; a part of the same number is replaced.
    pub async fn put_part(
        &self,
        id: &str,
        bucket: &str,
        key: &str,
        part: Part,
        blob: BlobWriter,
    ) -> Result<(), UploadError<()>> {
        let (db, id, bucket, key) = (self.db.clone(), id.to_string(), bucket.to_string(), key.to_string());
        let replaced = blocking(move || -> Result<Option<Part>, UploadError<()>> {
            let txn = db.begin_write().map_err(|e| UploadError::Io(db_error(e)))?;
            let replaced = {
                let uploads = txn.open_table(UPLOADS).map_err(|e| UploadError::Io(db_error(e)))?;
                let upload = match uploads.get(id.as_str()).map_err(|e| UploadError::Io(db_error(e)))? {
                    Some(value) => decode::<Upload>(value.value()).map_err(UploadError::Io)?,
                    None => return Err(UploadError::NoSuchUpload),
                };
                if upload.bucket != bucket || upload.key != key {
                    return Err(UploadError::NoSuchUpload);
                }
                let mut parts = txn.open_table(PARTS).map_err(|e| UploadError::Io(db_error(e)))?;
                let old = parts
                    .insert(part_key(&id, part.number).as_slice(), encode(&part).as_slice())
                    .map_err(|e| UploadError::Io(db_error(e)))?;
                old.map(|v| decode::<Part>(v.value()))
                    .transpose()
                    .map_err(UploadError::Io)?
            };
            txn.commit().map_err(|e| UploadError::Io(db_error(e)))?;
            Ok(replaced)
        })
        .await
        .map_err(UploadError::Io)??;
        blob.keep();
        if let Some(old) = replaced {
            self.blobs.discard([old.blob.id]);
        }
        Ok(())
    }

    /// Completes an upload: `check` turns the upload and its parts into the object (or
    /// refuses them, leaving the upload as it was); the parts it names become the object's
    /// blobs without a copy, the others are removed.
    pub async fn complete<E: Send + 'static>(
        &self,
        id: &str,
        bucket: &str,
        key: &str,
        expect: Expect,
        check: impl FnOnce(&Upload, &[Part]) -> Result<Object, E> + Send + 'static,
    ) -> Result<Object, UploadError<E>> {
        let (db, id, bucket, key) = (self.db.clone(), id.to_string(), bucket.to_string(), key.to_string());
        let (object, unused, replaced) = blocking(move || {
            let io = |e: io::Error| UploadError::Io(e);
            let txn = db.begin_write().map_err(|e| io(db_error(e)))?;
            let result = {
                let mut uploads = txn.open_table(UPLOADS).map_err(|e| io(db_error(e)))?;
                let upload = match uploads.get(id.as_str()).map_err(|e| io(db_error(e)))? {
                    Some(value) => decode::<Upload>(value.value()).map_err(io)?,
                    None => return Err(UploadError::NoSuchUpload),
                };
                if upload.bucket != bucket || upload.key != key {
                    return Err(UploadError::NoSuchUpload);
                }
                let mut parts_table = txn.open_table(PARTS).map_err(|e| io(db_error(e)))?;
                let parts = parts_of(&parts_table, &id).map_err(io)?;
                let object = check(&upload, &parts).map_err(UploadError::Refused)?;
                let mut objects = txn.open_table(OBJECTS).map_err(|e| io(db_error(e)))?;
                let k = object_key(&bucket, key.as_bytes());
                let current = match objects.get(k.as_slice()).map_err(|e| io(db_error(e)))? {
                    Some(value) => Some(decode::<Object>(value.value()).map_err(io)?),
                    None => None,
                };
                if !holds(&expect, current.as_ref()) {
                    return Err(UploadError::Precondition);
                }
                objects
                    .insert(k.as_slice(), encode(&object).as_slice())
                    .map_err(|e| io(db_error(e)))?;
                uploads.remove(id.as_str()).map_err(|e| io(db_error(e)))?;
                for part in &parts {
                    parts_table
                        .remove(part_key(&id, part.number).as_slice())
                        .map_err(|e| io(db_error(e)))?;
                }
                let kept: HashSet<&str> = object.blobs.iter().map(|b| b.id.as_str()).collect();
                let unused: Vec<String> = parts
                    .iter()
                    .filter(|p| !kept.contains(p.blob.id.as_str()))
                    .map(|p| p.blob.id.clone())
                    .collect();
                (object, unused, current)
            };
            txn.commit().map_err(|e| io(db_error(e)))?;
            Ok(result)
        })
        .await
        .map_err(UploadError::Io)??;
        self.blobs.discard(unused);
        if let Some(replaced) = replaced {
            self.blobs.discard(replaced.blob_ids());
        }
        Ok(object)
    }

    /// Removes an upload and its parts; false when there was none.
    pub async fn abort(&self, id: &str, bucket: &str, key: &str) -> io::Result<bool> {
        let (db, id, bucket, key) = (self.db.clone(), id.to_string(), bucket.to_string(), key.to_string());
        let parts = blocking(move || -> io::Result<Option<Vec<Part>>> {
            let txn = db.begin_write().map_err(db_error)?;
            let parts = {
                let mut uploads = txn.open_table(UPLOADS).map_err(db_error)?;
                let upload = match uploads.get(id.as_str()).map_err(db_error)? {
                    Some(value) => decode::<Upload>(value.value())?,
                    None => return Ok(None),
                };
                if upload.bucket != bucket || upload.key != key {
                    return Ok(None);
                }
                uploads.remove(id.as_str()).map_err(db_error)?;
                let mut table = txn.open_table(PARTS).map_err(db_error)?;
                let parts = parts_of(&table, &id)?;
                for part in &parts {
                    table.remove(part_key(&id, part.number).as_slice()).map_err(db_error)?;
                }
                parts
            };
            txn.commit().map_err(db_error)?;
            Ok(Some(parts))
        })
        .await??;
        match parts {
            Some(parts) => {
                self.blobs.discard(parts.into_iter().map(|p| p.blob.id));
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Every unfinished upload of a bucket, by key and start.
    pub async fn uploads(&self, bucket: &str) -> io::Result<Vec<(String, Upload)>> {
        let (db, bucket) = (self.db.clone(), bucket.to_string());
        blocking(move || {
            let txn = db.begin_read().map_err(db_error)?;
            let mut found = Vec::new();
            for row in txn.open_table(UPLOADS).map_err(db_error)?.iter().map_err(db_error)? {
                let (id, value) = row.map_err(db_error)?;
                let upload = decode::<Upload>(value.value())?;
                if upload.bucket == bucket {
                    found.push((id.value().to_string(), upload));
                }
            }
            found.sort_by(|a, b| (&a.1.key, a.1.initiated_ms, &a.0).cmp(&(&b.1.key, b.1.initiated_ms, &b.0)));
            Ok(found)
        })
        .await?
    }

    /// Aborts uploads started longer ago than `max_age`; returns how many.
    pub async fn sweep_uploads(&self, max_age: Duration) -> io::Result<usize> {
        let db = self.db.clone();
        let cutoff = now_ms() - max_age.as_millis() as i64;
        let old = blocking(move || -> io::Result<Vec<(String, Upload)>> {
            let txn = db.begin_read().map_err(db_error)?;
            let mut old = Vec::new();
            for row in txn.open_table(UPLOADS).map_err(db_error)?.iter().map_err(db_error)? {
                let (id, value) = row.map_err(db_error)?;
                let upload = decode::<Upload>(value.value())?;
                if upload.initiated_ms <= cutoff {
                    old.push((id.value().to_string(), upload));
                }
            }
            Ok(old)
        })
        .await??;
        let mut removed = 0;
        for (id, upload) in old {
            if self.abort(&id, &upload.bucket, &upload.key).await? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Writes many records at once (the migration of the former layout).
    pub(crate) fn insert_batch(&self, bucket: &str, records: Vec<(String, Object)>) -> io::Result<()> {
        let txn = self.db.begin_write().map_err(db_error)?;
        {
            let mut table = txn.open_table(OBJECTS).map_err(db_error)?;
            for (key, object) in records {
                table
                    .insert(
                        object_key(bucket, key.as_bytes()).as_slice(),
                        encode(&object).as_slice(),
                    )
                    .map_err(db_error)?;
            }
        }
        txn.commit().map_err(db_error)
    }

    pub(crate) fn contains_sync(&self, bucket: &str, key: &str) -> io::Result<bool> {
        let txn = self.db.begin_read().map_err(db_error)?;
        let table = txn.open_table(OBJECTS).map_err(db_error)?;
        Ok(table
            .get(object_key(bucket, key.as_bytes()).as_slice())
            .map_err(db_error)?
            .is_some())
    }

    pub(crate) fn blob_path(&self, id: &str) -> PathBuf {
        self.blobs.path(id)
    }
}

fn parts_of(table: &impl redb::ReadableTable<&'static [u8], &'static [u8]>, id: &str) -> io::Result<Vec<Part>> {
    let start = part_key(id, 0);
    let end = part_key(id, u32::MAX);
    let mut parts = Vec::new();
    for row in table.range(start.as_slice()..=end.as_slice()).map_err(db_error)? {
        let (_, value) = row.map_err(db_error)?;
        parts.push(decode::<Part>(value.value())?);
    }
    Ok(parts)
}
