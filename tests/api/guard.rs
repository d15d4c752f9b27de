//! Nothing that lets a student in: credentials never kept in what the inspector shows, no server
//! with an empty admin token, and wrong tokens slowed to a crawl per client address.

use std::{process::Stdio, time::Duration};

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{PATIENCE, TestApp, spawn_app};

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

/// Starts the real binary with `args` and `env`; returns its exit status and stderr, or fails
/// if it is still serving after [`PATIENCE`] (an empty token must stop the start).
async fn start_binary(args: &[&str], env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pushlab"));
    command
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .env_remove("PUSHLAB_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let ended = tokio::time::timeout(PATIENCE, async {
        // A server that starts prints its address; one that refuses prints nothing there.
        while let Ok(Some(line)) = stdout.next_line().await {
            assert!(
                !line.contains("is running"),
                "{args:?} {env:?}: the server started: {line}"
            );
        }
        child.wait_with_output().await.expect("an exit status")
    })
    .await
    .expect("the process ended");
    (
        ended.status,
        String::from_utf8_lossy(&ended.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_empty_or_blank_admin_token_stops_the_start() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: [Case; 5] = [
        (&["--admin-token", ""], &[]),
        (&["--admin-token="], &[]),
        (&["--admin-token", "  \t "], &[]),
        (&[], &[("PUSHLAB_ADMIN_TOKEN", "")]),
        (&[], &[("PUSHLAB_ADMIN_TOKEN", "   ")]),
    ];
    for (args, env) in cases {
        let (status, stderr) = start_binary(args, env).await;
        assert!(!status.success(), "{args:?} {env:?}: exit {status}");
        assert!(
            stderr.contains("--admin-token") && stderr.contains("empty"),
            "{args:?} {env:?}: a clear message expected: {stderr}"
        );
    }
}

#[tokio::test]
async fn a_good_admin_token_still_starts_the_server() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pushlab"))
        .args(["--bind", "127.0.0.1:0", "--admin-token", "mot de passe"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = tokio::time::timeout(PATIENCE, async {
        while let Ok(Some(line)) = stdout.next_line().await {
            if line.contains("is running") {
                return true;
            }
        }
        false
    })
    .await
    .expect("the server said something");
    assert!(started);
    child.kill().await.expect("stopped");
}

/// One admin call with `authorization` as the header's value.
async fn settings_with(app: &TestApp, authorization: &str) -> crate::helpers::Response {
    app.conn()
        .await
        .request(
            "GET",
            "/api/admin/settings",
            &[("Authorization", authorization)],
            b"",
        )
        .await
}

/// One login through the console's form.
async fn login_with(app: &TestApp, token: &str) -> crate::helpers::Response {
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    app.conn()
        .await
        .request(
            "POST",
            "/admin/login",
            &form,
            format!("token={token}&lang=fr").as_bytes(),
        )
        .await
}

#[tokio::test]
async fn the_bearer_scheme_is_matched_case_insensitively() {
    let app = spawn_app().await;
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let res = settings_with(&app, &format!("{scheme} {}", app.token)).await;
        assert_eq!(res.status, 200, "{scheme}: {}", res.text());
    }
    let res = settings_with(&app, &format!("Basic {}", app.token)).await;
    assert_eq!(res.status, 401, "another scheme is not a Bearer");
}

#[tokio::test]
async fn beyond_ten_wrong_tokens_an_address_waits_for_the_window() {
    let app = spawn_app().await;
    let cookie = console_cookie(&app).await;
    // Bearer and the login form count together.
    for i in 0..10 {
        let res = if i % 2 == 0 {
            settings_with(&app, &format!("Bearer guess-{i}")).await
        } else {
            login_with(&app, &format!("guess-{i}")).await
        };
        assert_eq!(res.status, 401, "try {i}: {}", res.text());
    }

    let locked = settings_with(&app, &format!("Bearer {}", app.token)).await;
    assert_eq!(
        locked.status,
        429,
        "even the right token waits: {}",
        locked.text()
    );
    let retry_after: u64 = locked
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(
        locked.json()["error"]
            .as_str()
            .unwrap()
            .contains("try again")
    );

    let form = login_with(&app, &app.token).await;
    assert_eq!(form.status, 429, "{}", form.text());
    assert!(form.header("retry-after").is_some());
    assert!(form.header("set-cookie").is_none());
    let page = form.text();
    assert!(
        page.contains(r#"data-i18n="login.locked""#) && page.contains(r#""seconds": "#),
        "the form says how long to wait: {page}"
    );

    // An open console session is not a guess: the instructor's console keeps working.
    let console = app
        .conn()
        .await
        .request(
            "GET",
            "/api/admin/settings",
            &[("Cookie", cookie.as_str())],
            b"",
        )
        .await;
    assert_eq!(console.status, 200, "{}", console.text());

    // Many more tries change nothing but the count, quickly refused.
    for _ in 0..50 {
        let res = settings_with(&app, "Bearer guess").await;
        assert_eq!(res.status, 429);
    }

    app.state
        .admin_failures
        .pass_time(Duration::from_secs(retry_after));
    let res = settings_with(&app, &format!("bearer {}", app.token)).await;
    assert_eq!(res.status, 200, "once the window passed: {}", res.text());
    let res = login_with(&app, &app.token).await;
    assert_eq!(res.status, 303, "{}", res.text());
}
