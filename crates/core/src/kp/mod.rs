//! Klarna Payments API v1 (KP): payment sessions, orders from authorizations, customer tokens.
//!
//! With the Hosted Payment Page, KP is where a purchase starts and ends:
//!
//! ```text
//!  CreateSession ──► (HPP session, consumer pays) ──► authorization_token
//!        │                                                    │
//!  UpdateSession / ReadSession                 CreateOrder ◄──┤──► CancelAuthorization
//!                                              (order_id)     └──► CreateCustomerToken
//! ```
//!
//! | Operation | Request | Success |
//! |---|---|---|
//! | [`CreateSession`] | `POST /payments/v1/sessions` | 200 [`MerchantSession`] |
//! | [`ReadSession`] | `GET /payments/v1/sessions/{id}` | 200 [`SessionRead`] |
//! | [`UpdateSession`] | `POST /payments/v1/sessions/{id}` | 204 |
//! | [`CreateOrder`] | `POST /payments/v1/authorizations/{token}/order` | 200 [`Order`] |
//! | [`CancelAuthorization`] | `DELETE /payments/v1/authorizations/{token}` | 204 |
//! | [`CreateCustomerToken`] | `POST /payments/v1/authorizations/{token}/customer-token` | 200 [`CustomerTokenResponse`] |
//!
//! Every operation validates its body first ([`crate::validate`]): no request is built from a
//! body Klarna would refuse for a documented reason, and the error names the JSON path.
//!
//! ```
//! use klarna_hpp_core::kp::{CreateSession, SessionCreate};
//! use klarna_hpp_core::model::OrderLine;
//! use klarna_hpp_core::{Api, BaseUrl, Credentials, Environment, Operation, Region};
//!
//! let api = Api::new(
//!     BaseUrl::klarna(Region::Eu, Environment::Playground),
//!     Credentials::new("DemoMerchant", "DemoPassword"),
//! );
//! let lines = vec![OrderLine::new("Running shoe", 2, 5_000).tax_rate(2_500)];
//! let session = SessionCreate::new("SE", "SEK", lines).locale("sv-SE");
//! assert_eq!((session.order_amount, session.order_tax_amount), (10_000, Some(2_000)));
//! let request = CreateSession::new(session).to_request(&api)?;
//! assert_eq!(request.uri(), "https://api.playground.klarna.com/payments/v1/sessions");
//! # Ok::<(), klarna_hpp_core::Error>(())
//! ```

mod check;
mod customer;
mod ops;
mod order;
mod session;
mod token;

pub use self::customer::{Customer, CustomerType, OrganizationEntityType};
pub use self::ops::{
    CancelAuthorization, CreateCustomerToken, CreateOrder, CreateSession, ReadSession,
    UpdateSession,
};
pub(crate) use self::order::OrderBody;
pub use self::order::{
    AuthorizedPaymentMethod, AuthorizedPaymentMethodType, CreateOrderRequest, FraudStatus, Order,
};
pub use self::session::{
    AcquiringChannel, AssetUrls, Attachment, Intent, KpMerchantUrls, MerchantSession,
    PaymentMethodCategory, PaymentMethodCategoryInfo, SessionCreate, SessionRead, SessionStatus,
    SessionUpdate, WidgetOptions,
};
pub use self::token::{CustomerTokenId, CustomerTokenRequest, CustomerTokenResponse, IntendedUse};
