//! End-to-end tests across the klarna-hpp crates live in `tests/tests/`; this library holds
//! what they share:
//!
//! - [`clock::SimClock`]: the emulator's virtual clock as the blocking and async drivers' clock;
//! - [`merchant::Shop`]: the merchant's web server receiving redirects and status callbacks;
//! - [`shop`]: a small axum web shop on `klarna-hpp-runtime` (also the runtime's example
//!   `web_shop`, which includes the same file), driven in Chromium by `tests/browser_shop.rs`;
//! - [`record`]: transports that keep a transcript of every call;
//! - [`scenario`]: the cases (place-order modes, consumer outcomes, distribution, disable,
//!   expiries, races), the merchant's and the consumer's reactions, and [`scenario::verify`];
//! - [`run`]: the same scenario run by the blocking adapter and by the async adapter.
//!
//! [`e2e_cases!`] expands to one `#[test]` per case for a runner, so that both adapters run
//! exactly the same cases.

pub mod clock;
pub mod merchant;
pub mod record;
pub mod run;
pub mod scenario;
pub mod shop;

use std::sync::Arc;

use klarna_hpp_sim::{Sim, SimConfig, SimHandle};

/// A fresh emulator for one test: seeded, with quick callback retries.
pub fn start_sim(seed: u64) -> Arc<SimHandle> {
    let config = SimConfig::default()
        .with_seed(seed)
        .with_callback_retry_delay(std::time::Duration::from_millis(50))
        .with_callback_timeout(std::time::Duration::from_secs(2));
    Arc::new(Sim::start_background(config).expect("the emulator starts"))
}

/// Runs `case` on a fresh emulator with `runner` and panics with the transcript when
/// [`scenario::verify`] finds a problem.
pub fn run_case(
    runner: fn(&Arc<SimHandle>, &scenario::Case, &run::RunOptions) -> scenario::Report,
    case: &scenario::Case,
) -> scenario::Report {
    let sim = start_sim(7);
    let options = run::RunOptions::new(format!("e2e-{}", case.name));
    let report = runner(&sim, case, &options);
    trace(&report);
    if let Err(problems) = scenario::verify(&report, &sim, true) {
        panic!(
            "case {} failed:\n  - {}\ntranscript:\n{}",
            case.name,
            problems.join("\n  - "),
            report.transcript.render()
        );
    }
    report
}

/// Prints the run's transcript when `KLARNA_E2E_TRACE` is set (see it with `--nocapture`).
pub fn trace(report: &scenario::Report) {
    if std::env::var_os("KLARNA_E2E_TRACE").is_some() {
        println!(
            "--- {} ---\n{}",
            report.case.name,
            report.transcript.render()
        );
    }
}

/// One `#[test]` per end-to-end case, run with `$runner`
/// (`klarna_hpp_tests::run::run_blocking` or `run_async`).
#[macro_export]
macro_rules! e2e_cases {
    ($runner:path) => {
        use $crate::scenario::{Case, Mode, Plan, Twist};

        fn case(name: &str, mode: Mode, consumer: Plan, twist: Twist) -> Case {
            Case::new(name, mode, consumer, twist)
        }

        #[test]
        fn none_pay_place_capture() {
            let r = $crate::run_case(
                $runner,
                &case("none-pay", Mode::None, Plan::Pay, Twist::Plain),
            );
            assert_eq!(r.captured, $crate::scenario::ORDER_AMOUNT);
        }

        #[test]
        fn place_order_pay_capture_partial_then_rest() {
            let r = $crate::run_case(
                $runner,
                &case("place-pay", Mode::PlaceOrder, Plan::Pay, Twist::Plain),
            );
            let captures: Vec<i64> = r
                .events
                .iter()
                .filter_map(|e| match e {
                    klarna_hpp_core::checkout::Event::Captured { amount, .. } => Some(*amount),
                    _ => None,
                })
                .collect();
            assert_eq!(
                captures,
                [
                    $crate::scenario::PARTIAL_CAPTURE,
                    $crate::scenario::ORDER_AMOUNT - $crate::scenario::PARTIAL_CAPTURE
                ]
            );
        }

        #[test]
        fn capture_order_pay_refund() {
            let r = $crate::run_case(
                $runner,
                &case("capture-pay", Mode::CaptureOrder, Plan::Pay, Twist::Plain),
            );
            assert_eq!(r.refunded, $crate::scenario::REFUND);
        }

        #[test]
        fn decline_then_merchant_disables() {
            $crate::run_case(
                $runner,
                &case(
                    "decline",
                    Mode::None,
                    Plan::DeclineThenDisable,
                    Twist::Plain,
                ),
            );
        }

        #[test]
        fn back_then_pay() {
            $crate::run_case(
                $runner,
                &case("back-pay", Mode::None, Plan::BackThenPay, Twist::Plain),
            );
        }

        #[test]
        fn cancel_in_store_is_cancelled() {
            let r = $crate::run_case(
                $runner,
                &case(
                    "cancel-in-store",
                    Mode::None,
                    Plan::CancelInStore,
                    Twist::Plain,
                ),
            );
            assert!(r.events.iter().any(|e| matches!(
                e,
                klarna_hpp_core::checkout::Event::Cancelled {
                    by: klarna_hpp_core::checkout::CancelledBy::Consumer
                }
            )));
        }

        #[test]
        fn error_then_pay() {
            $crate::run_case(
                $runner,
                &case(
                    "error-pay",
                    Mode::PlaceOrder,
                    Plan::ErrorThenPay,
                    Twist::Plain,
                ),
            );
        }

        #[test]
        fn distribute_by_email_and_sms_then_pay() {
            $crate::run_case(
                $runner,
                &case(
                    "distribute",
                    Mode::CaptureOrder,
                    Plan::Pay,
                    Twist::Distribute,
                ),
            );
        }

        #[test]
        fn merchant_disables() {
            $crate::run_case(
                $runner,
                &case("disable", Mode::None, Plan::Pay, Twist::Disable),
            );
        }

        #[test]
        fn hpp_session_expires_after_47_hours() {
            $crate::run_case(
                $runner,
                &case("hpp-expiry", Mode::None, Plan::Absent, Twist::HppExpiry),
            );
        }

        #[test]
        fn a_consumer_back_inside_the_margin_cannot_pay_an_abandoned_session() {
            for mode in [Mode::None, Mode::PlaceOrder, Mode::CaptureOrder] {
                $crate::run_case(
                    $runner,
                    &case(
                        &format!("late-{mode:?}"),
                        mode,
                        Plan::Pay,
                        Twist::PayInsideMargin,
                    ),
                );
            }
        }

        #[test]
        fn token_expires_before_placing() {
            $crate::run_case(
                $runner,
                &case("token-expiry", Mode::None, Plan::Pay, Twist::TokenExpiry),
            );
        }

        #[test]
        fn callbacks_redirects_and_polling_race_to_one_order() {
            // Different real timings: the consumer opens and pays while the merchant polls and
            // the callbacks and the redirect arrive.
            let sim = $crate::start_sim(11);
            let timings = [
                (0, 0),
                (0, 3),
                (3, 0),
                (5, 5),
                (1, 10),
                (10, 1),
                (2, 2),
                (20, 0),
            ];
            for (i, (open, pay)) in timings.into_iter().enumerate() {
                sim.reset();
                let c = case(
                    &format!("race-{i}"),
                    Mode::None,
                    Plan::Pay,
                    Twist::Race {
                        open_after_ms: open,
                        pay_after_ms: pay,
                    },
                );
                let options = $crate::run::RunOptions::new(format!("e2e-race-{i}"));
                let report = $runner(&sim, &c, &options);
                $crate::trace(&report);
                if let Err(problems) = $crate::scenario::verify(&report, &sim, true) {
                    panic!(
                        "race {i} failed:\n  - {}\ntranscript:\n{}",
                        problems.join("\n  - "),
                        report.transcript.render()
                    );
                }
            }
        }
    };
}
