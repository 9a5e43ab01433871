//! Newtypes for values that must never appear in logs: their `Debug` prints `[redacted]`.

use serde::{Deserialize, Serialize};

/// Defines a string newtype whose `Debug` output is `[redacted]`.
macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret value itself. Keep it out of logs.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

#[allow(unused_imports)]
pub(crate) use secret_string;

secret_string!(
    /// A KP authorization token (valid 60 minutes). Whoever holds it can place an order.
    AuthorizationToken
);

secret_string!(
    /// A password or other opaque secret.
    Secret
);

secret_string!(
    /// A KP client token (JWT). Not needed with HPP, kept because Klarna returns it.
    ClientToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let t = AuthorizationToken::new("tok-123");
        assert_eq!(format!("{t:?}"), "AuthorizationToken([redacted])");
        assert_eq!(t.expose(), "tok-123");
        let json = serde_json::to_string(&t).expect("serializes");
        assert_eq!(json, "\"tok-123\"");
    }
}
