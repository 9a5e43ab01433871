//! Property tests: HPP request bodies survive encode → decode, and what we encode the spec accepts.

mod support;

use std::sync::OnceLock;

use klarna_hpp_core::hpp::{
    BackgroundImage, DistributionMethod, DistributionRequest, DistributionTemplate, MerchantUrls,
    Options, PaymentMethodCategory, PlaceOrderMode, PurchaseType, SessionCreationRequest,
    ShowSubtotalDetail,
};
use proptest::prelude::*;

fn validator(schema: &'static str) -> &'static jsonschema::Validator {
    static CREATE: OnceLock<jsonschema::Validator> = OnceLock::new();
    static DISTRIBUTE: OnceLock<jsonschema::Validator> = OnceLock::new();
    let cell = match schema {
        "SessionCreationRequestV1" => &CREATE,
        _ => &DISTRIBUTE,
    };
    cell.get_or_init(|| support::validator("hpp", schema))
}

fn known<T: Clone + std::fmt::Debug + 'static>(values: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(values)
}

fn url() -> impl Strategy<Value = String> {
    "https://[a-z]{1,8}\\.example/[a-z0-9/]{0,12}(\\?s=\\{\\{session_id\\}\\})?"
}

fn merchant_urls() -> impl Strategy<Value = MerchantUrls> {
    (
        proptest::option::of(url()),
        proptest::option::of(url()),
        proptest::option::of(url()),
        proptest::option::of(url()),
        proptest::option::of(url()),
        proptest::option::of(url()),
    )
        .prop_map(|(success, cancel, back, failure, error, status_update)| {
            let mut urls = MerchantUrls::default();
            urls.success = success;
            urls.cancel = cancel;
            urls.back = back;
            urls.failure = failure;
            urls.error = error;
            urls.status_update = status_update;
            urls
        })
}

fn options() -> impl Strategy<Value = Options> {
    (
        proptest::option::of(known(PlaceOrderMode::KNOWN)),
        proptest::option::of(known(PaymentMethodCategory::KNOWN)),
        proptest::option::of(proptest::collection::vec(
            known(PaymentMethodCategory::KNOWN),
            0..4,
        )),
        proptest::option::of(any::<bool>()),
        proptest::option::of(known(PurchaseType::KNOWN)),
        proptest::option::of(url()),
        proptest::option::of("\\PC{0,40}"),
        proptest::collection::vec((url(), 1..4000i64), 0..3),
        proptest::option::of(known(ShowSubtotalDetail::KNOWN)),
    )
        .prop_map(
            |(mode, category, categories, fallback, purchase, logo, title, images, subtotal)| {
                let mut o = Options::default();
                o.place_order_mode = mode;
                o.payment_method_category = category;
                o.payment_method_categories = categories;
                o.payment_fallback = fallback;
                o.purchase_type = purchase;
                o.logo_url = logo;
                o.page_title = title;
                o.background_images = images
                    .into_iter()
                    .map(|(u, w)| BackgroundImage::new(u, w))
                    .collect();
                o.show_subtotal_detail = subtotal;
                o
            },
        )
}

fn create_request() -> impl Strategy<Value = SessionCreationRequest> {
    (
        url(),
        proptest::option::of(merchant_urls()),
        proptest::option::of(options()),
        proptest::option::of("[0-9a-f-]{36}"),
    )
        .prop_map(|(payment_session_url, urls, options, profile)| {
            let mut r = SessionCreationRequest::new(payment_session_url);
            r.merchant_urls = urls;
            r.options = options;
            r.profile_id = profile;
            r
        })
}

const ACCESS_IDS: &[&str] = &[
    "klarna:09f4a78d-d096-47d4-a0f6-abcf680c70fe",
    "467521087419",
    "278352",
];

fn distribution_request() -> impl Strategy<Value = DistributionRequest> {
    let email = "[a-z0-9.]{1,10}@[a-z]{1,10}\\.example".prop_map(DistributionRequest::email);
    let sms = ("\\+?[0-9]{6,12}", "[A-Z]{2}").prop_map(|(p, c)| DistributionRequest::sms(p, c));
    let token = known(ACCESS_IDS).prop_map(DistributionRequest::token);
    (prop_oneof![email, sms, token], any::<bool>()).prop_map(|(mut r, template)| {
        if template {
            r.template = Some(DistributionTemplate::InstorePurchase);
        }
        r
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn session_creation_request_round_trips(request in create_request()) {
        let json = serde_json::to_vec(&request).unwrap();
        let back: SessionCreationRequest = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(&back, &request);
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        prop_assert!(validator("SessionCreationRequestV1").is_valid(&value), "{}", value);
    }

    #[test]
    fn distribution_request_round_trips(request in distribution_request()) {
        let json = serde_json::to_vec(&request).unwrap();
        let back: DistributionRequest = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(&back, &request);
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        prop_assert!(validator("DistributionRequestV1").is_valid(&value), "{}", value);
        prop_assert!(!back.method.is_unknown());
        prop_assert!(matches!(back.method, DistributionMethod::Email | DistributionMethod::Sms | DistributionMethod::Token));
    }
}
