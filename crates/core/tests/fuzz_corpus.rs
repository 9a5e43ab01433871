//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through the same checks the
//! fuzz targets run (`fuzz/src/lib.rs`, included here), so `cargo test` keeps them passing without
//! nightly or cargo-fuzz. Also checks that each corpus covers the paths that matter.

#[path = "../../../fuzz/src/lib.rs"]
mod checks;

use std::path::PathBuf;

use klarna_hpp_core::checkout::State;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let name = path
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("readable"))
        })
        .collect();
    files.sort();
    assert!(
        (10..=40).contains(&files.len()),
        "{target}: {} corpus files",
        files.len()
    );
    files
}

#[test]
fn template_corpus_replays() {
    let mut parsed = 0;
    let mut refused = 0;
    let mut matched = 0;
    let mut kp = 0;
    for (name, data) in corpus("template") {
        let outcome = std::panic::catch_unwind(|| checks::template(&data))
            .unwrap_or_else(|_| panic!("template corpus file {name} breaks an invariant"));
        parsed += usize::from(outcome.parsed);
        refused += usize::from(!outcome.parsed);
        matched += usize::from(outcome.matched_input);
        kp += usize::from(outcome.kp_parsed);
    }
    assert!(parsed >= 8, "parsed {parsed}");
    assert!(refused >= 8, "refused {refused}");
    assert!(matched >= 6, "matched {matched}");
    assert!(kp >= 1, "kp {kp}");
}

#[test]
fn template_corpus_specific_outcomes() {
    let outcome = |name: &str| {
        let data = corpus("template")
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no corpus file {name}"))
            .1;
        checks::template(&data)
    };
    assert!(outcome("spec_success_example").matched_input);
    assert!(outcome("origin_form_extra_params").matched_input);
    assert!(outcome("dash_delimiter_raw_uuid").matched_input);
    assert!(!outcome("unknown_placeholder").parsed);
    let kp = outcome("kp_style");
    assert!(!kp.parsed && kp.kp_parsed);
    assert!(outcome("pathological_dots").parsed);
    assert!(!outcome("pathological_dots").matched_input);
}

#[test]
fn decode_hpp_corpus_replays() {
    let mut sessions = 0;
    let mut created = 0;
    let mut callbacks = 0;
    let mut errors = 0;
    for (name, data) in corpus("decode_hpp") {
        let outcome = std::panic::catch_unwind(|| checks::decode_hpp(&data))
            .unwrap_or_else(|_| panic!("decode_hpp corpus file {name} breaks an invariant"));
        sessions += usize::from(outcome.session);
        created += usize::from(outcome.created);
        callbacks += usize::from(outcome.callback);
        errors += usize::from(!(200..300).contains(&outcome.status));
    }
    assert!(sessions >= 8, "sessions {sessions}");
    assert!(created >= 1, "created {created}");
    assert!(callbacks >= 2, "callbacks {callbacks}");
    assert!(errors >= 4, "error statuses {errors}");
}

#[test]
fn status_prefix_is_read_as_documented() {
    assert_eq!(checks::split_status(b"404{}"), (404, &b"{}"[..]));
    assert_eq!(checks::split_status(b"200"), (200, &b""[..]));
    assert_eq!(checks::split_status(&[0x2c, 0x01, b'x']), (400, &b"x"[..]));
    assert_eq!(checks::split_status(b"{"), (200, &b"{"[..]));
}

#[test]
fn decode_kp_om_corpus_replays() {
    let mut decoded = 0;
    let mut decode_errors = 0;
    let mut api_errors = 0;
    let mut with_strings = 0;
    let mut created_ids = 0;
    for (name, data) in corpus("decode_kp_om") {
        let outcome = std::panic::catch_unwind(|| checks::decode_kp_om(&data))
            .unwrap_or_else(|_| panic!("decode_kp_om corpus file {name} breaks an invariant"));
        decoded += usize::from(outcome.decoded > 0);
        decode_errors += usize::from(outcome.decode_errors > 0);
        api_errors += usize::from(!(200..300).contains(&outcome.status));
        with_strings += usize::from(outcome.has_strings && outcome.decode_errors > 0);
        created_ids += usize::from(outcome.created_id);
    }
    assert!(decoded >= 10, "decoded {decoded}");
    assert!(decode_errors >= 10, "decode errors {decode_errors}");
    assert!(api_errors >= 6, "error statuses {api_errors}");
    assert!(
        with_strings >= 4,
        "decode errors on inputs with strings {with_strings}"
    );
    assert!(created_ids >= 2, "created ids {created_ids}");
}

#[test]
fn decode_kp_om_specific_outcomes() {
    let outcome = |name: &str| {
        let data = std::fs::read(corpus_dir("decode_kp_om").join(name)).expect("corpus file");
        checks::decode_kp_om(&data)
    };
    // Each decoder with a body decodes its own example.
    for name in [
        "kp_session_created",
        "kp_session_read_complete",
        "kp_order_created",
        "kp_customer_token",
        "om_order_full",
        "om_captures_list",
        "om_capture_one",
        "om_refund_one",
    ] {
        assert!(outcome(name).decoded >= 1, "{name}");
    }
    // `order_amount: "Jane Doe"` fails every typed decoder that reads it, without showing it.
    assert!(outcome("leak_name_as_amount").decode_errors >= 4);
    assert!(outcome("created_201_id_line").created_id);
    assert_eq!(outcome("binary_status").status, 400);
    assert_eq!(outcome("informational_100").decoded, 0);
}

#[test]
fn quoted_values_are_found() {
    assert_eq!(
        checks::quoted_values(br#"{"a":["Jane",""],"b":{"c":"x\"y"}}"#),
        vec![r#""Jane""#, r#""x"y""#, r#""x\"y""#]
    );
    assert_eq!(checks::quoted_values(br#"<p a="Jane">"#), vec![r#""Jane""#]);
}

#[test]
fn checkout_corpus_replays() {
    let mut reached: Vec<State> = Vec::new();
    let mut forged = 0;
    let mut accepted = 0;
    let mut redirects = 0;
    let mut restores = 0;
    let mut refused = 0;
    for (name, data) in corpus("checkout") {
        let outcome = std::panic::catch_unwind(|| checks::checkout(&data))
            .unwrap_or_else(|_| panic!("checkout corpus file {name} breaks an invariant"));
        for s in outcome.states {
            if !reached.contains(&s) {
                reached.push(s);
            }
        }
        forged += outcome.forged_rejected;
        accepted += outcome.callbacks_accepted;
        redirects += outcome.redirects_matched;
        restores += outcome.restores;
        refused += outcome.commands_refused;
    }
    for s in [
        State::CreatingKpSession,
        State::CreatingHppSession,
        State::AwaitingConsumer,
        State::Authorized,
        State::PlacingOrder,
        State::OrderPlaced,
        State::Captured,
        State::Cancelled,
        State::Disabled,
        State::Expired,
        State::Failed,
    ] {
        assert!(reached.contains(&s), "no checkout seed reaches {s:?}");
    }
    assert!(forged >= 4, "forged callbacks {forged}");
    assert!(accepted >= 2, "accepted callbacks {accepted}");
    assert!(redirects >= 2, "redirects {redirects}");
    assert!(restores >= 15, "restores {restores}");
    assert!(refused >= 10, "refused commands {refused}");
}

/// The named seeds decode back to themselves, are committed as written, and end where they say.
#[test]
fn checkout_seeds_are_current() {
    // `WRITE_CHECKOUT_SEEDS=1 cargo test -p klarna-hpp-core --test fuzz_corpus` regenerates them.
    if std::env::var_os("WRITE_CHECKOUT_SEEDS").is_some() {
        let dir = corpus_dir("checkout");
        std::fs::create_dir_all(&dir).expect("corpus directory");
        for seed in checks::seeds() {
            std::fs::write(dir.join(seed.name), seed.input.encode()).expect("writable");
        }
    }
    for seed in checks::seeds() {
        let bytes = seed.input.encode();
        assert_eq!(
            checks::CheckoutInput::decode(&bytes),
            seed.input,
            "{}: the encoding does not decode back",
            seed.name
        );
        let committed = std::fs::read(corpus_dir("checkout").join(seed.name)).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (regenerate with WRITE_CHECKOUT_SEEDS=1)",
                seed.name
            )
        });
        assert!(
            committed == bytes,
            "{}: stale (regenerate with WRITE_CHECKOUT_SEEDS=1)",
            seed.name
        );
        let outcome = checks::run_checkout(&seed.input);
        assert_eq!(outcome.steps, seed.input.steps.len(), "{}", seed.name);
        assert_eq!(
            outcome.final_state, seed.ends_in,
            "{}: {outcome:?}",
            seed.name
        );
    }
}

#[test]
fn checkout_seed_stories_do_what_they_say() {
    let run = |name: &str| {
        let seed = checks::seeds()
            .into_iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no seed {name}"));
        checks::run_checkout(&seed.input)
    };
    let happy = run("none_captured_and_refunded");
    assert!(happy.order_placed);
    assert_eq!((happy.captured, happy.refunded), (12_000, 2_000));
    let lower = run("none_lower_order_two_captures");
    assert_eq!((lower.captured, lower.refunded), (10_000, 10_000));
    assert_eq!(run("restart_mid_capture_replays_key").captured, 12_000);
    assert_eq!(run("capture_5xx_is_replayed_not_doubled").captured, 12_000);
    let callbacks = run("callbacks_real_duplicate_forged");
    // Forged, wrong, truncated and upper-case secrets (a wrong secret before the real one is
    // refused too, but its URI contains the real secret).
    assert_eq!(callbacks.forged_rejected, 4);
    assert!(callbacks.callbacks_accepted >= 2);
    assert!(run("redirects").redirects_matched >= 2);
    assert!(!run("place_order_unknown_until_token_expiry").order_placed);
}
