//! A key's scope in words: a plain-language summary for the drawer, and the equivalent
//! AWS IAM policy for people who know AWS. Both read the scope the evaluator decides by
//! ([`crate::policy::KeyScope`]) and the catalog, so they cannot drift from what the S3
//! endpoint does.

use crate::catalog::{ACTIONS, Category, Scope, named};
use crate::domain::CredentialView;
use crate::policy::{Grant, KeyScope, ListingView};
use serde_json::{Value, json};

impl KeyScope {
    /// The scope a listed credential has.
    pub fn of_view(view: &CredentialView) -> KeyScope {
        KeyScope::from_stored(
            view.kind,
            view.bucket.clone(),
            view.path.clone(),
            &view.actions.join(" "),
            Some(&view.networks.join(",")),
        )
    }
}

/// The everyday things a key does, each with the action that allows it, in the order
/// the summary names them.
const VERBS: [(&str, &str); 4] = [
    ("list", "s3:ListBucket"),
    ("download", "s3:GetObject"),
    ("upload", "s3:PutObject"),
    ("delete", "s3:DeleteObject"),
];

/// "a", "a and b", "a, b and c" (with `or` instead of `and` for what a key cannot do).
fn join_words(words: &[&str], last: &str) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., end] => format!("{} {last} {end}", rest.join(", ")),
    }
}

/// What this key can and cannot do, in two or three sentences: "Can list and download
/// everything under “photos/” in bucket media (eu-west-1). Cannot upload, delete or
/// change bucket settings."
pub fn summary(scope: &KeyScope, region: &str) -> String {
    let place = match &scope.path {
        Some(path) => format!("everything under “{path}” in bucket {} ({region})", scope.bucket),
        None => format!("everything in bucket {} ({region})", scope.bucket),
    };
    let set = match &scope.grant {
        Grant::Master => {
            return format!(
                "The bucket's master key: can do every S3 action Stook serves on {place}, bucket settings included."
            );
        }
        Grant::Actions(set) => set,
    };
    let bucket = format!("bucket {} ({region})", scope.bucket);
    let (mut can, mut cannot): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for (verb, action) in VERBS {
        if set.contains(action) { &mut can } else { &mut cannot }.push(verb);
    }
    let settings: Vec<&'static str> = set
        .iter()
        .filter(|name| named_in_catalog(name).category == Category::BucketManagement)
        .collect();
    let changes_settings = settings.iter().any(|name| !name.starts_with("s3:Get"));
    let settings_verb = match (settings.is_empty(), changes_settings) {
        (_, true) => Some("change"),
        (false, false) => Some("read"),
        (true, false) => None,
    };
    if !changes_settings {
        cannot.push("change bucket settings");
    }
    // A folder key may list the folders above its own, where it sees only the way down.
    let parents = match (&scope.path, set.contains("s3:ListBucket")) {
        (Some(path), true) => match crate::policy::listing_view(Some(path), "", Some("/")) {
            ListingView::NextStep(top) => {
                format!(" Parent folders show as names only: at the bucket's root this key sees just “{top}”.")
            }
            _ => String::new(),
        },
        _ => String::new(),
    };
    let mut text = match (can.is_empty(), settings_verb) {
        (false, Some(verb)) => format!(
            "Can {} {place}, and {verb} the bucket's settings.{parents}",
            join_words(&can, "and")
        ),
        (false, None) => format!("Can {} {place}.{parents}", join_words(&can, "and")),
        (true, Some(verb)) => format!("Can {verb} the settings of {bucket}."),
        (true, None) => {
            cannot.clear();
            format!("Cannot list, download, upload, delete or change settings in {bucket}.")
        }
    };
    if !cannot.is_empty() {
        text.push_str(&format!(" Cannot {}.", join_words(&cannot, "or")));
    }
    let everyday: Vec<&str> = VERBS.iter().map(|(_, action)| *action).collect();
    // In catalog order, as the form lists them.
    let others: Vec<&str> = ACTIONS
        .iter()
        .map(|a| a.name)
        .filter(|name| set.contains(name) && !everyday.contains(name) && !settings.contains(name))
        .collect();
    if !others.is_empty() {
        text.push_str(&format!(" Also allowed: {}.", others.join(", ")));
    }
    text
}

fn named_in_catalog(name: &str) -> &'static crate::catalog::Action {
    ACTIONS.iter().find(|a| a.name == name).unwrap_or(named("s3:GetObject"))
}

/// A name as IAM reads it literally: `*`, `?` and `$` are wildcards or variables there,
/// so they are written as the policy variables `${*}`, `${?}` and `${$}`.
fn iam_literal(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '*' | '?' | '$' => {
                out.push_str("${");
                out.push(c);
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out
}

/// Bucket actions whose request carries a `prefix` that a path limits.
const LISTINGS: [&str; 3] = [
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
];

/// The grant as an AWS IAM policy document: what another S3 system would need to give
/// the same access. Object actions apply to `arn:aws:s3:::bucket/path*`; listings carry
/// an `s3:prefix` condition when the key is limited to a path.
pub fn iam_policy(scope: &KeyScope) -> Value {
    let bucket_arn = format!("arn:aws:s3:::{}", scope.bucket);
    let path = iam_literal(scope.path.as_deref().unwrap_or(""));
    let objects_arn = format!("{bucket_arn}/{path}*");
    let names: Vec<&'static str> = match &scope.grant {
        Grant::Master => {
            return json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "WholeBucket",
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, objects_arn],
                }],
            });
        }
        // Catalog order, so the document reads like the form.
        Grant::Actions(set) => ACTIONS.iter().map(|a| a.name).filter(|n| set.contains(n)).collect(),
    };
    let of_scope = |scope: Scope| -> Vec<&'static str> {
        names
            .iter()
            .copied()
            .filter(|n| named_in_catalog(n).scope == scope)
            .collect()
    };
    let bucket_actions = of_scope(Scope::Bucket);
    let (listings, other_bucket): (Vec<&str>, Vec<&str>) = match scope.path {
        Some(_) => bucket_actions.iter().partition(|n| LISTINGS.contains(n)),
        None => (Vec::new(), bucket_actions),
    };
    let mut statements = Vec::new();
    if !listings.is_empty() {
        statements.push(json!({
            "Sid": "ListInsidePath",
            "Effect": "Allow",
            "Action": listings,
            "Resource": bucket_arn,
            "Condition": { "StringLike": { "s3:prefix": [path, format!("{path}*")] } },
        }));
    }
    if !other_bucket.is_empty() {
        statements.push(json!({
            "Sid": "Bucket",
            "Effect": "Allow",
            "Action": other_bucket,
            "Resource": bucket_arn,
        }));
    }
    let object_actions = of_scope(Scope::Object);
    if !object_actions.is_empty() {
        statements.push(json!({
            "Sid": "Objects",
            "Effect": "Allow",
            "Action": object_actions,
            "Resource": objects_arn,
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ActionSet, Preset};

    fn scope(path: Option<&str>, actions: &str) -> KeyScope {
        KeyScope {
            bucket: "media".into(),
            path: path.map(str::to_string),
            grant: Grant::Actions(ActionSet::parse(actions).unwrap()),
            networks: Default::default(),
        }
    }

    #[test]
    fn summaries_say_what_a_key_can_and_cannot_do() {
        assert_eq!(
            summary(&scope(Some("photos/"), "s3:ListBucket s3:GetObject"), "eu-west-1"),
            "Can list and download everything under “photos/” in bucket media (eu-west-1). Parent folders show as names only: at the bucket's root this key sees just “photos/”. Cannot upload, delete or change bucket settings."
        );
        // Deeper folders name the first step; a key that cannot list says nothing of it.
        assert!(
            summary(&scope(Some("photos/2025/"), "read-only"), "eu-west-1")
                .contains("(eu-west-1). Parent folders show as names only: at the bucket's root this key sees just “photos/”. Cannot")
        );
        assert!(!summary(&scope(Some("photos/"), "s3:GetObject"), "eu-west-1").contains("Parent folders"));
        let read_only = summary(&scope(None, "read-only"), "eu-west-1");
        assert!(
            read_only.starts_with(
                "Can list and download everything in bucket media (eu-west-1). Cannot upload, delete or change bucket settings. Also allowed: s3:GetObjectVersion,"
            ),
            "{read_only}"
        );
        let read_write = summary(&scope(Some("a/"), "read-write"), "tr-ist-1");
        assert!(read_write.starts_with("Can list, download, upload and delete everything under “a/” in bucket media (tr-ist-1). Parent folders show as names only: at the bucket's root this key sees just “a/”. Cannot change bucket settings."), "{read_write}");
        let all = summary(&scope(None, "all"), "eu-west-1");
        assert!(
            all.starts_with("Can list, download, upload and delete everything in bucket media (eu-west-1), and change the bucket's settings. Also allowed:"),
            "{all}"
        );
        assert_eq!(
            summary(&scope(None, "s3:PutObject"), "eu-west-1"),
            "Can upload everything in bucket media (eu-west-1). Cannot list, download, delete or change bucket settings."
        );
        assert_eq!(
            summary(&scope(None, "s3:GetBucketPolicy"), "eu-west-1"),
            "Can read the settings of bucket media (eu-west-1). Cannot list, download, upload, delete or change bucket settings."
        );
        assert_eq!(
            summary(&scope(None, "s3:GetObjectTagging"), "eu-west-1"),
            "Cannot list, download, upload, delete or change settings in bucket media (eu-west-1). Also allowed: s3:GetObjectTagging."
        );
        let master = KeyScope {
            grant: Grant::Master,
            ..scope(None, "all")
        };
        assert!(summary(&master, "eu-west-1").starts_with("The bucket's master key"));
    }

    #[test]
    fn iam_policies_read_a_path_literally() {
        let odd = scope(Some("team*/?/$x/"), "s3:GetObject s3:ListBucket");
        let policy = iam_policy(&odd);
        let text = policy.to_string();
        assert!(text.contains(r#""arn:aws:s3:::media/team${*}/${?}/${$}x/*""#), "{text}");
        assert_eq!(
            policy["Statement"][0]["Condition"]["StringLike"]["s3:prefix"],
            json!(["team${*}/${?}/${$}x/", "team${*}/${?}/${$}x/*"])
        );
    }

    #[test]
    fn iam_policies_give_the_same_grant() {
        for preset in Preset::ALL {
            for path in [None, Some("photos/2024/")] {
                let mut actions = preset.actions();
                if path.is_some() {
                    actions = actions.without_bucket_wide();
                }
                let key = KeyScope {
                    bucket: "media".into(),
                    path: path.map(str::to_string),
                    grant: Grant::Actions(actions.clone()),
                    networks: Default::default(),
                };
                let policy = iam_policy(&key);
                assert_eq!(policy["Version"], "2012-10-17");
                let statements = policy["Statement"].as_array().unwrap();
                // Every granted action appears exactly once, and nothing else.
                let mut named: Vec<&str> = statements
                    .iter()
                    .flat_map(|s| s["Action"].as_array().unwrap())
                    .map(|a| a.as_str().unwrap())
                    .collect();
                named.sort_unstable();
                let mut granted: Vec<&str> = actions.iter().collect();
                granted.sort_unstable();
                assert_eq!(named, granted, "{preset:?} {path:?}");
                for statement in statements {
                    assert_eq!(statement["Effect"], "Allow");
                    let resource = statement["Resource"].as_str().unwrap();
                    match statement["Sid"].as_str().unwrap() {
                        "Objects" => assert_eq!(resource, format!("arn:aws:s3:::media/{}*", path.unwrap_or(""))),
                        "ListInsidePath" => {
                            assert_eq!(resource, "arn:aws:s3:::media");
                            let path = path.unwrap();
                            assert_eq!(
                                statement["Condition"]["StringLike"]["s3:prefix"],
                                json!([path, format!("{path}*")])
                            );
                        }
                        "Bucket" => {
                            assert_eq!(resource, "arn:aws:s3:::media");
                            // With a path, every listing is in the conditioned statement.
                            if path.is_some() {
                                assert!(
                                    !statement["Action"]
                                        .as_array()
                                        .unwrap()
                                        .contains(&json!("s3:ListBucket"))
                                );
                            }
                        }
                        other => panic!("unexpected statement {other}"),
                    }
                }
            }
        }
        let master = KeyScope {
            grant: Grant::Master,
            ..scope(None, "all")
        };
        let policy = iam_policy(&master);
        assert_eq!(policy["Statement"][0]["Action"], "s3:*");
        assert_eq!(
            policy["Statement"][0]["Resource"],
            json!(["arn:aws:s3:::media", "arn:aws:s3:::media/*"])
        );
    }
}
