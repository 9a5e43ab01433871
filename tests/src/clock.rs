//! The emulator's virtual clock as the drivers' clock: waiting moves the emulator's time, so a
//! checkout's hours pass in milliseconds.

use std::future::Future;
use std::time::Duration;

use klarna_hpp_core::Timestamp;
use klarna_hpp_sim::SimHandle;

/// The emulator's current instant as the core's [`Timestamp`].
pub fn sim_now(sim: &SimHandle) -> Timestamp {
    Timestamp::from_offset_date_time(sim.now()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A [`klarna_hpp_blocking::Clock`] and [`klarna_hpp_async::AsyncClock`] over the emulator's
/// virtual clock: `sleep_until` advances the emulator to the deadline instead of sleeping.
///
/// `pause` is real time spent in every async sleep (after advancing), so that other tasks and
/// threads (a consumer's browser, callbacks) get to run while a driver polls; zero by default.
#[derive(Debug, Clone, Copy)]
pub struct SimClock<'a> {
    sim: &'a SimHandle,
    pause: Duration,
}

impl<'a> SimClock<'a> {
    /// The emulator's clock.
    pub fn new(sim: &'a SimHandle) -> Self {
        Self {
            sim,
            pause: Duration::ZERO,
        }
    }

    /// Also waits `pause` of real time in every async sleep.
    #[must_use]
    pub fn with_pause(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    /// Advances the emulator to `deadline` (nothing when it has passed).
    ///
    /// The emulator's clock counts whole milliseconds and drops fractions of a millisecond
    /// from `advance`; deadlines need not be whole milliseconds (poll intervals grow by 1.5×),
    /// so the wait is rounded up — otherwise the clock would stop just short of the deadline
    /// and a driver would wait for it forever.
    pub fn advance_to(&self, deadline: Timestamp) {
        let wait = deadline.duration_since(sim_now(self.sim));
        if wait > Duration::ZERO {
            let millis = u64::try_from(wait.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
            self.sim.advance(Duration::from_millis(millis));
        }
    }
}

impl klarna_hpp_blocking::Clock for SimClock<'_> {
    fn now(&self) -> Timestamp {
        sim_now(self.sim)
    }

    fn sleep_until(&self, deadline: Timestamp) {
        self.advance_to(deadline);
    }
}

impl klarna_hpp_async::AsyncClock for SimClock<'_> {
    fn now(&self) -> Timestamp {
        sim_now(self.sim)
    }

    fn sleep_until(&self, deadline: Timestamp) -> impl Future<Output = ()> + Send {
        self.advance_to(deadline);
        let pause = self.pause;
        async move {
            if pause > Duration::ZERO {
                tokio::time::sleep(pause).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
    }
}
