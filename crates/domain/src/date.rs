//! Business dates.

use chrono::NaiveDate;

use crate::FieldError;

/// The first business date postloan takes.
pub const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a calendar date");

/// The last business date postloan takes: far enough for a 100-year schedule from today,
/// near enough that day counts and penalties stay small numbers.
pub const LATEST: NaiveDate = NaiveDate::from_ymd_opt(2200, 12, 31).expect("a calendar date");

/// Parses an ISO-8601 calendar date, `YYYY-MM-DD`, from [`EARLIEST`] to [`LATEST`],
/// rejecting any other form.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, FieldError> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    // The digits are checked, so the parts read directly (chrono's format parser cost more
    // than the rest of a loan's parsing through Wasm).
    let part = |from: usize, to: usize| text[from..to].parse::<u32>().ok();
    let parsed = well_formed
        .then(|| {
            let year = i32::try_from(part(0, 4)?).ok()?;
            NaiveDate::from_ymd_opt(year, part(5, 7)?, part(8, 10)?)
        })
        .flatten();
    let date = parsed.ok_or_else(|| {
        FieldError::new(
            field,
            format!("`{text}` is not an ISO-8601 calendar date (YYYY-MM-DD)"),
        )
    })?;
    if !(EARLIEST..=LATEST).contains(&date) {
        return Err(FieldError::new(
            field,
            format!("{date} is outside {EARLIEST} to {LATEST}"),
        ));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_dates_lie_from_1900_to_2200() {
        assert!(parse_date("d", "1900-01-01").is_ok());
        assert!(parse_date("d", "2200-12-31").is_ok());
        for far in ["1899-12-31", "0000-01-01", "2201-01-01", "9999-12-31"] {
            let err = parse_date("payments[0].value_date", far).unwrap_err();
            assert_eq!(err.field, "payments[0].value_date");
            assert!(
                err.reason.ends_with("is outside 1900-01-01 to 2200-12-31"),
                "{far}: {}",
                err.reason
            );
        }
    }

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
