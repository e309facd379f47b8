//! SMS segments: how many messages a text takes, by GSM 03.38.
//!
//! Text written wholly in the GSM 7-bit alphabet fits 160 characters in one message and
//! 153 in each part of a longer one (extension characters such as `€` take two); any other
//! text (Chinese, say) is sent as UCS-2: 70 characters in one message, 67 per part.

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// How a text is encoded for SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The GSM 7-bit default alphabet.
    Gsm7,
    /// UCS-2, for anything else.
    Ucs2,
}

/// A text's encoding and the number of SMS segments it takes.
pub fn segments(text: &str) -> (Encoding, u32) {
    let gsm_units: Option<usize> = text
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENSION.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (encoding, units, single, part) = match gsm_units {
        Some(units) => (Encoding::Gsm7, units, 160, 153),
        None => (Encoding::Ucs2, text.encode_utf16().count(), 70, 67),
    };
    let count = if units <= single {
        1
    } else {
        units.div_ceil(part)
    };
    (encoding, u32::try_from(count).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm_text_fits_160_then_153_a_part() {
        assert_eq!(segments(&"a".repeat(160)), (Encoding::Gsm7, 1));
        assert_eq!(segments(&"a".repeat(161)), (Encoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(306)), (Encoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(307)), (Encoding::Gsm7, 3));
    }

    #[test]
    fn extension_characters_count_twice() {
        // 79 plain characters and one euro sign: 81 septets, one message; 159 + € = 161: two.
        assert_eq!(
            segments(&format!("{}€", "a".repeat(79))),
            (Encoding::Gsm7, 1)
        );
        assert_eq!(
            segments(&format!("{}€", "a".repeat(159))),
            (Encoding::Gsm7, 2)
        );
    }

    #[test]
    fn chinese_text_fits_70_then_67_a_part() {
        assert_eq!(segments(&"还".repeat(70)), (Encoding::Ucs2, 1));
        assert_eq!(segments(&"还".repeat(71)), (Encoding::Ucs2, 2));
        assert_eq!(segments(&"还".repeat(134)), (Encoding::Ucs2, 2));
        assert_eq!(segments(&"还".repeat(135)), (Encoding::Ucs2, 3));
        // One character outside GSM turns the whole text into UCS-2.
        assert_eq!(
            segments(&format!("{}还", "a".repeat(69))),
            (Encoding::Ucs2, 1)
        );
    }
}
