//! `klarna-hpp order`: Order Management. Every write carries a `Klarna-Idempotency-Key`
//! (printed before it is sent); the money-moving ones (capture, refund, cancel, release) say
//! what they will do and ask first.

use clap::Subcommand;
use klarna_hpp_core::om::{
    self, AddCaptureShippingInfo, CaptureRequest, IdempotencyKey, MerchantReferences,
    RefundRequest, ShippingInfo, ShippingMethod,
};

use crate::confirm::{confirm, key, KeyArgs, MoneyArgs};
use crate::connect::{Klarna, Reply};
use crate::error::CliError;
use crate::output::{money, note, print_bodies, time, Table};
use crate::Global;

/// `klarna-hpp order …`
#[derive(Debug, Subcommand)]
pub(crate) enum Args {
    /// Read an order: amounts, status, expiry, captures and refunds.
    #[command(
        after_help = "Example:\n  klarna-hpp --playground order read f3392f8b-6116-4073-ab96-e330819e2c07"
    )]
    Read {
        /// The order id.
        id: String,
    },
    /// Capture an amount (default: all that remains authorized).
    #[command(
        after_help = "Example:\n  klarna-hpp --playground order capture f3392f8b-6116-4073-ab96-e330819e2c07 --amount 5000\n\nAfter a lost answer, run the same command with --idempotency-key KEY (the key it printed):\nKlarna returns the first answer and captures nothing more."
    )]
    Capture {
        /// The order id.
        id: String,
        /// Amount in minor units (5000 = 50.00); default: the remaining authorized amount.
        #[arg(long)]
        amount: Option<i64>,
        /// Shown to the consumer.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        money: MoneyArgs,
    },
    /// Refund an amount of what was captured.
    #[command(
        after_help = "Example:\n  klarna-hpp --playground order refund f3392f8b-6116-4073-ab96-e330819e2c07 --amount 2500 --description 'Returned shoes'"
    )]
    Refund {
        /// The order id.
        id: String,
        /// Amount in minor units (2500 = 25.00).
        #[arg(long)]
        amount: i64,
        /// Shown to the consumer.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        money: MoneyArgs,
    },
    /// Cancel an order that has no captures.
    #[command(
        after_help = "Example:\n  klarna-hpp --playground order cancel f3392f8b-6116-4073-ab96-e330819e2c07"
    )]
    Cancel {
        /// The order id.
        id: String,
        #[command(flatten)]
        money: MoneyArgs,
    },
    /// Release what remains authorized after a partial capture.
    #[command(
        after_help = "Example:\n  klarna-hpp --playground order release f3392f8b-6116-4073-ab96-e330819e2c07"
    )]
    Release {
        /// The order id.
        id: String,
        #[command(flatten)]
        money: MoneyArgs,
    },
    /// Extend the authorization time (by the account's period, usually 28 days).
    #[command(
        after_help = "Example:\n  klarna-hpp --playground order extend f3392f8b-6116-4073-ab96-e330819e2c07"
    )]
    Extend {
        /// The order id.
        id: String,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Set the merchant references (`""` clears one).
    #[command(
        group(clap::ArgGroup::new("refs").required(true).multiple(true).args(["reference1", "reference2"])),
        after_help = "Example:\n  klarna-hpp --playground order references f3392f8b-6116-4073-ab96-e330819e2c07 --reference1 ORDER-1042"
    )]
    References {
        /// The order id.
        id: String,
        /// merchant_reference1 (your order number).
        #[arg(long, value_name = "REF")]
        reference1: Option<String>,
        /// merchant_reference2 (an internal reference).
        #[arg(long, value_name = "REF")]
        reference2: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Add shipping information (carrier, tracking) to a capture.
    #[command(
        after_help = "Example:\n  klarna-hpp --playground order shipping-info f3392f8b-6116-4073-ab96-e330819e2c07 4ba29b50-be7b-44f5-a492-113e6a865e22 \\\n      --company DHL --method home --tracking-number 63456415674545679874"
    )]
    ShippingInfo {
        /// The order id.
        id: String,
        /// The capture id.
        capture: String,
        /// Shipping company.
        #[arg(long)]
        company: Option<String>,
        /// Shipping method.
        #[arg(long, value_enum)]
        method: Option<MethodArg>,
        /// Tracking number.
        #[arg(long)]
        tracking_number: Option<String>,
        /// Tracking URL.
        #[arg(long, value_name = "URL")]
        tracking_uri: Option<String>,
        /// Return shipping company.
        #[arg(long)]
        return_company: Option<String>,
        /// Return tracking number.
        #[arg(long)]
        return_tracking_number: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
    },
}

/// `shipping_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum MethodArg {
    /// PickUpStore.
    PickUpStore,
    /// Home.
    Home,
    /// BoxReg.
    BoxReg,
    /// BoxUnreg.
    BoxUnreg,
    /// PickUpPoint.
    PickUpPoint,
    /// Own.
    Own,
    /// Postal.
    Postal,
    /// DHLPackstation.
    DhlPackstation,
    /// Digital.
    Digital,
}

/// Runs `klarna-hpp order …`.
pub(crate) fn run(args: Args, global: &Global) -> Result<(), CliError> {
    let klarna = Klarna::connect(global)?;
    match args {
        Args::Read { id } => {
            let reply = read(&klarna, &id)?;
            if global.json {
                print_bodies(&[&reply.body]);
            } else {
                print_order(&reply.value);
            }
            Ok(())
        }
        Args::Capture {
            id,
            amount,
            description,
            money: m,
        } => {
            let order = read(&klarna, &id)?.value;
            let currency = order.purchase_currency.as_deref();
            let amount = match amount {
                Some(a) => a,
                None if order.remaining_authorized_amount > 0 => order.remaining_authorized_amount,
                None => {
                    return Err(CliError::Validation(format!(
                        "nothing remains to capture on order {id} (status {}); when re-running a capture with --idempotency-key, give the --amount the first run printed",
                        order.status
                    )))
                }
            };
            if amount <= 0 {
                return Err(CliError::Validation(format!(
                    "invalid `captured_amount`: must be positive, got {amount}"
                )));
            }
            // A repeat with the first run's key must reach Klarna, which answers with the first
            // answer: only a fresh capture is checked against what remains.
            if m.idempotency_key.is_none() && amount > order.remaining_authorized_amount {
                return Err(CliError::Validation(format!(
                    "invalid `captured_amount`: exceeds the remaining {}, got {amount}",
                    order.remaining_authorized_amount
                )));
            }
            let k = key(m.idempotency_key.as_deref())?;
            let rerun =
                format!("klarna-hpp order capture {id} --amount {amount} --idempotency-key {k}");
            confirm(
                &format!(
                    "About to capture {} on order {id} ({}, {} authorized and not captured).\nidempotency key: {k}\nIf the answer is lost, run: {rerun}",
                    money(amount, currency),
                    order.status,
                    money(order.remaining_authorized_amount, currency)
                ),
                m.yes,
            )?;
            let mut body = CaptureRequest::new(amount);
            body.description = description;
            let reply = klarna.call(
                &om::CreateCapture::new(id.clone(), body, Some(k.clone())),
                &unknown_hint(&rerun),
            )?;
            written(global, &reply, &k, |t| {
                t.row("order_id", id.clone())
                    .row("captured", money(amount, currency))
                    .opt("capture_id", reply.value.capture_id.clone())
            });
            Ok(())
        }
        Args::Refund {
            id,
            amount,
            description,
            money: m,
        } => {
            let order = read(&klarna, &id)?.value;
            let currency = order.purchase_currency.as_deref();
            let refundable = order.captured_amount - order.refunded_amount;
            if m.idempotency_key.is_none() && amount > refundable {
                return Err(CliError::Validation(format!(
                    "invalid `refunded_amount`: exceeds the remaining {refundable}, got {amount}"
                )));
            }
            let k = key(m.idempotency_key.as_deref())?;
            let rerun =
                format!("klarna-hpp order refund {id} --amount {amount} --idempotency-key {k}");
            confirm(
                &format!(
                    "About to refund {} on order {id} ({} captured, {} refunded so far).\nidempotency key: {k}\nIf the answer is lost, run: {rerun}",
                    money(amount, currency),
                    money(order.captured_amount, currency),
                    money(order.refunded_amount, currency)
                ),
                m.yes,
            )?;
            let mut body = RefundRequest::new(amount);
            body.description = description;
            let reply = klarna.call(
                &om::CreateRefund::new(id.clone(), body, Some(k.clone())),
                &unknown_hint(&rerun),
            )?;
            written(global, &reply, &k, |t| {
                t.row("order_id", id.clone())
                    .row("refunded", money(amount, currency))
                    .opt("refund_id", reply.value.refund_id.clone())
            });
            Ok(())
        }
        Args::Cancel { id, money: m } => {
            let order = read(&klarna, &id)?.value;
            let k = key(m.idempotency_key.as_deref())?;
            let rerun = format!("klarna-hpp order cancel {id} --idempotency-key {k}");
            confirm(
                &format!(
                    "About to cancel order {id} ({}, {}): the consumer will not pay it.\nidempotency key: {k}",
                    order.status,
                    money(order.order_amount, order.purchase_currency.as_deref())
                ),
                m.yes,
            )?;
            let reply = klarna.call(
                &om::CancelOrder::new(id.clone(), Some(k.clone())),
                &unknown_hint(&rerun),
            )?;
            written(global, &reply, &k, |t| {
                t.row("order_id", id.clone()).row("cancelled", "yes")
            });
            Ok(())
        }
        Args::Release { id, money: m } => {
            let order = read(&klarna, &id)?.value;
            let k = key(m.idempotency_key.as_deref())?;
            let rerun = format!("klarna-hpp order release {id} --idempotency-key {k}");
            confirm(
                &format!(
                    "About to release the remaining authorization of order {id}: {} will no longer be capturable.\nidempotency key: {k}",
                    money(
                        order.remaining_authorized_amount,
                        order.purchase_currency.as_deref()
                    )
                ),
                m.yes,
            )?;
            let reply = klarna.call(
                &om::ReleaseRemainingAuthorization::new(id.clone(), Some(k.clone())),
                &unknown_hint(&rerun),
            )?;
            written(global, &reply, &k, |t| {
                t.row("order_id", id.clone()).row("released", "yes")
            });
            Ok(())
        }
        Args::Extend { id, key: ka } => {
            let k = announce(ka.idempotency_key.as_deref())?;
            let reply = klarna.call(
                &om::ExtendAuthorizationTime::new(id.clone(), Some(k.clone())),
                &unknown_hint(&format!(
                    "klarna-hpp order extend {id} --idempotency-key {k}"
                )),
            )?;
            written(global, &reply, &k, |t| {
                t.row("order_id", id.clone()).row("extended", "yes")
            });
            Ok(())
        }
        Args::References {
            id,
            reference1,
            reference2,
            key: ka,
        } => {
            let mut refs = MerchantReferences::new();
            refs.merchant_reference1 = reference1;
            refs.merchant_reference2 = reference2;
            let k = announce(ka.idempotency_key.as_deref())?;
            let reply = klarna.call(
                &om::UpdateMerchantReferences::new(id.clone(), refs, Some(k.clone())),
                &unknown_hint(&format!("the same command with --idempotency-key {k}")),
            )?;
            written(global, &reply, &k, |t| {
                t.row("order_id", id.clone()).row("references", "updated")
            });
            Ok(())
        }
        Args::ShippingInfo {
            id,
            capture,
            company,
            method,
            tracking_number,
            tracking_uri,
            return_company,
            return_tracking_number,
            key: ka,
        } => {
            let mut info = ShippingInfo::new();
            info.shipping_company = company;
            info.shipping_method = method.map(shipping_method);
            info.tracking_number = tracking_number;
            info.tracking_uri = tracking_uri;
            info.return_shipping_company = return_company;
            info.return_tracking_number = return_tracking_number;
            let k = announce(ka.idempotency_key.as_deref())?;
            let reply = klarna.call(
                &AddCaptureShippingInfo::new(
                    id.clone(),
                    capture.clone(),
                    vec![info],
                    Some(k.clone()),
                ),
                &unknown_hint(&format!("the same command with --idempotency-key {k}")),
            )?;
            written(global, &reply, &k, |t| {
                t.row("order_id", id.clone())
                    .row("capture_id", capture.clone())
                    .row("shipping_info", "added")
            });
            Ok(())
        }
    }
}

fn read(klarna: &Klarna, id: &str) -> Result<Reply<om::Order>, CliError> {
    klarna.call(&om::GetOrder::new(id), "")
}

fn unknown_hint(rerun: &str) -> String {
    format!("\nIt may have been done. To finish it without doing it twice, run: {rerun}")
}

/// The key for a write without a confirmation, printed before it is sent.
fn announce(given: Option<&str>) -> Result<IdempotencyKey, CliError> {
    let k = key(given)?;
    note(format!("idempotency key: {k}"));
    Ok(k)
}

/// Prints a write's result: Klarna's body with `--json` (empty for these answers), else a table.
fn written<T>(
    global: &Global,
    reply: &Reply<T>,
    key: &IdempotencyKey,
    table: impl FnOnce(Table) -> Table,
) {
    if global.json {
        print_bodies(&[&reply.body]);
    } else {
        table(Table::new())
            .row("idempotency_key", key.to_string())
            .print();
    }
}

fn shipping_method(m: MethodArg) -> ShippingMethod {
    match m {
        MethodArg::PickUpStore => ShippingMethod::PickUpStore,
        MethodArg::Home => ShippingMethod::Home,
        MethodArg::BoxReg => ShippingMethod::BoxReg,
        MethodArg::BoxUnreg => ShippingMethod::BoxUnreg,
        MethodArg::PickUpPoint => ShippingMethod::PickUpPoint,
        MethodArg::Own => ShippingMethod::Own,
        MethodArg::Postal => ShippingMethod::Postal,
        MethodArg::DhlPackstation => ShippingMethod::DhlPackstation,
        MethodArg::Digital => ShippingMethod::Digital,
    }
}

fn print_order(o: &om::Order) {
    let c = o.purchase_currency.as_deref();
    Table::new()
        .row("order_id", o.order_id.clone())
        .row("status", o.status.as_str())
        .opt(
            "fraud_status",
            o.fraud_status.as_ref().map(|f| f.as_str().to_owned()),
        )
        .opt("klarna_reference", o.klarna_reference.clone())
        .opt("purchase_country", o.purchase_country.clone())
        .row("order_amount", money(o.order_amount, c))
        .row("original_order_amount", money(o.original_order_amount, c))
        .row("captured_amount", money(o.captured_amount, c))
        .row("refunded_amount", money(o.refunded_amount, c))
        .row(
            "remaining_authorized_amount",
            money(o.remaining_authorized_amount, c),
        )
        .opt("created_at", time(o.created_at))
        .opt("expires_at", time(o.expires_at))
        .row("order_lines", o.order_lines.len().to_string())
        .print();
    if !o.captures.is_empty() {
        let mut t = Table::columns(&["capture_id", "captured_amount", "captured_at", "refunded"]);
        for cap in &o.captures {
            // A capture Klarna sent in another shape is kept as received (see --json).
            let Some(cap) = cap.decoded() else {
                t.add(vec![
                    "(not readable: see --json)".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
                continue;
            };
            t.add(vec![
                cap.capture_id.clone(),
                money(cap.captured_amount, c),
                time(cap.captured_at).unwrap_or_default(),
                money(cap.refunded_amount, c),
            ]);
        }
        println!();
        t.print();
    }
    if !o.refunds.is_empty() {
        let mut t = Table::columns(&["refund_id", "refunded_amount", "refunded_at"]);
        for r in &o.refunds {
            let Some(r) = r.decoded() else {
                t.add(vec![
                    "(not readable: see --json)".into(),
                    String::new(),
                    String::new(),
                ]);
                continue;
            };
            t.add(vec![
                r.refund_id.clone(),
                money(r.refunded_amount, c),
                time(r.refunded_at).unwrap_or_default(),
            ]);
        }
        println!();
        t.print();
    }
}
