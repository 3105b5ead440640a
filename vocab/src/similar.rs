//! How close a misspelt name is to a real one, for "did you mean" hints: the component's
//! unknown-operation error and the Lua namespace's. No allocation, so the component can use it.

/// Names longer than this are never close to anything (and would cost time in proportion).
pub const MAX_LEN: usize = 128;

/// The Levenshtein distance between `a` and `b`, or `usize::MAX` when either is longer than
/// [`MAX_LEN`] characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b_len = b.chars().count();
    if a.chars().count() > MAX_LEN || b_len > MAX_LEN {
        return usize::MAX;
    }
    let mut prev = [0usize; MAX_LEN + 1];
    let mut cur = [0usize; MAX_LEN + 1];
    for (j, slot) in prev.iter_mut().enumerate().take(b_len + 1) {
        *slot = j;
    }
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.chars().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev[..=b_len].copy_from_slice(&cur[..=b_len]);
    }
    prev[b_len]
}

/// Every word of `short` starts a word of `name`, in order: `list_repo_tags` ~
/// `list_repository_tags`.
pub fn words_prefix_words(short: &str, name: &str) -> bool {
    let mut words = name.split('_');
    short
        .split('_')
        .filter(|w| !w.is_empty())
        .all(|w| words.any(|n| n.starts_with(w)))
}

/// How close `needle` (lower case, `_` for `-`) is to `name`: its edit distance when it is a
/// plausible misspelling of it (within 3 edits, a part of it, or its words' prefixes), else
/// `None`. Lower is closer.
pub fn closeness(needle: &str, name: &str) -> Option<usize> {
    let d = edit_distance(needle, name);
    (d <= 3 || name.contains(needle) || words_prefix_words(needle, name)).then_some(d)
}

/// The (at most) three `names` closest to `needle` (lower case, `_` for `-`), closest first,
/// ties by name: what a "did you mean" lists.
pub fn closest<'a>(needle: &str, names: impl IntoIterator<Item = &'a str>) -> [Option<&'a str>; 3] {
    let mut best: [Option<(usize, &'a str)>; 3] = [None; 3];
    for name in names {
        let Some(d) = closeness(needle, name) else {
            continue;
        };
        // Insertion into the three kept so far, in (distance, name) order.
        let mut candidate = (d, name);
        for slot in best.iter_mut() {
            match slot {
                Some(kept) if *kept <= candidate => {}
                _ => {
                    let previous = slot.replace(candidate);
                    match previous {
                        Some(previous) => candidate = previous,
                        None => break,
                    }
                }
            }
        }
    }
    best.map(|kept| kept.map(|(_, name)| name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_closeness() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance(&"x".repeat(MAX_LEN + 1), "x"), usize::MAX);
        assert!(closeness("get_repositry", "get_repository").is_some());
        assert!(closeness("list_repo_tags", "list_repository_tags").is_some());
        assert!(closeness("zzzz_qqqq", "get_repository").is_none());
    }

    #[test]
    fn closest_keeps_the_three_nearest_in_order() {
        // Distances 1, -, 2, 2, 2: the ties come in name order, the last of them left out.
        let names = [
            "get_repository",
            "zzz",
            "gte_repositry",
            "get_repositry_x",
            "get_reposit",
        ];
        assert_eq!(
            closest("get_repositry", names),
            [
                Some("get_repository"),
                Some("get_reposit"),
                Some("get_repositry_x")
            ]
        );
        assert_eq!(closest("qqqq_zzzz_wwww", names), [None, None, None]);
    }
}
