//! Currencies and exact decimal amounts.
//!
//! An amount is a [`Decimal`] that never carries more decimals than its currency's minor
//! unit (CNY 2, JPY 0, KWD 3), so sums of amounts stay exact and need no rounding.

use rust_decimal::Decimal;

use crate::FieldError;

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
        let amount = parse_non_negative(field, text)?;
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
