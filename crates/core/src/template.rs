//! Merchant URL templates (`{{placeholder}}`): parse, check, render and match.
//!
//! (Being written.)

/// A malformed template or a placeholder used where it is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{{` without its `}}`.
    #[error("unclosed placeholder at byte {at}")]
    Unclosed {
        /// Byte offset of the opening braces.
        at: usize,
    },
}
