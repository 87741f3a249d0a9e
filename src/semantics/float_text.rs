//! Floats as PostgreSQL's `float8out` / `float4out` print them, for every place that writes a
//! float as text: the wire's text format and JSON (`to_json`, `json_build_object`, ...).

/// A float's text as PostgreSQL's `float8out`/`float4out` print it: the shortest digits that
/// read back as the same value, in exponent form (`1e+20`, `1e-05`) below 1e-4 and from
/// 10^`digits` on, `1` for 1.0 (Rust's own form printed `1.0` and `1e20`).
pub fn float_text(v: f64, digits: i32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let shortest = if digits <= 6 {
        format!("{:e}", v as f32)
    } else {
        format!("{v:e}")
    };
    let (mantissa, exponent) = shortest.split_once('e').expect("{:e} has an exponent");
    let exponent: i32 = exponent.parse().expect("a number");
    if exponent < -4 || exponent >= digits {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let negative = mantissa.starts_with('-');
    let significant: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exponent + 1; // digits before the decimal point
    let body = if point <= 0 {
        format!("0.{}{significant}", "0".repeat((-point) as usize))
    } else if point as usize >= significant.len() {
        format!(
            "{significant}{}",
            "0".repeat(point as usize - significant.len())
        )
    } else {
        let (whole, fraction) = significant.split_at(point as usize);
        format!("{whole}.{fraction}")
    };
    if negative { format!("-{body}") } else { body }
}

#[cfg(test)]
mod tests {
    use super::float_text;

    #[test]
    fn floats_print_as_postgresql_prints_them() {
        let cases = [
            (1.0, "1"),
            (2.5, "2.5"),
            (1e20, "1e+20"),
            (1e15, "1e+15"),
            (123456789012345.0, "123456789012345"),
            (1234567890123456.0, "1.234567890123456e+15"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (-0.0, "-0"),
            (1.5e300, "1.5e+300"),
            (100.0, "100"),
            (-0.1, "-0.1"),
            (0.30000000000000004, "0.30000000000000004"),
        ];
        for (v, text) in cases {
            assert_eq!(float_text(v, 15), text, "{v}");
        }
        assert_eq!(float_text(0.1f32 as f64, 6), "0.1");
        assert_eq!(float_text(1e20f32 as f64, 6), "1e+20");
        assert_eq!(float_text(3.4028235e38f32 as f64, 6), "3.4028235e+38");
    }

    #[test]
    fn json_cases_print_as_postgresql_prints_them() {
        // PostgreSQL 15: SELECT 1.5::float8, 1e20::float8, 0.00001::float8, 123456789012345::float8,
        // 1234567890123456::float8, 0.1::float8 + 0.2::float8, 1e6::real, 123456::real
        assert_eq!(float_text(1.5, 15), "1.5");
        assert_eq!(float_text(1e20, 15), "1e+20");
        assert_eq!(float_text(0.00001, 15), "1e-05");
        assert_eq!(float_text(123456789012345.0, 15), "123456789012345");
        assert_eq!(float_text(1234567890123456.0, 15), "1.234567890123456e+15");
        assert_eq!(float_text(0.1 + 0.2, 15), "0.30000000000000004");
        assert_eq!(float_text(1e6, 6), "1e+06");
        assert_eq!(float_text(123456.0, 6), "123456");
        assert_eq!(float_text(0.0001, 15), "0.0001");
    }
}
