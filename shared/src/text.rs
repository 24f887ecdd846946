//! Client-supplied text quoted back in messages and logs is cut to a bound, on a character
//! boundary, so a 10 kB argument cannot make a 10 kB error.

/// At most `max` characters of `s`, with `…` when something was cut.
pub fn shorten(s: &str, max: usize) -> String {
    let mut chars = s.chars();
    let mut out: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_characters_and_marks_the_cut() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "abc…");
        assert_eq!(shorten("ＮＯＴＥ", 2), "ＮＯ…");
        assert_eq!(shorten("", 0), "");
    }
}
