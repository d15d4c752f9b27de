//! The classic page (`GET /classic`) as its reader sees it: every number in the page's language,
//! its links and projector mode (kept across its reloads and its form), and a bad address
//! explained in the page's language, naming the parameter.

use pushlab::feed::Kind;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

/// U+202F NARROW NO-BREAK SPACE, French's thousands separator (as Intl.NumberFormat("fr-FR")).
const NNBSP: char = '\u{202F}';

/// The text of the cell `class` of the row of `seq` (tags inside removed).
fn cell(page: &str, seq: u64, class: &str) -> String {
    let start = page
        .find(&format!(r#" data-seq="{seq}""#))
        .unwrap_or_else(|| panic!("no row {seq}"));
    let row = &page[start..start + page[start..].find("</tr>").unwrap()];
    let open = format!(r#"<td class="{class}">"#);
    let at = row
        .find(&open)
        .unwrap_or_else(|| panic!("no {class} in {row}"))
        + open.len();
    strip_tags(&row[at..at + row[at..].find("</td>").unwrap()])
}

fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// What the reader reads: the body's text, without tags (attributes and URLs are for machines).
fn visible(page: &str) -> String {
    strip_tags(&page[page.find("<body>").unwrap()..])
}

/// `1001 ticks`, the last two with values that need a decimal mark and a thousands separator.
async fn feed_past_a_thousand(app: &TestApp) {
    for _ in 0..999 {
        app.state
            .hub
            .publish(Kind::Tick, &json!({ "value": 100.0 }));
    }
    app.state
        .hub
        .publish(Kind::Tick, &json!({ "value": 95.11 }));
    app.state
        .hub
        .publish(Kind::Tick, &json!({ "value": -1234.5 }));
}

/// `digit mark digit` somewhere in `text`: a number written with that decimal mark.
fn has_decimal_mark(text: &str, mark: char) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == mark && w[2].is_ascii_digit())
}

#[tokio::test]
async fn every_number_on_the_classic_page_follows_its_language() {
    let app = spawn_app().await;
    feed_past_a_thousand(&app).await;

    let fr = app
        .conn()
        .await
        .get("/classic?lang=fr&refresh=3600")
        .await
        .text();
    assert_eq!(cell(&fr, 1000, "content"), "valeur 95,11");
    assert_eq!(cell(&fr, 1001, "content"), format!("valeur -1{NNBSP}234,5"));
    assert_eq!(cell(&fr, 1001, "seq"), "1001");
    assert_eq!(cell(&fr, 999, "seq"), "999");
    let age = cell(&fr, 1001, "age");
    assert!(
        age.ends_with(" s") && has_decimal_mark(&age, ','),
        "age {age:?}"
    );
    let time = cell(&fr, 1001, "time");
    assert!(
        time.len() == 12 && time.as_bytes()[8] == b',',
        "time {time:?}"
    );
    let text = visible(&fr);
    // A seq is an identifier: plain digits, as the feed's JSON and the dashboard write it.
    assert!(text.contains("dernier seq 1001"), "{text}");
    assert!(
        text.contains(&format!("toutes les 3{NNBSP}600 s")),
        "{text}"
    );
    assert!(
        !has_decimal_mark(&text, '.'),
        "a French page writes no decimal point: {text}"
    );
    // For machines, plain digits.
    assert!(fr.contains(r#"data-seq="1001""#));
    assert!(fr.contains(r#"name="seen" value="1001""#));

    let en = app
        .conn()
        .await
        .get("/classic?lang=en&refresh=3600")
        .await
        .text();
    assert_eq!(cell(&en, 1000, "content"), "value 95.11");
    assert_eq!(cell(&en, 1001, "content"), "value -1,234.5");
    assert_eq!(cell(&en, 1001, "seq"), "1001");
    let age = cell(&en, 1001, "age");
    assert!(
        age.ends_with(" s") && has_decimal_mark(&age, '.'),
        "age {age:?}"
    );
    assert_eq!(cell(&en, 1001, "time").as_bytes()[8], b'.');
    let text = visible(&en);
    assert!(text.contains("last seq 1001"), "{text}");
    assert!(text.contains("every 3,600 s"), "{text}");
    assert!(!text.contains(NNBSP), "{text}");
}

#[tokio::test]
async fn the_standalone_classic_page_links_back_and_keeps_projector_mode() {
    let app = spawn_app().await;
    app.publish_chats(2).await;
    let epoch = app.state.hub.epoch().to_string();

    let page = app
        .conn()
        .await
        .get("/classic?lang=fr&refresh=3&projector=1")
        .await;
    assert_eq!(page.status, 200);
    let page = page.text();
    // The dashboard's projector type: the class on <html>, and the root size it sets.
    assert!(
        page.contains(r#"<html lang="fr" class="projector">"#),
        "{page}"
    );
    assert!(page.contains("html.projector { font-size: max(16px, 1.3vw); }"));
    // Kept by the reload, the form and the other language; the mode's own link leaves it.
    let here = format!("refresh=3&#38;seen=2&#38;epoch={epoch}");
    assert!(
        page.contains(&format!(
            r#"content="3; url=/classic?{here}&#38;lang=fr&#38;projector=1">"#
        )),
        "{page}"
    );
    assert!(page.contains(r#"<input type="hidden" name="projector" value="1">"#));
    assert!(page.contains(r#"<a href="/?lang=fr">Tableau de bord</a>"#));
    assert!(page.contains(&format!(
        r#"<a href="/classic?{here}&#38;lang=en&#38;projector=1" lang="en">EN</a>"#
    )));
    assert!(page.contains(&format!(
        r#"<a href="/classic?{here}&#38;lang=fr">Taille normale</a>"#
    )));
    let res = app
        .conn()
        .await
        .post_classic_chat(b"author=a&text=b&refresh=3&seen=2&lang=fr&projector=1")
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/classic?refresh=3&seen=2&lang=fr&projector=1")
    );

    // Without the mode: no class, no root size, a link into it.
    let plain = app.conn().await.get("/classic?lang=en").await.text();
    assert!(plain.contains(r#"<html lang="en">"#));
    assert!(!plain.contains("max(16px"));
    assert!(!plain.contains(r#"name="projector""#));
    assert!(plain.contains(r#"<a href="/?lang=en">Dashboard</a>"#));
    assert!(plain.contains(&format!(
        r#"<a href="/classic?seen=3&#38;epoch={epoch}&#38;lang=en&#38;projector=1">Projector</a>"#
    )));
    assert!(plain.contains(&format!(
        r#"<a href="/classic?seen=3&#38;epoch={epoch}&#38;lang=fr" lang="fr">FR</a>"#
    )));

    // In the dashboard's frame (whose page has the links), exactly the page it had: no links.
    let framed = app
        .conn()
        .await
        .request(
            "GET",
            "/classic?lang=en",
            &[("Sec-Fetch-Dest", "iframe")],
            b"",
        )
        .await;
    assert!(!framed.text().contains("<nav"), "{}", framed.text());
    assert!(
        framed
            .header("vary")
            .is_some_and(|v| v.contains("sec-fetch-dest"))
    );
}

#[tokio::test]
async fn a_bad_address_is_explained_in_the_page_language_naming_the_parameter() {
    let app = spawn_app().await;
    app.publish_chats(2).await;
    let delivered = || async {
        app.stats().await["transports"]["classic"]["delivered"]
            .as_u64()
            .unwrap()
    };
    let before = delivered().await;
    // (query, what the French page says, what the English page says)
    let cases = [
        (
            "seen=-1",
            "<code>seen</code> doit être un nombre entier ≥ 0, reçu «\u{a0}-1\u{a0}».",
            "<code>seen</code> must be a whole number ≥ 0, got “-1”.",
        ),
        (
            "seen=%20",
            "<code>seen</code> doit être un nombre entier ≥ 0, reçu «\u{a0} \u{a0}».",
            "<code>seen</code> must be a whole number ≥ 0, got “ ”.",
        ),
        (
            "seen=1e3",
            "<code>seen</code> doit être un nombre entier ≥ 0, reçu «\u{a0}1e3\u{a0}».",
            "<code>seen</code> must be a whole number ≥ 0, got “1e3”.",
        ),
        (
            "refresh=0",
            "<code>refresh</code> doit être un nombre entier de secondes, de 1 à 3\u{202F}600, reçu «\u{a0}0\u{a0}».",
            "<code>refresh</code> must be a whole number of seconds from 1 to 3,600, got “0”.",
        ),
        (
            "refresh=soon",
            "<code>refresh</code> doit être un nombre entier de secondes, de 1 à 3\u{202F}600, reçu «\u{a0}soon\u{a0}».",
            "<code>refresh</code> must be a whole number of seconds from 1 to 3,600, got “soon”.",
        ),
        (
            "seen=3&epoch=%3Cb%3E",
            "<code>epoch</code> doit être de 1 à 64 lettres, chiffres, - ou _, reçu «\u{a0}&#60;b&#62;\u{a0}».",
            "<code>epoch</code> must be 1 to 64 letters, digits, - or _, got “&#60;b&#62;”.",
        ),
        (
            "projector=yes",
            "<code>projector</code> doit être 1 (oui) ou 0 (non), reçu «\u{a0}yes\u{a0}».",
            "<code>projector</code> must be 1 (on) or 0 (off), got “yes”.",
        ),
    ];
    for (query, fr, en) in cases {
        for (lang, says) in [("fr", fr), ("en", en)] {
            let path = format!("/classic?{query}&lang={lang}");
            let res = app.conn().await.get(&path).await;
            assert_eq!(res.status, 400, "{path}");
            let page = res.text();
            assert!(page.contains(says), "{path}: {page}");
            assert!(page.contains(&format!(r#"<html lang="{lang}""#)), "{path}");
        }
    }
    // Every bad value is named, not only the first.
    let page = app
        .conn()
        .await
        .get("/classic?seen=x&refresh=0&lang=en")
        .await
        .text();
    assert!(
        page.contains("<code>refresh</code> must be") && page.contains("<code>seen</code> must be")
    );
    // A page with a mistake delivers nothing.
    assert_eq!(delivered().await, before);
    // Empty values count as absent, as on every transport.
    let res = app.conn().await.get("/classic?refresh=&seen=&epoch=").await;
    assert_eq!(res.status, 200, "{}", res.text());
}
