//! Business dates.

use chrono::NaiveDate;

use crate::FieldError;

/// Parses an ISO-8601 calendar date, `YYYY-MM-DD`, rejecting any other form.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, FieldError> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let parsed = well_formed
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten();
    parsed.ok_or_else(|| {
        FieldError::new(
            field,
            format!("`{text}` is not an ISO-8601 calendar date (YYYY-MM-DD)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_calendar_dates_only() {
        assert_eq!(
            parse_date("d", "2024-02-29"),
            Ok(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
        );
        for bad in [
            "2023-02-29",
            "2024-2-01",
            "20240201",
            "2024-02-01T00:00",
            "",
            "2024/02/01",
        ] {
            let err = parse_date("loan.x", bad).unwrap_err();
            assert_eq!(err.field, "loan.x", "{bad}");
        }
    }
}
