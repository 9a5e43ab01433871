//! The `klarna-hpp` binary run as a user runs it, against the emulator over loopback: output
//! pinned with insta (ids, times and ports redacted), exit codes asserted, for success and for
//! every error class.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use klarna_hpp_sim::Fault;
use support::{files_in, lines_of, wait_exit, wait_for_line, Env, Pty, CART};

// ------------------------------------------------------------------ sessions

#[test]
fn session_create_prints_links_and_draws_the_qr_code() {
    let env = Env::new(101);
    let cart = env.file("cart.json", CART);
    let run = env.run(&[
        "session",
        "create",
        "--cart",
        cart.to_str().unwrap(),
        "--mode",
        "place-order",
        "--success-url",
        "http://127.0.0.1:9/ok?sid={{session_id}}&order={{order_id}}",
        "--category",
        "pay-later",
        "--category",
        "pay-now",
        "--fallback",
        "--purchase-type",
        "book",
        "--page-title",
        "Till 3",
        "--qr",
        "--qr-out",
        "link.svg",
    ]);
    assert_eq!(run.code, 0);
    // The drawing is the QR code of the redirect URL: light modules as blocks, two rows a line.
    let drawn: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.is_empty() && l.chars().all(|c| "█▀▄ ".contains(c)))
        .collect();
    assert_eq!(drawn, expected_qr(&run.field("redirect_url")));
    pin!("session_create", run.transcript());
    let svg = std::fs::read_to_string(env.path("link.svg")).expect("svg written");
    assert!(svg.contains("<svg"));

    // PNG too, and the JSON form: Klarna's three bodies, one per line, byte for byte.
    let run = env.run(&[
        "session",
        "create",
        "--cart",
        cart.to_str().unwrap(),
        "--qr-out",
        "link.png",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let png = std::fs::read(env.path("link.png")).expect("png written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let bodies: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON body"))
        .collect();
    assert_eq!(bodies.len(), 3);
    assert!(bodies[0]["client_token"].is_string());
    assert!(bodies[1]["expires_at"].is_string());
    assert!(bodies[2]["redirect_url"].is_string());
    // The first HPP session was made with the options given.
    let hpp_bodies: Vec<String> = env
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("hpp.create_session"))
        .map(|r| r.body)
        .collect();
    let first: serde_json::Value = serde_json::from_str(&hpp_bodies[0]).expect("json");
    assert_eq!(first["options"]["place_order_mode"], "PLACE_ORDER");
    assert_eq!(first["options"]["payment_fallback"], true);
    assert_eq!(first["options"]["purchase_type"], "BOOK");
    assert_eq!(
        first["options"]["payment_method_categories"][0],
        "PAY_LATER"
    );
}

#[test]
fn session_read_distribute_disable() {
    let env = Env::new(102);
    let hpp = env.create_session("none").field("hpp_session_id");
    let read = env.run(&["session", "read", &hpp]);
    let sms = env.run(&[
        "session",
        "distribute",
        &hpp,
        "--sms",
        "+46701234567",
        "--phone-country",
        "SE",
    ]);
    let disable = env.run(&["session", "disable", &hpp]);
    let read_again = env.run(&["session", "read", &hpp]);
    let distribute_disabled = env.run(&["session", "distribute", &hpp, "--email", "a@b.se"]);
    assert_eq!(
        [
            read.code,
            sms.code,
            disable.code,
            read_again.code,
            distribute_disabled.code
        ],
        [0, 0, 0, 0, 4]
    );
    // The message went out (the emulator records it) with the link in it.
    let messages = env.sim.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].method, "sms");
    pin!(
        "session_read_distribute_disable",
        [read, sms, disable, read_again, distribute_disabled]
            .iter()
            .map(|r| r.transcript())
            .collect::<Vec<_>>()
            .join("\n")
    );
    // --json: the exact body, nothing added.
    let json = env.run(&["session", "read", &hpp, "--json"]);
    let body: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(body["status"], "DISABLED");
}

#[test]
fn bad_cart_files_are_validation_errors() {
    let env = Env::new(103);
    let not_json = env.file("not-json.json", "{\"purchase_country\": ");
    let wrong_shape = env.file(
        "shape.json",
        r#"{"purchase_country":"SE","purchase_currency":"SEK","order_amount":"secret-value","order_tax_amount":0,"order_lines":[]}"#,
    );
    let mismatch = env.file(
        "mismatch.json",
        &CART.replace("\"order_amount\": 12500", "\"order_amount\": 12000"),
    );
    let runs: Vec<_> = [
        "missing.json",
        not_json.to_str().unwrap(),
        wrong_shape.to_str().unwrap(),
        mismatch.to_str().unwrap(),
    ]
    .iter()
    .map(|cart| env.run(&["session", "create", "--cart", cart]))
    .collect();
    for r in &runs {
        assert_eq!(r.code, 3, "{}", r.transcript());
        assert!(r.stdout.is_empty());
        assert!(
            !r.stderr.contains("secret-value"),
            "a value from the cart was echoed"
        );
    }
    // Nothing reached Klarna.
    assert!(env.sim.requests().is_empty());
    pin!(
        "bad_cart",
        runs.iter()
            .map(|r| r.transcript())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn unknown_ids_4xx_5xx_and_connection_refused() {
    let env = Env::new(104);
    let unknown_session = env.run(&["session", "read", "00000000-0000-4000-8000-000000000001"]);
    let unknown_order = env.run(&["order", "read", "00000000-0000-4000-8000-000000000002"]);
    let not_uuid = env.run(&["order", "read", "not-an-order"]);
    env.sim
        .add_fault(Fault::status("hpp.read_session", 503))
        .expect("fault");
    let fault = env.run(&["session", "read", "00000000-0000-4000-8000-000000000001"]);
    // Connection refused: a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let args = ["order", "read", "00000000-0000-4000-8000-000000000002"];
    let refused = env.run_with(env.command_at(&url, &args), &args, "");
    let mut wrong_password = env.command(&["kp", "read", "00000000-0000-4000-8000-000000000003"]);
    wrong_password.env("KLARNA_PASSWORD", "wrong");
    let unauthorized = env.run_with(
        wrong_password,
        &["kp", "read", "00000000-0000-4000-8000-000000000003"],
        "",
    );
    assert_eq!(
        [
            unknown_session.code,
            unknown_order.code,
            not_uuid.code,
            fault.code,
            refused.code,
            unauthorized.code
        ],
        [4, 4, 4, 5, 5, 4]
    );
    pin!(
        "error_classes",
        [
            unknown_session,
            unknown_order,
            not_uuid,
            fault,
            refused,
            unauthorized
        ]
        .iter()
        .map(|r| r.transcript())
        .collect::<Vec<_>>()
        .join("\n")
    );
}

#[test]
fn usage_errors() {
    let mut env = Env::new(105);
    let bad_flag = env.run(&["order", "read"]);
    let both = env.run(&["--playground", "order", "read", "x"]);
    let no_confirm = {
        let order = env.placed_order();
        env.run(&["order", "capture", &order])
    };
    env.env_credentials = None;
    let no_credentials = env.run(&["order", "read", "x"]);
    let no_profile = env.run(&["--profile", "nope", "order", "read", "x"]);
    for r in [&bad_flag, &both, &no_confirm, &no_credentials, &no_profile] {
        assert_eq!(r.code, 2, "{}", r.transcript());
    }
    // The capture was not sent.
    assert!(!env
        .sim
        .requests()
        .iter()
        .any(|r| r.operation.as_deref() == Some("om.create_capture")));
    pin!(
        "usage_errors",
        [both, no_confirm, no_credentials, no_profile]
            .iter()
            .map(|r| r.transcript())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ------------------------------------------------------------------ kp

#[test]
fn kp_read_update_and_place_order_from_a_watched_token() {
    let env = Env::new(106);
    let created = env.create_session("none");
    let kp = created.field("kp_session_id");
    let hpp = created.field("hpp_session_id");
    let read = env.run(&["kp", "read", &kp]);
    let update = env.file("update.json", r#"{"locale": "en-SE"}"#);
    let updated = env.run(&["kp", "update", &kp, "--cart", update.to_str().unwrap()]);
    assert_eq!((read.code, updated.code), (0, 0));

    let paid = env.sim.consumer(&hpp).pay().expect("pays");
    let token = paid.authorization_token.expect("token");
    // watch prints the token at COMPLETED (NONE mode): what place-order needs.
    let watched = env.run(&["session", "watch", &hpp]);
    assert_eq!(watched.code, 0, "{}", watched.transcript());
    assert_eq!(watched.field("authorization_token"), token);

    let cart = env.file("cart.json", CART);
    let placed = env.run_stdin(
        &[
            "kp",
            "place-order",
            "-",
            "--cart",
            cart.to_str().unwrap(),
            "--yes",
        ],
        &format!("{token}\n"),
    );
    assert_eq!(placed.code, 0, "{}", placed.transcript());
    // Again: a token places one order; the same body gives the same order.
    let again = env.run_stdin(
        &[
            "kp",
            "place-order",
            "-",
            "--cart",
            cart.to_str().unwrap(),
            "--yes",
        ],
        &format!("{token}\n"),
    );
    assert_eq!(again.field("order_id"), placed.field("order_id"));
    let completed = env.run(&["kp", "update", &kp, "--cart", update.to_str().unwrap()]);
    assert_eq!(completed.code, 4);
    pin!(
        "kp",
        [read, updated, placed, completed]
            .iter()
            .map(|r| r.transcript())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ------------------------------------------------------------------ orders

#[test]
fn order_commands() {
    let env = Env::new(107);
    let order = env.placed_order();
    let runs = vec![
        env.run(&["order", "read", &order]),
        env.run(&["order", "capture", &order, "--amount", "5000", "--yes"]),
        env.run(&["order", "capture", &order, "--amount", "99999", "--yes"]),
        env.run(&[
            "order",
            "refund",
            &order,
            "--amount",
            "1000",
            "--description",
            "Returned laces",
            "--yes",
        ]),
        env.run(&["order", "extend", &order]),
        env.run(&["order", "references", &order, "--reference1", "ORDER-1042"]),
        env.run(&["order", "cancel", &order, "--yes"]),
        env.run(&["order", "release", &order, "--yes"]),
        env.run(&["order", "read", &order]),
    ];
    let codes: Vec<i32> = runs.iter().map(|r| r.code).collect();
    assert_eq!(codes, [0, 0, 3, 0, 0, 0, 4, 0, 0]);
    let capture = runs[1].field("capture_id");
    let shipping = env.run(&[
        "order",
        "shipping-info",
        &order,
        &capture,
        "--company",
        "DHL",
        "--method",
        "home",
        "--tracking-number",
        "63456415674545679874",
    ]);
    assert_eq!(shipping.code, 0, "{}", shipping.transcript());
    // Every write carried the key it printed.
    let keys: Vec<String> = env
        .sim
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    for r in runs
        .iter()
        .chain([&shipping])
        .filter(|r| r.code == 0 && r.args[0] == "order" && r.args[1] != "read")
    {
        assert!(keys.contains(&r.key()), "{}", r.transcript());
    }
    // --json: the exact order body.
    let json = env.run(&["order", "read", &order, "--json"]);
    let body: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(body["captured_amount"], 5000);
    assert_eq!(body["refunded_amount"], 1000);
    assert_eq!(body["status"], "CAPTURED");
    assert_eq!(body["merchant_reference1"], "ORDER-1042");
    assert_eq!(
        body["captures"][0]["shipping_info"][0]["shipping_company"],
        "DHL"
    );
    pin!(
        "order_commands",
        runs.iter()
            .chain([&shipping])
            .map(|r| r.transcript())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_lost_capture_answer_rerun_with_the_printed_key_captures_once() {
    let env = Env::new(108);
    let order = env.placed_order();
    env.sim
        .add_fault(Fault::drop_after_commit("om.create_capture"))
        .expect("fault");
    let lost = env.run(&["order", "capture", &order, "--amount", "5000", "--yes"]);
    assert_eq!(lost.code, 5, "{}", lost.transcript());
    let key = lost.key();
    assert!(lost.stderr.contains(&format!(
        "run: klarna-hpp order capture {order} --amount 5000 --idempotency-key {key}"
    )));
    let again = env.run(&[
        "order",
        "capture",
        &order,
        "--amount",
        "5000",
        "--idempotency-key",
        &key,
        "--yes",
    ]);
    assert_eq!(again.code, 0, "{}", again.transcript());
    assert_eq!(again.key(), key);
    // One capture at Klarna: the order shows one, and the second request was a replay.
    let body: serde_json::Value =
        serde_json::from_str(&env.run(&["order", "read", &order, "--json"]).stdout).expect("json");
    assert_eq!(body["captured_amount"], 5000);
    assert_eq!(body["captures"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        again.field("capture_id"),
        body["captures"][0]["capture_id"].as_str().unwrap()
    );
    let captures: Vec<_> = env
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("om.create_capture"))
        .collect();
    assert_eq!(captures.len(), 2);
    assert!(captures[1].idempotent_replay);
    pin!(
        "lost_capture",
        format!("{}\n{}", lost.transcript(), again.transcript())
    );
}

// ------------------------------------------------------------------ watch

/// Starts `session watch` with pipes; returns the child and its stderr lines.
fn watch_piped(env: &Env, hpp: &str) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = env
        .command(&[
            "session",
            "watch",
            hpp,
            "--poll-initial-ms",
            "50",
            "--poll-max-ms",
            "200",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = lines_of(child.stderr.take().expect("stderr"));
    (child, lines)
}

fn stdout_of(child: &mut std::process::Child) -> String {
    let mut s = String::new();
    let _ = child.stdout.take().expect("stdout").read_to_string(&mut s);
    s
}

#[test]
fn watch_without_a_terminal_prints_plain_lines_until_completed() {
    let env = Env::new(109);
    let hpp = env.create_session("place-order").field("hpp_session_id");
    let (mut child, lines) = watch_piped(&env, &hpp);
    let mut seen = wait_for_line(&lines, "WAITING");
    let _ = env.sim.consumer(&hpp).open().expect("opens");
    seen.extend(wait_for_line(&lines, "IN_PROGRESS"));
    let outcome = env.sim.consumer(&hpp).pay().expect("pays");
    let code = wait_exit(&mut child);
    let stdout = stdout_of(&mut child);
    seen.extend(lines.iter());
    assert_eq!(code, 0);
    assert!(stdout.contains(&outcome.order_id.expect("order")));
    // Plain lines: no escape sequences, no spinner.
    assert!(seen
        .iter()
        .all(|l| !l.contains('\x1b') && !l.contains('\r')));
    pin!(
        "watch_plain",
        format!(
            "[exit {code}]\n--- stdout\n{stdout}--- stderr\n{}\n",
            seen.join("\n")
        )
    );
}

#[test]
fn watch_endings_have_their_exit_codes() {
    let env = Env::new(110);
    // FAILED: 11.
    let hpp = env.create_session("none").field("hpp_session_id");
    let (mut child, lines) = watch_piped(&env, &hpp);
    let _ = wait_for_line(&lines, "WAITING");
    let _ = env.sim.consumer(&hpp).decline().expect("declines");
    assert_eq!(wait_exit(&mut child), 11);
    // DISABLED by the merchant while watching: 12.
    let hpp = env.create_session("none").field("hpp_session_id");
    let (mut child, lines) = watch_piped(&env, &hpp);
    let _ = wait_for_line(&lines, "WAITING");
    assert_eq!(env.run(&["session", "disable", &hpp]).code, 0);
    assert_eq!(wait_exit(&mut child), 12);
    let _ = wait_for_line(&lines, "the session is disabled");
    // Expired (Klarna forgets it): 13.
    let hpp = env.create_session("none").field("hpp_session_id");
    let (mut child, lines) = watch_piped(&env, &hpp);
    let _ = wait_for_line(&lines, "WAITING");
    let _ = env.sim.advance(std::time::Duration::from_secs(48 * 3600));
    assert_eq!(wait_exit(&mut child), 13);
    let _ = wait_for_line(&lines, "expired");
    // Ctrl-C: 130.
    let hpp = env.create_session("none").field("hpp_session_id");
    let (mut child, lines) = watch_piped(&env, &hpp);
    let _ = wait_for_line(&lines, "WAITING");
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::INT,
    )
    .expect("SIGINT");
    assert_eq!(wait_exit(&mut child), 130);
    let _ = wait_for_line(&lines, "interrupted");
    // CANCELLED needs an in-store session (e-commerce cancel is BACK): 10.
    let cart = env.file(
        "in-store.json",
        &CART.replace(
            "\"locale\": \"sv-SE\",",
            "\"locale\": \"sv-SE\", \"acquiring_channel\": \"IN_STORE\",",
        ),
    );
    let created = env.run(&["session", "create", "--cart", cart.to_str().unwrap()]);
    let hpp = created.field("hpp_session_id");
    let (mut child, lines) = watch_piped(&env, &hpp);
    let _ = wait_for_line(&lines, "WAITING");
    let _ = env.sim.consumer(&hpp).cancel().expect("cancels");
    assert_eq!(wait_exit(&mut child), 10);
    let _ = wait_for_line(&lines, "the consumer cancelled");
}

#[test]
fn watch_in_a_pseudo_terminal_redraws_a_status_line_until_the_consumer_pays() {
    let env = Env::new(111);
    let hpp = env.create_session("none").field("hpp_session_id");
    let mut pty = Pty::spawn(env.command(&[
        "session",
        "watch",
        &hpp,
        "--poll-initial-ms",
        "50",
        "--poll-max-ms",
        "200",
    ]));
    pty.wait_until(|s| s.matches("WAITING · expires in").count() >= 3);
    let token = env
        .sim
        .consumer(&hpp)
        .pay()
        .expect("pays")
        .authorization_token
        .expect("token");
    let (code, text) = pty.finish();
    assert_eq!(code, 0, "{text}");
    // The line is redrawn in place (carriage return, erase line) with a spinner and the time
    // left; the status change is kept on screen; the token is the result.
    assert!(text.contains("\r\x1b[2K⠙"), "{text}");
    assert!(text.contains("WAITING · expires in 46h"), "{text}");
    let after = &text[text.rfind("\r\x1b[2K").expect("redraws")..];
    assert!(after.contains("COMPLETED"), "{text}");
    assert!(
        text.contains(&format!("authorization_token  {token}")),
        "{text}"
    );
}

#[test]
fn money_moves_only_when_the_operator_confirms_on_the_terminal() {
    let env = Env::new(115);
    let order = env.placed_order();
    let captures = || {
        env.sim
            .requests()
            .iter()
            .filter(|r| r.operation.as_deref() == Some("om.create_capture"))
            .count()
    };
    // "n": declined, exit 6, nothing sent.
    let mut pty = Pty::spawn(env.command(&["order", "capture", &order, "--amount", "2000"]));
    pty.wait_until(|s| s.contains("Proceed? [y/N]"));
    pty.type_text("n\n");
    let (code, text) = pty.finish();
    assert_eq!(code, 6, "{text}");
    assert!(text.contains("About to capture 20.00 SEK (2000)"), "{text}");
    assert_eq!(captures(), 0);
    // "y": captured once.
    let mut pty = Pty::spawn(env.command(&["order", "capture", &order, "--amount", "2000"]));
    pty.wait_until(|s| s.contains("Proceed? [y/N]"));
    pty.type_text("y\n");
    let (code, text) = pty.finish();
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("captured         20.00 SEK (2000)"), "{text}");
    assert_eq!(captures(), 1);
}

#[test]
fn set_profile_on_a_terminal_does_not_echo_the_password() {
    let mut env = Env::new(116);
    env.env_credentials = None;
    let password = env.sim.password().to_owned();
    let mut pty = Pty::spawn(env.command(&["config", "set-profile", "default"]));
    pty.wait_until(|s| s.contains("Klarna API username: "));
    pty.type_text(&format!("{}\n", env.sim.username()));
    pty.wait_until(|s| s.contains("password (not shown): "));
    pty.type_text(&format!("{password}\n"));
    let (code, text) = pty.finish();
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("saved profile `default`"), "{text}");
    assert!(
        !text.contains(&password),
        "the password was echoed:\n{text}"
    );
    // The default profile now works without any environment variable.
    let used = env.run(&["session", "read", "00000000-0000-4000-8000-000000000001"]);
    assert_eq!(used.code, 4, "{}", used.transcript());
}

// ------------------------------------------------------------------ config, completions, help

#[test]
fn config_set_profile_reads_the_password_from_stdin_and_writes_0600() {
    let mut env = Env::new(112);
    env.env_credentials = None;
    let password = env.sim.password().to_owned();
    let username = env.sim.username().to_owned();
    let saved = env.run_stdin(
        &["config", "set-profile", "emulator", "--username", &username],
        &format!("{password}\n"),
    );
    assert_eq!(saved.code, 0, "{}", saved.transcript());
    let file = env.config.path().join("profiles.json");
    let mode = std::fs::metadata(&file).expect("file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(files_in(env.config.path()), ["profiles.json"]);
    let list = env.run(&["config", "list"]);
    let used = env.run(&[
        "--profile",
        "emulator",
        "session",
        "read",
        "00000000-0000-4000-8000-000000000001",
    ]);
    // The profile's credentials and base URL were used: Klarna answered (404), not 401.
    assert_eq!(used.code, 4);
    assert!(used.stderr.contains("404"), "{}", used.transcript());
    pin!(
        "config",
        format!("{}\n{}", saved.transcript(), list.transcript())
    );
}

#[test]
fn completions_and_help_with_examples_for_every_command() {
    let env = Env::new(113);
    let bash = env.run(&["completions", "bash"]);
    assert_eq!(bash.code, 0);
    assert!(bash.stdout.contains("complete -F") && bash.stdout.contains("shipping-info"));
    let commands: &[&[&str]] = &[
        &[],
        &["session"],
        &["kp"],
        &["order"],
        &["config"],
        &["session", "create"],
        &["session", "read"],
        &["session", "watch"],
        &["session", "distribute"],
        &["session", "disable"],
        &["kp", "read"],
        &["kp", "update"],
        &["kp", "place-order"],
        &["order", "read"],
        &["order", "capture"],
        &["order", "refund"],
        &["order", "cancel"],
        &["order", "release"],
        &["order", "extend"],
        &["order", "references"],
        &["order", "shipping-info"],
        &["config", "set-profile"],
        &["config", "list"],
        &["config", "path"],
        &["completions"],
        &["demo"],
        &["sim"],
        &["worker"],
        &["checkouts"],
        &["checkouts", "list"],
        &["checkouts", "show"],
    ];
    for c in commands {
        let mut args = c.to_vec();
        args.push("--help");
        let help = env.run(&args);
        assert_eq!(help.code, 0, "{}", help.transcript());
        assert!(help.stdout.contains("Example"), "{}", help.transcript());
    }
    pin!(
        "help_order_capture",
        env.run(&["order", "capture", "--help"]).stdout
    );
}

// ------------------------------------------------------------------ secrets

#[test]
fn no_secret_appears_in_any_output_or_beside_the_config_file() {
    let username = "cli-user-5b1e7";
    let password = "pw-S3cr3t-4a7c9";
    let callback_secret = "cbsecret8f2d1c";
    let mut env = Env::with_sim(
        klarna_hpp_sim::SimConfig::default()
            .with_seed(114)
            .with_credentials(username, password),
    );
    env.env_credentials = None;
    let mut runs = vec![env.run_stdin(
        &["config", "set-profile", "live", "--username", username],
        &format!("{password}\n"),
    )];
    env.extra_env = vec![
        ("KLARNA_PROFILE".into(), "live".into()),
        ("KLARNA_CALLBACK_SECRET".into(), callback_secret.into()),
    ];
    let cart = env.file("cart.json", CART);
    let cart = cart.to_str().unwrap();
    let create = |mode: &str, json: bool| {
        let mut args = vec![
            "session",
            "create",
            "--cart",
            cart,
            "--mode",
            mode,
            "--status-update-url",
            "http://127.0.0.1:9/klarna/status",
            "--success-url",
            "http://127.0.0.1:9/ok?sid={{session_id}}",
        ];
        if json {
            args.push("--json");
        }
        env.run(&args)
    };
    let none = create("none", false);
    let kp = none.field("kp_session_id");
    let hpp = none.field("hpp_session_id");
    runs.push(none);
    runs.push(create("place-order", true));
    runs.push(env.run(&["session", "read", &hpp]));
    runs.push(env.run(&[
        "session",
        "distribute",
        &hpp,
        "--email",
        "consumer@example.com",
    ]));
    runs.push(env.run(&["kp", "read", &kp]));
    let update = env.file("update.json", r#"{"locale": "en-SE"}"#);
    runs.push(env.run(&["kp", "update", &kp, "--cart", update.to_str().unwrap()]));
    let token = env
        .sim
        .consumer(&hpp)
        .pay()
        .expect("pays")
        .authorization_token
        .expect("token");
    runs.push(env.run(&["session", "watch", &hpp]));
    runs.push(env.run_stdin(&["kp", "place-order", "-", "--cart", cart, "--yes"], &token));
    let order = runs.last().unwrap().field("order_id");
    for args in [
        vec!["order", "read", order.as_str()],
        vec!["order", "capture", &order, "--amount", "5000", "--yes"],
        vec!["order", "refund", &order, "--amount", "100", "--yes"],
        vec!["order", "extend", &order],
        vec!["order", "references", &order, "--reference2", "r2"],
        vec!["order", "release", &order, "--yes"],
        vec!["order", "cancel", &order, "--yes"],
        vec!["order", "read", &order, "--json"],
        vec!["session", "disable", &hpp],
        vec!["session", "read", "00000000-0000-4000-8000-000000000009"],
        vec!["config", "list"],
        vec!["config", "path"],
        vec!["completions", "bash"],
    ] {
        runs.push(env.run(&args));
    }
    let capture = env
        .run(&["order", "read", &order, "--json"])
        .stdout
        .split("\"capture_id\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a capture")
        .to_owned();
    runs.push(env.run(&[
        "order",
        "shipping-info",
        &order,
        &capture,
        "--company",
        "DHL",
    ]));
    runs.push(env.run(&[
        "--json",
        "order",
        "read",
        "00000000-0000-4000-8000-000000000009",
    ]));

    // The runs did their work with these secrets (else this test could not fail).
    // All succeed but the four refusals asked for (cancel after a capture, disable a completed
    // session, two unknown ids).
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| r.code != 0)
        .map(|r| r.transcript())
        .collect();
    assert_eq!(failed.len(), 4, "{}", failed.join("\n"));
    assert!(runs.iter().all(|r| r.code == 0 || r.code == 4));
    let sent_secret = env.sim.requests().iter().any(|r| {
        r.operation.as_deref() == Some("hpp.create_session") && r.body.contains(callback_secret)
    });
    assert!(sent_secret, "the callback secret reached Klarna");

    use std::io::Write as _;
    let basic = {
        // The Authorization header's value must not leak either.
        let mut out = Vec::new();
        let _ = write!(out, "{username}:{password}");
        base64(&out)
    };
    for r in &runs {
        for secret in [username, password, callback_secret, basic.as_str()] {
            assert!(
                !r.stdout.contains(secret) && !r.stderr.contains(secret),
                "{secret} in\n{}",
                r.transcript()
            );
        }
    }
    // Beside the profiles file: nothing (the temporary file was renamed over it).
    for name in files_in(env.config.path()) {
        assert_eq!(name, "profiles.json");
    }
    for name in files_in(env.work.path()) {
        let content = std::fs::read(env.work.path().join(&name)).unwrap_or_default();
        let content = String::from_utf8_lossy(&content);
        for secret in [username, password, callback_secret] {
            assert!(!content.contains(secret), "{secret} in {name}");
        }
    }
}

/// The code of `data` drawn with half blocks and a 4-module quiet zone, light modules as blocks.
fn expected_qr(data: &str) -> Vec<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).expect("encodes");
    let w = code.width();
    let colors = code.to_colors();
    let side = w + 8;
    let light = |x: usize, y: usize| {
        y >= side
            || x < 4
            || y < 4
            || x >= w + 4
            || y >= w + 4
            || colors[(y - 4) * w + (x - 4)] == qrcode::Color::Light
    };
    (0..side)
        .step_by(2)
        .map(|y| {
            (0..side)
                .map(|x| match (light(x, y), y + 1 < side && light(x, y + 1)) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                })
                .collect()
        })
        .collect()
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
