//! The local backend's store on its own: random keys from the hard set put, listed (every
//! prefix, delimiter, page size and position) and read back against an in-memory model;
//! a data directory of the former layout moved in on open.

use futures_util::StreamExt as _;
use proptest::prelude::*;
use server::s3::store::{Expect, Object, Store, blobs::BlobWriter};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stook-store-{name}-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn put(store: &Store, bucket: &str, key: &str, data: &[u8]) {
    let mut blobs: Vec<BlobWriter> = Vec::new();
    let mut object = Object {
        size: data.len() as u64,
        etag: format!("{:x}", data.len()),
        modified_ms: 1,
        ..Default::default()
    };
    if !data.is_empty() {
        let mut blob = store.create_blob().await.unwrap();
        blob.write(data).await.unwrap();
        blob.finish().await.unwrap();
        object.blobs.push(server::s3::store::Blob {
            id: blob.id.clone(),
            len: data.len() as u64,
        });
        blobs.push(blob);
    }
    store.put(bucket, key, object, blobs, Expect::Anything).await.unwrap();
}

async fn read(store: &Store, bucket: &str, key: &str) -> Option<Vec<u8>> {
    let (object, guard) = store.get_for_reading(bucket, key).await.unwrap()?;
    let mut stream = Box::pin(store.read(&object, 0..object.size, guard).await.unwrap());
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    Some(out)
}

/// Segments that broke a store naming files after keys, joined at random.
fn hard_key() -> impl Strategy<Value = String> {
    let segment = prop::sample::select(vec![
        "p".to_string(),
        "2025".to_string(),
        "x".repeat(300),
        "%2e%2e".to_string(),
        "..".to_string(),
        "a+b=c&d".to_string(),
        "report%20final.pdf".to_string(),
        "ü 写真".to_string(),
        String::new(),
    ]);
    proptest::collection::vec(segment, 1..4)
        .prop_map(|segments| segments.join("/"))
        .prop_filter("S3 keys have 1 to 1024 bytes", |k| !k.is_empty() && k.len() <= 1024)
}

#[derive(Debug, Clone)]
enum Step {
    Put(String, Vec<u8>),
    Delete(String),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (hard_key(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(k, d)| Step::Put(k, d)),
        1 => hard_key().prop_map(Step::Delete),
    ]
}

/// The model's listing: rolled up, after the position, the first `max`.
fn model_page(
    model: &BTreeMap<String, Vec<u8>>,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&[u8]>,
    max: usize,
) -> (Vec<Vec<u8>>, bool) {
    let mut names: Vec<Vec<u8>> = model
        .keys()
        .filter(|k| k.starts_with(prefix))
        .map(
            |k| match delimiter.and_then(|d| k[prefix.len()..].find(d).map(|at| (at, d))) {
                Some((at, d)) => k.as_bytes()[..prefix.len() + at + d.len()].to_vec(),
                None => k.as_bytes().to_vec(),
            },
        )
        .filter(|n| after.is_none_or(|a| n.as_slice() > a))
        .collect();
    names.sort();
    names.dedup();
    let truncated = max > 0 && names.len() > max;
    names.truncate(max);
    (names, truncated)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_store_behaves_as_a_sorted_map_of_keys(steps in proptest::collection::vec(step(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let dir = temp_dir("model");
        runtime.block_on(async {
            let store = Store::open(&dir).unwrap();
            let mut model: BTreeMap<String, Vec<u8>> = BTreeMap::new();
            for step in &steps {
                match step {
                    Step::Put(key, data) => {
                        put(&store, "b", key, data).await;
                        model.insert(key.clone(), data.clone());
                    }
                    Step::Delete(key) => {
                        store.delete("b", vec![key.clone()]).await.unwrap();
                        model.remove(key);
                    }
                }
            }
            // Another bucket's keys never show.
            put(&store, "c", "p", b"other bucket").await;
            for (key, data) in &model {
                let stored = read(&store, "b", key).await;
                prop_assert_eq!(stored.as_ref(), Some(data));
            }
            let mut prefixes: Vec<String> = vec![String::new(), "p".into(), "p/".into(), "%2e%2e/".into(), "ü".into()];
            prefixes.extend(model.keys().take(3).cloned());
            for prefix in &prefixes {
                for delimiter in [None, Some("/"), Some("%"), Some("2025")] {
                    for max in [1usize, 2, 1000] {
                        // Paging by the last entry gives the whole listing, page by page.
                        let mut after: Option<Vec<u8>> = None;
                        loop {
                            let page = store
                                .list("b", prefix.clone(), delimiter.map(str::to_string), after.clone(), max)
                                .await
                                .unwrap();
                            let names: Vec<Vec<u8>> = page.entries.iter().map(|e| e.name().to_vec()).collect();
                            let (expected, truncated) = model_page(&model, prefix, delimiter, after.as_deref(), max);
                            prop_assert_eq!(&names, &expected, "prefix {:?} delimiter {:?} after {:?}", prefix, delimiter, after);
                            prop_assert_eq!(page.truncated, truncated);
                            if !page.truncated {
                                break;
                            }
                            after = names.last().cloned();
                        }
                    }
                }
            }
            // Every blob on disk is named by a record, and each record's bytes are there.
            let on_disk = store.blobs.all_ids().unwrap().len();
            let named = model.values().filter(|d| !d.is_empty()).count() + 1;
            prop_assert_eq!(on_disk, named);
            Ok(())
        })?;
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[tokio::test]
async fn a_data_directory_of_the_former_layout_moves_in() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let objects = temp_dir("migrate");
    let bucket = objects.join("photos");
    std::fs::create_dir_all(bucket.join("2025/deep")).unwrap();
    std::fs::write(bucket.join("2025/a.jpg"), b"jpeg bytes").unwrap();
    std::fs::write(bucket.join("2025/deep/b.txt"), b"text").unwrap();
    std::fs::write(bucket.join("empty"), b"").unwrap();
    std::fs::create_dir_all(bucket.join("folder")).unwrap();
    std::fs::write(
        objects.join(format!(
            ".bucket-{}.object-{}.metadata.json",
            b64("photos"),
            b64("2025/a.jpg")
        )),
        r#"{"user_metadata":{"camera":"x100"},"content_type":"image/jpeg"}"#,
    )
    .unwrap();
    std::fs::write(
        objects.join(format!(
            ".bucket-{}.object-{}.internal.json",
            b64("photos"),
            b64("2025/a.jpg")
        )),
        r#"{"e_tag":"0123456789abcdef0123456789abcdef"}"#,
    )
    .unwrap();
    std::fs::create_dir_all(objects.join(".stook-tags")).unwrap();
    std::fs::write(
        objects
            .join(".stook-tags")
            .join(format!("{}.{}.json", b64("photos"), b64("2025/deep/b.txt"))),
        r#"[["colour","blue"]]"#,
    )
    .unwrap();

    let store = Store::open(&objects).unwrap();
    assert_eq!(read(&store, "photos", "2025/a.jpg").await.unwrap(), b"jpeg bytes");
    assert_eq!(read(&store, "photos", "2025/deep/b.txt").await.unwrap(), b"text");
    assert_eq!(read(&store, "photos", "empty").await.unwrap(), b"");
    let a = store.get("photos", "2025/a.jpg").await.unwrap().unwrap();
    assert_eq!(a.etag, "0123456789abcdef0123456789abcdef");
    assert_eq!(a.attributes.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(
        a.attributes.user_metadata.unwrap().get("camera").map(String::as_str),
        Some("x100")
    );
    let b = store.get("photos", "2025/deep/b.txt").await.unwrap().unwrap();
    assert_eq!(
        b.etag, "1cb251ec0d568de6a929b520c4aed8d1",
        "the MD5 of the bytes when none was kept"
    );
    assert_eq!(b.tags, vec![("colour".to_string(), "blue".to_string())]);
    assert!(
        store.get("photos", "folder/").await.unwrap().is_some(),
        "an empty directory was a folder object"
    );
    // Nothing of the former layout is left, and opening again changes nothing.
    let left: Vec<String> = std::fs::read_dir(&objects)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec![".stook-store".to_string()]);
    drop(store);
    let store = Store::open(&objects).unwrap();
    assert_eq!(read(&store, "photos", "2025/a.jpg").await.unwrap(), b"jpeg bytes");
    std::fs::remove_dir_all(&objects).ok();
}

#[tokio::test]
async fn an_interrupted_migration_resumes_without_losing_an_object() {
    let objects = temp_dir("resume");
    std::fs::create_dir_all(objects.join("photos/a")).unwrap();
    std::fs::write(objects.join("photos/a/1"), b"one").unwrap();
    std::fs::write(objects.join("photos/a/2"), b"two").unwrap();
    drop(Store::open(&objects).unwrap());
    // A run that committed "a/1" but stopped before removing its old file.
    std::fs::create_dir_all(objects.join("photos/a")).unwrap();
    std::fs::write(objects.join("photos/a/1"), b"stale").unwrap();
    let store = Store::open(&objects).unwrap();
    assert_eq!(
        read(&store, "photos", "a/1").await.unwrap(),
        b"one",
        "the committed record wins"
    );
    assert!(!objects.join("photos").exists(), "the old file is removed");
    assert_eq!(read(&store, "photos", "a/2").await.unwrap(), b"two");
    assert_eq!(store.blobs.all_ids().unwrap().len(), 2, "no blob is left unnamed");
    std::fs::remove_dir_all(&objects).ok();
}

#[tokio::test]
async fn a_reader_keeps_its_bytes_while_the_object_is_replaced() {
    let dir = temp_dir("reader");
    let store = Store::open(&dir).unwrap();
    let old = vec![7u8; 3 * 1024 * 1024];
    put(&store, "b", "k", &old).await;
    let (object, guard) = store.get_for_reading("b", "k").await.unwrap().unwrap();
    put(&store, "b", "k", b"new").await;
    store.delete("b", vec!["k".into()]).await.unwrap();
    let mut stream = Box::pin(store.read(&object, 0..object.size, guard).await.unwrap());
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    drop(stream);
    assert_eq!(out, old);
    assert_eq!(
        store.blobs.all_ids().unwrap().len(),
        0,
        "the last reader removed the replaced blob"
    );
    std::fs::remove_dir_all(&dir).ok();
}
