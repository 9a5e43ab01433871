//! The `checkout` target's input: a setup and a list of steps, decoded from the fuzz bytes with
//! `arbitrary`, and the inverse encoding the named seeds of `corpus/checkout/` are written with.
//!
//! Layout: the [`Setup`], then [`Step`]s until the bytes run out (at most [`MAX_STEPS`]). Enum
//! variants take a little-endian `u32` (variant `i` of `n` is `ceil(i * 2^32 / n)`), integers
//! their little-endian bytes, `bool` and `Option` one byte (low bit), and a [`Blob`] a
//! little-endian `u16` length followed by that many bytes, so JSON bodies stay contiguous for the
//! fuzzer's dictionary and comparison tracing.

use arbitrary::{Arbitrary, Unstructured};

/// Steps after which the rest of the input is ignored.
pub const MAX_STEPS: usize = 256;
/// The longest [`Blob`].
pub const MAX_BLOB: usize = 2048;

/// A whole `checkout` input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckoutInput {
    /// How the checkout is configured.
    pub setup: Setup,
    /// What happens to it, in order.
    pub steps: Vec<Step>,
}

impl CheckoutInput {
    /// Decodes fuzz bytes; never fails (missing bytes read as zeros, the rest is ignored).
    pub fn decode(data: &[u8]) -> Self {
        let mut u = Unstructured::new(data);
        let setup = Setup::arbitrary(&mut u).unwrap_or_default();
        let mut steps = Vec::new();
        while !u.is_empty() && steps.len() < MAX_STEPS {
            match Step::arbitrary(&mut u) {
                Ok(step) => steps.push(step),
                Err(_) => break,
            }
        }
        Self { setup, steps }
    }

    /// The bytes [`decode`](Self::decode) turns back into this input.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.setup.encode(&mut out);
        for step in &self.steps {
            step.encode(&mut out);
        }
        out
    }
}

/// Bytes with a `u16` length prefix (at most [`MAX_BLOB`]; fewer when the input ends).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Blob(pub Vec<u8>);

impl Blob {
    /// A blob of `text`.
    pub fn text(text: &str) -> Self {
        Self(text.as_bytes().to_vec())
    }

    /// The bytes as text (lossy).
    pub fn lossy(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl<'a> Arbitrary<'a> for Blob {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = usize::from(u16::arbitrary(u)?) % (MAX_BLOB + 1);
        let len = len.min(u.len());
        Ok(Self(u.bytes(len)?.to_vec()))
    }
}

/// The place-order mode of the checkout.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// `NONE`: the merchant places the order with the authorization token.
    #[default]
    None,
    /// `PLACE_ORDER`: HPP places the order.
    PlaceOrder,
    /// `CAPTURE_ORDER`: HPP places and captures the order.
    CaptureOrder,
}

/// How the checkout is configured.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq, Default)]
pub struct Setup {
    /// Place-order mode.
    pub mode: Mode,
    /// Safety margin, in minutes.
    pub margin_minutes: u8,
    /// Retry attempts per call (0 and 1 both mean a single attempt).
    pub max_attempts: u8,
}

/// One thing that happens to the checkout.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Answer the request in flight (nothing happens when none is).
    Reply(Reply),
    /// The request in flight produced no response.
    Transport(Failure),
    /// A response for a request id that is not in flight (`offset` past the one in flight).
    Stale {
        /// Distance from the id in flight (or the id itself when none is in flight).
        offset: u8,
        /// The response.
        reply: Reply,
    },
    /// Time passes (seconds, taken modulo four days).
    Advance(u32),
    /// Time passes until the checkout's next timeout (if any).
    Wait,
    /// An input with an earlier `now` (seconds back), which must count as the latest seen.
    Rewind(u16),
    /// A status callback reaches the merchant's endpoint.
    Callback(Callback),
    /// The consumer's browser comes back to the merchant.
    Redirect(Redirect),
    /// Command: distribute the link.
    Distribute(Distribution),
    /// Command: disable the HPP session.
    Disable,
    /// Command: place the order.
    PlaceOrder(PlaceBody),
    /// Command: capture.
    Capture(Amount),
    /// Command: refund.
    Refund(Amount),
    /// Command: release the authorization.
    CancelAuthorization,
    /// Command: cancel the order.
    CancelOrder,
    /// Snapshot and restore in the same process (the request in flight stays in flight).
    SnapshotRestore,
    /// Snapshot, restore in a new process and `resume_after_restart` (the request in flight is lost).
    Restart,
    /// Command: release the remaining authorization.
    Release,
    /// Command: extend the authorization time.
    Extend,
    /// Command: set `merchant_reference1` to this text.
    References(Blob),
    /// Command: add shipping information to the n-th capture the checkout knows (modulo their
    /// number + 1: the last pick is a capture it does not know).
    ShippingInfo(u8),
}

/// A response.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Its body (and natural status and headers).
    pub body: Body,
    /// A status overriding the natural one: `100 + n % 900`.
    pub status: Option<u16>,
}

/// What a response says.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// What Klarna would answer to the request in flight; the knob picks among plausible
    /// answers (HPP status, order status, expiries, missing headers).
    Right(u8),
    /// One of the canned answers, whatever the request (index modulo their number).
    Canned(u8),
    /// These bytes, with status 200 unless overridden.
    Raw(Blob),
}

/// A transport failure.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Surely not sent.
    NotSent,
    /// Maybe processed.
    OutcomeUnknown,
}

/// A status callback.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// The request URI it arrives on.
    pub uri: CallbackUri,
    /// Its body.
    pub body: CallbackBody,
}

/// The URI of a callback.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub enum CallbackUri {
    /// The checkout's own `status_update` URL with its secret.
    Real,
    /// Any text.
    Forged(Blob),
    /// The real URL with another secret.
    WrongSecret(Blob),
    /// The real URL with the secret cut to its first `n % len` characters.
    Truncated(u8),
    /// The real URL with the secret in upper case.
    Uppercase,
    /// A wrong `kh_secret` first, the real one second.
    SecretSecond,
}

/// The body of a callback.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub enum CallbackBody {
    /// `{event_id: "ev-{event % 4}", session}` with the session a read would show (knob as in
    /// [`Body::Right`]).
    Session {
        /// Picks the event id (so duplicates happen).
        event: u8,
        /// Picks the session.
        knob: u8,
    },
    /// These bytes.
    Raw(Blob),
}

/// A redirect back from the hosted page.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// One of the merchant URLs (kind modulo 5: success, cancel, back, failure, error), for this
    /// checkout's session or another.
    Url {
        /// Which URL.
        kind: u8,
        /// With this checkout's session id.
        ours: bool,
    },
    /// Path and query only.
    Path {
        /// Which URL.
        kind: u8,
    },
    /// Any text.
    Raw(Blob),
}

/// A distribute command.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// Modulo 3: e-mail, SMS, token.
    pub method: u8,
    /// The address, phone or access id.
    pub contact: Blob,
    /// The phone country (SMS).
    pub country: Blob,
}

/// The body of a place-order command.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub enum PlaceBody {
    /// `None`: the session's order.
    Session,
    /// The session's order with only its first `1 + n % 2` lines (a lower amount).
    Lines(u8),
    /// The session's order with this `order_amount` (mostly invalid).
    Amount(i64),
}

/// The amount of a capture or refund.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub enum Amount {
    /// All that remains (`None` for captures, the refundable rest for refunds).
    All,
    /// A small amount.
    Part(u16),
    /// Any amount.
    Raw(i64),
}

/// The inverse of `arbitrary`'s decoding, for writing seeds.
pub trait Encode {
    /// Appends the bytes that decode to `self`.
    fn encode(&self, out: &mut Vec<u8>);
}

/// Variant `index` of an enum with `count` variants.
fn variant(out: &mut Vec<u8>, index: u64, count: u64) {
    let v = (index << 32).div_ceil(count);
    out.extend_from_slice(&u32::try_from(v).unwrap_or(u32::MAX).to_le_bytes());
}

macro_rules! encode_int {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
encode_int!(u8, u16, u32, i64);

impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.is_some().encode(out);
        if let Some(v) = self {
            v.encode(out);
        }
    }
}

impl Encode for Blob {
    fn encode(&self, out: &mut Vec<u8>) {
        let len = self.0.len().min(MAX_BLOB);
        u16::try_from(len).unwrap_or(0).encode(out);
        out.extend_from_slice(&self.0[..len]);
    }
}

impl Encode for Mode {
    fn encode(&self, out: &mut Vec<u8>) {
        let i = match self {
            Mode::None => 0,
            Mode::PlaceOrder => 1,
            Mode::CaptureOrder => 2,
        };
        variant(out, i, 3);
    }
}

impl Encode for Setup {
    fn encode(&self, out: &mut Vec<u8>) {
        self.mode.encode(out);
        self.margin_minutes.encode(out);
        self.max_attempts.encode(out);
    }
}

impl Encode for Step {
    fn encode(&self, out: &mut Vec<u8>) {
        const N: u64 = 21;
        match self {
            Step::Reply(r) => {
                variant(out, 0, N);
                r.encode(out);
            }
            Step::Transport(f) => {
                variant(out, 1, N);
                f.encode(out);
            }
            Step::Stale { offset, reply } => {
                variant(out, 2, N);
                offset.encode(out);
                reply.encode(out);
            }
            Step::Advance(s) => {
                variant(out, 3, N);
                s.encode(out);
            }
            Step::Wait => variant(out, 4, N),
            Step::Rewind(s) => {
                variant(out, 5, N);
                s.encode(out);
            }
            Step::Callback(c) => {
                variant(out, 6, N);
                c.uri.encode(out);
                c.body.encode(out);
            }
            Step::Redirect(r) => {
                variant(out, 7, N);
                r.encode(out);
            }
            Step::Distribute(d) => {
                variant(out, 8, N);
                d.method.encode(out);
                d.contact.encode(out);
                d.country.encode(out);
            }
            Step::Disable => variant(out, 9, N),
            Step::PlaceOrder(b) => {
                variant(out, 10, N);
                b.encode(out);
            }
            Step::Capture(a) => {
                variant(out, 11, N);
                a.encode(out);
            }
            Step::Refund(a) => {
                variant(out, 12, N);
                a.encode(out);
            }
            Step::CancelAuthorization => variant(out, 13, N),
            Step::CancelOrder => variant(out, 14, N),
            Step::SnapshotRestore => variant(out, 15, N),
            Step::Restart => variant(out, 16, N),
            Step::Release => variant(out, 17, N),
            Step::Extend => variant(out, 18, N),
            Step::References(b) => {
                variant(out, 19, N);
                b.encode(out);
            }
            Step::ShippingInfo(n) => {
                variant(out, 20, N);
                n.encode(out);
            }
        }
    }
}

impl Encode for Reply {
    fn encode(&self, out: &mut Vec<u8>) {
        match &self.body {
            Body::Right(k) => {
                variant(out, 0, 3);
                k.encode(out);
            }
            Body::Canned(i) => {
                variant(out, 1, 3);
                i.encode(out);
            }
            Body::Raw(b) => {
                variant(out, 2, 3);
                b.encode(out);
            }
        }
        self.status.encode(out);
    }
}

impl Encode for Failure {
    fn encode(&self, out: &mut Vec<u8>) {
        variant(out, u64::from(*self == Failure::OutcomeUnknown), 2);
    }
}

impl Encode for CallbackUri {
    fn encode(&self, out: &mut Vec<u8>) {
        const N: u64 = 6;
        match self {
            CallbackUri::Real => variant(out, 0, N),
            CallbackUri::Forged(b) => {
                variant(out, 1, N);
                b.encode(out);
            }
            CallbackUri::WrongSecret(b) => {
                variant(out, 2, N);
                b.encode(out);
            }
            CallbackUri::Truncated(n) => {
                variant(out, 3, N);
                n.encode(out);
            }
            CallbackUri::Uppercase => variant(out, 4, N),
            CallbackUri::SecretSecond => variant(out, 5, N),
        }
    }
}

impl Encode for CallbackBody {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            CallbackBody::Session { event, knob } => {
                variant(out, 0, 2);
                event.encode(out);
                knob.encode(out);
            }
            CallbackBody::Raw(b) => {
                variant(out, 1, 2);
                b.encode(out);
            }
        }
    }
}

impl Encode for Redirect {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Redirect::Url { kind, ours } => {
                variant(out, 0, 3);
                kind.encode(out);
                ours.encode(out);
            }
            Redirect::Path { kind } => {
                variant(out, 1, 3);
                kind.encode(out);
            }
            Redirect::Raw(b) => {
                variant(out, 2, 3);
                b.encode(out);
            }
        }
    }
}

impl Encode for PlaceBody {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            PlaceBody::Session => variant(out, 0, 3),
            PlaceBody::Lines(n) => {
                variant(out, 1, 3);
                n.encode(out);
            }
            PlaceBody::Amount(a) => {
                variant(out, 2, 3);
                a.encode(out);
            }
        }
    }
}

impl Encode for Amount {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Amount::All => variant(out, 0, 3),
            Amount::Part(a) => {
                variant(out, 1, 3);
                a.encode(out);
            }
            Amount::Raw(a) => {
                variant(out, 2, 3);
                a.encode(out);
            }
        }
    }
}
