//! Klarna's OpenAPI schemas (the copies in `docs/spec/`), compiled once, used to validate request
//! bodies the way Klarna's field constraints would.

use std::collections::HashMap;

use jsonschema::Validator;
use serde_json::Value;

/// Which of Klarna's three documents a schema lives in.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Spec {
    Hpp,
    Payments,
    OrderManagement,
}

const HPP: &str = include_str!("../../../docs/spec/hpp-v1.openapi.json");
const PAYMENTS: &str = include_str!("../../../docs/spec/payments-v1.openapi.json");
const OM: &str = include_str!("../../../docs/spec/ordermanagement-v1.openapi.json");

/// The request schemas the emulator validates against.
const REQUEST_SCHEMAS: &[(Spec, &str)] = &[
    (Spec::Hpp, "SessionCreationRequestV1"),
    (Spec::Hpp, "DistributionRequestV1"),
    (Spec::Payments, "session_create"),
    (Spec::Payments, "session"),
    (Spec::Payments, "create_order_request"),
    (Spec::Payments, "customer_token_creation_request"),
    (Spec::OrderManagement, "CaptureObject"),
    (Spec::OrderManagement, "RefundObject"),
    (Spec::OrderManagement, "Update_authorization"),
    (Spec::OrderManagement, "Update_merchant_references"),
    (Spec::OrderManagement, "UpdateConsumer"),
    (Spec::OrderManagement, "UpdateShippingInfo"),
    (Spec::OrderManagement, "ExtendDueDateRequest"),
];

/// One schema violation: where (a JSON path like `order_lines[0].name`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub(crate) path: String,
    pub(crate) problem: String,
}

/// The compiled validators.
pub(crate) struct Schemas {
    validators: HashMap<(Spec, &'static str), Validator>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas")
            .field("count", &self.validators.len())
            .finish()
    }
}

impl Schemas {
    /// Compiles every request schema; an error names the schema that failed.
    pub(crate) fn compile() -> Result<Self, String> {
        let mut validators = HashMap::new();
        for &(spec, name) in REQUEST_SCHEMAS {
            validators.insert((spec, name), compile(spec, name)?);
        }
        Ok(Self { validators })
    }

    /// Validates `instance`; `Err` lists the violations (at most 10).
    pub(crate) fn check(
        &self,
        spec: Spec,
        name: &str,
        instance: &Value,
    ) -> Result<(), Vec<Violation>> {
        let Some(v) = self.validators.get(&(spec, name)) else {
            return Ok(());
        };
        let violations: Vec<Violation> = v
            .iter_errors(instance)
            .take(10)
            .map(|e| {
                let mut path = pointer_to_path(e.instance_path().as_str());
                if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind() {
                    let prop = property
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| property.to_string());
                    path = if path.is_empty() {
                        prop
                    } else {
                        format!("{path}.{prop}")
                    };
                }
                Violation {
                    path,
                    problem: e.to_string(),
                }
            })
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }
}

fn spec_text(spec: Spec) -> &'static str {
    match spec {
        Spec::Hpp => HPP,
        Spec::Payments => PAYMENTS,
        Spec::OrderManagement => OM,
    }
}

/// The spec without `paths`, with a root `$ref` to the schema: OpenAPI 3.0 schemas are close
/// enough to JSON Schema draft 4.
fn compile(spec: Spec, name: &str) -> Result<Validator, String> {
    let mut root: Value =
        serde_json::from_str(spec_text(spec)).map_err(|e| format!("{spec:?}: {e}"))?;
    let obj = root
        .as_object_mut()
        .ok_or_else(|| format!("{spec:?} is not an object"))?;
    obj.remove("paths");
    obj.insert(
        "$ref".into(),
        Value::String(format!("#/components/schemas/{name}")),
    );
    jsonschema::draft4::new(&root).map_err(|e| format!("{spec:?} {name}: {e}"))
}

/// `/order_lines/0/name` → `order_lines[0].name`.
pub(crate) fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&seg);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_schema_compiles() {
        Schemas::compile().unwrap();
    }

    #[test]
    fn violations_name_the_field() {
        let s = Schemas::compile().unwrap();
        let bad = serde_json::json!({"purchase_country": "SE", "purchase_currency": "SEK",
            "order_amount": 100, "order_lines": [{"name": "", "quantity": 1, "unit_price": 100, "total_amount": 100}]});
        let v = s.check(Spec::Payments, "session_create", &bad).unwrap_err();
        assert_eq!(v[0].path, "order_lines[0].name");
        let missing = serde_json::json!({"purchase_country": "SE"});
        let v = s
            .check(Spec::Payments, "session_create", &missing)
            .unwrap_err();
        assert!(v.iter().any(|v| v.path == "order_amount"), "{v:?}");
    }

    #[test]
    fn pointer_paths() {
        assert_eq!(pointer_to_path(""), "");
        assert_eq!(pointer_to_path("/a/3/b"), "a[3].b");
    }
}
