//! Origin checks and escaping: a foreign page cannot open our sockets or post, and a posted
//! `<script>` is shown, never run.

use crate::helpers::{spawn_app, spawn_with};

#[tokio::test]
async fn a_foreign_origin_is_refused_and_the_same_host_is_not() {
    let app = spawn_with(|c| c.allowed_origins = vec!["http://teacher.example:3000".into()]).await;
    let own = format!("http://{}", app.host());
    for (origin, expected) in [
        ("http://evil.example", 403),
        ("null", 403),
        (own.as_str(), 101),
        ("http://teacher.example:3000", 101),
    ] {
        let mut conn = app.conn().await;
        let (status, _) = conn.upgrade("/ws", &[("Origin", origin)]).await;
        assert_eq!(status, expected, "upgrade from {origin}");
    }
    // A refused request's body is never read, so the server closes that connection: one each.
    let res = app
        .conn()
        .await
        .request(
            "POST",
            "/api/chat",
            &[
                ("Content-Type", "application/json"),
                ("Origin", "http://evil.example"),
            ],
            br#"{"author":"a","text":"b"}"#,
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(
        res.json()["error"]
            .as_str()
            .unwrap()
            .contains("evil.example")
    );
    let res = app
        .conn()
        .await
        .request(
            "POST",
            "/classic/chat",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", "http://evil.example"),
            ],
            b"author=a&text=b",
        )
        .await;
    assert_eq!(res.status, 403);
    let res = app
        .conn()
        .await
        .request(
            "POST",
            "/api/chat",
            &[("Content-Type", "application/json"), ("Origin", &own)],
            br#"{"author":"a","text":"b"}"#,
        )
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(
        app.poll("since=0").await["last_seq"],
        1,
        "only the same-host post was published"
    );
}

#[tokio::test]
async fn a_posted_script_is_escaped_on_the_page() {
    let app = spawn_app().await;
    let res = app
        .conn()
        .await
        .post_json(
            "/api/chat",
            r#"{"author":"<img src=x onerror=alert(1)>","text":"<script>alert('xss')</script>"}"#,
        )
        .await;
    assert_eq!(res.status, 201);
    let page = app.conn().await.get("/classic").await.text();
    assert!(
        !page.contains("<script>alert"),
        "raw script tag on the page"
    );
    assert!(!page.contains("<img src=x"), "raw img tag on the page");
    assert!(
        page.contains("&#60;script&#62;alert(&#39;xss&#39;)&#60;/script&#62;"),
        "escaped text shown"
    );
}
