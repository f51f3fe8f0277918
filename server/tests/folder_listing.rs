//! Folder keys browse like a bucket: a key limited to `photos/2025/` may list the folders
//! above it and sees there only the way down (`photos/` at the root, `photos/2025/` in
//! `photos/`), and never a name outside its folder, whatever prefix, delimiter, page size,
//! start-after, marker, continuation token or encoding it asks with.
//!
//! A property test drives the gateway over an in-memory model backend with random trees
//! and listings and holds every page against a model listing; the tests after it go through
//! the real endpoint (HTTP, the local backend, the AWS SDK).

mod common;

use app::catalog::ActionSet;
use app::domain::KeyStatus;
use app::policy::{self, Decision, Grant, KeyLife, KeyScope, Operation};
use proptest::prelude::*;
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};
use server::s3::access::AuthorizedKey;
use server::s3::gateway::Gateway;
use server::s3::keys::KeyRecord;
use std::collections::BTreeSet;
use std::sync::Arc;

const BUCKET: &str = "folder-tests";

/// One name of a listing: an object (or version, or upload) key, or a common prefix.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    Key(String),
    Prefix(String),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Entry::Key(name) | Entry::Prefix(name) => name,
        }
    }
}

/// How `key` shows in a listing of `prefix` by `delimiter`, as S3 groups: up to the first
/// delimiter after the prefix, or the key itself.
fn group(key: &str, prefix: &str, delimiter: Option<&str>) -> Entry {
    match delimiter.filter(|d| !d.is_empty()) {
        Some(d) => match key[prefix.len()..].find(d) {
            Some(at) => Entry::Prefix(key[..prefix.len() + at + d.len()].to_string()),
            None => Entry::Key(key.to_string()),
        },
        None => Entry::Key(key.to_string()),
    }
}

/// Every name a listing shows after `position`, in order, with no page limit.
fn listing(keys: &BTreeSet<String>, prefix: &str, delimiter: Option<&str>, position: Option<&str>) -> Vec<Entry> {
    let grouped: BTreeSet<Entry> = keys
        .iter()
        .filter(|k| k.starts_with(prefix))
        .map(|k| group(k, prefix, delimiter))
        .collect();
    let mut entries: Vec<Entry> = grouped
        .into_iter()
        .filter(|e| position.is_none_or(|p| e.name() > p))
        .collect();
    entries.sort_by(|a, b| a.name().cmp(b.name()));
    entries
}

/// The model of what a folder key sees: the bucket as if it held only the keys under the
/// folder, plus the folder itself shown as a folder name when the listing groups it into
/// one (so the way down shows even when nothing is stored yet).
fn seen_by_folder_key(
    keys: &BTreeSet<String>,
    path: Option<&str>,
    prefix: &str,
    delimiter: Option<&str>,
    position: Option<&str>,
) -> Vec<Entry> {
    let Some(path) = path else {
        return listing(keys, prefix, delimiter, position);
    };
    let mut visible: BTreeSet<String> = keys.iter().filter(|k| k.starts_with(path)).cloned().collect();
    let mut entries = listing(&visible, prefix, delimiter, position);
    if path.len() > prefix.len()
        && path.starts_with(prefix)
        && let Entry::Prefix(step) = group(path, prefix, delimiter)
        && position.is_none_or(|p| step.as_str() > p)
    {
        visible.insert(path.to_string());
        entries = listing(&visible, prefix, delimiter, position);
    }
    entries
}

/// `%XX` escapes read back (the gateway and the model backend write no `+`).
fn decode(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("a %XX escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8 once decoded")
}

/// The model backend's `encoding-type=url`, deliberately unlike the gateway's (it encodes
/// `/` too), so the test reads what each wrote.
fn model_encode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An in-memory store answering the four listings as S3 does: keys in order, grouped by
/// the delimiter, after a marker (its continuation token is the last name it returned),
/// `max` names to a page, names encoded when asked.
struct Model {
    keys: BTreeSet<String>,
    /// Every prefix the gateway asked for, with the marker (start-after, key-marker) sent.
    asked: std::sync::Mutex<Vec<(String, Option<String>)>>,
}

struct Page {
    entries: Vec<Entry>,
    truncated: bool,
    next: Option<String>,
}

impl Model {
    fn page(
        &self,
        prefix: Option<&str>,
        delimiter: Option<&str>,
        marker: Option<&str>,
        token: Option<&str>,
        max: Option<i32>,
    ) -> Page {
        self.asked
            .lock()
            .unwrap()
            .push((prefix.unwrap_or("").to_string(), marker.map(str::to_string)));
        let after = later(marker, token);
        let all = listing(&self.keys, prefix.unwrap_or(""), delimiter, after);
        let max = usize::try_from(max.unwrap_or(1000)).unwrap_or(0);
        let entries: Vec<Entry> = all.iter().take(max).cloned().collect();
        let truncated = max > 0 && all.len() > max;
        Page {
            next: truncated.then(|| entries.last().unwrap().name().to_string()),
            entries,
            truncated,
        }
    }
}

fn later<'a>(a: Option<&'a str>, b: Option<&'a str>) -> Option<&'a str> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn shown(url: bool, name: &str) -> String {
    if url { model_encode(name) } else { name.to_string() }
}

fn is_url(encoding_type: &Option<EncodingType>) -> bool {
    encoding_type.as_ref().is_some_and(|e| e.as_str() == EncodingType::URL)
}

fn split(entries: &[Entry], url: bool) -> (Vec<String>, Vec<CommonPrefix>) {
    let keys = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Key(k) => Some(shown(url, k)),
            Entry::Prefix(_) => None,
        })
        .collect();
    let prefixes = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Prefix(p) => Some(CommonPrefix {
                prefix: Some(shown(url, p)),
            }),
            Entry::Key(_) => None,
        })
        .collect();
    (keys, prefixes)
}

#[async_trait::async_trait]
impl S3 for Model {
    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        let i = req.input;
        let url = is_url(&i.encoding_type);
        let page = self.page(
            i.prefix.as_deref(),
            i.delimiter.as_deref(),
            i.start_after.as_deref(),
            i.continuation_token.as_deref(),
            i.max_keys,
        );
        let (keys, prefixes) = split(&page.entries, url);
        Ok(S3Response::new(ListObjectsV2Output {
            key_count: Some(page.entries.len() as i32),
            contents: Some(
                keys.into_iter()
                    .map(|key| Object {
                        key: Some(key),
                        ..Default::default()
                    })
                    .collect(),
            ),
            common_prefixes: Some(prefixes),
            is_truncated: Some(page.truncated),
            next_continuation_token: page.next,
            prefix: i.prefix.map(|p| shown(url, &p)),
            start_after: i.start_after.map(|p| shown(url, &p)),
            encoding_type: i.encoding_type,
            ..Default::default()
        }))
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        let i = req.input;
        let url = is_url(&i.encoding_type);
        let page = self.page(
            i.prefix.as_deref(),
            i.delimiter.as_deref(),
            i.marker.as_deref(),
            None,
            i.max_keys,
        );
        let (keys, prefixes) = split(&page.entries, url);
        Ok(S3Response::new(ListObjectsOutput {
            contents: Some(
                keys.into_iter()
                    .map(|key| Object {
                        key: Some(key),
                        ..Default::default()
                    })
                    .collect(),
            ),
            common_prefixes: Some(prefixes),
            is_truncated: Some(page.truncated),
            next_marker: page.next.map(|n| shown(url, &n)),
            prefix: i.prefix.map(|p| shown(url, &p)),
            marker: i.marker.map(|p| shown(url, &p)),
            encoding_type: i.encoding_type,
            ..Default::default()
        }))
    }

    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let i = req.input;
        let url = is_url(&i.encoding_type);
        let page = self.page(
            i.prefix.as_deref(),
            i.delimiter.as_deref(),
            i.key_marker.as_deref(),
            None,
            i.max_keys,
        );
        let (keys, prefixes) = split(&page.entries, url);
        Ok(S3Response::new(ListObjectVersionsOutput {
            versions: Some(
                keys.into_iter()
                    .map(|key| ObjectVersion {
                        key: Some(key),
                        version_id: Some("null".into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            common_prefixes: Some(prefixes),
            is_truncated: Some(page.truncated),
            next_key_marker: page.next.map(|n| shown(url, &n)),
            prefix: i.prefix.map(|p| shown(url, &p)),
            key_marker: i.key_marker.map(|p| shown(url, &p)),
            encoding_type: i.encoding_type,
            ..Default::default()
        }))
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let i = req.input;
        let url = is_url(&i.encoding_type);
        let page = self.page(
            i.prefix.as_deref(),
            i.delimiter.as_deref(),
            i.key_marker.as_deref(),
            None,
            i.max_uploads,
        );
        let (keys, prefixes) = split(&page.entries, url);
        Ok(S3Response::new(ListMultipartUploadsOutput {
            uploads: Some(
                keys.into_iter()
                    .map(|key| MultipartUpload {
                        key: Some(key),
                        upload_id: Some("u".into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            common_prefixes: Some(prefixes),
            is_truncated: Some(page.truncated),
            next_key_marker: page.next.map(|n| shown(url, &n)),
            next_upload_id_marker: page.truncated.then(|| "u".into()),
            prefix: i.prefix.map(|p| shown(url, &p)),
            key_marker: i.key_marker.map(|p| shown(url, &p)),
            encoding_type: i.encoding_type,
            ..Default::default()
        }))
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    V1,
    V2,
    Versions,
    Uploads,
}

/// One listing as a client asks it (the first page).
#[derive(Clone, Debug)]
struct Ask {
    op: Op,
    prefix: Option<String>,
    delimiter: Option<String>,
    max: Option<i32>,
    /// StartAfter (V2), Marker (V1), KeyMarker (versions, uploads).
    position: Option<String>,
    /// A continuation token sent with the first page (V2 only): crafted, not issued.
    token: Option<String>,
    url: bool,
}

/// One page as the gateway answered it, names decoded.
#[derive(Debug)]
struct Answered {
    entries: Vec<Entry>,
    truncated: bool,
    /// What the next page asks with: a continuation token (V2) or a marker.
    next: Option<String>,
    key_count: Option<i32>,
    prefix: Option<String>,
}

fn request<T>(input: T, path: Option<&str>) -> S3Request<T> {
    let mut extensions = axum::http::Extensions::new();
    extensions.insert(AuthorizedKey(Arc::new(KeyRecord {
        credential_id: 1,
        secret: s3s::auth::SecretKey::from("secret".to_string()),
        scope: scope(path),
        bucket_created_at: 0,
        life: KeyLife {
            status: KeyStatus::Active,
            expires_at: None,
            replaced: false,
        },
    })));
    S3Request {
        input,
        method: axum::http::Method::GET,
        uri: axum::http::Uri::from_static("/"),
        headers: Default::default(),
        extensions,
        credentials: None,
        region: None,
        service: None,
        trailing_headers: None,
    }
}

fn scope(path: Option<&str>) -> KeyScope {
    KeyScope {
        bucket: BUCKET.into(),
        path: path.map(str::to_string),
        grant: Grant::Actions(ActionSet::parse("read-only").unwrap()),
        networks: Default::default(),
    }
}

fn entries_of(
    keys: impl IntoIterator<Item = Option<String>>,
    prefixes: Option<Vec<CommonPrefix>>,
    url: bool,
) -> Vec<Entry> {
    let read = |name: String| if url { decode(&name) } else { name };
    let mut entries: Vec<Entry> = keys.into_iter().flatten().map(|k| Entry::Key(read(k))).collect();
    entries.extend(
        prefixes
            .into_iter()
            .flatten()
            .filter_map(|c| c.prefix)
            .map(|p| Entry::Prefix(read(p))),
    );
    entries.sort_by(|a, b| a.name().cmp(b.name()));
    entries
}

/// Asks the gateway for one page: `after` is the position the previous page handed on.
async fn ask(gateway: &Gateway<Model>, path: Option<&str>, a: &Ask, after: Option<&str>) -> S3Result<Answered> {
    let encoding_type = a.url.then(|| EncodingType::from_static(EncodingType::URL));
    let read = |name: Option<String>| name.map(|n| if a.url { decode(&n) } else { n });
    Ok(match a.op {
        Op::V2 => {
            let input = ListObjectsV2Input {
                bucket: BUCKET.into(),
                prefix: a.prefix.clone(),
                delimiter: a.delimiter.clone(),
                max_keys: a.max,
                start_after: a.position.clone(),
                continuation_token: after.map(str::to_string).or_else(|| a.token.clone()),
                encoding_type,
                ..Default::default()
            };
            let o = gateway.list_objects_v2(request(input, path)).await?.output;
            Answered {
                entries: entries_of(
                    o.contents.into_iter().flatten().map(|o| o.key),
                    o.common_prefixes,
                    a.url,
                ),
                truncated: o.is_truncated == Some(true),
                next: o.next_continuation_token,
                key_count: o.key_count,
                prefix: read(o.prefix),
            }
        }
        Op::V1 => {
            let input = ListObjectsInput {
                bucket: BUCKET.into(),
                prefix: a.prefix.clone(),
                delimiter: a.delimiter.clone(),
                max_keys: a.max,
                marker: after.map(str::to_string).or_else(|| a.position.clone()),
                encoding_type,
                ..Default::default()
            };
            let o = gateway.list_objects(request(input, path)).await?.output;
            Answered {
                entries: entries_of(
                    o.contents.into_iter().flatten().map(|o| o.key),
                    o.common_prefixes,
                    a.url,
                ),
                truncated: o.is_truncated == Some(true),
                next: read(o.next_marker),
                key_count: None,
                prefix: read(o.prefix),
            }
        }
        Op::Versions => {
            let input = ListObjectVersionsInput {
                bucket: BUCKET.into(),
                prefix: a.prefix.clone(),
                delimiter: a.delimiter.clone(),
                max_keys: a.max,
                key_marker: after.map(str::to_string).or_else(|| a.position.clone()),
                encoding_type,
                ..Default::default()
            };
            let o = gateway.list_object_versions(request(input, path)).await?.output;
            Answered {
                entries: entries_of(
                    o.versions.into_iter().flatten().map(|v| v.key),
                    o.common_prefixes,
                    a.url,
                ),
                truncated: o.is_truncated == Some(true),
                next: read(o.next_key_marker),
                key_count: None,
                prefix: read(o.prefix),
            }
        }
        Op::Uploads => {
            let input = ListMultipartUploadsInput {
                bucket: BUCKET.into(),
                prefix: a.prefix.clone(),
                delimiter: a.delimiter.clone(),
                max_uploads: a.max,
                key_marker: after.map(str::to_string).or_else(|| a.position.clone()),
                encoding_type,
                ..Default::default()
            };
            let o = gateway.list_multipart_uploads(request(input, path)).await?.output;
            Answered {
                entries: entries_of(o.uploads.into_iter().flatten().map(|u| u.key), o.common_prefixes, a.url),
                truncated: o.is_truncated == Some(true),
                next: read(o.next_key_marker),
                key_count: None,
                prefix: read(o.prefix),
            }
        }
    })
}

/// Names the trees and listings are made of: `/` and `+` and `%` and spaces, a multi-byte
/// letter, and names that start like one another.
const SEGMENTS: &[&str] = &["a", "b", "ab", "photos", "2025", "x y", "a+b", "%41", "é", "2025x"];
const DELIMITERS: &[&str] = &["/", "/", "/", "", "a", "2", "é", "/a", "5/", "b/", "/x y", "photos"];

fn segments(count: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(SEGMENTS), count).prop_map(|s| s.join("/"))
}

/// Every string the path starts with, the empty one and the path itself too.
fn starts_of(path: &str) -> Vec<String> {
    path.char_indices()
        .map(|(i, _)| path[..i].to_string())
        .chain([path.to_string()])
        .collect()
}

#[derive(Clone, Debug)]
struct Case {
    keys: BTreeSet<String>,
    path: Option<String>,
    ask: Ask,
}

fn case() -> impl Strategy<Value = Case> {
    let path = prop_oneof![
        1 => Just(None),
        6 => segments(1..4).prop_map(|p| Some(format!("{p}/"))),
    ];
    path.prop_flat_map(|path| {
        let base = path.clone().unwrap_or_default();
        let under = (segments(0..4), any::<bool>()).prop_map({
            let base = base.clone();
            move |(rest, slash)| format!("{base}{rest}{}", if slash { "/" } else { "" })
        });
        let anywhere =
            (segments(1..5), any::<bool>()).prop_map(|(k, slash)| format!("{k}{}", if slash { "/" } else { "" }));
        let key = prop_oneof![under, anywhere].prop_filter("a key is not empty", |k| !k.is_empty());
        let keys = prop::collection::btree_set(key, 0..30);
        let starts = starts_of(&base);
        let prefix = prop_oneof![
            4 => prop::sample::select(starts.clone()).prop_map(Some),
            1 => Just(None),
            1 => segments(1..3).prop_map({
                let base = base.clone();
                move |rest| Some(format!("{base}{rest}"))
            }),
            1 => segments(1..3).prop_map(Some),
        ];
        let position_pool = prop_oneof![
            prop::sample::select(starts.clone()),
            segments(1..5),
            segments(0..3).prop_map({
                let base = base.clone();
                move |rest| format!("{base}{rest}")
            }),
        ];
        let delimiter = prop_oneof![
            1 => Just(None),
            4 => prop::sample::select(DELIMITERS).prop_map(|d| Some(d.to_string())),
        ];
        let max = prop_oneof![2 => Just(None), 5 => (0..5i32).prop_map(Some)];
        let op = prop::sample::select(&[Op::V1, Op::V2, Op::V2, Op::Versions, Op::Uploads][..]);
        let position = prop::option::weighted(0.3, position_pool.clone());
        let token = prop::option::weighted(0.15, position_pool);
        (keys, prefix, delimiter, max, position, token, op, any::<bool>()).prop_map(
            move |(keys, prefix, delimiter, max, position, token, op, url)| Case {
                keys,
                path: path.clone(),
                ask: Ask {
                    op,
                    prefix,
                    delimiter,
                    max,
                    position,
                    token: token.filter(|_| matches!(op, Op::V2)),
                    url,
                },
            },
        )
    })
}

/// Whether a name may show to a key limited to `path`: inside it, or a folder name on
/// the way to it.
fn may_show(path: Option<&str>, entry: &Entry) -> bool {
    match (path, entry) {
        (None, _) => true,
        (Some(path), Entry::Key(key)) => key.starts_with(path),
        (Some(path), Entry::Prefix(prefix)) => prefix.starts_with(path) || path.starts_with(prefix.as_str()),
    }
}

async fn check(case: Case) -> Result<(), TestCaseError> {
    let Case { keys, path, ask: a } = case;
    let path = path.as_deref();
    let prefix = a.prefix.as_deref().unwrap_or("");
    let gateway = Gateway {
        backend: Model {
            keys: keys.clone(),
            asked: Default::default(),
        },
    };
    // The evaluator allows a prefix inside the path or any start of it, and nothing else.
    let operation = match a.op {
        Op::V1 => Operation::ListObjects,
        Op::V2 => Operation::ListObjectsV2,
        Op::Versions => Operation::ListObjectVersions,
        Op::Uploads => Operation::ListMultipartUploads,
    };
    let decision = policy::evaluate(
        &scope(path),
        &policy::Request {
            bucket: Some(BUCKET),
            prefix: a.prefix.as_deref(),
            ..policy::Request::new(operation)
        },
    );
    let related = path.is_none_or(|p| prefix.starts_with(p) || p.starts_with(prefix));
    let inner = prefix.strip_suffix('/').unwrap_or(prefix);
    let plain = prefix.is_empty() || !inner.split('/').any(|s| s.is_empty() || s == "." || s == "..");
    prop_assert_eq!(decision.is_allowed(), related && plain, "{:?}", decision);
    if let Decision::Deny(_) = decision {
        if !related {
            // Asked anyway (the endpoint never lets it through), the gateway refuses too.
            let refused = ask(&gateway, path, &a, None).await.unwrap_err();
            prop_assert_eq!(refused.code().as_str(), "AccessDenied");
        }
        return Ok(());
    }
    let delimiter = a.delimiter.as_deref().filter(|d| !d.is_empty());
    let above = path.is_some_and(|p| p.len() > prefix.len());
    // The way down is one name; a continuation token means the listing is past it.
    let synthesized = above && matches!(group(path.unwrap(), prefix, delimiter), Entry::Prefix(_));
    let first = match (a.op, &a.token) {
        (Op::V2, Some(_)) if synthesized => None,
        (Op::V2, token) => Some(later(a.position.as_deref(), token.as_deref()).map(str::to_string)),
        (_, _) => Some(a.position.clone()),
    };
    let expected = match (&first, a.max) {
        (None, _) | (_, Some(0)) => Vec::new(),
        (Some(position), _) => seen_by_folder_key(&keys, path, prefix, delimiter, position.as_deref()),
    };
    let mut got = Vec::new();
    let mut after: Option<String> = None;
    for pages in 0.. {
        prop_assert!(pages <= keys.len() + 2, "paging does not end");
        let page = match ask(&gateway, path, &a, after.as_deref()).await {
            Ok(page) => page,
            Err(refused) => {
                // Only a delimiter that may run across the folder's end, above it.
                prop_assert_eq!(refused.code().as_str(), "InvalidArgument", "{:?}", refused);
                prop_assert!(above && delimiter.is_some_and(|d| d.len() > 1));
                return Ok(());
            }
        };
        for entry in &page.entries {
            prop_assert!(may_show(path, entry), "{:?} shown to a key for {:?}", entry, path);
        }
        if let Some(max) = a.max {
            prop_assert!(page.entries.len() <= usize::try_from(max).unwrap_or(0));
        }
        if let Some(count) = page.key_count {
            prop_assert_eq!(count as usize, page.entries.len());
        }
        prop_assert_eq!(page.prefix.as_deref().unwrap_or(""), prefix);
        got.extend(page.entries);
        if !page.truncated {
            break;
        }
        after = Some(page.next.expect("a truncated page says where to go on"));
    }
    prop_assert_eq!(got, expected);
    // The store itself is only ever asked for names inside the folder, so no marker or
    // token can bring it to return others.
    if let Some(path) = path {
        for (asked, marker) in gateway.backend.asked.lock().unwrap().iter() {
            prop_assert!(asked.starts_with(path), "the store was asked for {:?}", asked);
            // A marker before the folder asks for all of it, and is left out (a store
            // may seek to it and stop at the first name outside the prefix).
            if asked != prefix {
                prop_assert!(
                    marker.as_ref().is_none_or(|m| m >= asked),
                    "{:?} after {:?}",
                    asked,
                    marker
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn a_folder_key_sees_only_its_folder_and_the_way_down(case in case()) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(check(case))?;
    }
}

/// The real endpoint: HTTP, signatures, the evaluator, the gateway and the local backend.
mod endpoint {
    use super::common;
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
    use aws_sdk_s3::error::ProvideErrorMetadata as _;
    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::EncodingType;
    use common::seed::{customer_with_bucket, key};

    const BUCKET: &str = "folder-browse";

    /// Put with the master key: under the folder, beside it, above it, and names that
    /// start like it.
    const STORED: &[&str] = &[
        "photos/2025/a.jpg",
        "photos/2025/sub/b.jpg",
        "photos/2025/x y+z%41.jpg",
        "photos/2025/",
        "photos/2024/old.jpg",
        "photos/cover.jpg",
        "photos/",
        "photos/2025x/leak.txt",
        "photos/2025 copy/c.jpg",
        "photos/20250/d.jpg",
        "docs/secret.txt",
        "top.txt",
    ];
    const UNDER: &[&str] = &[
        "photos/2025/",
        "photos/2025/a.jpg",
        "photos/2025/sub/b.jpg",
        "photos/2025/x y+z%41.jpg",
    ];

    struct Fixture {
        master: aws_sdk_s3::Client,
        folder: aws_sdk_s3::Client,
        empty: aws_sdk_s3::Client,
        dir: std::path::PathBuf,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            std::fs::remove_dir_all(&self.dir).ok();
        }
    }

    fn client(addr: std::net::SocketAddr, id: &str, secret: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(format!("http://{addr}"))
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(id, secret, None, None, "test"))
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    async fn fixture() -> Fixture {
        let state = common::state(common::sqlite().await);
        let (bucket, master) = customer_with_bucket(&state, "fay@example.com", BUCKET).await;
        let folder = key(&state, bucket.id, "camera", "photos/2025/", "read-only").await;
        let empty = key(&state, bucket.id, "fresh", "new/empty/", "read-only").await;
        let (addr, dir) = common::serve_s3(&state, "folder-browse", Default::default(), Default::default()).await;
        let fixture = Fixture {
            master: client(addr, &master.access_key_id, &master.secret_key),
            folder: client(addr, &folder.access_key_id, &folder.secret_key),
            empty: client(addr, &empty.access_key_id, &empty.secret_key),
            dir,
        };
        for stored in STORED {
            fixture
                .master
                .put_object()
                .bucket(BUCKET)
                .key(*stored)
                .body(ByteStream::from_static(b"x"))
                .send()
                .await
                .unwrap();
        }
        fixture
    }

    /// A V2 listing's keys and common prefixes.
    async fn v2(
        s3: &aws_sdk_s3::Client,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: Option<&str>,
    ) -> (Vec<String>, Vec<String>, i32) {
        let out = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix(prefix)
            .set_delimiter(delimiter.map(str::to_string))
            .set_start_after(start_after.map(str::to_string))
            .send()
            .await
            .unwrap();
        let keys = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect();
        let prefixes = out
            .common_prefixes()
            .iter()
            .filter_map(|c| c.prefix().map(str::to_string))
            .collect();
        (keys, prefixes, out.key_count().unwrap_or(-1))
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[tokio::test]
    async fn a_folder_key_browses_from_the_root_down() {
        let f = fixture().await;
        let s3 = &f.folder;
        // By folder: one name at each level above, then the folder's own contents.
        assert_eq!(v2(s3, "", Some("/"), None).await, (vec![], strings(&["photos/"]), 1));
        assert_eq!(v2(s3, "pho", Some("/"), None).await, (vec![], strings(&["photos/"]), 1));
        assert_eq!(
            v2(s3, "photos/", Some("/"), None).await,
            (vec![], strings(&["photos/2025/"]), 1)
        );
        assert_eq!(
            v2(s3, "photos/2025", Some("/"), None).await,
            (vec![], strings(&["photos/2025/"]), 1)
        );
        assert_eq!(
            v2(s3, "photos/2025/", Some("/"), None).await,
            (
                strings(&["photos/2025/", "photos/2025/a.jpg", "photos/2025/x y+z%41.jpg"]),
                strings(&["photos/2025/sub/"]),
                4
            )
        );
        // Without a delimiter, from any level above: the objects under the folder.
        for prefix in ["", "photos/", "photos/2025"] {
            assert_eq!(
                v2(s3, prefix, None, None).await,
                (strings(UNDER), vec![], 4),
                "{prefix:?}"
            );
        }
        // Another delimiter cuts where it first occurs.
        assert_eq!(v2(s3, "", Some("2"), None).await, (vec![], strings(&["photos/2"]), 1));
        // StartAfter: before the folder it changes nothing; inside it, it moves on; at or
        // past the one name above, nothing is left.
        assert_eq!(v2(s3, "", None, Some("docs/zzz")).await.0, strings(UNDER));
        assert_eq!(
            v2(s3, "", None, Some("photos/2025/a.jpg")).await.0,
            strings(&["photos/2025/sub/b.jpg", "photos/2025/x y+z%41.jpg"])
        );
        assert_eq!(v2(s3, "", Some("/"), Some("photos/")).await, (vec![], vec![], 0));
        assert_eq!(
            v2(s3, "", Some("/"), Some("a")).await,
            (vec![], strings(&["photos/"]), 1)
        );
        assert_eq!(v2(s3, "", None, Some("q")).await, (vec![], vec![], 0));

        // Paged one by one from the root: exactly the objects under the folder.
        let mut paged = Vec::new();
        let mut token = None;
        loop {
            let out = s3
                .list_objects_v2()
                .bucket(BUCKET)
                .max_keys(1)
                .set_continuation_token(token)
                .send()
                .await
                .unwrap();
            assert_eq!(out.key_count(), Some(1));
            paged.extend(out.contents().iter().filter_map(|o| o.key().map(str::to_string)));
            token = out.next_continuation_token().map(str::to_string);
            if !out.is_truncated().unwrap_or(false) {
                break;
            }
        }
        assert_eq!(paged, strings(UNDER));
        // A crafted token cannot reach beside the folder.
        for crafted in ["", "a", "docs/", "photos/", "photos/2024/", "top.txt"] {
            let out = s3
                .list_objects_v2()
                .bucket(BUCKET)
                .continuation_token(crafted)
                .send()
                .await;
            if let Ok(out) = out {
                for object in out.contents() {
                    assert!(
                        object.key().unwrap().starts_with("photos/2025/"),
                        "{crafted:?}: {object:?}"
                    );
                }
            }
        }
    }

    #[tokio::test]
    async fn every_listing_shows_the_way_down_and_nothing_beside_it() {
        let f = fixture().await;
        let s3 = &f.folder;
        let v1 = s3.list_objects().bucket(BUCKET).delimiter("/").send().await.unwrap();
        assert!(v1.contents().is_empty());
        assert_eq!(v1.common_prefixes()[0].prefix(), Some("photos/"));
        assert_eq!(v1.common_prefixes().len(), 1);
        let v1 = s3
            .list_objects()
            .bucket(BUCKET)
            .marker("photos/2025/sub/")
            .send()
            .await
            .unwrap();
        let keys: Vec<&str> = v1.contents().iter().filter_map(|o| o.key()).collect();
        assert_eq!(keys, ["photos/2025/sub/b.jpg", "photos/2025/x y+z%41.jpg"]);

        let versions = s3
            .list_object_versions()
            .bucket(BUCKET)
            .prefix("photos/")
            .delimiter("/")
            .send()
            .await
            .unwrap();
        assert!(versions.versions().is_empty());
        let prefixes: Vec<&str> = versions.common_prefixes().iter().filter_map(|c| c.prefix()).collect();
        assert_eq!(prefixes, ["photos/2025/"]);
        let versions = s3.list_object_versions().bucket(BUCKET).send().await.unwrap();
        let keys: Vec<&str> = versions.versions().iter().filter_map(|v| v.key()).collect();
        assert_eq!(keys, UNDER);

        for stored in ["docs/upload.bin", "photos/2025/upload.bin"] {
            f.master
                .create_multipart_upload()
                .bucket(BUCKET)
                .key(stored)
                .send()
                .await
                .unwrap();
        }
        let uploads = s3
            .list_multipart_uploads()
            .bucket(BUCKET)
            .delimiter("/")
            .send()
            .await
            .unwrap();
        assert!(uploads.uploads().is_empty());
        let prefixes: Vec<&str> = uploads.common_prefixes().iter().filter_map(|c| c.prefix()).collect();
        assert_eq!(prefixes, ["photos/"]);
        let uploads = s3.list_multipart_uploads().bucket(BUCKET).send().await.unwrap();
        let keys: Vec<&str> = uploads.uploads().iter().filter_map(|u| u.key()).collect();
        assert_eq!(keys, ["photos/2025/upload.bin"]);

        // The bucket itself answers as for any key that may list it.
        s3.head_bucket().bucket(BUCKET).send().await.unwrap();
        s3.get_bucket_location().bucket(BUCKET).send().await.unwrap();

        // Beside the folder, and a delimiter that could run across its end, are refused.
        for prefix in ["docs/", "photos/2024/", "photos/2025x", "photos/20250/"] {
            let refused = s3
                .list_objects_v2()
                .bucket(BUCKET)
                .prefix(prefix)
                .send()
                .await
                .unwrap_err();
            assert_eq!(refused.code(), Some("AccessDenied"), "{prefix:?}");
        }
        let refused = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .delimiter("/s")
            .send()
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Some("InvalidArgument"));
        assert!(refused.message().unwrap().contains("“/”"));
    }

    #[tokio::test]
    async fn url_encoded_listings_encode_the_names_shown() {
        let f = fixture().await;
        let s3 = &f.folder;
        let root = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix("photos/2")
            .delimiter("/")
            .encoding_type(EncodingType::Url)
            .send()
            .await
            .unwrap();
        assert_eq!(root.prefix(), Some("photos/2"));
        assert_eq!(root.common_prefixes()[0].prefix(), Some("photos/2025/"));
        let flat = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix("photos/")
            .encoding_type(EncodingType::Url)
            .start_after("photos/2025/sub/b.jpg")
            .send()
            .await
            .unwrap();
        let keys: Vec<&str> = flat.contents().iter().filter_map(|o| o.key()).collect();
        // The SDK hands over names as the endpoint encoded them.
        assert_eq!(keys, ["photos/2025/x%20y%2Bz%2541.jpg"]);
        assert_eq!(flat.key_count(), Some(1));
    }

    #[tokio::test]
    async fn an_empty_folder_can_be_walked_into() {
        let f = fixture().await;
        let s3 = &f.empty;
        assert_eq!(v2(s3, "", Some("/"), None).await, (vec![], strings(&["new/"]), 1));
        assert_eq!(
            v2(s3, "new/", Some("/"), None).await,
            (vec![], strings(&["new/empty/"]), 1)
        );
        assert_eq!(v2(s3, "new/empty/", Some("/"), None).await, (vec![], vec![], 0));
        assert_eq!(v2(s3, "", None, None).await, (vec![], vec![], 0));
        // The master key sees the whole bucket as ever.
        let (keys, _, _) = v2(&f.master, "", None, None).await;
        assert_eq!(keys.len(), STORED.len());
    }
}
