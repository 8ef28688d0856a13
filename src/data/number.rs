//! Numbers from text as the scan reads them: plain decimals (`-12`, `3.25`) by a short
//! loop, everything else (exponents, `inf`, long mantissas, `+`) by the standard
//! library. Both give the same value for every input: the fast path only takes inputs
//! whose value it computes exactly as the standard library rounds it.

/// `text` as an `i64`, as `str::parse` reads it.
pub fn parse_i64(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    // 18 digits cannot overflow an i64.
    if digits.is_empty() || digits.len() > 18 {
        return text.parse().ok();
    }
    let mut value: i64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return text.parse().ok();
        }
        value = value * 10 + i64::from(d);
    }
    Some(if negative { -value } else { value })
}

/// `text` as an `f64`, as `str::parse` reads it.
pub fn parse_f64(text: &str) -> Option<f64> {
    plain_decimal(text.as_bytes()).or_else(|| text.parse().ok())
}

/// A decimal without exponent whose digits make an integer below 2^53 (all of 15
/// digits, most of 16): that mantissa and 10^(fraction digits) are exact doubles, so one
/// division gives the correctly rounded value (Clinger's fast path).
fn plain_decimal(bytes: &[u8]) -> Option<f64> {
    const POWERS: [f64; 17] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    ];
    let (negative, rest) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    // 16 digits and a point; 16 digits cannot overflow the u64 below.
    if rest.is_empty() || rest.len() > 17 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut digits = 0;
    let mut point = None;
    for (i, &b) in rest.iter().enumerate() {
        let d = b.wrapping_sub(b'0');
        if d <= 9 {
            mantissa = mantissa * 10 + u64::from(d);
            digits += 1;
        } else if b == b'.' && point.is_none() {
            point = Some(i);
        } else {
            return None;
        }
    }
    if digits == 0 || digits > 16 || mantissa >= 1 << 53 {
        return None;
    }
    let fraction = point.map_or(0, |p| rest.len() - p - 1);
    let value = mantissa as f64 / POWERS[fraction];
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random short strings over digits, signs, points and exponent letters, and
    /// edge cases: every one parses as the standard library parses it.
    #[test]
    fn same_as_the_standard_library() {
        let mut cases: Vec<String> = [
            "",
            "-",
            ".",
            "-.",
            "0",
            "-0",
            "-0.0",
            "007",
            "+7",
            "1.",
            ".5",
            "-.5",
            "1..2",
            "1e5",
            "inf",
            "-inf",
            "NaN",
            "nan",
            "1_0",
            " 1",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "123456789012345678",
            "999999999999999",
            "9999999999999999",
            "0.1",
            "0.30000000000000004",
            "123456.789012345",
            "1234567890123456.5",
            "148.2141399572989",
            "9007199254740991",
            "9007199254740992",
            "9007199.254740993",
            "-0.9007199254740991",
            "19.710887159377975",
            "0.000000000000001",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 21) as usize;
            let mut s = String::new();
            let mut r = seed;
            for _ in 0..len {
                r = r.wrapping_mul(6364136223846793005).wrapping_add(1);
                // Mostly digits, so that many strings are numbers.
                let pick = (r >> 33) as usize % 34;
                // Every other string is digits around at most one point.
                let b = if pick < 24 || (seed.is_multiple_of(2) && (pick < 32 || s.contains('.'))) {
                    b'0' + (pick % 10) as u8
                } else {
                    b"-.+e"[(pick - 24) % 4 + usize::from(seed.is_multiple_of(2))]
                };
                s.push(b as char);
            }
            cases.push(s);
        }
        for s in &cases {
            assert_eq!(parse_i64(s), s.parse::<i64>().ok(), "{s:?} as i64");
            let (ours, std) = (parse_f64(s), s.parse::<f64>().ok());
            assert_eq!(
                ours.map(f64::to_bits),
                std.map(f64::to_bits),
                "{s:?} as f64"
            );
        }
        let numbers = cases
            .iter()
            .filter(|s| plain_decimal(s.as_bytes()).is_some());
        assert!(numbers.count() > 40_000, "too few plain decimals generated");
    }
}
