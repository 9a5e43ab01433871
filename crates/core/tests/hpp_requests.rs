//! The exact request of every HPP operation (insta snapshots), every emitted body validated
//! against Klarna's HPP spec, and every validation rule of `to_request`.

mod support;

use klarna_hpp_core::hpp::{
    BackgroundImage, CreateSession, DisableSession, Distribute, DistributionMethod,
    DistributionRequest, DistributionTemplate, MerchantUrls, Options, PaymentMethodCategory,
    PlaceOrderMode, PurchaseType, ReadSession, SessionCreationRequest, ShowSubtotalDetail,
};
use klarna_hpp_core::http::Request;
use klarna_hpp_core::template::{Placeholder, TemplateError, UrlKind};
use klarna_hpp_core::{
    Api, BaseUrl, Credentials, Environment, Error, Operation, Region, ValidationError,
    ValidationProblem,
};

const KP_SESSION: &str =
    "https://api.playground.klarna.com/payments/v1/sessions/92d97f60-7a78-46a5-8f68-c56fe52dc4af";

fn api() -> Api {
    Api::new(
        BaseUrl::klarna(Region::Eu, Environment::Playground),
        Credentials::new("DemoMerchant", "DemoPassword"),
    )
}

/// Method, URI, sorted headers, pretty body.
fn render(request: &Request<Vec<u8>>) -> String {
    let mut out = format!("{} {}\n", request.method(), request.uri());
    let mut headers: Vec<_> = request
        .headers()
        .iter()
        .map(|(k, v)| format!("{}: {}", k.as_str(), v.to_str().expect("header is ASCII")))
        .collect();
    headers.sort();
    for h in headers {
        out.push_str(&h);
        out.push('\n');
    }
    if !request.body().is_empty() {
        let body: serde_json::Value = serde_json::from_slice(request.body()).expect("JSON body");
        out.push('\n');
        out.push_str(&serde_json::to_string_pretty(&body).expect("serializes"));
        out.push('\n');
    }
    out
}

fn body(request: &Request<Vec<u8>>) -> serde_json::Value {
    serde_json::from_slice(request.body()).expect("JSON body")
}

fn full_create() -> SessionCreationRequest {
    let mut urls = MerchantUrls::default();
    urls.success = Some(
        "https://shop.example/success?sid={{session_id}}&token={{authorization_token}}".into(),
    );
    urls.cancel = Some("https://shop.example/cancel?sid={{session_id}}".into());
    urls.back = Some("https://shop.example/back?sid={{session_id}}".into());
    urls.failure = Some("https://shop.example/fail?sid={{session_id}}".into());
    urls.error = Some("https://shop.example/error?sid={{session_id}}".into());
    urls.status_update =
        Some("https://shop.example/status?secret=yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy&sid={{session_id}}".into());
    let mut options = Options::default();
    options.place_order_mode = Some(PlaceOrderMode::None);
    options.payment_method_categories = Some(vec![
        PaymentMethodCategory::PayLater,
        PaymentMethodCategory::PayOverTime,
    ]);
    options.payment_fallback = Some(true);
    options.purchase_type = Some(PurchaseType::Buy);
    options.logo_url = Some("https://shop.example/logo.png".into());
    options.page_title = Some("Complete your purchase".into());
    options.background_images = vec![
        BackgroundImage::new("https://shop.example/bg-1200.jpg", 1200),
        BackgroundImage::new("https://shop.example/bg-600.jpg", 600),
    ];
    options.show_subtotal_detail = Some(ShowSubtotalDetail::Hide);
    let mut body = SessionCreationRequest::new(KP_SESSION);
    body.merchant_urls = Some(urls);
    body.options = Some(options);
    body.profile_id = Some("87ab3565-5e06-4006-9ada-8eedc6926703".into());
    body
}

#[test]
fn create_session_minimal() {
    let request = CreateSession::new(SessionCreationRequest::new(KP_SESSION))
        .to_request(&api())
        .unwrap();
    support::assert_valid("hpp", "SessionCreationRequestV1", &body(&request));
    insta::assert_snapshot!(render(&request));
}

#[test]
fn create_session_full() {
    let request = CreateSession::new(full_create())
        .to_request(&api())
        .unwrap();
    support::assert_valid("hpp", "SessionCreationRequestV1", &body(&request));
    insta::assert_snapshot!(render(&request));
}

#[test]
fn create_session_place_order_with_order_id() {
    let mut urls = MerchantUrls::default();
    urls.success = Some("https://shop.example/thanks/{{order_id}}?sid={{session_id}}".into());
    urls.status_update =
        Some("https://shop.example/hpp/{{session_id}}/status?order={{order_id}}".into());
    let mut options = Options::default();
    options.place_order_mode = Some(PlaceOrderMode::CaptureOrder);
    options.payment_method_category = Some(PaymentMethodCategory::PayNow);
    let mut create = SessionCreationRequest::new(KP_SESSION);
    create.merchant_urls = Some(urls);
    create.options = Some(options);
    let request = CreateSession::new(create).to_request(&api()).unwrap();
    support::assert_valid("hpp", "SessionCreationRequestV1", &body(&request));
    insta::assert_snapshot!(render(&request));
}

#[test]
fn read_session() {
    let request = ReadSession::new("39a1c773-0f6e-4e49-9bb1-8f2f6e0a3c11")
        .to_request(&api())
        .unwrap();
    assert!(request.body().is_empty());
    insta::assert_snapshot!(render(&request));
}

#[test]
fn read_session_encodes_the_id() {
    let request = ReadSession::new("a/b?c").to_request(&api()).unwrap();
    assert_eq!(
        request.uri(),
        "https://api.playground.klarna.com/hpp/v1/sessions/a%2Fb%3Fc"
    );
}

#[test]
fn disable_session() {
    let request = DisableSession::new("39a1c773-0f6e-4e49-9bb1-8f2f6e0a3c11")
        .to_request(&api())
        .unwrap();
    assert!(request.body().is_empty());
    insta::assert_snapshot!(render(&request));
}

#[test]
fn distribute_email() {
    let request = Distribute::new("39a1c773", DistributionRequest::email("test@example.com"))
        .to_request(&api())
        .unwrap();
    support::assert_valid("hpp", "DistributionRequestV1", &body(&request));
    insta::assert_snapshot!(render(&request));
}

#[test]
fn distribute_sms() {
    let mut sms = DistributionRequest::sms("07000212345", "SE");
    sms.template = Some(DistributionTemplate::InstorePurchase);
    let request = Distribute::new("39a1c773", sms).to_request(&api()).unwrap();
    support::assert_valid("hpp", "DistributionRequestV1", &body(&request));
    insta::assert_snapshot!(render(&request));
}

#[test]
fn distribute_token() {
    // The spec lists sample access ids as an "enum"; use one so the schema accepts it.
    let request = Distribute::new("39a1c773", DistributionRequest::token("467521087419"))
        .to_request(&api())
        .unwrap();
    support::assert_valid("hpp", "DistributionRequestV1", &body(&request));
    insta::assert_snapshot!(render(&request));
}

#[test]
fn operation_names_and_statuses() {
    use klarna_hpp_core::http::StatusCode;
    assert_eq!(CreateSession::NAME, "hpp.create_session");
    assert_eq!(CreateSession::DOCUMENTED_STATUS, StatusCode::CREATED);
    assert_eq!(ReadSession::NAME, "hpp.read_session");
    assert_eq!(ReadSession::DOCUMENTED_STATUS, StatusCode::OK);
    assert_eq!(DisableSession::NAME, "hpp.disable_session");
    assert_eq!(DisableSession::DOCUMENTED_STATUS, StatusCode::NO_CONTENT);
    assert_eq!(Distribute::NAME, "hpp.distribute");
    assert_eq!(Distribute::DOCUMENTED_STATUS, StatusCode::CREATED);
}

// ---- validation: no request is built ----

fn validation(result: Result<Request<Vec<u8>>, Error>) -> ValidationError {
    match result {
        Err(Error::Validation(e)) => e,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn template(result: Result<Request<Vec<u8>>, Error>) -> TemplateError {
    match result {
        Err(Error::Template(e)) => e,
        other => panic!("expected a template error, got {other:?}"),
    }
}

fn create(edit: impl FnOnce(&mut SessionCreationRequest)) -> Result<Request<Vec<u8>>, Error> {
    let mut body = full_create();
    edit(&mut body);
    CreateSession::new(body).to_request(&api())
}

fn urls(body: &mut SessionCreationRequest) -> &mut MerchantUrls {
    body.merchant_urls.as_mut().expect("set")
}

fn options(body: &mut SessionCreationRequest) -> &mut Options {
    body.options.as_mut().expect("set")
}

#[test]
fn payment_session_url_must_be_absolute_https() {
    let e = validation(create(|b| {
        b.payment_session_url = "/payments/v1/sessions/x".into()
    }));
    assert_eq!(
        e,
        ValidationError::new("payment_session_url", ValidationProblem::NotAbsoluteUrl)
    );
    let e = validation(create(|b| {
        b.payment_session_url = "http://api.klarna.com/payments/v1/sessions/x".into()
    }));
    assert_eq!(
        e,
        ValidationError::new("payment_session_url", ValidationProblem::NotHttps)
    );
    let e = validation(create(|b| {
        b.payment_session_url = "ftp://api.klarna.com/x".into()
    }));
    assert_eq!(e.problem, ValidationProblem::NotHttps);
    let e = validation(create(|b| b.payment_session_url = "not a url".into()));
    assert_eq!(e.problem, ValidationProblem::NotAbsoluteUrl);
    // The emulator on loopback.
    for url in [
        "http://127.0.0.1:8080/payments/v1/sessions/x",
        "http://localhost/payments/v1/sessions/x",
    ] {
        assert!(
            create(|b| b.payment_session_url = url.into()).is_ok(),
            "{url}"
        );
    }
}

#[test]
fn payment_method_category_and_categories_are_exclusive() {
    let e = validation(create(|b| {
        options(b).payment_method_category = Some(PaymentMethodCategory::PayLater)
    }));
    assert_eq!(
        e,
        ValidationError::new(
            "options.payment_method_categories",
            ValidationProblem::MutuallyExclusive {
                other: "options.payment_method_category"
            }
        )
    );
    let e = validation(create(|b| {
        options(b).payment_method_categories = Some(vec![])
    }));
    assert_eq!(
        e,
        ValidationError::new(
            "options.payment_method_categories",
            ValidationProblem::Empty
        )
    );
}

#[test]
fn merchant_url_syntax_errors_name_the_url() {
    let e = template(create(|b| {
        urls(b).failure = Some("https://shop.example/f?r={{klarna_reference}}".into())
    }));
    assert_eq!(
        e,
        TemplateError::InMerchantUrl {
            kind: UrlKind::Failure,
            source: Box::new(TemplateError::UnknownPlaceholder {
                name: "klarna_reference".into()
            })
        }
    );
    assert_eq!(
        e.to_string(),
        "merchant_urls.failure: unknown placeholder `klarna_reference`"
    );
    let e = template(create(|b| urls(b).back = Some("/back".into())));
    assert_eq!(
        e,
        TemplateError::InMerchantUrl {
            kind: UrlKind::Back,
            source: Box::new(TemplateError::NotAbsolute)
        }
    );
}

#[test]
fn merchant_url_placeholders_follow_the_mode() {
    // Token with PLACE_ORDER.
    let e = template(create(|b| {
        options(b).place_order_mode = Some(PlaceOrderMode::PlaceOrder)
    }));
    assert_eq!(
        e,
        TemplateError::NotAllowed {
            placeholder: Placeholder::AuthorizationToken,
            kind: UrlKind::Success,
            mode: PlaceOrderMode::PlaceOrder
        }
    );
    // Token outside success, with the default mode (no options at all).
    let e = template(create(|b| {
        b.options = None;
        urls(b).cancel = Some("https://shop.example/c?t={{authorization_token}}".into());
    }));
    assert_eq!(
        e,
        TemplateError::NotAllowed {
            placeholder: Placeholder::AuthorizationToken,
            kind: UrlKind::Cancel,
            mode: PlaceOrderMode::None
        }
    );
    // Order id under NONE.
    let e = template(create(|b| {
        urls(b).success = Some("https://shop.example/s?o={{order_id}}".into())
    }));
    assert!(
        matches!(
            e,
            TemplateError::NotAllowed {
                placeholder: Placeholder::OrderId,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn merchant_urls_must_be_https_and_non_empty() {
    let e = validation(create(|b| {
        urls(b).status_update = Some("http://shop.example/status?sid={{session_id}}".into())
    }));
    assert_eq!(
        e,
        ValidationError::new("merchant_urls.status_update", ValidationProblem::NotHttps)
    );
    let e = validation(create(|b| urls(b).cancel = Some(String::new())));
    assert_eq!(
        e,
        ValidationError::new("merchant_urls.cancel", ValidationProblem::Empty)
    );
    assert!(create(
        |b| urls(b).status_update = Some("http://127.0.0.1:9000/cb?sid={{session_id}}".into())
    )
    .is_ok());
    assert!(create(|b| urls(b).error = Some("http://[::1]:9000/e".into())).is_ok());
}

#[test]
fn images_must_be_https_and_titles_short() {
    let e = validation(create(|b| {
        options(b).logo_url = Some("http://cdn.example/logo.png".into())
    }));
    assert_eq!(
        e,
        ValidationError::new("options.logo_url", ValidationProblem::NotHttps)
    );
    let e = validation(create(|b| {
        options(b).background_images[1].url = "bg.jpg".into()
    }));
    assert_eq!(
        e,
        ValidationError::new(
            "options.background_images[1].url",
            ValidationProblem::NotAbsoluteUrl
        )
    );
    let e = validation(create(|b| options(b).background_images[0].width = Some(0)));
    assert_eq!(
        e,
        ValidationError::new(
            "options.background_images[0].width",
            ValidationProblem::NotPositive { actual: 0 }
        )
    );
    let e = validation(create(|b| options(b).page_title = Some("é".repeat(256))));
    assert_eq!(
        e,
        ValidationError::new(
            "options.page_title",
            ValidationProblem::TooLong { max: 255 }
        )
    );
    assert!(create(|b| options(b).page_title = Some("é".repeat(255))).is_ok());
}

#[test]
fn both_back_and_cancel_are_accepted() {
    // Klarna shows only one of them; whether the API refuses both is unknown, so we don't.
    let body = full_create();
    assert!(body.merchant_urls.as_ref().unwrap().back.is_some());
    assert!(body.merchant_urls.as_ref().unwrap().cancel.is_some());
    assert!(CreateSession::new(body).to_request(&api()).is_ok());
}

#[test]
fn effective_place_order_mode_defaults_to_none() {
    assert_eq!(
        SessionCreationRequest::new(KP_SESSION).place_order_mode(),
        PlaceOrderMode::None
    );
    assert_eq!(full_create().place_order_mode(), PlaceOrderMode::None);
}

#[test]
fn session_ids_must_not_be_empty() {
    for result in [
        ReadSession::new("").to_request(&api()),
        DisableSession::new("").to_request(&api()),
        Distribute::new("", DistributionRequest::email("a@b.example")).to_request(&api()),
    ] {
        assert_eq!(
            validation(result),
            ValidationError::new("session_id", ValidationProblem::Empty)
        );
    }
}

#[test]
fn distribution_contact_is_validated() {
    let send = |r: DistributionRequest| Distribute::new("s", r).to_request(&api());
    let e = validation(send(DistributionRequest::email("not-an-email")));
    assert_eq!(e.field, "contact_information.email");
    assert!(matches!(e.problem, ValidationProblem::Pattern { .. }));
    for bad in ["@b.example", "a@", "a b@c.example", "a@b@c"] {
        assert!(send(DistributionRequest::email(bad)).is_err(), "{bad}");
    }
    let e = validation(send(DistributionRequest::email(" ")));
    assert_eq!(
        e,
        ValidationError::new("contact_information.email", ValidationProblem::Empty)
    );

    let mut missing = DistributionRequest::email("a@b.example");
    missing.method = DistributionMethod::Sms;
    let e = validation(send(missing));
    assert_eq!(
        e,
        ValidationError::new("contact_information.phone", ValidationProblem::Missing)
    );
    let e = validation(send(DistributionRequest::sms("0700-abc", "SE")));
    assert_eq!(e.field, "contact_information.phone");
    let e = validation(send(DistributionRequest::sms("+46 70 000 12 34", "SWE")));
    assert_eq!(e.field, "contact_information.phone_country");
    assert!(send(DistributionRequest::sms("+46 (70) 000-12-34", "se")).is_ok());

    let e = validation(send(DistributionRequest::token("")));
    assert_eq!(
        e,
        ValidationError::new("contact_information.access_id", ValidationProblem::Empty)
    );

    // A method this version does not know is sent as is.
    let mut future = DistributionRequest::token("x");
    future.method = DistributionMethod::parse("whatsapp");
    let request = send(future).unwrap();
    assert_eq!(body(&request)["method"], "whatsapp");
}

#[test]
fn debug_output_hides_secrets_and_contacts() {
    let debug = format!("{:?}", CreateSession::new(full_create()));
    assert!(!debug.contains("yyyyyyyy"), "{debug}");
    assert!(
        debug.contains("https://shop.example/status?[redacted]"),
        "{debug}"
    );
    let debug = format!("{:?}", DistributionRequest::sms("07000212345", "SE"));
    assert!(!debug.contains("07000212345"), "{debug}");
    let debug = format!("{:?}", DistributionRequest::email("jane@example.com"));
    assert!(!debug.contains("jane"), "{debug}");
}
