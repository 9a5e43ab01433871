//! Every KP and OM response decoder with a body, and the capture/refund creation decoders, on
//! arbitrary bytes and status (see `klarna_hpp_fuzz::decode_kp_om`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    klarna_hpp_fuzz::decode_kp_om(data);
});
