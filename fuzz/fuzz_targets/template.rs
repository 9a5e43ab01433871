//! Template parse, check, render and match on arbitrary input (see `klarna_hpp_fuzz::template`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    klarna_hpp_fuzz::template(data);
});
