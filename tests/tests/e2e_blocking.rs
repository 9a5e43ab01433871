//! The end-to-end cases of `klarna_hpp_tests::scenario`, run with the blocking adapter
//! (`klarna_hpp_blocking::Driver` + `UreqTransport`) against the emulator over real HTTP on
//! 127.0.0.1, on the emulator's virtual clock.

klarna_hpp_tests::e2e_cases!(klarna_hpp_tests::run::run_blocking);
