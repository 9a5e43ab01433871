//! `demo` through the runtime, `checkouts list|show`, and `worker` as a real process: the built
//! binary against SQLite files and the emulator (in-process, over real HTTP).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use klarna_hpp_async::ReqwestTransport;
use klarna_hpp_core::checkout::{CheckoutConfig, PollPolicy, State};
use klarna_hpp_core::hpp::MerchantUrls;
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::{Api, BaseUrl, Credentials};
use klarna_hpp_runtime::{CheckoutStore, Runtime, RuntimeConfig};
use support::{lines_of, wait_exit, wait_for_line, Env, Run};

fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The emulator's default password: the demo's emulator uses it too.
fn sim_password() -> String {
    Env::new(1).sim.password().to_owned()
}

/// No secret in a run's output: the API password, the Basic authorization value, an
/// authorization token in a path.
fn assert_no_secrets(text: &str, password: &str, tokens: &[&str]) {
    assert!(!text.contains(password), "password printed:\n{text}");
    assert!(!text.contains("Basic "), "authorization printed:\n{text}");
    for t in tokens {
        assert!(!text.contains(t), "token {t} printed:\n{text}");
    }
    for (i, _) in text.match_indices("/authorizations/") {
        assert!(
            text[i..].starts_with("/authorizations/[token]"),
            "token path printed:\n{text}"
        );
    }
}

fn demo(env: &Env, db: &str, mode: &str, outcome: &str) -> Run {
    let run = env.run(&[
        "demo",
        "--mode",
        mode,
        "--outcome",
        outcome,
        "--database",
        db,
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    run
}

/// The id the demo printed.
fn demo_id(run: &Run) -> String {
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("runtime: checkout demo-"))
        .unwrap_or_else(|| panic!("no checkout id in\n{}", run.transcript()));
    let start = line.find("demo-").unwrap();
    line[start..].split_whitespace().next().unwrap().to_owned()
}

async fn stored_state(db: &str, id: &str) -> (String, Option<String>, Vec<String>) {
    let store = CheckoutStore::connect(db).await.unwrap();
    let row = store
        .get(id)
        .await
        .unwrap()
        .expect("the checkout is stored");
    let kinds = store
        .events_of(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    store.close().await;
    (row.state, row.order_id, kinds)
}

#[test]
fn demo_drives_its_checkout_through_the_runtime_into_the_sqlite_file() {
    let env = Env::new(3);
    let password = sim_password();
    let rt = tokio();
    for (mode, outcome, state, order) in [
        ("none", "pay", "Captured", true),
        ("place", "back", "Captured", true),
        ("capture", "decline", "Disabled", false),
        ("none", "expire", "Expired", false),
    ] {
        let path = env.work.path().join(format!("{mode}-{outcome}.db"));
        let db = format!("sqlite://{}", path.display());
        let run = demo(&env, &db, mode, outcome);
        let id = demo_id(&run);
        assert!(
            run.stdout
                .contains(&format!("final state (from the store): {state};")),
            "{}",
            run.transcript()
        );
        assert_no_secrets(&run.stdout, &password, &[]);
        assert_no_secrets(&run.stderr, &password, &[]);
        let (stored, order_id, kinds) = rt.block_on(stored_state(&db, &id));
        assert_eq!(stored, state, "{mode}/{outcome}:\n{}", run.transcript());
        assert_eq!(order_id.is_some(), order, "{mode}/{outcome}");
        if order {
            // Placed (by the runtime's policy in mode NONE, by HPP otherwise) and captured by
            // the capture-on-order policy: exactly once each.
            let count = |k: &str| kinds.iter().filter(|x| x.as_str() == k).count();
            assert_eq!(count("OrderPlaced"), 1, "{kinds:?}");
            assert_eq!(count("Captured"), 1, "{kinds:?}");
            assert_eq!(
                count("Authorized"),
                usize::from(mode == "none"),
                "{kinds:?}"
            );
        }
    }
}

#[test]
fn checkouts_list_and_show_read_a_demo_database_without_secrets() {
    let env = Env::new(4);
    let password = sim_password();
    let db = format!("sqlite://{}", env.work.path().join("shop.db").display());
    let paid = demo_id(&demo(&env, &db, "none", "pay"));
    let declined = demo_id(&demo(&env, &db, "place", "decline"));
    let filters = |mut f: Vec<(&'static str, &'static str)>| {
        f.push((r"demo-\d+", "demo-[id]"));
        f.push((r"(?m)^version(\s+)\d+$", "version${1}[n]"));
        f
    };

    let list = env.run(&["checkouts", "list", "--database", &db]);
    let mut transcript = list.transcript();
    for (state, args) in [
        ("Disabled", vec!["checkouts", "list", "--state", "disabled"]),
        ("--unresolved", vec!["checkouts", "list", "--unresolved"]),
    ] {
        let mut args = args;
        args.extend(["--database", &db]);
        let run = env.run(&args);
        assert_eq!(run.code, 0, "{state}: {}", run.transcript());
        transcript.push_str(&run.transcript());
    }
    let show = env.run(&["checkouts", "show", &paid, "--database", &db]);
    assert_eq!(show.code, 0, "{}", show.transcript());
    // The key/value table is pinned; the events (whose number depends on when callbacks
    // arrived) are checked as a sequence.
    let (table, events) = show.stdout.split_once("\n\n").expect("two tables");
    transcript.push_str(&format!(
        "$ klarna-hpp checkouts show [paid] --database [db]\n[exit {}]\n{table}\n",
        show.code
    ));
    let kinds: Vec<&str> = events
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    let wanted = [
        "KpSessionCreated",
        "ConsumerLinkReady",
        "Authorized",
        "OrderPlaced",
        "Captured",
    ];
    let mut it = kinds.iter();
    for w in wanted {
        assert!(
            it.any(|k| *k == w),
            "{w} missing or out of order in {kinds:?}"
        );
    }
    let declined_show = env.run(&["checkouts", "show", &declined, "--database", &db]);
    assert_eq!(declined_show.code, 0);
    assert!(declined_show
        .stdout
        .contains("state                 Disabled"));
    let unknown = env.run(&["checkouts", "show", "demo-0", "--database", &db]);
    transcript.push_str(&unknown.transcript());
    let bad_url = env.run(&["checkouts", "list", "--database", "mysql://h/db"]);
    transcript.push_str(&bad_url.transcript());
    assert_eq!(unknown.code, 4);
    assert_eq!(bad_url.code, 2);
    let transcript = transcript.replace(&db, "[db]");
    insta::with_settings!({filters => filters(support::filters())}, {
        insta::assert_snapshot!("checkouts_list_show", transcript);
    });

    let json = env.run(&["--json", "checkouts", "show", &paid, "--database", &db]);
    assert_eq!(json.code, 0, "{}", json.transcript());
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["state"], "Captured");
    assert_eq!(value["checkout_id"], paid.as_str());
    assert_eq!(value["captured_amount"], 164_600);
    assert!(value["deadlines"]["order_authorization"].is_string());
    let listed = env.run(&["--json", "checkouts", "list", "--database", &db]);
    let all: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    for run in [&list, &show, &declined_show, &json, &listed] {
        assert_no_secrets(&run.stdout, &password, &[]);
        assert_no_secrets(&run.stderr, &password, &[]);
    }
}

fn checkout_config(id: &str) -> CheckoutConfig {
    let lines = vec![OrderLine::new("Running shoes", 1, 12_500)
        .kind(OrderLineType::Physical)
        .tax_rate(2500)];
    let urls = MerchantUrls::default().with(
        UrlKind::Success,
        "https://shop.example/klarna/success?sid={{session_id}}",
    );
    CheckoutConfig::new(id, "cli-worker-test-seed-0123456789", {
        SessionCreate::new("SE", "SEK", lines)
    })
    .merchant_urls(urls)
    .poll(PollPolicy {
        initial: Duration::from_millis(200),
        factor: 1.5,
        max: Duration::from_secs(1),
    })
}

#[test]
fn worker_process_drives_a_checkout_to_completion_and_stops_on_sigterm() {
    let env = Env::new(5);
    let db = format!("sqlite://{}", env.work.path().join("worker.db").display());
    let rt = tokio();
    let api = Api::new(
        BaseUrl::custom(env.sim.base_url()).unwrap(),
        Credentials::new(env.sim.username(), env.sim.password()),
    );
    // The shop: starts the checkout and leaves the rest to the worker.
    let runtime = rt.block_on(async {
        let store = CheckoutStore::connect(&db).await.unwrap();
        Runtime::new(
            store,
            api,
            ReqwestTransport::default(),
            RuntimeConfig::default(),
        )
    });

    let mut cmd = env.command(&[
        "worker",
        "--database",
        &db,
        "--capture-on-order",
        "--idle-ms",
        "50",
    ]);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the worker");
    let stderr = lines_of(child.stderr.take().unwrap());
    let mut log = wait_for_line(&stderr, "worker started");

    let started = rt
        .block_on(runtime.start(checkout_config("cli-worker-1")))
        .unwrap();
    let link = started.link.expect("the consumer link");
    // The consumer pays on the hosted page and never comes back to the shop: the worker's
    // polls find out, place the order (policy) and capture it (--capture-on-order).
    let paid = env.sim.consumer(&link.session_id).pay().expect("pays");
    let token = paid.authorization_token.expect("a token (mode NONE)");
    let deadline = Instant::now() + Duration::from_secs(60);
    let view = loop {
        let view = rt.block_on(runtime.show("cli-worker-1")).unwrap();
        if view.state == State::Captured || view.state.is_terminal() {
            break view;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not finish: {view:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(view.state, State::Captured);
    assert_eq!(view.captured, 12_500);
    let order_id = view.order_id.clone().expect("an order");

    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    assert_eq!(wait_exit(&mut child), 0, "the worker exits 0 on SIGTERM");
    log.extend(wait_for_line(&stderr, "worker stopped"));
    while let Ok(line) = stderr.recv_timeout(Duration::from_millis(200)) {
        log.push(line);
    }
    let log = log.join("\n");
    assert!(log.contains("shutting down"), "{log}");
    // Everything it logged: no password, no Basic authorization, no authorization token.
    assert_no_secrets(&log, env.sim.password(), &[&token]);
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert_no_secrets(&stdout, env.sim.password(), &[&token]);

    // The emulator's log: one order placed, one capture of it, both answered 2xx.
    let requests = env.sim.requests();
    let ok = |suffix: &str| {
        requests
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with(suffix))
            .filter(|r| r.status.is_some_and(|s| (200..300).contains(&s)))
            .count()
    };
    assert_eq!(ok("/order"), 1);
    assert_eq!(ok(&format!("/orders/{order_id}/captures")), 1);
}
