//! "Did you mean …?" for near misses among known names.

/// The known name closest to `given`, if it is close enough to be a plausible typo.
pub fn closest<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let given = given.to_ascii_lowercase();
    known
        .into_iter()
        .map(|k| {
            (
                strsim::damerau_levenshtein(&given, &k.to_ascii_lowercase()),
                k,
            )
        })
        .filter(|(d, k)| {
            *d <= (k.len().max(given.len()) / 3).max(1)
                || k.contains(&given[..]) && given.len() >= 3
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Renders `did you mean `x`?` or an empty string.
pub fn did_you_mean<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    closest(given, known)
        .map(|k| format!("; did you mean `{k}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_suggested() {
        let known = ["task", "target", "gate", "features", "exclude"];
        assert_eq!(closest("gaet", known), Some("gate"));
        assert_eq!(closest("traget", known), Some("target"));
        assert_eq!(closest("Features", known), Some("features"));
        assert_eq!(closest("feature", known), Some("features"));
    }

    #[test]
    fn unrelated_names_are_not() {
        assert_eq!(closest("learning_rate", ["task", "target", "gate"]), None);
        assert_eq!(did_you_mean("zzz", ["abc"]), "");
    }
}
