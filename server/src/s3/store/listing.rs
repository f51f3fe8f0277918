//! One page of a listing over an ordered index, as S3 defines it: the keys under a prefix,
//! those holding the delimiter after the prefix rolled up into one common prefix each, in
//! byte order, every entry after a position (`StartAfter`, a marker or a continuation
//! token), at most `max` of them. Pure, so a model can check it.

use std::ops::Bound;

pub struct Query<'a> {
    pub prefix: &'a [u8],
    pub delimiter: Option<&'a [u8]>,
    /// Only entries (keys or common prefixes) greater than this are listed.
    pub after: Option<&'a [u8]>,
    pub max: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Entry<V> {
    Object(Vec<u8>, V),
    Prefix(Vec<u8>),
}

impl<V> Entry<V> {
    pub fn name(&self) -> &[u8] {
        match self {
            Entry::Object(key, _) | Entry::Prefix(key) => key,
        }
    }
}

#[derive(Debug)]
pub struct Page<V> {
    pub entries: Vec<Entry<V>>,
    /// More entries follow the last one listed.
    pub truncated: bool,
}

/// The byte string just above every key that starts with `prefix`: keys are UTF-8, which
/// never holds the byte 0xFF.
pub fn past_prefix(prefix: &[u8]) -> Vec<u8> {
    let mut past = prefix.to_vec();
    past.push(0xFF);
    past
}

/// Lists one page. `seek(from)` yields the index's keys from `from` on, in byte order
/// (any keys: those outside the prefix end the listing). After a common prefix the listing
/// seeks past every key under it, so a page costs about `max` steps however many keys
/// each common prefix holds.
pub fn page<V, I>(query: &Query, mut seek: impl FnMut(Bound<Vec<u8>>) -> I) -> Page<V>
where
    I: Iterator<Item = (Vec<u8>, V)>,
{
    let mut entries = Vec::new();
    let mut from = match query.after {
        Some(after) if after >= query.prefix => Bound::Excluded(after.to_vec()),
        _ => Bound::Included(query.prefix.to_vec()),
    };
    let is_new = |name: &[u8]| query.after.is_none_or(|after| name > after);
    'seek: loop {
        for (key, value) in seek(from.clone()) {
            if !key.starts_with(query.prefix) {
                break 'seek;
            }
            let rolled_up = query.delimiter.filter(|d| !d.is_empty()).and_then(|delimiter| {
                let rest = &key[query.prefix.len()..];
                rest.windows(delimiter.len())
                    .position(|w| w == delimiter)
                    .map(|at| key[..query.prefix.len() + at + delimiter.len()].to_vec())
            });
            let (entry, seek_past) = match rolled_up {
                Some(common) => {
                    from = Bound::Included(past_prefix(&common));
                    (is_new(&common).then_some(Entry::Prefix(common)), true)
                }
                None => (is_new(&key).then_some(Entry::Object(key, value)), false),
            };
            if let Some(entry) = entry {
                if entries.len() == query.max {
                    return Page {
                        truncated: query.max > 0,
                        entries,
                    };
                }
                entries.push(entry);
            }
            if seek_past {
                continue 'seek;
            }
        }
        break;
    }
    Page {
        entries,
        truncated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn listing(keys: &BTreeMap<Vec<u8>, ()>, query: &Query) -> Page<()> {
        page(query, |from| {
            keys.range((from, Bound::Unbounded))
                .map(|(k, v)| (k.clone(), *v))
                .collect::<Vec<_>>()
                .into_iter()
        })
    }

    /// The definition, spelled out: every key under the prefix, rolled up, deduplicated,
    /// sorted, after the position, the first `max`.
    fn model(keys: &BTreeMap<Vec<u8>, ()>, query: &Query) -> (Vec<Vec<u8>>, bool) {
        let mut all: Vec<Vec<u8>> = keys
            .keys()
            .filter(|k| k.starts_with(query.prefix))
            .map(|k| {
                let rest = &k[query.prefix.len()..];
                match query.delimiter.filter(|d| !d.is_empty()) {
                    Some(d) => match rest.windows(d.len()).position(|w| w == d) {
                        Some(at) => k[..query.prefix.len() + at + d.len()].to_vec(),
                        None => k.clone(),
                    },
                    None => k.clone(),
                }
            })
            .filter(|name| query.after.is_none_or(|a| name.as_slice() > a))
            .collect();
        all.sort();
        all.dedup();
        let truncated = query.max > 0 && all.len() > query.max;
        all.truncate(query.max);
        (all, truncated)
    }

    fn names(page: &Page<()>) -> Vec<Vec<u8>> {
        page.entries.iter().map(|e| e.name().to_vec()).collect()
    }

    /// Keys from a small alphabet, so prefixes, delimiters and keys that are prefixes of
    /// other keys meet often.
    fn key() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(prop::sample::select(b"ab/%+. -".to_vec()), 1..8)
    }

    proptest! {
        #[test]
        fn a_page_is_the_definition(
            keys in proptest::collection::btree_map(key(), Just(()), 0..60),
            prefix in proptest::collection::vec(prop::sample::select(b"ab/".to_vec()), 0..3),
            delimiter in prop::option::of(prop::sample::select(vec![b"/".to_vec(), b"a".to_vec(), b"b/".to_vec(), b"%".to_vec()])),
            after in prop::option::of(key()),
            max in 0usize..6,
        ) {
            let query = Query { prefix: &prefix, delimiter: delimiter.as_deref(), after: after.as_deref(), max };
            let page = listing(&keys, &query);
            let (expected, truncated) = model(&keys, &query);
            prop_assert_eq!(names(&page), expected);
            prop_assert_eq!(page.truncated, truncated);
        }

        #[test]
        fn paging_by_the_last_entry_lists_everything_once(
            keys in proptest::collection::btree_map(key(), Just(()), 0..60),
            prefix in proptest::collection::vec(prop::sample::select(b"ab/".to_vec()), 0..2),
            delimiter in prop::option::of(prop::sample::select(vec![b"/".to_vec(), b"a".to_vec()])),
            max in 1usize..5,
        ) {
            let whole = model(&keys, &Query { prefix: &prefix, delimiter: delimiter.as_deref(), after: None, max: usize::MAX }).0;
            let mut paged = Vec::new();
            let mut after: Option<Vec<u8>> = None;
            loop {
                let page = listing(&keys, &Query { prefix: &prefix, delimiter: delimiter.as_deref(), after: after.as_deref(), max });
                paged.extend(names(&page));
                if !page.truncated { break; }
                after = paged.last().cloned();
            }
            prop_assert_eq!(paged, whole);
        }
    }

    #[test]
    fn a_common_prefix_costs_one_seek_not_one_step_per_key() {
        let keys: BTreeMap<Vec<u8>, ()> = (0..10_000)
            .map(|i| (format!("big/{i:05}").into_bytes(), ()))
            .chain([(b"small".to_vec(), ())])
            .collect();
        let steps = std::cell::Cell::new(0);
        let page = page(
            &Query {
                prefix: b"",
                delimiter: Some(b"/"),
                after: None,
                max: 1000,
            },
            |from| {
                keys.range((from, Bound::Unbounded))
                    .map(|(k, v)| (k.clone(), *v))
                    .inspect(|_| steps.set(steps.get() + 1))
            },
        );
        assert_eq!(names(&page), vec![b"big/".to_vec(), b"small".to_vec()]);
        assert!(steps.get() < 10, "the listing walked {} keys", steps.get());
    }
}
