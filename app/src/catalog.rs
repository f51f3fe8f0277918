//! The S3 action catalog: the one list of actions that the form, the server's validation
//! and the evaluator ([`crate::policy`]) all read. The evaluator's operation table names
//! actions only through [`named`], which fails the build for a name missing here.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Category {
    Read,
    Write,
    BucketManagement,
}

impl Category {
    pub const ALL: [Category; 3] = [Category::Read, Category::Write, Category::BucketManagement];

    pub fn label(self) -> &'static str {
        match self {
            Category::Read => "Read",
            Category::Write => "Write",
            Category::BucketManagement => "Bucket Management",
        }
    }

    /// Bucket-wide settings (policy, ACL, CORS, lifecycle, versioning, deleting the bucket
    /// ...) change the whole bucket, so only a key for the whole bucket may use them: a
    /// key limited to a folder must not, for one, make the bucket public.
    pub fn needs_whole_bucket(self) -> bool {
        self == Category::BucketManagement
    }
}

/// Whether a credential's path applies to the object key or to a listing's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Object,
    Bucket,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action {
    pub name: &'static str,
    pub category: Category,
    pub scope: Scope,
    pub description: &'static str,
}

const fn action(name: &'static str, category: Category, scope: Scope, description: &'static str) -> Action {
    Action {
        name,
        category,
        scope,
        description,
    }
}

use Category::{BucketManagement as B, Read as R, Write as W};
use Scope::{Bucket, Object};

pub const ACTIONS: &[Action] = &[
    action("s3:GetObject", R, Object, "Download objects and read their metadata"),
    action(
        "s3:GetObjectVersion",
        R,
        Object,
        "Download a specific version of an object",
    ),
    action(
        "s3:GetObjectAttributes",
        R,
        Object,
        "Read an object's attributes (size, checksum, parts)",
    ),
    action("s3:GetObjectTagging", R, Object, "Read an object's tags"),
    action("s3:GetObjectAcl", R, Object, "Read an object's access control list"),
    action(
        "s3:GetObjectRetention",
        R,
        Object,
        "Read an object's retention settings",
    ),
    action("s3:GetObjectLegalHold", R, Object, "Read an object's legal hold status"),
    action(
        "s3:ListBucket",
        R,
        Bucket,
        "List the objects in the bucket (inside the path)",
    ),
    action("s3:ListBucketVersions", R, Bucket, "List object versions in the bucket"),
    action(
        "s3:ListBucketMultipartUploads",
        R,
        Bucket,
        "List multipart uploads in progress",
    ),
    action(
        "s3:ListMultipartUploadParts",
        R,
        Object,
        "List the uploaded parts of a multipart upload",
    ),
    action("s3:GetBucketLocation", R, Bucket, "Read the bucket's region"),
    action("s3:PutObject", W, Object, "Upload, copy and multipart-upload objects"),
    action(
        "s3:AbortMultipartUpload",
        W,
        Object,
        "Abort a multipart upload in progress",
    ),
    action("s3:DeleteObject", W, Object, "Delete objects"),
    action(
        "s3:DeleteObjectVersion",
        W,
        Object,
        "Delete a specific version of an object",
    ),
    action("s3:PutObjectTagging", W, Object, "Set an object's tags"),
    action("s3:DeleteObjectTagging", W, Object, "Remove an object's tags"),
    action("s3:PutObjectAcl", W, Object, "Change an object's access control list"),
    action("s3:PutObjectRetention", W, Object, "Set an object's retention"),
    action("s3:PutObjectLegalHold", W, Object, "Set an object's legal hold"),
    action("s3:RestoreObject", W, Object, "Restore an archived object"),
    action("s3:DeleteBucket", B, Bucket, "Delete the bucket itself"),
    action(
        "s3:GetBucketVersioning",
        B,
        Bucket,
        "Read the bucket's versioning state",
    ),
    action("s3:PutBucketVersioning", B, Bucket, "Turn versioning on or suspend it"),
    action("s3:GetBucketTagging", B, Bucket, "Read the bucket's tags"),
    action("s3:PutBucketTagging", B, Bucket, "Set or remove the bucket's tags"),
    action("s3:GetBucketAcl", B, Bucket, "Read the bucket's access control list"),
    action("s3:PutBucketAcl", B, Bucket, "Change the bucket's access control list"),
    action("s3:GetBucketPolicy", B, Bucket, "Read the bucket policy"),
    action("s3:PutBucketPolicy", B, Bucket, "Set the bucket policy"),
    action("s3:DeleteBucketPolicy", B, Bucket, "Remove the bucket policy"),
    action("s3:GetBucketCORS", B, Bucket, "Read the bucket's CORS rules"),
    action("s3:PutBucketCORS", B, Bucket, "Set or remove the bucket's CORS rules"),
    action(
        "s3:GetLifecycleConfiguration",
        B,
        Bucket,
        "Read the bucket's lifecycle rules",
    ),
    action(
        "s3:PutLifecycleConfiguration",
        B,
        Bucket,
        "Set or remove lifecycle rules",
    ),
    action(
        "s3:GetEncryptionConfiguration",
        B,
        Bucket,
        "Read default encryption settings",
    ),
    action(
        "s3:PutEncryptionConfiguration",
        B,
        Bucket,
        "Set or remove default encryption",
    ),
    action(
        "s3:GetBucketObjectLockConfiguration",
        B,
        Bucket,
        "Read the object lock configuration",
    ),
    action(
        "s3:PutBucketObjectLockConfiguration",
        B,
        Bucket,
        "Set the object lock configuration",
    ),
    action(
        "s3:GetBucketWebsite",
        B,
        Bucket,
        "Read the static website configuration",
    ),
    action("s3:PutBucketWebsite", B, Bucket, "Set the static website configuration"),
    action(
        "s3:DeleteBucketWebsite",
        B,
        Bucket,
        "Remove the static website configuration",
    ),
    action(
        "s3:GetBucketNotification",
        B,
        Bucket,
        "Read event notification settings",
    ),
    action("s3:PutBucketNotification", B, Bucket, "Set event notification settings"),
];

pub fn find(name: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// The catalog entry called `name`. Used in constants, so a name that is not in the
/// catalog stops the build instead of denying (or allowing) at run time.
pub const fn named(name: &str) -> &'static Action {
    let mut i = 0;
    while i < ACTIONS.len() {
        if same_text(ACTIONS[i].name, name) {
            return &ACTIONS[i];
        }
        i += 1;
    }
    panic!("not an action of the catalog")
}

const fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

pub fn in_category(category: Category) -> impl Iterator<Item = &'static Action> {
    ACTIONS.iter().filter(move |a| a.category == category)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preset {
    ReadOnly,
    ReadWrite,
    All,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::ReadOnly, Preset::ReadWrite, Preset::All];

    pub fn label(self) -> &'static str {
        match self {
            Preset::ReadOnly => "Read Only",
            Preset::ReadWrite => "Read & Write",
            Preset::All => "All S3 Actions",
        }
    }

    /// The short name scripts and the CLI use.
    pub fn slug(self) -> &'static str {
        match self {
            Preset::ReadOnly => "read-only",
            Preset::ReadWrite => "read-write",
            Preset::All => "all",
        }
    }

    pub fn categories(self) -> &'static [Category] {
        match self {
            Preset::ReadOnly => &[Category::Read],
            Preset::ReadWrite => &[Category::Read, Category::Write],
            Preset::All => &Category::ALL,
        }
    }

    pub fn actions(self) -> ActionSet {
        ActionSet(
            ACTIONS
                .iter()
                .filter(|a| self.categories().contains(&a.category))
                .map(|a| a.name)
                .collect(),
        )
    }
}

/// A set of catalog actions. It can only hold names from [`ACTIONS`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionSet(BTreeSet<&'static str>);

impl ActionSet {
    pub fn names(&self) -> &BTreeSet<&'static str> {
        &self.0
    }

    /// Reads a list of action names or preset slugs (`read-only`, `read-write`, `all`),
    /// separated by commas or whitespace. Names match case-insensitively, with or
    /// without the `s3:` prefix.
    pub fn parse(list: &str) -> Result<ActionSet, String> {
        let mut set = BTreeSet::new();
        for word in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            if let Some(preset) = Preset::ALL.iter().find(|p| p.slug().eq_ignore_ascii_case(word)) {
                set.extend(preset.actions().0);
                continue;
            }
            let wanted = word
                .strip_prefix("s3:")
                .or_else(|| word.strip_prefix("S3:"))
                .unwrap_or(word);
            match ACTIONS.iter().find(|a| a.name[3..].eq_ignore_ascii_case(wanted)) {
                Some(a) => {
                    set.insert(a.name);
                }
                None => return Err(format!("“{word}” is not an S3 action Stook knows.")),
            }
        }
        if set.is_empty() {
            return Err("Choose at least one action.".into());
        }
        Ok(ActionSet(set))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }

    /// The stored form: names in catalog order, space-separated.
    pub fn to_storage(&self) -> String {
        ACTIONS
            .iter()
            .filter(|a| self.0.contains(a.name))
            .map(|a| a.name)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The set less the actions only a whole-bucket key may use.
    pub fn without_bucket_wide(&self) -> ActionSet {
        ActionSet(
            self.0
                .iter()
                .copied()
                .filter(|name| find(name).is_some_and(|a| !a.category.needs_whole_bucket()))
                .collect(),
        )
    }

    /// How the list shows this set: a preset's name, or "Custom — N actions".
    pub fn summary(&self) -> String {
        Preset::ALL
            .iter()
            .rev()
            .find(|p| p.actions() == *self)
            .map(|p| p.label().to_string())
            .unwrap_or_else(|| match self.len() {
                1 => "Custom — 1 action".to_string(),
                n => format!("Custom — {n} actions"),
            })
    }
}

/// A category checkbox: every action chosen, some, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriState {
    All,
    Some,
    None,
}

impl TriState {
    /// The `aria-checked` value of the category's checkbox.
    pub fn aria_checked(self) -> &'static str {
        match self {
            TriState::All => "true",
            TriState::Some => "mixed",
            TriState::None => "false",
        }
    }
}

pub fn category_state(category: Category, chosen: &BTreeSet<&'static str>) -> TriState {
    let (total, picked) =
        in_category(category).fold((0, 0), |(t, p), a| (t + 1, p + usize::from(chosen.contains(a.name))));
    match picked {
        0 => TriState::None,
        n if n == total => TriState::All,
        _ => TriState::Some,
    }
}

/// Whether an action matches the Filter Actions text (S3 name or description, any case).
pub fn matches_filter(action: &Action, filter: &str) -> bool {
    let needle = filter.trim().to_lowercase();
    needle.is_empty()
        || action.name.to_lowercase().contains(&needle)
        || action.description.to_lowercase().contains(&needle)
}

/// Clicking a category checkbox: when every *shown* action of the category is chosen
/// they are all cleared, otherwise they are all chosen. Actions the filter hides keep
/// their state, so filtering never loses a selection.
pub fn toggle_category(category: Category, filter: &str, chosen: &mut BTreeSet<&'static str>) {
    let shown: Vec<&'static str> = in_category(category)
        .filter(|a| matches_filter(a, filter))
        .map(|a| a.name)
        .collect();
    if shown.iter().all(|name| chosen.contains(name)) {
        for name in shown {
            chosen.remove(name);
        }
    } else {
        chosen.extend(shown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tri_state_follows_the_chosen_actions() {
        let mut chosen = BTreeSet::new();
        assert_eq!(category_state(Category::Read, &chosen), TriState::None);
        chosen.insert("s3:GetObject");
        assert_eq!(category_state(Category::Read, &chosen), TriState::Some);
        assert_eq!(category_state(Category::Read, &chosen).aria_checked(), "mixed");
        assert_eq!(category_state(Category::Write, &chosen), TriState::None);
        chosen.extend(Preset::ReadOnly.actions().iter());
        assert_eq!(category_state(Category::Read, &chosen), TriState::All);
    }

    #[test]
    fn filter_matches_names_and_descriptions_in_any_case() {
        let put = find("s3:PutObject").unwrap();
        assert!(matches_filter(put, "putobj"));
        assert!(matches_filter(put, "UPLOAD"));
        assert!(matches_filter(put, "  "));
        assert!(!matches_filter(put, "lifecycle"));
        let bucket_matches = in_category(Category::BucketManagement)
            .filter(|a| matches_filter(a, "tagging"))
            .count();
        assert_eq!(bucket_matches, 2);
        assert!(ACTIONS.iter().all(|a| !matches_filter(a, "no such action at all")));
    }

    #[test]
    fn toggling_a_category_keeps_hidden_choices() {
        let mut chosen: BTreeSet<&'static str> = ["s3:GetBucketLocation"].into();
        // With a filter, only the shown actions of the category change.
        toggle_category(Category::Read, "getobject", &mut chosen);
        assert!(chosen.contains("s3:GetObject") && chosen.contains("s3:GetBucketLocation"));
        assert!(!chosen.contains("s3:ListBucket"), "hidden by the filter, so untouched");
        toggle_category(Category::Read, "getobject", &mut chosen);
        assert_eq!(
            chosen,
            ["s3:GetBucketLocation"].into(),
            "cleared the shown ones, kept the hidden choice"
        );
        toggle_category(Category::Read, "", &mut chosen);
        assert_eq!(category_state(Category::Read, &chosen), TriState::All);
        toggle_category(Category::Read, "", &mut chosen);
        assert_eq!(category_state(Category::Read, &chosen), TriState::None);
    }

    #[test]
    fn names_are_unique_and_prefixed() {
        let names: BTreeSet<_> = ACTIONS.iter().map(|a| a.name).collect();
        assert_eq!(names.len(), ACTIONS.len(), "an action is listed twice");
        assert!(
            ACTIONS
                .iter()
                .all(|a| a.name.starts_with("s3:") && !a.description.is_empty())
        );
    }

    #[test]
    fn every_category_has_actions_and_presets_nest() {
        for c in Category::ALL {
            assert!(in_category(c).count() > 0, "{c:?} is empty");
        }
        let ro = Preset::ReadOnly.actions();
        let rw = Preset::ReadWrite.actions();
        let all = Preset::All.actions();
        assert!(ro.iter().all(|a| rw.contains(a)));
        assert!(rw.iter().all(|a| all.contains(a)));
        assert!(ro.len() < rw.len() && rw.len() < all.len());
        assert_eq!(all.len(), ACTIONS.len());
    }

    #[test]
    fn parse_accepts_presets_and_loose_names() {
        assert_eq!(ActionSet::parse("read-only").unwrap(), Preset::ReadOnly.actions());
        let set = ActionSet::parse("GetObject, s3:putobject").unwrap();
        assert_eq!(set.to_storage(), "s3:GetObject s3:PutObject");
        assert!(ActionSet::parse("s3:Fly").unwrap_err().contains("s3:Fly"));
        assert!(ActionSet::parse(" , ").is_err());
    }

    #[test]
    fn summary_names_presets_and_counts_custom() {
        assert_eq!(Preset::ReadWrite.actions().summary(), "Read & Write");
        assert_eq!(Preset::All.actions().summary(), "All S3 Actions");
        assert_eq!(ActionSet::parse("s3:GetObject").unwrap().summary(), "Custom — 1 action");
        assert_eq!(
            ActionSet::parse("s3:GetObject s3:ListBucket").unwrap().summary(),
            "Custom — 2 actions"
        );
    }
}
