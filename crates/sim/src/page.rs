//! The hosted payment page the consumer sees at `redirect_url`: the order, the allowed payment
//! method categories and the buttons (`#pay`, `#decline`, `#back`, `#cancel`, `#error`); its QR
//! code at `qr_code_url`; and the emulator's own confirmation page for when the merchant gave no
//! URL to return to.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::consumer::Action;
use crate::error::ConsumerError;
use crate::server::html;
use crate::shared::Shared;
use crate::state::{HppStatus, PlaceOrderMode, State as SimState};

/// The page's routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/hpp/pay/{id}", get(show).post(act))
        .route("/hpp/pay/{id}/qr", get(qr))
        .route("/hpp/pay/{id}/status", get(status_page))
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Minor units as a decimal amount with the currency code (`1 234.50 SEK`).
pub(crate) fn money(minor: i64, currency: &str) -> String {
    const ZERO_DECIMAL: [&str; 6] = ["JPY", "KRW", "ISK", "CLP", "VND", "HUF"];
    let currency = currency.to_ascii_uppercase();
    if ZERO_DECIMAL.contains(&currency.as_str()) {
        return format!("{minor} {currency}");
    }
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", abs / 100, abs % 100)
}

const STYLE: &str = "
:root{color-scheme:light;--ink:#17120f;--muted:#5c5552;--accent:#ffb3c7;--line:#e6e1de}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--ink);background:#f7f4f2}
main{max-width:34rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;border:1px solid var(--line)}
header{display:flex;align-items:center;gap:1rem;flex-wrap:wrap}
header img{max-height:40px;max-width:160px}
h1{font-size:1.4rem;margin:.2rem 0}
h2{font-size:1.1rem;margin:1.2rem 0 .5rem}
.note{color:var(--muted);font-size:.9rem;margin:.2rem 0}
.notice{background:#fff4d6;border:1px solid #e8c15a;padding:.6rem .8rem;border-radius:8px}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.35rem 0;border-bottom:1px solid var(--line)}
td.num,th.num{text-align:right}
tfoot td{font-weight:600;border-bottom:0}
tfoot td.note{font-weight:400}
fieldset{border:1px solid var(--line);border-radius:8px;margin:1.2rem 0;padding:.6rem 1rem}
legend{font-weight:600;padding:0 .3rem}
label.cat{display:flex;gap:.6rem;align-items:center;padding:.4rem 0;cursor:pointer}
.actions{display:grid;gap:.6rem}
button{font:inherit;padding:.75rem 1rem;border-radius:8px;border:1px solid var(--ink);background:#fff;color:var(--ink);cursor:pointer}
button:focus-visible{outline:3px solid #2a6df4;outline-offset:2px}
button#pay{background:var(--accent);border-color:var(--accent);font-weight:600}
.secondary{display:flex;gap:.6rem;flex-wrap:wrap}
.secondary button{flex:1 1 8rem;font-size:.9rem}
";

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head>\n<body><main>\n{body}\n</main></body></html>\n",
        esc(title)
    )
}

fn message_page(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p>{}</p><p class=\"note\">Klarna emulator — no real payment.</p>",
        esc(title),
        esc(text)
    );
    html(status, document(title, &body))
}

fn error_page(e: &ConsumerError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    match e {
        ConsumerError::NotFound => message_page(
            StatusCode::NOT_FOUND,
            "Page not found",
            "This payment link has expired or does not exist.",
        ),
        ConsumerError::Final { status: s } if s == "DISABLED" => message_page(
            StatusCode::NOT_FOUND,
            "Page not found",
            "This payment link has been disabled by the store.",
        ),
        other => message_page(status, "This payment cannot continue", &other.to_string()),
    }
}

/// Everything the page shows, read under the lock.
struct PageModel {
    session_id: String,
    title: String,
    logo_url: Option<String>,
    button: &'static str,
    hide_subtotal: bool,
    lines: Vec<(String, i64, i64)>,
    amount: i64,
    tax: Option<i64>,
    currency: String,
    categories: Vec<(&'static str, &'static str)>,
    mode: PlaceOrderMode,
}

fn model(state: &SimState, session: &str) -> Option<PageModel> {
    let id: crate::ids::Id = session.parse().ok()?;
    let s = state.hpp.get(&id)?;
    let kp = state.kp.get(&s.kp)?.fields();
    let page = s.page.as_deref();
    let title = page
        .and_then(|p| p.page_title.as_deref())
        .unwrap_or("Pay with Klarna")
        .to_owned();
    let button = match page.and_then(|p| p.purchase_type.as_deref()) {
        Some("RENT") => "Rent",
        Some("BOOK") => "Book",
        Some("SUBSCRIBE") => "Subscribe",
        Some("DOWNLOAD") => "Download",
        Some("ORDER") => "Order",
        Some("CONTINUE") => "Continue",
        Some("BUY") => "Buy",
        _ => "Pay",
    };
    let lines = kp
        .get("order_lines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|l| {
            (
                l.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                l.get("quantity").and_then(Value::as_i64).unwrap_or(0),
                l.get("total_amount").and_then(Value::as_i64).unwrap_or(0),
            )
        })
        .collect();
    Some(PageModel {
        session_id: id.to_string(),
        title,
        logo_url: page.and_then(|p| p.logo_url.as_deref()).map(str::to_owned),
        button,
        hide_subtotal: page.is_some_and(|p| p.hide_subtotal),
        lines,
        amount: kp.get("order_amount").and_then(Value::as_i64).unwrap_or(0),
        tax: kp.get("order_tax_amount").and_then(Value::as_i64),
        currency: kp
            .get("purchase_currency")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        categories: s.allowed.iter().map(|c| (c.kp_id(), c.label())).collect(),
        mode: s.mode,
    })
}

fn render(m: &PageModel, notice: Option<&str>) -> String {
    let mut b = String::new();
    b.push_str("<header>");
    if let Some(logo) = &m.logo_url {
        let _ = write!(b, "<img src=\"{}\" alt=\"Store logo\">", esc(logo));
    }
    let _ = write!(
        b,
        "<div><h1>{}</h1><p class=\"note\">Klarna emulator — no real payment is made.</p></div></header>",
        esc(&m.title)
    );
    if let Some(n) = notice {
        let _ = write!(b, "<p class=\"notice\" role=\"status\">{}</p>", esc(n));
    }
    b.push_str("<section aria-labelledby=\"order-heading\"><h2 id=\"order-heading\">Your order</h2><table>");
    if !m.hide_subtotal {
        b.push_str("<thead><tr><th scope=\"col\">Item</th><th scope=\"col\" class=\"num\">Qty</th><th scope=\"col\" class=\"num\">Amount</th></tr></thead><tbody>");
        for (name, qty, total) in &m.lines {
            let _ = write!(
                b,
                "<tr><td>{}</td><td class=\"num\">{qty}</td><td class=\"num\">{}</td></tr>",
                esc(name),
                esc(&money(*total, &m.currency))
            );
        }
        b.push_str("</tbody>");
    }
    let _ = write!(
        b,
        "<tfoot><tr><td colspan=\"2\">Total</td><td class=\"num\" id=\"total\">{}</td></tr>",
        esc(&money(m.amount, &m.currency))
    );
    if let (Some(tax), false) = (m.tax, m.hide_subtotal) {
        let _ = write!(
            b,
            "<tr><td colspan=\"2\" class=\"note\">of which tax</td><td class=\"num note\">{}</td></tr>",
            esc(&money(tax, &m.currency))
        );
    }
    b.push_str("</tfoot></table></section>");
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/hpp/pay/{}\"><fieldset><legend>Choose how to pay</legend>",
        esc(&m.session_id)
    );
    for (i, (id, label)) in m.categories.iter().enumerate() {
        let _ = write!(
            b,
            "<label class=\"cat\" for=\"category-{id}\"><input type=\"radio\" id=\"category-{id}\" \
             name=\"payment_method_category\" value=\"{id}\"{}> {}</label>",
            if i == 0 { " checked" } else { "" },
            esc(label)
        );
    }
    let after = match m.mode {
        PlaceOrderMode::None => "",
        PlaceOrderMode::PlaceOrder => " (the order is placed)",
        PlaceOrderMode::CaptureOrder => " (the order is placed and charged)",
    };
    let _ = write!(
        b,
        "</fieldset><div class=\"actions\">\
         <button id=\"pay\" type=\"submit\" name=\"action\" value=\"pay\">{} {}</button>\
         <p class=\"note\">Approving authorizes the payment{after}.</p>\
         <div class=\"secondary\">\
         <button id=\"decline\" type=\"submit\" name=\"action\" value=\"decline\">Simulate a decline</button>\
         <button id=\"error\" type=\"submit\" name=\"action\" value=\"error\">Simulate an error</button>\
         </div><div class=\"secondary\">\
         <button id=\"back\" type=\"submit\" name=\"action\" value=\"back\">Back to the store</button>\
         <button id=\"cancel\" type=\"submit\" name=\"action\" value=\"cancel\">Cancel payment</button>\
         </div></div></form>",
        m.button,
        esc(&money(m.amount, &m.currency))
    );
    document(&m.title, &b)
}

/// `GET redirect_url`: opening the page moves the session to IN_PROGRESS.
async fn show(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let result = shared.run(|state, cx| {
        state
            .consumer_act(cx, &id, Action::Open, None)
            .map(|_| model(state, &id))
    });
    match result {
        Ok(Some(m)) => {
            let notice = query
                .fallback
                .is_some()
                .then_some("That payment method was declined. You can choose another way to pay.");
            html(StatusCode::OK, render(&m, notice))
        }
        Ok(None) => error_page(&ConsumerError::NotFound),
        Err(ConsumerError::Final { status }) if status != "DISABLED" => {
            let (title, text) = final_text(&status);
            message_page(StatusCode::OK, title, text)
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Deserialize)]
struct ShowQuery {
    fallback: Option<String>,
}

#[derive(Deserialize)]
struct ActForm {
    action: String,
    payment_method_category: Option<String>,
}

/// A button press: run the action, then send the browser on (303).
async fn act(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Response {
    let Some(action) = Action::parse(&form.action) else {
        return message_page(
            StatusCode::BAD_REQUEST,
            "Unknown action",
            "The page sent an unknown action.",
        );
    };
    let result = shared.run(|state, cx| {
        state.consumer_act(cx, &id, action, form.payment_method_category.as_deref())
    });
    match result {
        Ok(outcome) => {
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&outcome.redirect_url) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Err(e) => error_page(&e),
    }
}

fn final_text(status: &str) -> (&'static str, &'static str) {
    match status {
        "COMPLETED" => (
            "Thank you!",
            "Your payment is complete. You can close this page.",
        ),
        "CANCELLED" => ("Payment cancelled", "You cancelled this payment."),
        "DISABLED" => (
            "Page not found",
            "This payment link has been disabled by the store.",
        ),
        "FAILED" => ("Payment declined", "Klarna could not approve this payment."),
        "BACK" => ("You left the payment", "You went back to the store."),
        "ERROR" => (
            "Something went wrong",
            "An error happened during the payment.",
        ),
        "IN_PROGRESS" | "WAITING" => ("Payment in progress", "The payment is not finished yet."),
        _ => ("Payment", "The payment's status is unknown."),
    }
}

/// The generic Klarna page shown when the merchant gave no URL to return to.
async fn status_page(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let now = shared.clock.now();
    let status = shared.read(|state| {
        let sid = state.live_hpp(&id, now)?;
        state.hpp.get(&sid).map(|s| s.status)
    });
    match status {
        None => error_page(&ConsumerError::NotFound),
        Some(s) => {
            let (title, text) = final_text(s.as_str());
            let code = if s == HppStatus::Disabled {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            let mut body = format!(
                "<h1>{}</h1><p id=\"status\" data-status=\"{}\">{}</p>",
                esc(title),
                s.as_str(),
                esc(text)
            );
            if !s.is_final() {
                let _ = write!(
                    body,
                    "<p><a href=\"/hpp/pay/{}\">Return to the payment</a></p>",
                    esc(&id)
                );
            }
            body.push_str("<p class=\"note\">Klarna emulator — no real payment.</p>");
            html(code, document(title, &body))
        }
    }
}

/// `qr_code_url`: an SVG QR code of the session's `redirect_url`.
async fn qr(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let now = shared.clock.now();
    let Some(sid) = shared.read(|state| state.live_hpp(&id, now)) else {
        return error_page(&ConsumerError::NotFound);
    };
    let link = format!("{}/hpp/pay/{sid}", shared.env.base_url);
    match qrcode::QrCode::new(link.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build();
            let mut r = svg.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            );
            r
        }
        Err(_) => message_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No QR code",
            "The link is too long for a QR code.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats() {
        assert_eq!(money(123_450, "sek"), "1234.50 SEK");
        assert_eq!(money(-5, "EUR"), "-0.05 EUR");
        assert_eq!(money(1500, "JPY"), "1500 JPY");
    }

    #[test]
    fn escapes() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
