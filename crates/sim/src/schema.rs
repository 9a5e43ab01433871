//! Klarna's OpenAPI schemas (the copies in `docs/spec/`), compiled once, used to validate request
//! bodies the way Klarna's field constraints would, with Klarna's leniency: [`Schemas::accept`]
//! first brings a body into the shape Klarna's servers read it as (`null` members dropped, enum
//! values in another letter case spelled as the spec spells them, the scalar coercions Klarna
//! performs) and refuses numbers outside int64, then validates what is left. `docs/emulator.md`
//! has the table with its sources.

use std::collections::HashMap;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, Validator};
use serde_json::{Number, Value};

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

    /// Klarna's reading of a request body: normalizes `instance` in place (see the module doc),
    /// then validates it; `Err` lists the violations (at most 10).
    pub(crate) fn accept(
        &self,
        spec: Spec,
        name: &str,
        instance: &mut Value,
    ) -> Result<(), Vec<Violation>> {
        whole_numbers(instance);
        let Some(v) = self.validators.get(&(spec, name)) else {
            return Ok(());
        };
        // Each round fixes every lenient case it finds; a fix can uncover another one below it
        // (an enum inside an object that had a null sibling is found in the same round, but a
        // coerced value may then meet an enum), so a few rounds, each strictly shrinking the set
        // of fixable errors.
        for _ in 0..MAX_ROUNDS {
            let fixes: Vec<Fix> = v
                .iter_errors(instance)
                .take(MAX_FIXES)
                .filter_map(|e| fix_for(e.kind(), e.instance(), e.instance_path().as_str()))
                .collect();
            if fixes.is_empty() {
                break;
            }
            // Removals last and deepest first, so that the pointers of the others stay valid.
            let (removals, replacements): (Vec<Fix>, Vec<Fix>) =
                fixes.into_iter().partition(|f| f.value.is_none());
            for fix in replacements {
                if let (Some(slot), Some(value)) = (instance.pointer_mut(&fix.pointer), fix.value) {
                    *slot = value;
                }
            }
            let mut removals: Vec<String> = removals.into_iter().map(|f| f.pointer).collect();
            removals.sort();
            removals.dedup();
            for pointer in removals.iter().rev() {
                remove_member(instance, pointer);
            }
        }
        self.check(spec, name, instance)
    }

    /// Validates `instance` as it is; `Err` lists the violations (at most 10).
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

/// Rounds of fixes [`Schemas::accept`] makes at most.
const MAX_ROUNDS: usize = 8;
/// Errors looked at per round (a body has at most this many fixable values per round; the rest
/// are fixed in the next).
const MAX_FIXES: usize = 1_000;

/// One lenient reading: the value at `pointer` becomes `value`, or is removed (`None`).
struct Fix {
    pointer: String,
    value: Option<Value>,
}

/// What Klarna does with a value the schema refuses, when it accepts it after all.
fn fix_for(kind: &ValidationErrorKind, instance: &Value, pointer: &str) -> Option<Fix> {
    let fix = |value| {
        Some(Fix {
            pointer: pointer.to_owned(),
            value,
        })
    };
    match kind {
        ValidationErrorKind::Type { kind } => {
            let expected = |t: JsonType| match kind {
                TypeKind::Single(one) => *one == t,
                TypeKind::Multiple(set) => set.contains(t),
            };
            match instance {
                // `null` on an object member is the member's absence (a required member then
                // fails as missing). `null` in an array, or as the whole body, stays refused.
                Value::Null if !pointer.is_empty() && parent_is_object(pointer) => fix(None),
                Value::String(s) if expected(JsonType::Integer) => integer_text(s)
                    .map(|n| Value::Number(n.into()))
                    .and_then(|v| fix(Some(v))),
                Value::String(s) if expected(JsonType::Number) => integer_text(s)
                    .map(|n| Value::Number(n.into()))
                    .and_then(|v| fix(Some(v))),
                Value::String(s) if expected(JsonType::Boolean) => {
                    match s.to_ascii_lowercase().as_str() {
                        "true" => fix(Some(Value::Bool(true))),
                        "false" => fix(Some(Value::Bool(false))),
                        _ => None,
                    }
                }
                Value::Number(n) if expected(JsonType::String) && n.is_i64() => {
                    fix(Some(Value::String(n.to_string())))
                }
                Value::Bool(b) if expected(JsonType::String) => {
                    fix(Some(Value::String(b.to_string())))
                }
                _ => None,
            }
        }
        ValidationErrorKind::Enum { options } => {
            let Value::String(s) = instance else {
                return None;
            };
            options
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .find(|o| *o != s && o.eq_ignore_ascii_case(s))
                .and_then(|o| fix(Some(Value::String(o.to_owned()))))
        }
        _ => None,
    }
}

/// A decimal integer in int64 (`"100"`, `"-5"`), as Klarna's JSON reader takes a quoted number.
fn integer_text(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Whether the value at this JSON pointer is an object member (its last segment is not an
/// array index of an array parent is decided by the caller's data: a null array item's
/// pointer ends in digits, and object keys that are all digits do not occur in Klarna's
/// request schemas).
fn parent_is_object(pointer: &str) -> bool {
    let last = pointer.rsplit('/').next().unwrap_or_default();
    last.is_empty() || !last.bytes().all(|b| b.is_ascii_digit())
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Removes the object member at `pointer`.
fn remove_member(root: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    if let Some(Value::Object(m)) = root.pointer_mut(parent) {
        m.remove(&unescape(last));
    }
}

/// The largest magnitude an `f64` may have and still be an int64 once its fraction is zero.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// A whole number written with a fraction (`100.0`) is read as the integer, as Klarna's reader
/// does; other numbers are left for the schema to judge (the int64 / int32 bounds are part of
/// each compiled schema, see [`bound_integers`]).
fn whole_numbers(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| !n.is_i64() && !n.is_u64()) {
                if f.is_finite() && f.fract() == 0.0 && f.abs() < TWO_POW_63 {
                    // In range and whole: exact as an i64.
                    #[allow(clippy::cast_possible_truncation)]
                    let whole = f as i64;
                    *n = Number::from(whole);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(m) => m.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// Gives every integer schema its format's range as `minimum` / `maximum` where the spec sets
/// none: `int32` the int32 range, anything else int64's (symmetric: −(2⁶³−1)…2⁶³−1, since
/// −2⁶³ and a float just below it cannot be told apart once parsed). A number outside it is a
/// schema violation at its path, with the family's error code; numbers in free-form members
/// (no `type: integer`) are not bounded.
fn bound_integers(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("type").and_then(Value::as_str) == Some("integer") {
                let (lo, hi) = if m.get("format").and_then(Value::as_str) == Some("int32") {
                    (i64::from(i32::MIN), i64::from(i32::MAX))
                } else {
                    (-i64::MAX, i64::MAX)
                };
                m.entry("minimum").or_insert_with(|| Value::from(lo));
                m.entry("maximum").or_insert_with(|| Value::from(hi));
            }
            m.values_mut().for_each(bound_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
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
    bound_integers(&mut root);
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
