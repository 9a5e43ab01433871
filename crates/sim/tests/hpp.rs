//! The HPP API and the hosted page over real HTTP: sessions, rules, lifetimes, disable,
//! distribution, and the consumer's actions with the redirects they produce.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn create_and_read() {
    let sim = start().await;
    let api = Api::new(&sim);
    let kp = api.kp_session(&kp_body()).await;
    let r = api
        .post(
            "/hpp/v1/sessions",
            &json!({"payment_session_url": api.kp_url(&kp), "profile_id": "5e0b1a4e-0d9a-4b8f-8cc4-0f0f3d9c7a11"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["session_id"].as_str().unwrap();
    let base = &api.base;
    assert_eq!(
        r.body["session_url"],
        format!("{base}/hpp/v1/sessions/{id}")
    );
    assert_eq!(r.body["redirect_url"], format!("{base}/hpp/pay/{id}"));
    assert_eq!(r.body["qr_code_url"], format!("{base}/hpp/pay/{id}/qr"));
    assert_eq!(
        r.body["distribution_url"],
        format!("{base}/hpp/v1/sessions/{id}/distribution")
    );
    assert_eq!(
        r.body["expires_at"], "2024-05-03T11:00:00.000Z",
        "1 h before the KP session"
    );
    assert!(r.body["distribution_module"]["token"].is_string());

    let read = api.get(r.body["session_url"].as_str().unwrap()).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["status"], "WAITING");
    assert_eq!(read.body["updated_at"], "2024-05-01T12:00:00.000Z");
    assert!(read.body.get("authorization_token").is_none());
}

async fn refuses(api: &Api, body: serde_json::Value, status: u16, code: &str, mentions: &str) {
    let r = api.post("/hpp/v1/sessions", &body).await;
    r.assert_error(status, code);
    assert!(
        r.text.contains(mentions),
        "expected {mentions:?} in {}",
        r.text
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn creation_rules() {
    let sim = start().await;
    let api = Api::new(&sim);
    let kp = api.kp_session(&kp_body()).await;
    let psu = api.kp_url(&kp);
    refuses(
        &api,
        json!({}),
        400,
        "CONSTRAINT_VIOLATION",
        "payment_session_url",
    )
    .await;
    refuses(
        &api,
        json!({"payment_session_url": psu, "options": {"payment_method_category": "PAY_LATER",
            "payment_method_categories": ["PAY_NOW"]}}),
        400,
        "CONSTRAINT_VIOLATION",
        "mutually exclusive",
    )
    .await;
    refuses(
        &api,
        json!({"payment_session_url": psu, "merchant_urls": {"success": "http://shop.example/ok"}}),
        400,
        "CONSTRAINT_VIOLATION",
        "merchant_urls.success",
    )
    .await;
    refuses(
        &api,
        json!({"payment_session_url": psu, "merchant_urls": {"status_update": "not a url"}}),
        400,
        "CONSTRAINT_VIOLATION",
        "merchant_urls.status_update",
    )
    .await;
    refuses(
        &api,
        json!({"payment_session_url": psu, "options": {"logo_url": "http://cdn.example/logo.png"}}),
        400,
        "CONSTRAINT_VIOLATION",
        "options.logo_url",
    )
    .await;
    refuses(
        &api,
        json!({"payment_session_url": psu, "options": {"place_order_mode": "SOMETIMES"}}),
        400,
        "CONSTRAINT_VIOLATION",
        "options.place_order_mode",
    )
    .await;
    refuses(
        &api,
        json!({"payment_session_url": psu, "options": {"payment_method_category": "DIRECT_DEBIT"}}),
        400,
        "CONSTRAINT_VIOLATION",
        "options.payment_method_category",
    )
    .await;
    refuses(
        &api,
        json!({"payment_session_url": format!("{}/checkout/v3/orders/{kp}", api.base)}),
        400,
        "CONSTRAINT_VIOLATION",
        "payment_session_url",
    )
    .await;
    refuses(
        &api,
        json!({"payment_session_url": format!("{}/payments/v1/sessions/0b1d9815-165e-42e2-8867-35bc03789e00", api.base)}),
        404,
        "NOT_FOUND",
        "Payment session has expired.",
    )
    .await;
    // Lower-case enums (as in Klarna's own examples) and https/loopback URLs are accepted.
    let ok = api
        .post(
            "/hpp/v1/sessions",
            &json!({"payment_session_url": psu,
                "merchant_urls": {"success": "https://shop.example/ok?t={{authorization_token}}",
                    "status_update": "http://localhost:9/cb"},
                "options": {"place_order_mode": "capture_order", "payment_method_categories": ["pay_later", "pay_now"],
                    "purchase_type": "buy", "show_subtotal_detail": "hide", "page_title": "Shop",
                    "background_images": [{"url": "https://cdn.example/bg.png", "width": 1200}]}}),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn hpp_expires_one_hour_before_kp() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (kp, hpp) = api.checkout(json!({})).await;
    sim.advance(hours(46));
    assert_eq!(api.hpp_status(&hpp).await, "WAITING");
    sim.advance(hours(1));
    let r = api.get(&format!("/hpp/v1/sessions/{hpp}")).await;
    r.assert_error(404, "NOT_FOUND");
    assert!(r
        .text
        .contains("HPP session has expired or could not be found"));
    // The KP session still lives for an hour, but a new HPP session would expire at once.
    assert_eq!(
        api.get(&format!("/payments/v1/sessions/{kp}")).await.status,
        200
    );
    let r = api
        .post(
            "/hpp/v1/sessions",
            &json!({"payment_session_url": api.kp_url(&kp)}),
        )
        .await;
    r.assert_error(404, "NOT_FOUND");
    // The page is gone too.
    let page = reqwest::get(format!("{}/hpp/pay/{hpp}", api.base))
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    api.delete(&format!("/hpp/v1/sessions/{hpp}"))
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn disable() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (_, hpp) = api.checkout(json!({})).await;
    sim.consumer(&hpp).open().unwrap();
    let r = api.delete(&format!("/hpp/v1/sessions/{hpp}")).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.text, "");
    assert_eq!(api.hpp_status(&hpp).await, "DISABLED");
    assert_eq!(
        api.delete(&format!("/hpp/v1/sessions/{hpp}")).await.status,
        204
    );
    let err = sim.consumer(&hpp).pay().unwrap_err();
    assert_eq!(
        err,
        klarna_hpp_sim::ConsumerError::Final {
            status: "DISABLED".into()
        }
    );
    let page = reqwest::get(format!("{}/hpp/pay/{hpp}", api.base))
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        404,
        "a disabled link shows an explicit error"
    );

    // Disabling a completed session is refused.
    let (_, hpp) = api.checkout(json!({})).await;
    sim.consumer(&hpp).pay().unwrap();
    let r = api.delete(&format!("/hpp/v1/sessions/{hpp}")).await;
    r.assert_error(400, "INVALID_OPERATION");
    assert!(r.text.contains("already been successfully completed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn distribution_records_the_message() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (_, hpp) = api.checkout(json!({})).await;
    let path = format!("/hpp/v1/sessions/{hpp}/distribution");
    let email = api
        .post(
            &path,
            &json!({"method": "email", "contact_information": {"email": "test@example.com"}}),
        )
        .await;
    assert_eq!(email.status, 201, "{}", email.text);
    assert_eq!(email.text, "");
    let sms = api
        .post(
            &path,
            &json!({"method": "sms", "contact_information": {"phone": "07000212345", "phone_country": "SE"}}),
        )
        .await;
    assert_eq!(sms.status, 201);
    let token = api
        .post(
            &path,
            &json!({"method": "token", "contact_information": {"access_id": "klarna:1234"}, "template": "INSTORE_PURCHASE"}),
        )
        .await;
    assert_eq!(token.status, 201, "{}", token.text);
    let messages = sim.messages();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0].method, "email");
    assert_eq!(messages[0].recipient, "test@example.com");
    assert_eq!(messages[0].link, format!("{}/hpp/pay/{hpp}", api.base));
    assert!(messages[0].text.contains(&messages[0].link));
    assert_eq!(messages[1].phone_country.as_deref(), Some("SE"));
    assert_eq!(messages[2].recipient, "klarna:1234");
    assert!(
        !format!("{:?}", messages[0]).contains("test@example.com"),
        "Debug redacts"
    );
    // The control API shows the same.
    let via_http: serde_json::Value = reqwest::get(format!("{}/_sim/messages", api.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(via_http.as_array().unwrap().len(), 3);

    api.post(
        &path,
        &json!({"method": "email", "contact_information": {}}),
    )
    .await
    .assert_error(400, "MISSING_CONTACT_DATA");
    api.post(
        &path,
        &json!({"method": "sms", "contact_information": {"phone": "0700"}}),
    )
    .await
    .assert_error(400, "MISSING_CONTACT_DATA");
    api.post(
        &path,
        &json!({"method": "sms", "contact_information": {"phone": "07000212345", "phone_country": "SWE"}}),
    )
    .await
    .assert_error(400, "UNSUPPORTED_COUNTRY");
    api.post(
        &path,
        &json!({"method": "email", "contact_information": {"email": "nope"}}),
    )
    .await
    .assert_error(400, "CONSTRAINT_VIOLATION");
    api.post(
        &path,
        &json!({"method": "pigeon", "contact_information": {}}),
    )
    .await
    .assert_error(400, "CONSTRAINT_VIOLATION");
    api.post(&path, &json!({"contact_information": {"email": "a@b.se"}}))
        .await
        .assert_error(400, "CONSTRAINT_VIOLATION");

    assert_eq!(
        api.delete(&format!("/hpp/v1/sessions/{hpp}")).await.status,
        204
    );
    let r = api
        .post(
            &path,
            &json!({"method": "email", "contact_information": {"email": "a@b.se"}}),
        )
        .await;
    r.assert_error(400, "CONSTRAINT_VIOLATION");
    assert!(r.text.contains("disabled"));
    api.post(
        "/hpp/v1/sessions/0b1d9815-165e-42e2-8867-35bc03789e00/distribution",
        &json!({"method": "email", "contact_information": {"email": "a@b.se"}}),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    assert_eq!(sim.messages().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn pay_with_place_order_mode_none_gives_a_token() {
    let sim = start().await;
    let api = Api::new(&sim);
    let merchant = Merchant::start().await;
    let (_, hpp) = api
        .checkout(json!({"merchant_urls": merchant.urls()}))
        .await;
    let out = sim.consumer(&hpp).pay_with("PAY_LATER").unwrap();
    assert_eq!(out.status, "COMPLETED");
    let token = out.authorization_token.clone().unwrap();
    assert!(out.order_id.is_none());
    assert_eq!(
        out.redirect_url,
        format!("{}/success?sid={hpp}&token={token}&order=", merchant.base)
    );
    let read = api.get(&format!("/hpp/v1/sessions/{hpp}")).await;
    assert_eq!(read.body["status"], "COMPLETED");
    assert_eq!(read.body["authorization_token"], token.as_str());
    let err = sim.consumer(&hpp).pay().unwrap_err();
    assert_eq!(
        err,
        klarna_hpp_sim::ConsumerError::Final {
            status: "COMPLETED".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn place_order_and_capture_order_modes() {
    let sim = start().await;
    let api = Api::new(&sim);
    let merchant = Merchant::start().await;
    for (mode, order_status, captured) in [
        ("PLACE_ORDER", "AUTHORIZED", 0),
        ("CAPTURE_ORDER", "CAPTURED", 62400),
    ] {
        let (kp, hpp) = api
            .checkout(
                json!({"merchant_urls": merchant.urls(), "options": {"place_order_mode": mode}}),
            )
            .await;
        let out = sim.consumer(&hpp).pay().unwrap();
        let order_id = out.order_id.clone().unwrap();
        assert!(out.authorization_token.is_none());
        assert_eq!(
            out.redirect_url,
            format!(
                "{}/success?sid={hpp}&token=&order={order_id}",
                merchant.base
            )
        );
        let read = api.get(&format!("/hpp/v1/sessions/{hpp}")).await;
        assert_eq!(read.body["order_id"], order_id.as_str());
        let reference = read.body["klarna_reference"].as_str().unwrap();
        let order = api
            .get(&format!("/ordermanagement/v1/orders/{order_id}"))
            .await;
        assert_eq!(order.body["status"], order_status);
        assert_eq!(order.body["captured_amount"], captured);
        assert_eq!(order.body["klarna_reference"], reference);
        assert_eq!(order.body["merchant_reference1"], "ORDER-1");
        assert_eq!(order.body["order_lines"].as_array().unwrap().len(), 2);
        assert_eq!(
            api.get(&format!("/payments/v1/sessions/{kp}")).await.body["status"],
            "complete"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn decline_back_cancel_error() {
    let sim = start().await;
    let api = Api::new(&sim);
    let merchant = Merchant::start().await;
    let (_, hpp) = api
        .checkout(json!({"merchant_urls": merchant.urls()}))
        .await;
    let c = sim.consumer(&hpp);
    let m = &merchant.base;

    let out = c.decline().unwrap();
    assert_eq!(out.status, "FAILED");
    assert_eq!(out.redirect_url, format!("{m}/failure?sid={hpp}"));
    assert_eq!(api.hpp_status(&hpp).await, "FAILED");

    let out = c.back().unwrap();
    assert_eq!(
        (out.status.as_str(), out.redirect_url.as_str()),
        ("BACK", format!("{m}/back?sid={hpp}").as_str())
    );

    // eCommerce: cancel is treated as back.
    let out = c.cancel().unwrap();
    assert_eq!(out.status, "BACK");
    assert_eq!(out.redirect_url, format!("{m}/cancel?sid={hpp}"));

    let out = c.error().unwrap();
    assert_eq!(
        (out.status.as_str(), out.redirect_url.as_str()),
        ("ERROR", format!("{m}/error?sid={hpp}").as_str())
    );

    let out = c.open().unwrap();
    assert_eq!(out.status, "IN_PROGRESS");
    assert_eq!(out.redirect_url, format!("{}/hpp/pay/{hpp}", api.base));
    assert_eq!(
        c.pay().unwrap().status,
        "COMPLETED",
        "a session may be retried after FAILED/BACK/ERROR"
    );

    // In store, cancel is final.
    let mut kp = kp_body();
    kp["acquiring_channel"] = json!("IN_STORE");
    let kp = api.kp_session(&kp).await;
    let hpp = api
        .hpp_session(&kp, json!({"merchant_urls": {"back": format!("{m}/back")}}))
        .await;
    let hpp = hpp["session_id"].as_str().unwrap();
    let out = sim.consumer(hpp).cancel().unwrap();
    assert_eq!(out.status, "CANCELLED");
    assert_eq!(
        out.redirect_url,
        format!("{m}/back"),
        "cancel falls back to the back URL"
    );
    assert_eq!(api.hpp_status(hpp).await, "CANCELLED");
    api.delete(&format!("/hpp/v1/sessions/{hpp}"))
        .await
        .assert_error(400, "INVALID_OPERATION");

    // Without merchant URLs the emulator's own page is the destination; error falls back to failure.
    let (_, hpp) = api
        .checkout(json!({"merchant_urls": {"failure": format!("{m}/failure")}}))
        .await;
    assert_eq!(
        sim.consumer(&hpp).error().unwrap().redirect_url,
        format!("{m}/failure")
    );
    assert_eq!(
        sim.consumer(&hpp).back().unwrap().redirect_url,
        format!("{}/hpp/pay/{hpp}/status", api.base)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn payment_fallback_offers_other_categories() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (_, hpp) = api
        .checkout(
            json!({"options": {"payment_method_category": "PAY_LATER", "payment_fallback": true}}),
        )
        .await;
    let c = sim.consumer(&hpp);
    assert!(matches!(
        c.pay_with("pay_now").unwrap_err(),
        klarna_hpp_sim::ConsumerError::CategoryNotOffered { .. }
    ));
    let out = c.decline().unwrap();
    assert_eq!(out.status, "IN_PROGRESS");
    assert_eq!(out.fallback_categories, ["pay_now", "pay_over_time"]);
    assert_eq!(
        out.redirect_url,
        format!("{}/hpp/pay/{hpp}?fallback=1", api.base)
    );
    let out = c.decline_with("pay_now").unwrap();
    assert_eq!(out.fallback_categories, ["pay_over_time"]);
    let out = c.decline().unwrap();
    assert_eq!(out.status, "FAILED", "no category left");

    let (_, hpp) = api
        .checkout(json!({"options": {"payment_method_category": "PAY_LATER"}}))
        .await;
    assert_eq!(
        sim.consumer(&hpp).decline().unwrap().status,
        "FAILED",
        "no fallback by default"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_and_its_buttons() {
    let sim = start().await;
    let api = Api::new(&sim);
    let merchant = Merchant::start().await;
    let (_, hpp) = api
        .checkout(json!({"merchant_urls": merchant.urls(),
            "options": {"payment_method_categories": ["PAY_LATER", "PAY_OVER_TIME"], "page_title": "Ankeborg <Shop>",
                "purchase_type": "BUY"}}))
        .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page_url = format!("{}/hpp/pay/{hpp}", api.base);
    let page = client.get(&page_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    for needle in [
        "<button id=\"pay\"",
        "<button id=\"decline\"",
        "<button id=\"back\"",
        "<button id=\"cancel\"",
        "<button id=\"error\"",
        "value=\"pay_later\" checked",
        "value=\"pay_over_time\"",
        "Battery Power Pack",
        "624.00 SEK",
        "Ankeborg &lt;Shop&gt;",
        "Buy 624.00 SEK",
    ] {
        assert!(html.contains(needle), "page lacks {needle}");
    }
    assert!(
        !html.contains("value=\"pay_now\""),
        "only the allowed categories"
    );
    assert_eq!(
        api.hpp_status(&hpp).await,
        "IN_PROGRESS",
        "opening the page"
    );

    let r = client
        .post(&page_url)
        .form(&[
            ("action", "pay"),
            ("payment_method_category", "pay_over_time"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}/success?sid={hpp}&token=", merchant.base)),
        "{location}"
    );
    assert_eq!(api.hpp_status(&hpp).await, "COMPLETED");
    let done = client.get(&page_url).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done
        .text()
        .await
        .unwrap()
        .contains("Your payment is complete"));
    let r = client
        .post(&page_url)
        .form(&[("action", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    // The generic page when no URL was given.
    let (_, hpp) = api.checkout(json!({})).await;
    let url = format!("{}/hpp/pay/{hpp}", api.base);
    let r = client
        .post(&url)
        .form(&[("action", "back")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let status_url = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(status_url, format!("{url}/status"));
    let status_page = client
        .get(&status_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(status_page.contains("data-status=\"BACK\""));
    let r = client
        .post(&url)
        .form(&[("action", "dance")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client
        .post(&url)
        .form(&[
            ("action", "pay"),
            ("payment_method_category", "direct_debit"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let missing = client
        .get(format!(
            "{}/hpp/pay/0b1d9815-165e-42e2-8867-35bc03789e00",
            api.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn qr_code_is_an_svg_of_the_link() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (_, hpp) = api.checkout(json!({})).await;
    let r = reqwest::get(format!("{}/hpp/pay/{hpp}/qr", api.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.unwrap();
    assert!(
        svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("<path"),
        "{}",
        &svg[..100.min(svg.len())]
    );
    let missing = reqwest::get(format!("{}/hpp/pay/nope/qr", api.base))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
