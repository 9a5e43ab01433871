//! `klarna-hpp session`: HPP sessions (create from a cart, read, watch, distribute, disable).

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Subcommand, ValueEnum};
use klarna_hpp_core::hpp::{
    self, DistributionRequest, MerchantUrls, Options, PaymentMethodCategory, PlaceOrderMode,
    PurchaseType, SessionCreationRequest,
};
use klarna_hpp_core::kp::{self, SessionCreate};
use serde::de::DeserializeOwned;

use crate::connect::Klarna;
use crate::error::CliError;
use crate::output::{note, print_bodies, time, Table};
use crate::{qr, watch, Global};

/// The environment variable holding the callback secret added to the status-update URL.
pub(crate) const CALLBACK_SECRET_ENV: &str = "KLARNA_CALLBACK_SECRET";

/// `klarna-hpp session …`
#[derive(Debug, Subcommand)]
pub(crate) enum Args {
    /// Create a KP session from a cart file and the HPP session hosting it; print the links.
    #[command(
        after_help = "Example:\n  klarna-hpp --playground session create --cart cart.json \\\n      --success-url 'https://shop.example/ok?sid={{session_id}}&token={{authorization_token}}' \\\n      --mode place-order --qr"
    )]
    Create(Box<CreateArgs>),
    /// Read an HPP session.
    #[command(
        after_help = "Example:\n  klarna-hpp --playground session read 3e1c4c6b-1f5d-4f0e-9d3a-5b2f0c1d2e3f"
    )]
    Read {
        /// The HPP session id.
        id: String,
    },
    /// Poll an HPP session until it completes, fails, is cancelled, disabled or expires.
    #[command(
        after_help = "Example:\n  klarna-hpp --playground session watch 3e1c4c6b-1f5d-4f0e-9d3a-5b2f0c1d2e3f\n\nExit codes: 0 COMPLETED, 10 CANCELLED, 11 FAILED, 12 DISABLED, 13 expired, 130 Ctrl-C."
    )]
    Watch(watch::Args),
    /// Send the payment link by e-mail or SMS, or bind the session to a consumer's QR token.
    #[command(
        group(ArgGroup::new("how").required(true).args(["email", "sms", "token"])),
        after_help = "Example:\n  klarna-hpp --playground session distribute 3e1c4c6b-1f5d-4f0e-9d3a-5b2f0c1d2e3f --sms +46701234567 --phone-country SE"
    )]
    Distribute {
        /// The HPP session id.
        id: String,
        /// E-mail address to send the link to.
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
        /// Phone number to send the link to by SMS (with --phone-country).
        #[arg(long, value_name = "PHONE", requires = "phone_country")]
        sms: Option<String>,
        /// Country of the phone number, ISO 3166-1 alpha-2 (SE, US, …).
        #[arg(long, value_name = "CC")]
        phone_country: Option<String>,
        /// The consumer's access id (from the QR code their Klarna app showed).
        #[arg(long, value_name = "ACCESS_ID")]
        token: Option<String>,
    },
    /// Disable an HPP session: the consumer can no longer pay through it.
    #[command(
        after_help = "Example:\n  klarna-hpp --playground session disable 3e1c4c6b-1f5d-4f0e-9d3a-5b2f0c1d2e3f"
    )]
    Disable {
        /// The HPP session id.
        id: String,
    },
}

/// `session create` options.
#[derive(Debug, clap::Args)]
pub(crate) struct CreateArgs {
    /// The cart: a JSON file with the KP session body (purchase_country, purchase_currency,
    /// order_amount, order_tax_amount, order_lines, …); `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    cart: PathBuf,
    /// What HPP does when the consumer pays.
    #[arg(long, value_enum, default_value_t = ModeArg::None)]
    mode: ModeArg,
    /// Where the consumer goes after paying (placeholders: {{session_id}},
    /// {{authorization_token}}, {{order_id}}).
    #[arg(long, value_name = "URL")]
    success_url: Option<String>,
    /// Where the consumer goes after cancelling.
    #[arg(long, value_name = "URL")]
    cancel_url: Option<String>,
    /// Where the consumer goes after pressing back.
    #[arg(long, value_name = "URL")]
    back_url: Option<String>,
    /// Where the consumer goes after a refusal.
    #[arg(long, value_name = "URL")]
    failure_url: Option<String>,
    /// Where the consumer goes after an error.
    #[arg(long, value_name = "URL")]
    error_url: Option<String>,
    /// Where Klarna posts status callbacks. When KLARNA_CALLBACK_SECRET is set, it is added as
    /// `kh_secret=…` (never printed).
    #[arg(long, value_name = "URL")]
    status_update_url: Option<String>,
    /// Payment method category to offer (repeat for several; default: all the KP session has).
    #[arg(long = "category", value_enum, value_name = "CATEGORY")]
    categories: Vec<CategoryArg>,
    /// Offer the other categories when the chosen one is refused.
    #[arg(long)]
    fallback: bool,
    /// The kind of purchase (labels the pay button).
    #[arg(long, value_enum)]
    purchase_type: Option<PurchaseTypeArg>,
    /// Klarna's HPP customization profile id.
    #[arg(long, value_name = "ID")]
    profile_id: Option<String>,
    /// Title of the hosted page.
    #[arg(long)]
    page_title: Option<String>,
    /// Draw the payment link's QR code in the terminal.
    #[arg(long)]
    qr: bool,
    /// Write the payment link's QR code to FILE (.svg or .png).
    #[arg(long, value_name = "FILE")]
    qr_out: Option<PathBuf>,
}

/// `options.place_order_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ModeArg {
    /// Authorize only: the merchant places the order with the authorization token.
    None,
    /// HPP places the order.
    PlaceOrder,
    /// HPP places and captures the order.
    CaptureOrder,
}

/// A payment method category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CategoryArg {
    /// Pay now.
    PayNow,
    /// Pay later.
    PayLater,
    /// Financing.
    PayOverTime,
    /// Direct debit.
    DirectDebit,
    /// Direct bank transfer.
    DirectBankTransfer,
    /// Klarna's combined category.
    Klarna,
}

/// `options.purchase_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PurchaseTypeArg {
    /// Buy.
    Buy,
    /// Rent.
    Rent,
    /// Book.
    Book,
    /// Subscribe.
    Subscribe,
    /// Download.
    Download,
    /// Order.
    Order,
    /// Continue.
    Continue,
}

/// Runs `klarna-hpp session …`.
pub(crate) fn run(args: Args, global: &Global) -> Result<(), CliError> {
    match args {
        Args::Create(create_args) => create(&create_args, global),
        Args::Read { id } => read(&id, global),
        Args::Watch(watch_args) => watch::run(&watch_args, global),
        Args::Distribute {
            id,
            email,
            sms,
            phone_country,
            token,
        } => {
            let (body, how) = match (email, sms, token) {
                (Some(email), _, _) => (DistributionRequest::email(email), "e-mail"),
                (_, Some(phone), _) => (
                    DistributionRequest::sms(phone, phone_country.unwrap_or_default()),
                    "SMS",
                ),
                (_, _, Some(access_id)) => (DistributionRequest::token(access_id), "token"),
                _ => return Err(CliError::Usage("give --email, --sms or --token".into())),
            };
            let klarna = Klarna::connect(global)?;
            let reply = klarna.call(&hpp::Distribute::new(id.clone(), body), "")?;
            if global.json {
                print_bodies(&[&reply.body]);
            } else {
                Table::new()
                    .row("session_id", id)
                    .row("distributed", format!("by {how}"))
                    .print();
            }
            Ok(())
        }
        Args::Disable { id } => {
            let klarna = Klarna::connect(global)?;
            let reply = klarna.call(&hpp::DisableSession::new(id.clone()), "")?;
            if global.json {
                print_bodies(&[&reply.body]);
            } else {
                Table::new()
                    .row("session_id", id)
                    .row("status", "DISABLED")
                    .print();
            }
            Ok(())
        }
    }
}

/// Reads a JSON file (or stdin for `-`) into `T`. Errors name the file and the place, never a
/// value from it (a cart holds customer data).
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T, CliError> {
    let bytes = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| CliError::Validation(format!("reading the {what} from stdin: {e}")))?;
        buf
    } else {
        std::fs::read(path).map_err(|e| {
            CliError::Validation(format!(
                "cannot read the {what} file {}: {}",
                path.display(),
                e.kind()
            ))
        })?
    };
    let de = &mut serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        let kind = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "is not valid JSON"
            }
            _ => "does not have the expected shape",
        };
        CliError::Validation(format!(
            "the {what} file {} {kind} at `{at}` (line {}, column {})",
            path.display(),
            inner.line(),
            inner.column()
        ))
    })
}

fn status_update_url(given: Option<&str>) -> Result<Option<String>, CliError> {
    let secret = std::env::var(CALLBACK_SECRET_ENV)
        .ok()
        .filter(|s| !s.is_empty());
    match (given, secret) {
        (None, None) => Ok(None),
        (Some(url), None) => Ok(Some(url.to_owned())),
        (None, Some(_)) => Err(CliError::Usage(format!(
            "{CALLBACK_SECRET_ENV} is set but --status-update-url is not"
        ))),
        (Some(url), Some(secret)) => {
            if !secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            {
                return Err(CliError::Usage(format!(
                    "{CALLBACK_SECRET_ENV} may hold only letters, digits, '-', '.', '_' and '~'"
                )));
            }
            if url.contains('#') {
                return Err(CliError::Usage(
                    "--status-update-url must not have a fragment".into(),
                ));
            }
            let sep = if url.contains('?') { '&' } else { '?' };
            Ok(Some(format!("{url}{sep}kh_secret={secret}")))
        }
    }
}

fn create(args: &CreateArgs, global: &Global) -> Result<(), CliError> {
    let cart: SessionCreate = read_json(&args.cart, "cart")?;
    cart.validate()
        .map_err(|e| CliError::Validation(format!("the cart: {e}")))?;
    if let Some(path) = &args.qr_out {
        let ok = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("svg") || e.eq_ignore_ascii_case("png"));
        if !ok {
            return Err(CliError::Usage(
                "--qr-out: the file name must end in .svg or .png".into(),
            ));
        }
    }
    let mut urls = MerchantUrls::default();
    urls.success = args.success_url.clone();
    urls.cancel = args.cancel_url.clone();
    urls.back = args.back_url.clone();
    urls.failure = args.failure_url.clone();
    urls.error = args.error_url.clone();
    urls.status_update = status_update_url(args.status_update_url.as_deref())?;
    let mode = match args.mode {
        ModeArg::None => PlaceOrderMode::None,
        ModeArg::PlaceOrder => PlaceOrderMode::PlaceOrder,
        ModeArg::CaptureOrder => PlaceOrderMode::CaptureOrder,
    };
    let mut options = Options::default().with_place_order_mode(mode.clone());
    if !args.categories.is_empty() {
        options.payment_method_categories =
            Some(args.categories.iter().map(|c| category(*c)).collect());
    }
    if args.fallback {
        options = options.with_payment_fallback(true);
    }
    options.purchase_type = args.purchase_type.map(purchase_type);
    if let Some(title) = &args.page_title {
        options = options.with_page_title(title.clone());
    }

    let klarna = Klarna::connect(global)?;
    // Check the HPP request before creating anything at Klarna (the KP session id is not known
    // yet: a placeholder of the same form stands in).
    let mut hpp_body = SessionCreationRequest::new(
        klarna
            .api()
            .base_url()
            .url("/payments/v1/sessions/00000000-0000-4000-8000-000000000000"),
    );
    hpp_body.merchant_urls = (urls != MerchantUrls::default()).then_some(urls);
    hpp_body.options = Some(options);
    hpp_body.profile_id = args.profile_id.clone();
    let _ = klarna_hpp_core::Operation::to_request(
        &hpp::CreateSession::new(hpp_body.clone()),
        klarna.api(),
    )
    .map_err(|e| CliError::from_core(e, ""))?;

    let kp_reply = klarna.call(&kp::CreateSession::new(cart), "")?;
    let kp_id = kp_reply.value.session_id.clone();
    hpp_body.payment_session_url = klarna
        .api()
        .base_url()
        .url(&format!("/payments/v1/sessions/{kp_id}"));
    let hpp_reply = klarna
        .call(&hpp::CreateSession::new(hpp_body), "")
        .inspect_err(|_| {
            note(format!(
                "the KP session {kp_id} was created; its HPP session was not"
            ))
        })?;
    let created = &hpp_reply.value;
    // The KP session's expiry is only in its read.
    let kp_read = klarna.call(&kp::ReadSession::new(kp_id.clone()), "");
    if let Err(e) = &kp_read {
        note(format!("reading the KP session for its expiry failed: {e}"));
    }
    let link = created
        .redirect_url
        .clone()
        .or_else(|| created.distribution_url.clone());

    if global.json {
        let mut bodies: Vec<&[u8]> = vec![&kp_reply.body];
        if let Ok(read) = &kp_read {
            bodies.push(&read.body);
        }
        bodies.push(&hpp_reply.body);
        print_bodies(&bodies);
    } else {
        Table::new()
            .row("kp_session_id", kp_id.clone())
            .opt(
                "kp_expires_at",
                kp_read.as_ref().ok().and_then(|r| time(r.value.expires_at)),
            )
            .opt("hpp_session_id", created.session_id.clone())
            .opt("hpp_expires_at", time(created.expires_at))
            .row("place_order_mode", mode.as_str())
            .opt("redirect_url", created.redirect_url.clone())
            .opt("distribution_url", created.distribution_url.clone())
            .opt("qr_code_url", created.qr_code_url.clone())
            .print();
    }
    if args.qr || args.qr_out.is_some() {
        let Some(link) = link else {
            return Err(CliError::Undecodable(
                "Klarna's answer has no redirect_url to draw as a QR code".into(),
            ));
        };
        if args.qr {
            let drawing = qr::terminal(&link)?;
            if global.json {
                eprint!("{drawing}");
            } else {
                print!("\n{drawing}");
            }
        }
        if let Some(path) = &args.qr_out {
            qr::write_file(&link, path)?;
            note(format!("QR code written to {}", path.display()));
        }
    }
    Ok(())
}

fn category(c: CategoryArg) -> PaymentMethodCategory {
    match c {
        CategoryArg::PayNow => PaymentMethodCategory::PayNow,
        CategoryArg::PayLater => PaymentMethodCategory::PayLater,
        CategoryArg::PayOverTime => PaymentMethodCategory::PayOverTime,
        CategoryArg::DirectDebit => PaymentMethodCategory::DirectDebit,
        CategoryArg::DirectBankTransfer => PaymentMethodCategory::DirectBankTransfer,
        CategoryArg::Klarna => PaymentMethodCategory::Klarna,
    }
}

fn purchase_type(p: PurchaseTypeArg) -> PurchaseType {
    match p {
        PurchaseTypeArg::Buy => PurchaseType::Buy,
        PurchaseTypeArg::Rent => PurchaseType::Rent,
        PurchaseTypeArg::Book => PurchaseType::Book,
        PurchaseTypeArg::Subscribe => PurchaseType::Subscribe,
        PurchaseTypeArg::Download => PurchaseType::Download,
        PurchaseTypeArg::Order => PurchaseType::Order,
        PurchaseTypeArg::Continue => PurchaseType::Continue,
    }
}

/// The rows every session view shows. The authorization token and the customer are never in a
/// table (`session watch` prints the token at COMPLETED; `--json` prints Klarna's body).
pub(crate) fn session_table(s: &hpp::Session, reveal_token: bool) -> Table {
    let token = s.authorization_token.as_ref().map(|t| {
        if reveal_token {
            t.expose().to_owned()
        } else {
            "present (not shown; --json prints it)".to_owned()
        }
    });
    Table::new()
        .opt("session_id", s.session_id.clone())
        .row("status", s.status.as_str())
        .opt("updated_at", time(s.updated_at))
        .opt("expires_at", time(s.expires_at))
        .opt("order_id", s.order_id.clone())
        .opt("klarna_reference", s.klarna_reference.clone())
        .opt("authorization_token", token)
        .opt(
            "customer",
            s.customer
                .as_ref()
                .map(|_| "present (not shown; --json prints it)"),
        )
}

fn read(id: &str, global: &Global) -> Result<(), CliError> {
    let klarna = Klarna::connect(global)?;
    let reply = klarna.call(&hpp::ReadSession::new(id), "")?;
    if global.json {
        print_bodies(&[&reply.body]);
    } else {
        session_table(&reply.value, false).print();
    }
    Ok(())
}
