//! Numbers as the classic page's language writes them, the rules of the dashboard's
//! `static/js/shared/numbers.js` (Intl.NumberFormat of `fr-FR` and `en-GB`): French `1 234,5`
//! (a decimal comma, U+202F NARROW NO-BREAK SPACE between thousands), English `1,234.5`.
//! Every number the page prints goes through here; what the page only carries for machines
//! (`data-seq`, `data-ts`, the URLs, `maxlength`) stays plain digits.

use crate::lang::Lang;

/// A whole number the page prints, by value or by reference (as the template hands it).
pub trait Whole {
    fn whole(&self) -> u64;
}

impl Whole for u64 {
    fn whole(&self) -> u64 {
        *self
    }
}

impl Whole for u32 {
    fn whole(&self) -> u64 {
        u64::from(*self)
    }
}

impl Whole for usize {
    fn whole(&self) -> u64 {
        u64::try_from(*self).unwrap_or(u64::MAX)
    }
}

impl<T: Whole + ?Sized> Whole for &T {
    fn whole(&self) -> u64 {
        (**self).whole()
    }
}

/// Writes numbers in one language.
#[derive(Debug, Clone, Copy)]
pub struct Numbers {
    fr: bool,
}

impl Numbers {
    pub fn new(lang: Lang) -> Numbers {
        Numbers {
            fr: lang == Lang::Fr,
        }
    }

    fn decimal_mark(self) -> char {
        if self.fr { ',' } else { '.' }
    }

    fn group_mark(self) -> char {
        if self.fr { '\u{202F}' } else { ',' }
    }

    /// A whole number: `1 234` (fr), `1,234` (en); no separator below 1000.
    pub fn whole(self, n: impl Whole) -> String {
        self.grouped(&n.whole().to_string())
    }

    /// `value` with exactly `decimals` digits after the mark: `0,2` (fr), `0.2` (en).
    pub fn fixed(self, value: f64, decimals: usize) -> String {
        self.localized(&format!("{value:.decimals$}"))
    }

    /// A time of day, UTC, to the millisecond: `14:03:07,123` (fr), `14:03:07.123` (en).
    pub fn clock(self, unix_us: u64) -> String {
        let secs = unix_us / 1_000_000;
        format!(
            "{:02}:{:02}:{:02}{}{:03}",
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
            self.decimal_mark(),
            (unix_us / 1000) % 1000
        )
    }

    /// A number written the JSON way (`-12.5`, `100.0`, `1e21`), in this language, with its
    /// digits as they are (nothing rounded): `-12,5`, `100,0`, `1e21`. Text that is not a JSON
    /// number is returned unchanged.
    pub fn json_number(self, text: &str) -> String {
        let is_number = !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
        if !is_number {
            return text.to_owned();
        }
        self.localized(text)
    }

    /// Digits, an optional sign, `.` and exponent (as Rust and JSON write them) in this
    /// language: the integer part grouped, the mark replaced.
    fn localized(self, text: &str) -> String {
        let (sign, rest) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        let (integer, fraction) = match mantissa.split_once('.') {
            Some((integer, fraction)) => (integer, Some(fraction)),
            None => (mantissa, None),
        };
        let mut out = String::with_capacity(text.len() + 8);
        out.push_str(sign);
        out.push_str(&self.grouped(integer));
        if let Some(fraction) = fraction {
            out.push(self.decimal_mark());
            out.push_str(fraction);
        }
        out.push_str(exponent);
        out
    }

    /// A run of digits with the group mark every three from the right.
    fn grouped(self, digits: &str) -> String {
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(self.group_mark());
            }
            out.push(c);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_and_english_as_the_dashboard_writes_them() {
        let (fr, en) = (Numbers::new(Lang::Fr), Numbers::new(Lang::En));
        assert_eq!(fr.whole(999u64), "999");
        assert_eq!(fr.whole(1234u64), "1\u{202F}234");
        assert_eq!(en.whole(1_234_567u64), "1,234,567");
        assert_eq!(fr.fixed(0.2, 1), "0,2");
        assert_eq!(fr.fixed(3600.04, 1), "3\u{202F}600,0");
        assert_eq!(en.fixed(12345.67, 1), "12,345.7");
        assert_eq!(fr.json_number("95.11"), "95,11");
        assert_eq!(fr.json_number("-1234.5"), "-1\u{202F}234,5");
        assert_eq!(fr.json_number("1e21"), "1e21");
        assert_eq!(en.json_number("100"), "100");
        assert_eq!(fr.json_number("null"), "null");
        assert_eq!(fr.clock(3_723_004_000), "01:02:03,004");
        assert_eq!(en.clock(3_723_004_000), "01:02:03.004");
    }
}
