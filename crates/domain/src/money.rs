//! Currencies and exact decimal amounts.
//!
//! An amount is a [`Decimal`] that never carries more decimals than its currency's minor
//! unit (CNY 2, JPY 0, KWD 3), so sums of amounts stay exact and need no rounding.

use rust_decimal::Decimal;

use crate::FieldError;

/// The most integer digits an amount may have: what a ledger's `DECIMAL(18, 3)` column holds.
/// With it, and the bounds on rates, terms and list lengths, no sum, penalty or schedule of
/// amounts can leave a [`Decimal`]'s 28 digits (docs/overdue.md, "Limits").
pub const MAX_INTEGER_DIGITS: u32 = 15;

/// The most decimals an amount may have before its currency is known: the largest ISO 4217
/// minor unit (4, the Uruguayan and Chilean units of account).
pub const MAX_DECIMALS: u32 = 4;

/// An ISO 4217 currency with a minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    code: iso_currency::Currency,
    minor_unit: u32,
}

impl Currency {
    /// Looks up an ISO 4217 alphabetic code such as `CNY`.
    pub fn parse(field: &str, code: &str) -> Result<Self, FieldError> {
        let iso = iso_currency::Currency::from_code(code).ok_or_else(|| {
            FieldError::new(field, format!("`{code}` is not an ISO 4217 currency code"))
        })?;
        let minor_unit = iso.exponent().ok_or_else(|| {
            FieldError::new(
                field,
                format!("{code} has no minor unit and cannot be lent"),
            )
        })?;
        Ok(Self {
            code: iso,
            minor_unit: u32::from(minor_unit),
        })
    }

    /// The alphabetic code, such as `CNY`.
    pub fn code(self) -> &'static str {
        self.code.code()
    }

    /// Decimals of the minor unit: 2 for CNY, 0 for JPY, 3 for KWD.
    pub fn minor_unit(self) -> u32 {
        self.minor_unit
    }

    /// Parses a non-negative amount in this currency from its decimal string.
    pub fn parse_amount(self, field: &str, text: &str) -> Result<Decimal, FieldError> {
        let amount = parse_amount(field, text)?;
        if amount.scale() > self.minor_unit {
            return Err(FieldError::new(
                field,
                format!(
                    "`{text}` has {} decimals; {} allows {}",
                    amount.scale(),
                    self.code(),
                    self.minor_unit
                ),
            ));
        }
        Ok(amount)
    }

    /// Writes an amount with exactly the minor unit's decimals, such as `1200.00`.
    pub fn format(self, amount: Decimal) -> String {
        let mut shown = amount.round_dp(self.minor_unit);
        shown.rescale(self.minor_unit);
        shown.to_string()
    }
}

/// Parses an amount whose currency is not known here: zero or more, at most
/// [`MAX_INTEGER_DIGITS`] integer digits and [`MAX_DECIMALS`] decimals.
pub fn parse_amount(field: &str, text: &str) -> Result<Decimal, FieldError> {
    let amount = parse_non_negative(field, text)?;
    if amount.trunc().abs() >= Decimal::from(10_u64.pow(MAX_INTEGER_DIGITS)) {
        return Err(FieldError::new(
            field,
            format!("`{text}` is above the largest amount, {MAX_INTEGER_DIGITS} integer digits"),
        ));
    }
    if amount.scale() > MAX_DECIMALS {
        return Err(FieldError::new(
            field,
            format!(
                "`{text}` has {} decimals; amounts have at most {MAX_DECIMALS}",
                amount.scale()
            ),
        ));
    }
    Ok(amount)
}

/// Parses a plain decimal string that is zero or more, such as a rate or a threshold.
pub fn parse_non_negative(field: &str, text: &str) -> Result<Decimal, FieldError> {
    let value = parse_decimal(field, text)?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(FieldError::new(field, format!("`{text}` is negative")));
    }
    Ok(value)
}

/// Parses a plain decimal string (`123`, `-4.50`); no exponent, no spaces, no float.
fn parse_decimal(field: &str, text: &str) -> Result<Decimal, FieldError> {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    plain
        .then(|| Decimal::from_str_exact(text).ok())
        .flatten()
        .ok_or_else(|| FieldError::new(field, format!("`{text}` is not a decimal number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny() -> Currency {
        Currency::parse("c", "CNY").unwrap()
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(cny().minor_unit(), 2);
        assert_eq!(Currency::parse("c", "JPY").unwrap().minor_unit(), 0);
        assert_eq!(Currency::parse("c", "KWD").unwrap().minor_unit(), 3);
    }

    #[test]
    fn rejects_unknown_and_unit_less_currencies() {
        assert!(Currency::parse("c", "cny").is_err());
        assert!(Currency::parse("c", "ABC").is_err());
        assert!(
            Currency::parse("c", "XAU")
                .unwrap_err()
                .reason
                .contains("no minor unit")
        );
    }

    #[test]
    fn amounts_are_exact_and_within_the_minor_unit() {
        assert_eq!(
            cny().parse_amount("a", "1200.5").unwrap(),
            Decimal::new(12005, 1)
        );
        assert_eq!(cny().parse_amount("a", "0").unwrap(), Decimal::ZERO);
        let too_fine = cny().parse_amount("a", "1.005").unwrap_err();
        assert_eq!(too_fine.reason, "`1.005` has 3 decimals; CNY allows 2");
        let yen = Currency::parse("c", "JPY").unwrap();
        assert!(yen.parse_amount("a", "100.5").is_err());
        assert!(yen.parse_amount("a", "100").is_ok());
    }

    #[test]
    fn rejects_negative_and_non_decimal_amounts() {
        for bad in ["-1.00", "1e3", "abc", "", " 1", "1,000.00", "NaN", "1.2.3"] {
            let err = cny().parse_amount("loan.x", bad).unwrap_err();
            assert_eq!(err.field, "loan.x", "{bad}");
        }
    }

    #[test]
    fn amounts_have_at_most_fifteen_integer_digits() {
        assert_eq!(
            cny().parse_amount("a", "999999999999999.99").unwrap(),
            Decimal::new(99_999_999_999_999_999, 2)
        );
        for huge in [
            "1000000000000000",
            "1000000000000000.00",
            "79228162514264337593543950335",
            "40000000000000000000000000000",
        ] {
            let err = cny()
                .parse_amount("loan.payments[0].amount", huge)
                .unwrap_err();
            assert_eq!(err.field, "loan.payments[0].amount");
            assert!(err.reason.contains("15 integer digits"), "{}", err.reason);
        }
        // Past a Decimal's range: still a field error, never a panic.
        assert!(parse_amount("a", "792281625142643375935439503350").is_err());
        assert!(parse_amount("a", "0.00001").is_err());
        assert_eq!(parse_amount("a", "0.0001").unwrap(), Decimal::new(1, 4));
    }

    #[test]
    fn formats_with_the_minor_unit() {
        assert_eq!(cny().format(Decimal::new(12, 0)), "12.00");
        assert_eq!(
            Currency::parse("c", "KWD")
                .unwrap()
                .format(Decimal::new(5, 1)),
            "0.500"
        );
        assert_eq!(
            Currency::parse("c", "JPY")
                .unwrap()
                .format(Decimal::new(300, 0)),
            "300"
        );
    }
}
