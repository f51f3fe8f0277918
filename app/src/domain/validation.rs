//! What makes an email, a password, a bucket or region name, an endpoint, a credential
//! name or a path acceptable. Checked in the browser for quick answers and again on the
//! server, which decides.

/// Unix seconds at the start (00:00 UTC) of a `YYYY-MM-DD` day.
pub fn parse_day(text: &str) -> Result<i64, String> {
    let refuse = || format!("“{}” is not a date like 2026-11-27.", text.trim());
    let parts: Vec<&str> = text.trim().split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(refuse());
    };
    let number = |s: &str, digits: usize| {
        (s.len() == digits && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
    };
    let (Some(y), Some(m), Some(d)) = (number(year, 4), number(month, 2), number(day, 2)) else {
        return Err(refuse());
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(refuse()),
    };
    if !(1..=days_in_month).contains(&d) {
        return Err(refuse());
    }
    // Howard Hinnant's days-from-civil, the inverse of `format_utc`'s.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) * 86_400)
}

/// The expiries the Create Credential form offers, in days.
pub const EXPIRY_CHOICES: [u32; 4] = [1, 7, 30, 90];

/// When a key made `now` expires, from the form's `expires` choice (empty: never; a
/// number of days; `date`: at the end of the UTC day `expires_on`), and whether that is
/// within `max_days` (the longest lifetime allowed, if any).
pub fn expiry_from_choice(
    expires: &str,
    expires_on: &str,
    now: i64,
    max_days: Option<u32>,
) -> Result<Option<i64>, String> {
    let at = match expires.trim() {
        "" | "never" => None,
        "date" => {
            let day = parse_day(expires_on)?;
            let at = day + 86_400;
            if at <= now {
                return Err("Choose a day after today for the key to expire.".into());
            }
            Some(at)
        }
        days => match days.parse::<u32>() {
            Ok(days) if days > 0 && days <= 3650 => Some(now + i64::from(days) * 86_400),
            _ => {
                return Err(format!(
                    "“{days}” is not an expiry: choose never, a number of days or a date."
                ));
            }
        },
    };
    match (at, max_days) {
        (None, Some(max)) => Err(format!(
            "Keys may last at most {max} days here: choose when this one expires."
        )),
        (Some(at), Some(max)) if at > now + i64::from(max) * 86_400 => Err(format!(
            "Keys may last at most {max} days here: choose an earlier expiry."
        )),
        _ => Ok(at),
    }
}

/// How long a rotated key's old pair keeps working beside the new one, so running jobs
/// can move over without a failed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotationGrace {
    Now,
    Hour,
    Day,
    Week,
}

impl RotationGrace {
    pub const ALL: [RotationGrace; 4] = [
        RotationGrace::Now,
        RotationGrace::Hour,
        RotationGrace::Day,
        RotationGrace::Week,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RotationGrace::Now => "now",
            RotationGrace::Hour => "1h",
            RotationGrace::Day => "1d",
            RotationGrace::Week => "7d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RotationGrace::Now => "Now: the old key stops at once",
            RotationGrace::Hour => "In 1 hour",
            RotationGrace::Day => "In 1 day",
            RotationGrace::Week => "In 7 days",
        }
    }

    pub fn secs(self) -> i64 {
        match self {
            RotationGrace::Now => 0,
            RotationGrace::Hour => 3_600,
            RotationGrace::Day => 86_400,
            RotationGrace::Week => 7 * 86_400,
        }
    }

    pub fn parse(text: &str) -> Result<RotationGrace, String> {
        let text = text.trim();
        RotationGrace::ALL
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("“{text}” is not a grace period: choose now, 1h, 1d or 7d."))
    }
}

/// The expiry of the pair a rotation makes: the old pair's lifetime again, counted from
/// now (none if it had none), and never past `max_days` when a cap applies.
pub fn rotated_expiry(
    old_created_at: i64,
    old_expires_at: Option<i64>,
    now: i64,
    max_days: Option<u32>,
) -> Option<i64> {
    let renewed = old_expires_at.map(|expires_at| now + (expires_at - old_created_at).max(0));
    match max_days {
        Some(max) => {
            let limit = now + i64::from(max) * 86_400;
            Some(renewed.map_or(limit, |at| at.min(limit)))
        }
        None => renewed,
    }
}

/// The longest key lifetime limit an admin may set: ten years (any longer is no limit).
pub const LONGEST_LIMIT_DAYS: u32 = 3650;

/// Parses the form's value: empty for no limit, else whole days.
pub fn parse_lifetime_limit(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(days) if (1..=LONGEST_LIMIT_DAYS).contains(&days) => Ok(Some(days)),
        _ => Err(format!(
            "“{text}” is not a number of days from 1 to {LONGEST_LIMIT_DAYS}; leave it empty for no limit."
        )),
    }
}

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Long enough for any passphrase, short enough that nobody makes argon2 chew megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

pub fn validate_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("The password needs at least {MIN_PASSWORD_CHARS} characters."));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("The password may have at most {MAX_PASSWORD_BYTES} bytes."));
    }
    Ok(())
}

/// Trims and lowercases an email address and checks its shape.
pub fn normalize_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    let valid_shape = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    });
    if email.is_empty() {
        return Err("Enter an email address.".into());
    }
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) || !valid_shape {
        return Err(format!("“{}” is not a valid email address.", raw.trim()));
    }
    Ok(email)
}

/// S3 bucket-name rules: 3–63 characters of lowercase letters, digits, `-` and `.`,
/// starting and ending with a letter or digit, no `..`, and not shaped like an IP address.
pub fn validate_bucket_name(name: &str) -> Result<(), String> {
    let len = name.len();
    if !(3..=63).contains(&len) {
        return Err("A bucket name has 3 to 63 characters.".into());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err("A bucket name may hold only lowercase letters, digits, “-” and “.” (a full stop).".into());
    }
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge_ok(name.as_bytes()[0]) || !edge_ok(name.as_bytes()[len - 1]) {
        return Err("A bucket name starts and ends with a letter or digit.".into());
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Err("A bucket name may not have “..”, “.-” or “-.” in it.".into());
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("A bucket name may not look like an IP address.".into());
    }
    Ok(())
}

/// Region names look like `eu-west-1`: lowercase letters, digits and `-`.
pub fn validate_region_name(name: &str) -> Result<(), String> {
    let ok = (2..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "“{name}” is not a region name: use 2–32 lowercase letters, digits and “-”, like eu-west-1."
        ))
    }
}

pub fn validate_endpoint_url(url: &str) -> Result<(), String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !url.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "“{url}” is not an endpoint URL: give one like https://s3.eu-west-1.example.com."
        )),
    }
}

/// A credential name: trimmed, 1–64 characters, no control characters.
pub fn normalize_credential_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Give the credential a name.".into());
    }
    if name.chars().count() > 64 {
        return Err("A credential name has at most 64 characters.".into());
    }
    if name.contains(char::REPLACEMENT_CHARACTER) {
        return Err("A credential name must be valid UTF-8 text.".into());
    }
    if name.chars().any(|c| c.is_control() || is_invisible_format(c)) {
        return Err("A credential name may not hold control, invisible or text-direction characters.".into());
    }
    Ok(name.to_string())
}

/// Characters that change how text around them shows without being seen themselves:
/// bidirectional overrides and isolates (which can make a name read as another),
/// zero-width characters, and the other Unicode format characters.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

pub const MAX_PATH_BYTES: usize = 1024;

/// Normalises a credential's folder path to `a/b/` form; an empty path means the whole
/// bucket. Refuses a leading `/`, `..` or `.` segments, and control characters.
pub fn normalize_path(raw: &str) -> Result<Option<String>, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.starts_with('/') {
        return Err("A path starts inside the bucket: leave out the leading “/”.".into());
    }
    if trimmed.contains(char::REPLACEMENT_CHARACTER) {
        return Err("A path must be valid UTF-8 text.".into());
    }
    if trimmed.chars().any(|c| c.is_control() || is_invisible_format(c)) {
        return Err("A path may not hold control, invisible or text-direction characters.".into());
    }
    let mut segments = Vec::new();
    for segment in trimmed.split('/') {
        match segment {
            "" => continue, // `a//b` and a trailing `/` collapse
            "." | ".." => return Err("A path may not hold “.” or “..” segments.".into()),
            s => segments.push(s),
        }
    }
    let path = format!("{}/", segments.join("/"));
    if path.len() > MAX_PATH_BYTES {
        return Err(format!("A path has at most {MAX_PATH_BYTES} bytes."));
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(normalize_email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "a@b@c.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        for good in ["abc", "my-bucket.2024", "a".repeat(63).as_str()] {
            assert!(validate_bucket_name(good).is_ok(), "{good:?} was refused");
        }
        for bad in [
            "ab",
            "Abc",
            "a_b",
            "-abc",
            "abc-",
            "a..b",
            "a.-b",
            "192.168.0.1",
            &"a".repeat(64),
        ] {
            assert!(validate_bucket_name(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn paths_normalise_to_folder_form() {
        assert_eq!(normalize_path("").unwrap(), None);
        assert_eq!(normalize_path("photos").unwrap().as_deref(), Some("photos/"));
        assert_eq!(
            normalize_path("photos//2024/").unwrap().as_deref(),
            Some("photos/2024/")
        );
        for bad in ["/photos", "a/../b", "./a", "a\u{0}b", "a\nb"] {
            assert!(normalize_path(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(normalize_path(&"a".repeat(1024)).is_err(), "1025 bytes with the slash");
        assert!(normalize_path(&"a".repeat(1023)).is_ok());
    }

    #[test]
    fn passwords_need_length() {
        assert!(validate_new_password("short").is_err());
        assert!(validate_new_password("long enough pw").is_ok());
        assert!(validate_new_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn names_and_regions() {
        assert_eq!(normalize_credential_name("  backup ").unwrap(), "backup");
        assert!(normalize_credential_name("   ").is_err());
        assert!(normalize_credential_name(&"n".repeat(65)).is_err());
        // What `%FF%FE` decodes to, a right-to-left override, a zero-width space.
        for bad in [
            "bad \u{FFFD}\u{FFFD}",
            "invoice\u{202E}fdp.exe",
            "a\u{200B}b",
            "tab\there",
        ] {
            assert!(normalize_credential_name(bad).is_err(), "{bad:?}");
            assert!(normalize_path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(normalize_credential_name("Ünïcødé 写真 ok").unwrap(), "Ünïcødé 写真 ok");
        assert!(validate_region_name("eu-west-1").is_ok());
        assert!(validate_region_name("EU west").is_err());
        assert!(validate_endpoint_url("https://s3.example.com").is_ok());
        assert!(validate_endpoint_url("ftp://x").is_err());
        assert!(validate_endpoint_url("https://").is_err());
    }

    #[test]
    fn days_parse_to_their_first_second() {
        assert_eq!(parse_day("1970-01-01"), Ok(0));
        assert_eq!(parse_day("2026-11-27"), Ok(1_795_737_600));
        assert_eq!(
            crate::domain::format_utc(parse_day("2024-02-29").unwrap()),
            "2024-02-29 00:00 UTC"
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-1-01",
            "yesterday",
            "",
            "2026-11-27T00:00",
        ] {
            assert!(parse_day(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expiries_follow_the_choice_and_the_cap() {
        let now = parse_day("2026-11-27").unwrap() + 3_600;
        assert_eq!(expiry_from_choice("", "", now, None), Ok(None));
        assert_eq!(expiry_from_choice("7", "", now, None), Ok(Some(now + 7 * 86_400)));
        assert_eq!(
            expiry_from_choice("date", "2026-12-01", now, None),
            Ok(Some(parse_day("2026-12-02").unwrap()))
        );
        assert!(
            expiry_from_choice("date", "2026-11-26", now, None)
                .unwrap_err()
                .contains("after today")
        );
        assert!(expiry_from_choice("date", "soon", now, None).is_err());
        assert!(expiry_from_choice("0", "", now, None).is_err());
        assert!(expiry_from_choice("-3", "", now, None).is_err());
        // With a 30-day cap: never and 90 days are refused, 30 days is fine.
        assert!(
            expiry_from_choice("", "", now, Some(30))
                .unwrap_err()
                .contains("at most 30 days")
        );
        assert!(
            expiry_from_choice("90", "", now, Some(30))
                .unwrap_err()
                .contains("earlier")
        );
        assert_eq!(expiry_from_choice("30", "", now, Some(30)), Ok(Some(now + 30 * 86_400)));
    }

    #[test]
    fn rotation_grace_periods_parse_and_last() {
        assert_eq!(RotationGrace::parse(" 1H "), Ok(RotationGrace::Hour));
        assert_eq!(RotationGrace::parse("7d").map(RotationGrace::secs), Ok(604_800));
        assert_eq!(RotationGrace::parse("now").map(RotationGrace::secs), Ok(0));
        assert!(RotationGrace::parse("2h").unwrap_err().contains("1h"));
        for grace in RotationGrace::ALL {
            assert_eq!(RotationGrace::parse(grace.as_str()), Ok(grace));
        }
    }

    #[test]
    fn a_rotated_key_lives_as_long_again_within_the_cap() {
        let now = 1_000_000;
        // Made at 0 to last 30 days: the new pair lasts 30 days from now.
        assert_eq!(rotated_expiry(0, Some(30 * 86_400), now, None), Some(now + 30 * 86_400));
        assert_eq!(rotated_expiry(0, None, now, None), None);
        // A cap of 7 days shortens both a longer lifetime and "never".
        assert_eq!(
            rotated_expiry(0, Some(30 * 86_400), now, Some(7)),
            Some(now + 7 * 86_400)
        );
        assert_eq!(rotated_expiry(0, None, now, Some(7)), Some(now + 7 * 86_400));
        // A shorter lifetime stays as it was.
        assert_eq!(rotated_expiry(0, Some(86_400), now, Some(7)), Some(now + 86_400));
    }

    #[test]
    fn lifetime_limits_are_whole_days_or_none() {
        assert_eq!(parse_lifetime_limit(" "), Ok(None));
        assert_eq!(parse_lifetime_limit("30"), Ok(Some(30)));
        assert!(parse_lifetime_limit("0").is_err());
        assert!(parse_lifetime_limit("3651").is_err());
        assert!(parse_lifetime_limit("a month").unwrap_err().contains("a month"));
    }
}
