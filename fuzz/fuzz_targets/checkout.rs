//! One checkout driven by responses, failures, time, callbacks, redirects, commands and
//! restarts decoded from the input (see `klarna_hpp_fuzz::checkout`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    klarna_hpp_fuzz::checkout(data);
});
