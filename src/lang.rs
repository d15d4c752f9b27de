//! The languages pushlab's pages speak, and how a request chooses one: `?lang=` (the switch in
//! every page), else the best `Accept-Language` entry we speak (RFC 9110 §12.5.4), else English.
//!
//! One type for every page (dashboard, inspector, lab, console, the classic page). Labels live
//! in the templates and in `static/js/strings/`, never here. Imports nothing of pushlab.

use actix_web::{HttpRequest, http::header};

/// The languages the pages speak. Students are French; tools and visitors get English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    fn parse(code: &str) -> Option<Lang> {
        // "fr", "fr-FR", "fr-CA": only the primary subtag matters.
        let primary = code.split('-').next().unwrap_or("").trim();
        if primary.eq_ignore_ascii_case("fr") {
            Some(Lang::Fr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language of a request: `param` (its `?lang=` or form field), else its
    /// `Accept-Language` header.
    pub fn of_request(req: &HttpRequest, param: Option<&str>) -> Lang {
        let accept = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Lang::choose(param, accept)
    }

    /// A `?lang=` value to carry in a URL: only a language we speak (the value is echoed into
    /// `Location` headers and links).
    pub fn known_code(param: Option<&str>) -> Option<&'static str> {
        param.and_then(Lang::parse).map(Lang::code)
    }

    /// The page's language: a valid `?lang=` wins (the switch in the page sets it), then the
    /// best `Accept-Language` entry we speak, then English. An unknown `?lang=` falls back
    /// instead of failing: a page in a language the reader asked for beats an error page.
    pub fn choose(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        query
            .and_then(Lang::parse)
            .or_else(|| accept_language.and_then(best_of_accept_language))
            .unwrap_or(Lang::En)
    }
}

/// The spoken language with the highest `q` in an `Accept-Language` header (RFC 9110 §12.5.4);
/// the first listed wins a tie, `q=0` means "not this one", `*` is ignored.
fn best_of_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else {
            continue;
        };
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
            best = Some((lang, quality));
        }
    }
    best.map(|(lang, _)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_wins_over_the_header() {
        assert_eq!(Lang::choose(Some("fr"), Some("en-US,en")), Lang::Fr);
        assert_eq!(Lang::choose(Some("en"), Some("fr-FR")), Lang::En);
    }

    #[test]
    fn an_unknown_query_falls_back_to_the_header() {
        assert_eq!(Lang::choose(Some("de"), Some("fr-FR,fr;q=0.9")), Lang::Fr);
        assert_eq!(Lang::choose(Some(""), None), Lang::En);
    }

    #[test]
    fn the_highest_quality_we_speak_wins() {
        assert_eq!(
            Lang::choose(None, Some("de-DE,de;q=0.9,fr;q=0.8,en;q=0.7")),
            Lang::Fr
        );
        assert_eq!(Lang::choose(None, Some("en;q=0.5, fr;q=0.6")), Lang::Fr);
        assert_eq!(Lang::choose(None, Some("fr-CA, en")), Lang::Fr);
        assert_eq!(Lang::choose(None, Some("fr;q=0, en;q=0.1")), Lang::En);
    }

    #[test]
    fn nothing_we_speak_gives_english() {
        assert_eq!(Lang::choose(None, Some("de, es;q=0.8, *;q=0.1")), Lang::En);
        assert_eq!(Lang::choose(None, Some("garbage;;;q=")), Lang::En);
        assert_eq!(Lang::choose(None, None), Lang::En);
    }
}
