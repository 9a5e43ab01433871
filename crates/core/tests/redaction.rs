//! Redaction by construction: every public type of the crate that can hold a URL, a template, a
//! token, a credential, a secret or a customer datum is built here with planted secrets, and
//! no planted secret may appear in its `Debug` output (nor in its `Display`, when it has one).
//!
//! The lists beside the test ([`CHECKED`], [`HOLDS_NO_SECRET`]) are complete: the test reads the
//! crate's sources, finds every `pub struct` and `pub enum` (and the types its `name!(…)`
//! macros define), and fails when one is in neither list, so a new public type cannot be added
//! without deciding which it is. An entry of [`CHECKED`] must also really be built and checked
//! below (the check records the type's path).
//!
//! What is not planted: the merchant's own order data (product names, references,
//! `merchant_data`, amounts), Klarna's ids (sessions, orders, captures), statuses. Secrets are:
//! credentials, the authorization and other tokens, the callback secret and anything in a URL
//! after its path (or in a token-like path segment, or user info), the seed and what is derived
//! from it (callback secret, idempotency namespace), and customer data (names, e-mail, phone,
//! addresses, dates of birth, national and organization ids, tracking numbers).

mod scenario;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{Debug, Display};

use klarna_hpp_core::checkout::{
    ApiProblem, CallbackOutcome, Checkout, CheckoutConfig, ConsumerLink, Event, FailureReason,
    Output, Seed,
};
use klarna_hpp_core::hpp::{
    self, BackgroundImage, DistributionContact, DistributionRequest, MerchantUrls, Options,
    PlaceOrderMode, SessionCreationRequest,
};
use klarna_hpp_core::http::{Response, StatusCode};
use klarna_hpp_core::kp::{self, Attachment, KpMerchantUrls, SessionCreate};
use klarna_hpp_core::model::{Address, OrderLine};
use klarna_hpp_core::om::{self, ShippingInfo};
use klarna_hpp_core::secret::{ClientToken, Secret};
use klarna_hpp_core::template::{KpUrlTemplate, UrlKind, UrlTemplate, Values};
use klarna_hpp_core::transport::TransportError;
use klarna_hpp_core::{Api, AuthorizationToken, BaseUrl, Credentials, Error, Operation};
use serde_json::json;

// ----- the planted secrets -----

const USERNAME: &str = "merchant-user-PLANTED";
const PASSWORD: &str = "hunter2-PLANTED";
const TOKEN: &str = "authtok-PLANTED-6f1d";
const CLIENT_TOKEN: &str = "eyJclient-PLANTED";
const CUSTOMER_TOKEN: &str = "ctok-PLANTED-77";
const DISTRIBUTION_TOKEN: &str = "dtok-PLANTED-78";
const ACCESS_ID: &str = "access-PLANTED-79";
const SEED: &str = "seed-PLANTED-0123456789abcdef";
/// A secret in a URL's query.
const QUERY_SECRET: &str = "qsecret-PLANTED-a1";
/// A secret after a bare `&`, no `?` (a shape Klarna's KP docs show for `authorization`).
const AMP_SECRET: &str = "ampsecret-PLANTED-b2";
/// A token as a path segment.
const PATH_TOKEN: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
/// User info in a URL.
const USER_INFO: &str = "userinfo-PLANTED";
const GIVEN: &str = "Astrid";
const FAMILY: &str = "Lindqvist";
const EMAIL: &str = "astrid.lindqvist@example.com";
const PHONE: &str = "+46701234567";
const NATIONAL_ID: &str = "19900101-1234";
const BIRTH: &str = "1990-01-01";
const STREET: &str = "Sveavägen 44";
const POSTAL: &str = "11157";
const CITY: &str = "Stockholm";
const ORG_ID: &str = "556677-8899";
const VAT_ID: &str = "SE556677889901";
const SSN: &str = "987654321";
const TRACKING: &str = "1Z999AA10123456784";

const PLANTED: &[&str] = &[
    USERNAME,
    PASSWORD,
    TOKEN,
    CLIENT_TOKEN,
    CUSTOMER_TOKEN,
    DISTRIBUTION_TOKEN,
    ACCESS_ID,
    SEED,
    QUERY_SECRET,
    AMP_SECRET,
    PATH_TOKEN,
    USER_INFO,
    GIVEN,
    FAMILY,
    EMAIL,
    "701234567",
    NATIONAL_ID,
    BIRTH,
    STREET,
    POSTAL,
    CITY,
    ORG_ID,
    VAT_ID,
    SSN,
    TRACKING,
];

/// A URL carrying every kind of URL secret: user info, a token segment, `&` without `?`.
fn secret_url(path: &str) -> String {
    format!("https://{USER_INFO}@shop.example/{path}/{PATH_TOKEN}/cb&sig={AMP_SECRET}")
}

/// A URL with the secret in its query.
fn query_url(path: &str) -> String {
    format!("https://shop.example/{path}?sid={{{{session_id}}}}&kh_secret={QUERY_SECRET}")
}

fn address() -> Address {
    let mut a = Address::default();
    a.given_name = Some(GIVEN.into());
    a.family_name = Some(FAMILY.into());
    a.email = Some(EMAIL.into());
    a.street_address = Some(STREET.into());
    a.street_address2 = Some(STREET.into());
    a.postal_code = Some(POSTAL.into());
    a.city = Some(CITY.into());
    a.region = Some(CITY.into());
    a.phone = Some(PHONE.into());
    a.country = Some("SE".into());
    a.organization_name = Some(FAMILY.into());
    a.attention = Some(GIVEN.into());
    a.title = Some(GIVEN.into());
    a
}

fn address_json() -> serde_json::Value {
    json!({
        "given_name": GIVEN, "family_name": FAMILY, "email": EMAIL, "street_address": STREET,
        "postal_code": POSTAL, "city": CITY, "phone": PHONE, "country": "SE",
    })
}

fn kp_customer() -> kp::Customer {
    let mut c = kp::Customer::default();
    c.date_of_birth = Some(BIRTH.into());
    c.national_identification_number = Some(NATIONAL_ID.into());
    c.last_four_ssn = Some(SSN.into());
    c.organization_registration_id = Some(ORG_ID.into());
    c.vat_id = Some(VAT_ID.into());
    c.gender = Some(GIVEN.into());
    c.title = Some(GIVEN.into());
    c
}

fn line() -> OrderLine {
    let mut l = OrderLine::new("Running shoes", 1, 10_000).tax_rate(2500);
    l.product_url = Some(query_url("p/shoes"));
    l.image_url = Some(secret_url("img"));
    l
}

fn kp_urls() -> KpMerchantUrls {
    let mut u = KpMerchantUrls::default();
    u.confirmation = Some(query_url("confirm"));
    u.notification = Some(secret_url("notify"));
    u.push = Some(query_url("push"));
    u.authorization = Some(format!(
        "https://shop.example/kp/authorize&secret={AMP_SECRET}"
    ));
    u
}

fn session() -> SessionCreate {
    let mut s = SessionCreate::new("SE", "SEK", vec![line()]);
    s.merchant_urls = Some(kp_urls());
    s.billing_address = Some(address());
    s.shipping_address = Some(address());
    s.customer = Some(kp_customer());
    s.attachment = Some(Attachment::emd(
        json!({"customer_account_info": [{"unique_account_identifier": EMAIL}]}).to_string(),
    ));
    s
}

fn merchant_urls() -> MerchantUrls {
    MerchantUrls::default()
        .with(
            UrlKind::Success,
            format!("https://shop.example/ok?sid={{{{session_id}}}}&token={{{{authorization_token}}}}&k={QUERY_SECRET}"),
        )
        .with(UrlKind::Cancel, secret_url("cancel"))
        .with(
            UrlKind::StatusUpdate,
            format!("https://shop.example/klarna/cb&kh_secret={AMP_SECRET}"),
        )
}

fn options() -> Options {
    let mut o = Options::default();
    o.logo_url = Some(query_url("logo.png"));
    o.background_images = vec![BackgroundImage::new(secret_url("bg"), 1200)];
    o
}

fn api() -> Api {
    Api::new(
        BaseUrl::custom(&format!("https://proxy.example/{PATH_TOKEN}")).expect("https"),
        Credentials::new(USERNAME, PASSWORD),
    )
}

fn response(status: u16, body: serde_json::Value) -> Response<Vec<u8>> {
    let mut r = Response::new(serde_json::to_vec(&body).expect("json"));
    *r.status_mut() = StatusCode::from_u16(status).expect("status");
    r
}

/// Klarna error answers echoing what was sent, in the shapes Klarna's messages take.
fn klarna_error() -> Response<Vec<u8>> {
    response(
        400,
        json!({
            "error_code": "BAD_VALUE",
            "error_messages": [
                format!("Bad value: billing_address.email {EMAIL} (given_name '{GIVEN}')"),
                format!("Invalid phone number {PHONE} for country SE"),
                format!("national_identification_number {NATIONAL_ID} is not valid"),
                format!("merchant_urls.status_update {} is not allowed", query_url("cb")),
                format!("Unexpected parameter kh_secret={QUERY_SECRET}"),
                format!("Address \u{2018}{STREET}, {POSTAL} {CITY}\u{2019} could not be verified"),
                format!("Bad value: authorization_token=\"{TOKEN}\""),
            ],
            "correlation_id": "6a1e4f3c-4d0b-4b8e-9f6f-0a2c1d3e5b7a",
        }),
    )
}

// ----- the walk -----

/// Every type checked below, as `module::Name` (`module` is the crate's top-level module that
/// exports it).
const CHECKED: &[&str] = &[
    "checkout::ApiProblem",
    "checkout::Checkout",
    "checkout::CheckoutConfig",
    "checkout::ConsumerLink",
    "checkout::Event",
    "checkout::FailureReason",
    "checkout::InputError",
    "checkout::Output",
    "checkout::Seed",
    "checkout::SnapshotError",
    "config::Api",
    "config::BaseUrl",
    "config::Credentials",
    "error::ApiError",
    "error::DecodeError",
    "error::Error",
    "hpp::BackgroundImage",
    "hpp::CreateSession",
    "hpp::Customer",
    "hpp::Distribute",
    "hpp::DistributionContact",
    "hpp::DistributionModule",
    "hpp::DistributionRequest",
    "hpp::DistributionToken",
    "hpp::ManualIdentification",
    "hpp::MerchantUrls",
    "hpp::Options",
    "hpp::Session",
    "hpp::SessionCreated",
    "hpp::SessionCreationRequest",
    "hpp::StatusCallback",
    "kp::AssetUrls",
    "kp::Attachment",
    "kp::CancelAuthorization",
    "kp::CreateCustomerToken",
    "kp::CreateOrder",
    "kp::CreateOrderRequest",
    "kp::CreateSession",
    "kp::Customer",
    "kp::CustomerTokenId",
    "kp::CustomerTokenRequest",
    "kp::CustomerTokenResponse",
    "kp::KpMerchantUrls",
    "kp::MerchantSession",
    "kp::Order",
    "kp::PaymentMethodCategoryInfo",
    "kp::SessionCreate",
    "kp::SessionRead",
    "kp::SessionUpdate",
    "kp::UpdateSession",
    "model::Address",
    "model::OrderLine",
    "om::AddCaptureShippingInfo",
    "om::AddOrderShippingInfo",
    "om::Capture",
    "om::CaptureRequest",
    "om::Item",
    "om::CreateCapture",
    "om::CreateRefund",
    "om::Customer",
    "om::CustomerDetails",
    "om::Order",
    "om::Refund",
    "om::RefundRequest",
    "om::ShippingInfo",
    "om::ShippingInfoUpdate",
    "om::UpdateAuthorization",
    "om::UpdateAuthorizationRequest",
    "om::UpdateCustomerDetails",
    "secret::AuthorizationToken",
    "secret::ClientToken",
    "secret::Secret",
    "template::KpUrlTemplate",
    "template::UrlTemplate",
    "template::Values",
    "transport::TransportError",
];

/// Public types that hold no secret, and why.
const HOLDS_NO_SECRET: &[(&str, &str)] = &[
    ("checkout::Call", "a call's name"),
    ("checkout::CallbackOutcome", "an outcome"),
    ("checkout::CancelledBy", "who cancelled"),
    ("checkout::CommandError", "states, amounts, field paths"),
    ("checkout::Deadline", "a deadline's name"),
    ("checkout::Deadlines", "instants"),
    ("checkout::PollPolicy", "durations"),
    ("checkout::RedirectKind", "a URL kind"),
    ("checkout::RequestId", "a counter"),
    ("checkout::RetryPolicy", "durations"),
    ("checkout::SealError", "a fixed reason"),
    ("checkout::State", "a state"),
    ("checkout::TransportFailure", "a failure kind"),
    ("config::ConfigError", "fixed messages"),
    ("config::Environment", "production or playground"),
    ("config::Region", "a region"),
    (
        "config::UserAgent",
        "the library's and the shop's product names",
    ),
    (
        "error::ValidationError",
        "a field path the crate names, never a value",
    ),
    ("error::ValidationProblem", "limits and amounts"),
    ("hpp::DisableSession", "a session id"),
    ("hpp::DistributionMethod", "an enum"),
    ("hpp::DistributionTemplate", "an enum"),
    ("hpp::HppStatus", "a status"),
    ("hpp::PaymentMethodCategory", "an enum"),
    ("hpp::PlaceOrderMode", "an enum"),
    ("hpp::PurchaseType", "an enum"),
    ("hpp::ReadSession", "a session id"),
    ("hpp::ShowSubtotalDetail", "an enum"),
    ("kp::AcquiringChannel", "an enum"),
    (
        "kp::AuthorizedPaymentMethod",
        "a payment method kind and counts",
    ),
    ("kp::AuthorizedPaymentMethodType", "an enum"),
    ("kp::CustomerType", "an enum"),
    ("kp::FraudStatus", "an enum"),
    ("kp::IntendedUse", "an enum"),
    ("kp::Intent", "an enum"),
    ("kp::OrganizationEntityType", "an enum"),
    ("kp::PaymentMethodCategory", "an enum"),
    ("kp::ReadSession", "a session id"),
    ("kp::SessionStatus", "an enum"),
    ("kp::WidgetOptions", "colours"),
    ("model::OrderLineType", "an enum"),
    ("model::ProductIdentifiers", "the merchant's product data"),
    ("model::Subscription", "the merchant's product data"),
    ("model::SubscriptionInterval", "an enum"),
    ("om::Acknowledge", "an order id and an idempotency key"),
    ("om::CancelOrder", "an order id and an idempotency key"),
    ("om::CaptureCreated", "a capture id and Klarna's URL of it"),
    ("om::DueDateOption", "days and an amount"),
    (
        "om::ExtendAuthorizationTime",
        "an order id and an idempotency key",
    ),
    ("om::ExtendDueDate", "ids, days and an idempotency key"),
    ("om::ExtendDueDateOptions", "days and amounts"),
    ("om::ExtendDueDateRequest", "days"),
    ("om::FraudStatus", "an enum"),
    ("om::GetCapture", "ids"),
    ("om::GetExtendDueDateOptions", "ids"),
    ("om::GetOrder", "an order id"),
    ("om::GetRefund", "ids"),
    (
        "om::IdempotencyKey",
        "a key Klarna sees in a header; documented as not secret",
    ),
    (
        "om::InitialPaymentMethod",
        "Klarna's payment method description",
    ),
    ("om::ListCaptures", "an order id"),
    ("om::MerchantReferences", "the merchant's own references"),
    ("om::OrderStatus", "an enum"),
    ("om::PaymentMethodType", "an enum"),
    ("om::RefundCreated", "a refund id and Klarna's URL of it"),
    (
        "om::ReleaseRemainingAuthorization",
        "an order id and an idempotency key",
    ),
    ("om::ShippingMethod", "an enum"),
    ("om::TriggerSendOut", "ids and an idempotency key"),
    (
        "om::UpdateMerchantReferences",
        "the merchant's own references",
    ),
    ("template::Placeholder", "a placeholder's name"),
    (
        "template::TemplateError",
        "byte offsets, placeholder names and kinds; never a value",
    ),
    ("template::UrlKind", "a URL kind"),
    ("time::Timestamp", "an instant"),
    ("time::TimestampError", "a fixed message"),
    ("validate::LineRules", "limits"),
];

struct Walk {
    /// `module::Name` → where its output was seen.
    checked: BTreeMap<String, usize>,
    /// Secrets derived at run time (callback secret, idempotency namespace).
    derived: Vec<String>,
    failures: Vec<String>,
}

impl Walk {
    fn new() -> Self {
        Self {
            checked: BTreeMap::new(),
            derived: Vec::new(),
            failures: Vec::new(),
        }
    }

    fn record<T: ?Sized>(&mut self, key: &str) {
        // The key must name the type that was checked: `klarna_hpp_core::<module>::…::<Name>`.
        let (module, name) = key.split_once("::").expect("module::Name");
        let path = std::any::type_name::<T>();
        let path = path.split('<').next().unwrap_or(path);
        assert!(
            path.starts_with(&format!("klarna_hpp_core::{module}::"))
                && path.ends_with(&format!("::{name}")),
            "{key} is not the type checked ({path})"
        );
        *self.checked.entry(key.to_owned()).or_default() += 1;
    }

    fn scan(&mut self, key: &str, how: &str, text: &str) {
        let derived = self.derived.iter().map(String::as_str);
        for secret in PLANTED.iter().copied().chain(derived) {
            if text.contains(secret) {
                self.failures
                    .push(format!("{key} {how} shows `{secret}`: {text}"));
            }
        }
    }

    fn debug<T: Debug>(&mut self, key: &str, value: &T) {
        self.record::<T>(key);
        let text = format!("{value:?}");
        self.scan(key, "Debug", &text);
        let pretty = format!("{value:#?}");
        self.scan(key, "Debug (alternate)", &pretty);
    }

    fn both<T: Debug + Display>(&mut self, key: &str, value: &T) {
        self.debug(key, value);
        let text = value.to_string();
        self.scan(key, "Display", &text);
    }
}

#[test]
fn no_public_type_shows_a_planted_secret() {
    let mut w = Walk::new();

    // config
    w.debug("config::Credentials", &Credentials::new(USERNAME, PASSWORD));
    w.both(
        "config::BaseUrl",
        &BaseUrl::custom(&format!("https://proxy.example/{PATH_TOKEN}")).expect("https"),
    );
    w.debug("config::Api", &api());

    // secrets
    w.debug(
        "secret::AuthorizationToken",
        &AuthorizationToken::new(TOKEN),
    );
    w.debug("secret::Secret", &Secret::new(PASSWORD));
    w.debug("secret::ClientToken", &ClientToken::new(CLIENT_TOKEN));
    w.debug(
        "kp::CustomerTokenId",
        &kp::CustomerTokenId::new(CUSTOMER_TOKEN),
    );
    w.debug(
        "hpp::DistributionToken",
        &hpp::DistributionToken::new(DISTRIBUTION_TOKEN),
    );

    // templates
    let template = UrlTemplate::parse(&query_url("klarna/cb")).expect("template");
    w.both("template::UrlTemplate", &template);
    let template = UrlTemplate::parse(&format!(
        "https://shop.example/klarna/cb&kh_secret={AMP_SECRET}"
    ))
    .expect("template");
    w.both("template::UrlTemplate", &template);
    let kp_template = KpUrlTemplate::parse(&format!(
        "https://shop.example/kp/{{session.id}}/authorize&secret={AMP_SECRET}"
    ))
    .expect("template");
    w.both("template::KpUrlTemplate", &kp_template);
    w.debug(
        "template::Values",
        &Values::new()
            .with_session_id("s-1")
            .with_authorization_token(TOKEN),
    );

    // model
    w.debug("model::Address", &address());
    w.debug("model::OrderLine", &line());

    // KP
    w.debug("kp::KpMerchantUrls", &kp_urls());
    w.debug("kp::Customer", &kp_customer());
    w.debug(
        "kp::Attachment",
        &Attachment::emd(json!({"email": EMAIL}).to_string()),
    );
    w.debug("kp::SessionCreate", &session());
    w.debug("kp::CreateSession", &kp::CreateSession::new(session()));
    let mut update = kp::SessionUpdate::with_lines(vec![line()]);
    update.merchant_urls = Some(kp_urls());
    update.billing_address = Some(address());
    update.customer = Some(kp_customer());
    w.debug("kp::SessionUpdate", &update);
    w.debug("kp::UpdateSession", &kp::UpdateSession::new("kp-1", update));
    let order_request = kp::CreateOrderRequest::from_session(&session());
    w.debug("kp::CreateOrderRequest", &order_request);
    w.debug(
        "kp::CreateOrder",
        &kp::CreateOrder::new(AuthorizationToken::new(TOKEN), order_request),
    );
    w.debug(
        "kp::CancelAuthorization",
        &kp::CancelAuthorization::new(AuthorizationToken::new(TOKEN)),
    );
    let mut token_request = kp::CustomerTokenRequest::new(
        "Subscription",
        kp::IntendedUse::Subscription,
        "sv-SE",
        "SE",
        "SEK",
    );
    token_request.billing_address = Some(address());
    token_request.customer = Some(kp_customer());
    w.debug("kp::CustomerTokenRequest", &token_request);
    w.debug(
        "kp::CreateCustomerToken",
        &kp::CreateCustomerToken::new(AuthorizationToken::new(TOKEN), token_request),
    );
    let read: kp::SessionRead = serde_json::from_value(json!({
        "status": "complete", "client_token": CLIENT_TOKEN, "authorization_token": TOKEN,
        "order_lines": [serde_json::to_value(line()).expect("json")],
        "merchant_urls": serde_json::to_value(kp_urls()).expect("json"),
        "billing_address": address_json(), "shipping_address": address_json(),
        "customer": {"date_of_birth": BIRTH, "national_identification_number": NATIONAL_ID},
        "payment_method_categories": [{"identifier": "pay_later",
            "asset_urls": {"descriptive": query_url("a.svg"), "standard": secret_url("b")}}],
    }))
    .expect("session read");
    w.debug("kp::SessionRead", &read);
    w.debug(
        "kp::AssetUrls",
        &kp::AssetUrls::new(query_url("a.svg"), secret_url("b")),
    );
    w.debug(
        "kp::PaymentMethodCategoryInfo",
        &read.payment_method_categories[0],
    );
    let merchant_session: kp::MerchantSession =
        serde_json::from_value(json!({"session_id": "kp-1", "client_token": CLIENT_TOKEN}))
            .expect("merchant session");
    w.debug("kp::MerchantSession", &merchant_session);
    let kp_order: kp::Order = serde_json::from_value(json!({
        "order_id": "o-1",
        "redirect_url": format!("https://payments.klarna.com/redirect/{PATH_TOKEN}?t={QUERY_SECRET}"),
        "fraud_status": "ACCEPTED",
    }))
    .expect("kp order");
    w.debug("kp::Order", &kp_order);
    let token_response: kp::CustomerTokenResponse = serde_json::from_value(json!({
        "token_id": CUSTOMER_TOKEN, "redirect_url": secret_url("token"),
        "billing_address": address_json(),
        "customer": {"date_of_birth": BIRTH},
    }))
    .expect("token response");
    w.debug("kp::CustomerTokenResponse", &token_response);

    // HPP
    w.debug("hpp::MerchantUrls", &merchant_urls());
    w.debug("hpp::Options", &options());
    w.debug(
        "hpp::BackgroundImage",
        &BackgroundImage::new(query_url("bg.png"), 800),
    );
    let mut creation = SessionCreationRequest::new(format!(
        "https://api.klarna.com/payments/v1/sessions/kp-1?x={QUERY_SECRET}"
    ));
    creation.merchant_urls = Some(merchant_urls());
    creation.options = Some(options());
    w.debug("hpp::SessionCreationRequest", &creation);
    w.debug("hpp::CreateSession", &hpp::CreateSession::new(creation));
    for request in [
        DistributionRequest::email(EMAIL),
        DistributionRequest::sms(PHONE, "SE"),
        DistributionRequest::token(ACCESS_ID),
    ] {
        w.debug(
            "hpp::DistributionContact",
            &request.contact_information.clone(),
        );
        w.debug("hpp::DistributionRequest", &request);
        w.debug("hpp::Distribute", &hpp::Distribute::new("hpp-1", request));
    }
    w.debug("hpp::DistributionContact", &DistributionContact::default());
    let created: hpp::SessionCreated = serde_json::from_value(json!({
        "session_id": "hpp-1",
        "session_url": query_url("hpp/v1/sessions/hpp-1"),
        "redirect_url": format!("https://pay.klarna.com/eu/hpp/payments/{PATH_TOKEN}"),
        "qr_code_url": query_url("qr"),
        "distribution_url": secret_url("distribution"),
        "manual_identification_check_url": query_url("manual"),
        "distribution_module": {"token": DISTRIBUTION_TOKEN,
            "standalone_url": query_url("standalone"), "generation_url": secret_url("gen")},
    }))
    .expect("session created");
    w.debug(
        "hpp::DistributionModule",
        created.distribution_module.as_ref().expect("module"),
    );
    w.debug("hpp::SessionCreated", &created);
    let hpp_customer = json!({"date_of_birth": BIRTH, "family_name": FAMILY,
        "given_name": GIVEN, "national_identification_number": NATIONAL_ID, "title": GIVEN});
    let session_json = json!({
        "session_id": "hpp-1", "status": "COMPLETED", "authorization_token": TOKEN,
        "customer": hpp_customer,
        "manual_identification": {"challenge": "A78", "customer": hpp_customer,
            "customer_obfuscated": hpp_customer},
    });
    let hpp_session: hpp::Session = serde_json::from_value(session_json.clone()).expect("session");
    w.debug(
        "hpp::Customer",
        hpp_session.customer.as_ref().expect("customer"),
    );
    w.debug(
        "hpp::ManualIdentification",
        hpp_session
            .manual_identification
            .as_ref()
            .expect("identification"),
    );
    w.debug("hpp::Session", &hpp_session);
    let callback: hpp::StatusCallback =
        serde_json::from_value(json!({"event_id": "ev-1", "session": session_json}))
            .expect("callback");
    w.debug("hpp::StatusCallback", &callback);

    // OM
    let shipping = ShippingInfo::new()
        .shipping_company("DHL")
        .tracking_number(TRACKING)
        .tracking_uri(format!("https://track.example/t?n={TRACKING}"))
        .return_tracking_number(TRACKING)
        .return_tracking_uri(secret_url("return"));
    w.debug("om::ShippingInfo", &shipping);
    let mut om_customer = om::Customer::default();
    om_customer.date_of_birth = Some(BIRTH.into());
    om_customer.national_identification_number = Some(NATIONAL_ID.into());
    w.debug("om::Customer", &om_customer);
    let shipping_json = serde_json::to_value(&shipping).expect("json");
    let line_json = serde_json::to_value(line()).expect("json");
    let om_order: om::Order = serde_json::from_value(json!({
        "order_id": "om-1", "status": "CAPTURED", "order_amount": 10000,
        "original_order_amount": 10000, "captured_amount": 10000, "refunded_amount": 0,
        "remaining_authorized_amount": 0, "order_lines": [line_json],
        "customer": {"date_of_birth": BIRTH, "national_identification_number": NATIONAL_ID},
        "billing_address": address_json(), "shipping_address": address_json(),
        "captures": [{"capture_id": "c-1", "captured_amount": 10000, "order_lines": [line_json],
            "billing_address": address_json(), "shipping_address": address_json(),
            "shipping_info": [shipping_json]}],
        "refunds": [{"refund_id": "r-1", "refunded_amount": 100, "order_lines": [line_json]}],
        "shipping_info": [shipping_json],
    }))
    .expect("om order");
    w.debug(
        "om::Capture",
        om_order.captures[0]
            .decoded()
            .expect("a capture of the documented shape"),
    );
    w.debug(
        "om::Refund",
        om_order.refunds[0]
            .decoded()
            .expect("a refund of the documented shape"),
    );
    w.debug("om::Item", &om_order.captures[0]);
    // An odd item kept as received (it may hold anything the order holds).
    let odd: om::Item<om::Capture> = om::Item::Raw(json!({
        "captured_amount": "ten", "billing_address": address_json(),
        "customer": {"national_identification_number": NATIONAL_ID}, "token": TOKEN,
    }));
    w.debug("om::Item", &odd);
    w.debug("om::Order", &om_order);
    let mut capture = om::CaptureRequest::new(10_000);
    capture.order_lines = vec![line()];
    capture.shipping_info = vec![shipping.clone()];
    w.debug("om::CaptureRequest", &capture);
    w.debug(
        "om::CreateCapture",
        &om::CreateCapture::new("om-1", capture, None),
    );
    let mut refund = om::RefundRequest::new(100);
    refund.order_lines = vec![line()];
    w.debug("om::RefundRequest", &refund);
    w.debug(
        "om::CreateRefund",
        &om::CreateRefund::new("om-1", refund, None),
    );
    let mut authorization = om::UpdateAuthorizationRequest::new(10_000);
    authorization.order_lines = vec![line()];
    w.debug("om::UpdateAuthorizationRequest", &authorization);
    w.debug(
        "om::UpdateAuthorization",
        &om::UpdateAuthorization::new("om-1", authorization, None),
    );
    let mut details = om::CustomerDetails::default();
    details.billing_address = Some(address());
    details.shipping_address = Some(address());
    w.debug("om::CustomerDetails", &details);
    w.debug(
        "om::UpdateCustomerDetails",
        &om::UpdateCustomerDetails::new("om-1", details, None),
    );
    w.debug(
        "om::ShippingInfoUpdate",
        &om::ShippingInfoUpdate::new(vec![shipping.clone()]),
    );
    w.debug(
        "om::AddOrderShippingInfo",
        &om::AddOrderShippingInfo::new("om-1", vec![shipping.clone()], None),
    );
    w.debug(
        "om::AddCaptureShippingInfo",
        &om::AddCaptureShippingInfo::new("om-1", "c-1", vec![shipping], None),
    );

    // errors
    let api_error = match kp::CreateOrder::decode_response(&klarna_error()) {
        Err(Error::Api(e)) => e,
        other => panic!("expected an API error, got {other:?}"),
    };
    w.both("error::ApiError", &api_error);
    w.both("error::Error", &Error::Api(api_error.clone()));
    let undecodable = response(
        200,
        json!({"session_id": "hpp-1", "status": "COMPLETED", "expires_at": EMAIL}),
    );
    match hpp::ReadSession::decode_response(&undecodable) {
        Err(Error::Decode(e)) => {
            w.both("error::DecodeError", &e);
            w.both("error::Error", &Error::Decode(e));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    w.both(
        "transport::TransportError",
        &TransportError::outcome_unknown(format!(
            "https://proxy.example/payments/v1/authorizations/{TOKEN}/order: connection reset by {EMAIL}"
        )),
    );
    let problem = ApiProblem::from(&api_error);
    w.debug("checkout::ApiProblem", &problem);
    w.debug(
        "checkout::FailureReason",
        &FailureReason::KpSessionRejected(problem.clone()),
    );
    w.debug(
        "checkout::Event",
        &Event::CallFailed {
            call: klarna_hpp_core::checkout::Call::Capture,
            problem,
        },
    );

    // the checkout
    let seed = Seed::from(SEED);
    w.debug("checkout::Seed", &seed);
    let config = CheckoutConfig::new("chk-1", seed, session())
        .merchant_urls(merchant_urls())
        .options(options().with_place_order_mode(PlaceOrderMode::None));
    w.debug("checkout::CheckoutConfig", &config);
    walk_a_checkout(&mut w, config);

    assert!(w.failures.is_empty(), "{}", w.failures.join("\n"));
    let checked: BTreeSet<&str> = w.checked.keys().map(String::as_str).collect();
    let listed: BTreeSet<&str> = CHECKED.iter().copied().collect();
    assert_eq!(
        checked, listed,
        "CHECKED must list exactly the types checked"
    );
}

/// Runs a checkout up to the placed order, checking every output, event, the checkout and its
/// errors on the way.
fn walk_a_checkout(w: &mut Walk, config: CheckoutConfig) {
    let t0 = scenario::ts(0);
    let mut checkout = Checkout::new(api(), config, t0).expect("valid");
    // The derived secrets are in the snapshot (that is what snapshots hold).
    let snapshot: serde_json::Value = serde_json::from_slice(&checkout.snapshot()).expect("json");
    for field in ["secret", "keys"] {
        w.derived
            .push(snapshot[field].as_str().expect("derived").to_owned());
    }
    let answers = [
        response(
            200,
            json!({"session_id": "kp-1", "client_token": CLIENT_TOKEN}),
        ),
        response(
            201,
            json!({"session_id": "hpp-1", "expires_at": "2026-11-19T10:00:00Z",
                "redirect_url": format!("https://pay.klarna.com/eu/hpp/payments/{PATH_TOKEN}"),
                "qr_code_url": query_url("qr")}),
        ),
    ];
    for answer in answers {
        let id = drain(w, &mut checkout);
        checkout.handle_response(id, answer, t0).expect("in flight");
    }
    drain_events(w, &mut checkout);
    w.debug("checkout::Checkout", &checkout);
    // A malformed callback that echoes customer data.
    let secret = w.derived[0].clone();
    let uri = format!("/klarna/cb?sid=hpp-1&kh_secret={secret}");
    let bad = format!(
        r#"{{"event_id":"e","session":{{"session_id":"hpp-1","status":"COMPLETED","expires_at":"{EMAIL}"}}}}"#
    );
    match checkout.handle_callback(&uri, bad.as_bytes(), t0) {
        Err(e) => w.both("checkout::InputError", &e),
        Ok(outcome) => panic!("a malformed callback was accepted: {outcome:?}"),
    }
    let good = br#"{"event_id":"e","session":{"session_id":"hpp-1","status":"COMPLETED"}}"#;
    assert_eq!(
        checkout.handle_callback(&uri, good, t0),
        Ok(CallbackOutcome::ReadScheduled)
    );
    let id = drain(w, &mut checkout);
    checkout
        .handle_response(
            id,
            response(
                200,
                json!({"session_id": "hpp-1", "status": "COMPLETED", "authorization_token": TOKEN,
                    "customer": {"given_name": GIVEN, "family_name": FAMILY}}),
            ),
            t0,
        )
        .expect("in flight");
    drain_events(w, &mut checkout);
    checkout.place_order(None, t0).expect("authorized");
    // The place-order request has the token in its path and the customer in its body.
    let id = drain(w, &mut checkout);
    checkout
        .handle_response(id, klarna_error(), t0)
        .expect("in flight");
    drain_events(w, &mut checkout);
    w.debug("checkout::Checkout", &checkout);
    // A corrupted snapshot whose parse error would echo its text.
    let corrupted = format!(r#"{{"v":1,"id":"chk-1","secret":{{"{EMAIL}":1}}}}"#);
    match Checkout::restore(api(), corrupted.as_bytes()) {
        Err(e) => w.both("checkout::SnapshotError", &e),
        Ok(_) => panic!("a corrupted snapshot was restored"),
    }
}

/// Checks the events and the request `poll_output` gives, returning the request's id.
fn drain(w: &mut Walk, checkout: &mut Checkout) -> klarna_hpp_core::checkout::RequestId {
    loop {
        let output = checkout.poll_output();
        w.debug("checkout::Output", &output);
        match output {
            Output::Event(event) => check_event(w, &event),
            Output::Request(id, _) => return id,
            other => panic!("expected a request, got {other:?}"),
        }
    }
}

fn drain_events(w: &mut Walk, checkout: &mut Checkout) {
    while let Some(event) = checkout.poll_event() {
        w.debug("checkout::Output", &Output::Event(event.clone()));
        check_event(w, &event);
    }
}

fn check_event(w: &mut Walk, event: &Event) {
    w.debug("checkout::Event", event);
    if let Event::ConsumerLinkReady(link) = event {
        w.debug::<ConsumerLink>("checkout::ConsumerLink", link);
    }
    if let Event::Failed { reason } = event {
        w.debug("checkout::FailureReason", reason);
    }
}

#[test]
fn output_debug_shows_method_path_template_and_length_only() {
    use scenario::*;
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.poll_answer(hpp_status(
        "COMPLETED",
        30,
        json!({"authorization_token": "tok-secret-1"}),
    ));
    s.command("place_order", |c, now| c.place_order(None, now));
    let (id, request) = s.pending.take().expect("the place-order request");
    let length = request.body().len();
    let debug = format!("{:?}", Output::Request(id, request));
    assert_eq!(
        debug,
        format!(
            "Request(RequestId({}), POST /payments/v1/authorizations/{{authorization_token}}/order ({length} bytes))",
            id.get()
        )
    );
}

// ----- the lists are complete -----

/// `module::Name` of every `pub struct` / `pub enum` in `crates/core/src`, and of the types
/// defined by `name!(…)` macro invocations (the name is the first line that is neither a doc
/// comment nor an attribute).
fn public_types() -> BTreeSet<String> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut names = BTreeSet::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative
            .components()
            .next()
            .expect("a component")
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let text = std::fs::read_to_string(&file).expect("utf-8");
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let line = line.trim();
            let declared = ["pub struct ", "pub enum "]
                .iter()
                .find_map(|p| line.strip_prefix(p));
            if let Some(rest) = declared {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.insert(format!("{first}::{name}"));
                }
                continue;
            }
            let is_invocation = line.ends_with("!(")
                && !line.starts_with("macro_rules")
                && line[..line.len() - 2]
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_');
            if is_invocation {
                let name = lines
                    .by_ref()
                    .map(str::trim)
                    .find(|l| !l.starts_with("///") && !l.starts_with("#["))
                    .unwrap_or_default()
                    .trim_end_matches(',');
                // A type's name (`assert_eq!(` and the like are followed by expressions).
                let is_type_name = name.starts_with(|c: char| c.is_ascii_uppercase())
                    && name.chars().all(|c| c.is_alphanumeric() || c == '_');
                if is_type_name {
                    names.insert(format!("{first}::{name}"));
                }
            }
        }
    }
    names
}

#[test]
fn every_public_type_is_checked_or_listed_as_holding_no_secret() {
    let found = public_types();
    let checked: BTreeSet<String> = CHECKED.iter().map(|s| (*s).to_owned()).collect();
    let plain: BTreeSet<String> = HOLDS_NO_SECRET
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert!(
        checked.is_disjoint(&plain),
        "listed twice: {:?}",
        checked.intersection(&plain).collect::<Vec<_>>()
    );
    let listed: BTreeSet<String> = checked.union(&plain).cloned().collect();
    let unlisted: Vec<&String> = found.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "public types in neither CHECKED nor HOLDS_NO_SECRET (tests/redaction.rs): {unlisted:?}"
    );
    let stale: Vec<&String> = listed.difference(&found).collect();
    assert!(stale.is_empty(), "listed but not found in src: {stale:?}");
}

#[test]
fn the_scan_finds_types_of_every_shape() {
    let found = public_types();
    // A plain struct, an open enum (macro body), a secret newtype (macro invocation), an
    // order action (macro invocation), a type in a nested module file.
    for name in [
        "checkout::Checkout",
        "hpp::HppStatus",
        "secret::AuthorizationToken",
        "hpp::DistributionToken",
        "om::Acknowledge",
        "template::KpUrlTemplate",
    ] {
        assert!(found.contains(name), "{name} not found in {found:?}");
    }
    assert!(!found.iter().any(|n| n.contains('$')), "{found:?}");
}
