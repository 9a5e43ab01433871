//! The end-to-end cases of `klarna_hpp_tests::scenario`, run with the async adapter
//! (`klarna_hpp_async::Driver` + `ReqwestTransport` on tokio) against the emulator over real
//! HTTP on 127.0.0.1, on the emulator's virtual clock.

klarna_hpp_tests::e2e_cases!(klarna_hpp_tests::run::run_async);
