//! The keyboard model of the Create Credential action tree (the ARIA tree pattern): which
//! rows are visible and where each key takes the focus. Pure, so unit tests pin it down;
//! the form only maps the answer onto the page.

use crate::catalog::{Category, in_category, matches_filter};
use std::collections::BTreeSet;

/// One row of the tree: a category, or an action under its category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeRow {
    Category(Category),
    Action(Category, &'static str),
}

impl TreeRow {
    /// The id of the row's checkbox, so the focus can be moved to it.
    pub fn checkbox_id(self) -> String {
        match self {
            TreeRow::Category(category) => format!("tree-{category:?}"),
            TreeRow::Action(_, name) => format!("tree-{name}"),
        }
    }
}

/// What a key press in the tree does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeMove {
    Focus(TreeRow),
    Open(Category),
    Close(Category),
    /// Not a tree key here: the browser keeps its default (Space toggles, Tab leaves).
    Ignore,
}

/// A category shows its actions when expanded, and always while a filter is typed.
pub fn is_open(category: Category, expanded: &BTreeSet<Category>, filter: &str) -> bool {
    expanded.contains(&category) || !filter.trim().is_empty()
}

/// The rows a person can see, top to bottom.
pub fn visible_rows(filter: &str, expanded: &BTreeSet<Category>) -> Vec<TreeRow> {
    let mut rows = Vec::new();
    for category in Category::ALL {
        let mut actions = in_category(category).filter(|a| matches_filter(a, filter)).peekable();
        if actions.peek().is_none() {
            continue;
        }
        rows.push(TreeRow::Category(category));
        if is_open(category, expanded, filter) {
            rows.extend(actions.map(|a| TreeRow::Action(category, a.name)));
        }
    }
    rows
}

/// ↓ / ↑ move by one visible row, Home / End to the first / last; → opens a closed
/// category or steps into an open one; ← closes an open category or steps from an action
/// up to its category.
pub fn key_move(rows: &[TreeRow], current: TreeRow, key: &str, open: impl Fn(Category) -> bool) -> TreeMove {
    let Some(at) = rows.iter().position(|r| *r == current) else {
        return rows.first().map_or(TreeMove::Ignore, |r| TreeMove::Focus(*r));
    };
    let focus = |i: usize| rows.get(i).map_or(TreeMove::Ignore, |r| TreeMove::Focus(*r));
    match (key, current) {
        ("ArrowDown", _) => focus(at + 1),
        ("ArrowUp", _) => at.checked_sub(1).map_or(TreeMove::Ignore, focus),
        ("Home", _) => focus(0),
        ("End", _) => focus(rows.len() - 1),
        ("ArrowRight", TreeRow::Category(c)) if !open(c) => TreeMove::Open(c),
        ("ArrowRight", TreeRow::Category(c)) => match rows.get(at + 1) {
            Some(next @ TreeRow::Action(parent, _)) if *parent == c => TreeMove::Focus(*next),
            _ => TreeMove::Ignore,
        },
        ("ArrowLeft", TreeRow::Category(c)) if open(c) => TreeMove::Close(c),
        ("ArrowLeft", TreeRow::Action(parent, _)) => TreeMove::Focus(TreeRow::Category(parent)),
        _ => TreeMove::Ignore,
    }
}

/// The one row reachable by Tab (roving tabindex): the last one focused while it is still
/// visible, else the first visible row.
pub fn tab_stop(rows: &[TreeRow], last_focused: Option<TreeRow>) -> Option<TreeRow> {
    last_focused
        .filter(|r| rows.contains(r))
        .or_else(|| rows.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_open() -> BTreeSet<Category> {
        BTreeSet::from(Category::ALL)
    }

    #[test]
    fn visible_rows_follow_expansion_and_filter() {
        let rows = visible_rows("", &all_open());
        assert_eq!(rows.len(), Category::ALL.len() + crate::catalog::ACTIONS.len());
        assert_eq!(rows[0], TreeRow::Category(Category::Read));

        let closed = visible_rows("", &BTreeSet::new());
        assert_eq!(closed, Category::ALL.map(TreeRow::Category).to_vec());

        // A filter opens every category with a match and drops the others.
        let filtered = visible_rows("putobject", &BTreeSet::new());
        assert!(!filtered.contains(&TreeRow::Category(Category::Read)));
        assert!(filtered.contains(&TreeRow::Action(Category::Write, "s3:PutObject")));
        assert!(visible_rows("no such action", &all_open()).is_empty());
    }

    #[test]
    fn arrows_home_and_end_walk_the_visible_rows() {
        let expanded = all_open();
        let rows = visible_rows("", &expanded);
        let open = |c| is_open(c, &expanded, "");
        let read = TreeRow::Category(Category::Read);
        let first_read = rows[1];
        assert!(matches!(first_read, TreeRow::Action(Category::Read, _)));

        assert_eq!(key_move(&rows, read, "ArrowDown", open), TreeMove::Focus(first_read));
        assert_eq!(key_move(&rows, first_read, "ArrowUp", open), TreeMove::Focus(read));
        assert_eq!(key_move(&rows, read, "ArrowUp", open), TreeMove::Ignore);
        let last = *rows.last().unwrap();
        assert_eq!(key_move(&rows, read, "End", open), TreeMove::Focus(last));
        assert_eq!(key_move(&rows, last, "ArrowDown", open), TreeMove::Ignore);
        assert_eq!(key_move(&rows, last, "Home", open), TreeMove::Focus(read));
        assert_eq!(
            key_move(&rows, read, " ", open),
            TreeMove::Ignore,
            "Space stays the checkbox's"
        );
    }

    #[test]
    fn right_and_left_open_close_and_step_between_levels() {
        let mut expanded = BTreeSet::from([Category::Write]);
        let rows = visible_rows("", &expanded);
        let read = TreeRow::Category(Category::Read);
        let write = TreeRow::Category(Category::Write);
        let open = |c| is_open(c, &expanded, "");

        assert_eq!(
            key_move(&rows, read, "ArrowRight", open),
            TreeMove::Open(Category::Read)
        );
        assert_eq!(
            key_move(&rows, read, "ArrowLeft", open),
            TreeMove::Ignore,
            "already closed"
        );
        assert_eq!(
            key_move(&rows, write, "ArrowLeft", open),
            TreeMove::Close(Category::Write)
        );
        let TreeMove::Focus(child @ TreeRow::Action(Category::Write, _)) = key_move(&rows, write, "ArrowRight", open)
        else {
            panic!("→ on an open category steps into it");
        };
        assert_eq!(key_move(&rows, child, "ArrowLeft", open), TreeMove::Focus(write));
        assert_eq!(key_move(&rows, child, "ArrowRight", open), TreeMove::Ignore);

        expanded.insert(Category::Read);
        let rows = visible_rows("", &expanded);
        assert_eq!(
            key_move(&rows, read, "ArrowDown", |c| is_open(c, &expanded, "")),
            TreeMove::Focus(rows[1])
        );
    }

    #[test]
    fn the_tab_stop_moves_off_rows_a_filter_hides() {
        let expanded = all_open();
        let rows = visible_rows("", &expanded);
        let put = TreeRow::Action(Category::Write, "s3:PutObject");
        assert_eq!(tab_stop(&rows, None), Some(TreeRow::Category(Category::Read)));
        assert_eq!(tab_stop(&rows, Some(put)), Some(put));

        let filtered = visible_rows("getobject", &expanded);
        assert_eq!(tab_stop(&filtered, Some(put)), Some(filtered[0]));
        assert_eq!(tab_stop(&[], Some(put)), None);
        // A focused row that vanished: the arrows start again from the top.
        assert_eq!(
            key_move(&filtered, put, "ArrowDown", |_| true),
            TreeMove::Focus(filtered[0])
        );
    }

    #[test]
    fn checkbox_ids_are_distinct() {
        let ids: BTreeSet<String> = visible_rows("", &all_open())
            .into_iter()
            .map(TreeRow::checkbox_id)
            .collect();
        assert_eq!(ids.len(), Category::ALL.len() + crate::catalog::ACTIONS.len());
    }
}
