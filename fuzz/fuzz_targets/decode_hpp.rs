//! Every HPP response decoder and the callback decoder on arbitrary bytes and status (see
//! `klarna_hpp_fuzz::decode_hpp`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    klarna_hpp_fuzz::decode_hpp(data);
});
