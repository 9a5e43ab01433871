//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through the same checks the
//! fuzz targets run (`fuzz/src/lib.rs`, included here), so `cargo test` keeps them passing without
//! nightly or cargo-fuzz. Also checks that each corpus covers the paths that matter.

#[path = "../../../fuzz/src/lib.rs"]
mod checks;

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
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
        (10..=30).contains(&files.len()),
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
