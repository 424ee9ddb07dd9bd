//! The one rule for names of endpoints, contexts and artifacts. Checking it everywhere a
//! name enters the system also closes path traversal for artifacts stored on disk.

/// Longest accepted name, so keys and file names stay bounded.
pub const MAX_NAME_LEN: usize = 128;

/// `Err` carries a message that names the field and says what a good name looks like.
pub fn check_name(field: &str, name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!("{field} must be at most {MAX_NAME_LEN} characters, got {}", name.len()));
    }
    if let Some(bad) = name.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "{field} may contain only letters, digits, '.', '_' and '-', got {name:?} (bad character {bad:?})"
        ));
    }
    if name.starts_with('.') {
        return Err(format!("{field} must not start with '.', got {name:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn accepts_plain_names() {
        for ok in ["a", "simple-context_1.py", "A.B", &"x".repeat(128)] {
            assert_eq!(check_name("name", ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_traversal_separators_and_empties() {
        for bad in ["", "..", ".hidden", "a/b", "../etc", "a b", "é", &"x".repeat(129)] {
            let err = check_name("name", bad).expect_err(bad);
            assert!(err.starts_with("name "), "{err}");
        }
    }
}
