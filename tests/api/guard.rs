//! Nothing that lets a student in: credentials never kept in what the inspector shows, no server
//! with an empty admin token, and wrong tokens slowed to a crawl per client address.

use crate::helpers::{TestApp, spawn_app};

/// Logs in through the console's form; returns the session cookie's `name=value`.
async fn console_cookie(app: &TestApp) -> String {
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let body = format!("token={}&lang=fr", app.token);
    let res = app
        .conn()
        .await
        .request("POST", "/admin/login", &form, body.as_bytes())
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let set_cookie = res.header("set-cookie").expect("a session cookie");
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_handshake_record_never_holds_a_credential() {
    let app = spawn_app().await;
    let cookie = console_cookie(&app).await;
    let session_id = cookie.split_once('=').unwrap().1.to_owned();
    let cookies = format!("{cookie}; theme=dark");
    let bearer = format!("Bearer {}", app.token);
    let secrets = [
        session_id.as_str(),
        app.token.as_str(),
        "QUERYTOKEN1",
        "QUERYTOKEN2",
        "PROXYSECRET",
        "APIKEYSECRET",
        "K8STOKEN",
        "REFERERTOKEN",
    ];
    for (path, spoken) in [("/ws/echo", "chat"), ("/ws", "pushlab.json")] {
        let tag = format!("secret{}", path.len());
        let mut socket = app.conn().await;
        let offer = format!("{spoken}, base64url.bearer.authorization.k8s.io.K8STOKEN");
        let referer = format!("http://{}/protocol?lang=fr&token=REFERERTOKEN", app.host());
        let (status, head) = socket
            .upgrade(
                &format!("{path}?inspect={tag}&token=QUERYTOKEN1&access_token=QUERYTOKEN2"),
                &[
                    ("Cookie", cookies.as_str()),
                    ("Authorization", bearer.as_str()),
                    ("Proxy-Authorization", "Basic PROXYSECRET"),
                    ("X-Api-Key", "APIKEYSECRET"),
                    ("Sec-WebSocket-Protocol", offer.as_str()),
                    ("Referer", referer.as_str()),
                ],
            )
            .await;
        assert_eq!(status, 101, "{path}: {head}");

        let record = app.conn().await.get(&format!("/api/handshake/{tag}")).await;
        assert_eq!(record.status, 200, "{}", record.text());
        let text = record.text();
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{path}: the record holds {secret:?}: {text}"
            );
        }
        let json = record.json();
        let header = |name: &str| {
            json["request_headers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|pair| pair[0] == name)
                .map(|pair| pair[1].as_str().unwrap().to_owned())
                .unwrap_or_else(|| panic!("{name} is shown (redacted): {text}"))
        };
        // The lesson survives: the browser sent two cookies on the upgrade, a script a Bearer.
        assert_eq!(
            header("cookie"),
            format!("<redacted: 2 cookies, {} bytes>", cookies.len())
        );
        assert_eq!(
            header("authorization"),
            format!("Bearer <redacted: {} bytes>", app.token.len())
        );
        assert!(header("sec-websocket-protocol").starts_with(&format!("{spoken}, <redacted")));
        assert!(
            json["request_line"]
                .as_str()
                .unwrap()
                .contains(&format!("inspect={tag}&token=<redacted: 11 bytes>"))
        );
        assert_eq!(json["offered_subprotocols"][0], spoken);
        assert_eq!(
            json["key"], "dGhlIHNhbXBsZSBub25jZQ==",
            "the key is the lesson"
        );
        // The head's size is the real one, although values are hidden.
        let received = socket.upgrade_request(
            &format!("{path}?inspect={tag}&token=QUERYTOKEN1&access_token=QUERYTOKEN2"),
            &[],
        );
        assert!(
            json["request_head_bytes"].as_u64().unwrap() > received.len() as u64 + 100,
            "{text}"
        );
    }
}
