//! `klarna-hpp kp`: Klarna Payments sessions (read, update) and placing an order from an
//! authorization token.

use std::io::BufRead;
use std::path::PathBuf;

use clap::Subcommand;
use klarna_hpp_core::kp::{self, CreateOrderRequest, SessionCreate, SessionUpdate};
use klarna_hpp_core::AuthorizationToken;

use crate::confirm::confirm;
use crate::connect::Klarna;
use crate::error::CliError;
use crate::output::{money, print_bodies, time, Table};
use crate::session::read_json;
use crate::Global;

/// `klarna-hpp kp …`
#[derive(Debug, Subcommand)]
pub(crate) enum Args {
    /// Read a KP session (amounts, status, expiry; no customer data in the table).
    #[command(
        after_help = "Example:\n  klarna-hpp --playground kp read 0b1d9815-165e-42e2-8867-35bc03789e00"
    )]
    Read {
        /// The KP session id.
        id: String,
    },
    /// Update a KP session from a JSON file (fields given replace the session's).
    #[command(
        after_help = "Example:\n  klarna-hpp --playground kp update 0b1d9815-165e-42e2-8867-35bc03789e00 --cart new-cart.json"
    )]
    Update {
        /// The KP session id.
        id: String,
        /// JSON file with the changes (a KP session update body); `-` reads stdin.
        #[arg(long, value_name = "FILE")]
        cart: PathBuf,
    },
    /// Place the order an authorization token allows, from the cart the session was made with.
    #[command(
        after_help = "Example:\n  klarna-hpp --playground kp place-order - --cart cart.json < token.txt\n\nA token places at most one order: running this again with the same cart returns the same\norder, so it is safe to repeat after a lost answer."
    )]
    PlaceOrder {
        /// The authorization token (`session watch` prints it); `-` reads it from stdin, which
        /// keeps it out of the shell history.
        token: String,
        /// The cart: the KP session body the session was created (or last updated) with.
        #[arg(long, value_name = "FILE")]
        cart: PathBuf,
        /// Capture the whole order at once.
        #[arg(long)]
        auto_capture: bool,
        /// Your order number (merchant_reference1).
        #[arg(long, value_name = "REF")]
        reference: Option<String>,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

/// Runs `klarna-hpp kp …`.
pub(crate) fn run(args: Args, global: &Global) -> Result<(), CliError> {
    match args {
        Args::Read { id } => {
            let klarna = Klarna::connect(global)?;
            let reply = klarna.call(&kp::ReadSession::new(id.clone()), "")?;
            if global.json {
                print_bodies(&[&reply.body]);
                return Ok(());
            }
            let s = &reply.value;
            let currency = s.purchase_currency.as_deref();
            let categories: Vec<&str> = s
                .payment_method_categories
                .iter()
                .map(|c| c.identifier.as_str())
                .collect();
            Table::new()
                .row("session_id", id)
                .opt("status", s.status.as_ref().map(|x| x.as_str().to_owned()))
                .opt("expires_at", time(s.expires_at))
                .opt("purchase_country", s.purchase_country.clone())
                .opt("purchase_currency", s.purchase_currency.clone())
                .opt("order_amount", s.order_amount.map(|a| money(a, currency)))
                .opt(
                    "order_tax_amount",
                    s.order_tax_amount.map(|a| money(a, currency)),
                )
                .row("order_lines", s.order_lines.len().to_string())
                .opt("intent", s.intent.as_ref().map(|x| x.as_str().to_owned()))
                .opt(
                    "acquiring_channel",
                    s.acquiring_channel.as_ref().map(|x| x.as_str().to_owned()),
                )
                .opt(
                    "payment_method_categories",
                    (!categories.is_empty()).then(|| categories.join(", ")),
                )
                .print();
            Ok(())
        }
        Args::Update { id, cart } => {
            let update: SessionUpdate = read_json(&cart, "update")?;
            let klarna = Klarna::connect(global)?;
            let reply = klarna.call(&kp::UpdateSession::new(id.clone(), update), "")?;
            if global.json {
                print_bodies(&[&reply.body]);
            } else {
                Table::new()
                    .row("session_id", id)
                    .row("updated", "yes")
                    .print();
            }
            Ok(())
        }
        Args::PlaceOrder {
            token,
            cart,
            auto_capture,
            reference,
            yes,
        } => {
            let session: SessionCreate = read_json(&cart, "cart")?;
            let mut body = CreateOrderRequest::from_session(&session);
            if auto_capture {
                body.auto_capture = Some(true);
            }
            if reference.is_some() {
                body.merchant_reference1 = reference;
            }
            body.validate()
                .map_err(|e| CliError::Validation(format!("the order: {e}")))?;
            let token = if token == "-" {
                let mut line = String::new();
                let _ = std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|e| CliError::Other(format!("reading stdin: {e}")))?;
                line.trim().to_owned()
            } else {
                token
            };
            if token.is_empty() {
                return Err(CliError::Usage("the authorization token is empty".into()));
            }
            let klarna = Klarna::connect(global)?;
            let plan = format!(
                "About to place an order of {} ({} line(s), {}){} with the given authorization token.",
                money(body.order_amount, Some(&body.purchase_currency)),
                body.order_lines.len(),
                body.purchase_country,
                if auto_capture {
                    ", captured at once"
                } else {
                    ""
                }
            );
            confirm(&plan, yes)?;
            let op = kp::CreateOrder::new(AuthorizationToken::new(token), body);
            let reply = klarna.call(
                &op,
                "\nThe order may have been placed: run the same command again (a token places at most one order, and the same cart returns it).",
            )?;
            if global.json {
                print_bodies(&[&reply.body]);
            } else {
                let o = &reply.value;
                Table::new()
                    .row("order_id", o.order_id.clone())
                    .opt(
                        "fraud_status",
                        o.fraud_status.as_ref().map(|f| f.as_str().to_owned()),
                    )
                    .opt(
                        "payment_method",
                        o.authorized_payment_method
                            .as_ref()
                            .map(|m| m.kind.as_str().to_owned()),
                    )
                    .print();
            }
            Ok(())
        }
    }
}
