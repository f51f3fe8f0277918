//! Moves a data directory of the former layout (s3s-fs: one directory per bucket, one file
//! per key at the key's path, side files `.bucket-<b64>.object-<b64>.{metadata,internal}.json`
//! beside them, tags in `.stook-tags/`) into the store. Each object is hard-linked into a
//! blob, its record committed, and only then its old file removed, so an interrupted
//! migration resumes at the next start and loses nothing. Unfinished multipart uploads of
//! the former layout are dropped (their clients start them again).

use super::{Attributes, Blob, Checksums, Object, STORE_DIR, Store, blobs};
use md5::{Digest as _, Md5};
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Records committed per transaction.
const BATCH: usize = 256;

fn b64(data: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// What s3s-fs kept beside an object.
#[derive(serde::Deserialize, Default)]
struct FormerAttributes {
    user_metadata: Option<std::collections::HashMap<String, String>>,
    content_encoding: Option<String>,
    content_type: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    cache_control: Option<String>,
    expires: Option<String>,
    website_redirect_location: Option<String>,
}

/// Every bucket directory of the former layout under `objects`.
fn former_buckets(objects: &Path) -> io::Result<Vec<String>> {
    let mut buckets = Vec::new();
    for entry in std::fs::read_dir(objects)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with('.') && entry.file_type()?.is_dir() {
            buckets.push(name.to_string());
        }
    }
    buckets.sort();
    Ok(buckets)
}

/// Files (and empty directories, which s3s-fs made for keys ending in `/`) under `dir`,
/// as keys relative to the bucket.
fn walk(dir: &Path, prefix: &str, found: &mut Vec<(String, PathBuf, bool)>) -> io::Result<()> {
    let mut empty = true;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        empty = false;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            tracing::warn!(path = %entry.path().display(), "skipped a file whose name is not UTF-8");
            continue;
        };
        let key = format!("{prefix}{name}");
        if entry.file_type()?.is_dir() {
            walk(&entry.path(), &format!("{key}/"), found)?;
        } else if !(name.starts_with(".tmp.") && name.ends_with(".internal.part")) {
            found.push((key, entry.path(), false));
        }
    }
    if empty && !prefix.is_empty() {
        found.push((prefix.to_string(), dir.to_path_buf(), true));
    }
    Ok(())
}

fn md5_of(path: &Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = io::Read::read(&mut file, &mut buf)?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
    }
    Ok(md5.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

pub(super) fn former_layout(store: &Store, objects: &Path) -> io::Result<()> {
    let buckets = former_buckets(objects)?;
    if buckets.is_empty() {
        return Ok(());
    }
    let mut moved = 0usize;
    for bucket in &buckets {
        let root = objects.join(bucket);
        let mut found = Vec::new();
        walk(&root, "", &mut found)?;
        for chunk in found.chunks(BATCH) {
            let mut records = Vec::new();
            let mut done = Vec::new();
            for (key, path, is_dir) in chunk {
                let side =
                    |kind: &str| objects.join(format!(".bucket-{}.object-{}.{kind}.json", b64(bucket), b64(key)));
                let tags_file = objects
                    .join(".stook-tags")
                    .join(format!("{}.{}.json", b64(bucket), b64(key)));
                done.push((
                    path.clone(),
                    *is_dir,
                    [side("metadata"), side("internal"), tags_file.clone()],
                ));
                // A record committed by an interrupted run: only the old files remain.
                if store.contains_sync(bucket, key)? {
                    continue;
                }
                let modified = std::fs::metadata(path)?
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_millis() as i64);
                let attributes: FormerAttributes = std::fs::read(side("metadata"))
                    .ok()
                    .and_then(|text| serde_json::from_slice(&text).ok())
                    .unwrap_or_default();
                let internal: serde_json::Map<String, serde_json::Value> = std::fs::read(side("internal"))
                    .ok()
                    .and_then(|text| serde_json::from_slice(&text).ok())
                    .unwrap_or_default();
                let text = |name: &str| internal.get(name).and_then(|v| v.as_str()).map(str::to_string);
                let tags: Vec<(String, String)> = std::fs::read(&tags_file)
                    .ok()
                    .and_then(|text| serde_json::from_slice(&text).ok())
                    .unwrap_or_default();
                let (size, etag, blobs) = if *is_dir {
                    (0, "d41d8cd98f00b204e9800998ecf8427e".to_string(), Vec::new())
                } else {
                    let size = std::fs::metadata(path)?.len();
                    let etag = match text("e_tag") {
                        Some(etag) => etag,
                        None => md5_of(path)?,
                    };
                    let id = blobs::new_id();
                    let target = store.blob_path(&id);
                    std::fs::create_dir_all(target.parent().expect("blob paths have parents"))?;
                    std::fs::hard_link(path, &target)?;
                    (
                        size,
                        etag,
                        if size > 0 {
                            vec![Blob { id, len: size }]
                        } else {
                            Vec::new()
                        },
                    )
                };
                records.push((
                    key.clone(),
                    Object {
                        size,
                        etag,
                        modified_ms: modified,
                        blobs,
                        attributes: Attributes {
                            user_metadata: attributes.user_metadata,
                            content_encoding: attributes.content_encoding,
                            content_type: attributes.content_type,
                            content_disposition: attributes.content_disposition,
                            content_language: attributes.content_language,
                            cache_control: attributes.cache_control,
                            expires: attributes.expires,
                            website_redirect_location: attributes.website_redirect_location,
                        },
                        tags,
                        checksums: Checksums {
                            crc32: text("checksum_crc32"),
                            crc32c: text("checksum_crc32c"),
                            sha1: text("checksum_sha1"),
                            sha256: text("checksum_sha256"),
                            crc64nvme: text("checksum_crc64nvme"),
                        },
                    },
                ));
            }
            moved += records.len();
            store.insert_batch(bucket, records)?;
            for (path, is_dir, sides) in done {
                if !is_dir {
                    std::fs::remove_file(&path)?;
                }
                for side in sides {
                    let _ = std::fs::remove_file(side);
                }
            }
        }
        // Directories are empty now (deepest first).
        remove_empty_dirs(&root)?;
    }
    for leftover in [".stook-uploads", ".stook-tags"] {
        let _ = std::fs::remove_dir_all(objects.join(leftover));
    }
    debug_assert!(objects.join(STORE_DIR).exists());
    tracing::info!(
        moved,
        buckets = buckets.len(),
        "moved the objects of the former layout into the store"
    );
    Ok(())
}

fn remove_empty_dirs(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            remove_empty_dirs(&entry.path())?;
        }
    }
    std::fs::remove_dir(dir)
}
