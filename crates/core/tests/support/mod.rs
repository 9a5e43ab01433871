//! Test support: Klarna's OpenAPI documents (copied into docs/spec/) as JSON Schema validators and
//! as sources of example bodies.
#![allow(dead_code, unreachable_pub)]

use serde_json::{Map, Value};

/// The three specs, by short name: "hpp", "payments", "ordermanagement".
pub fn spec(name: &str) -> Value {
    let text = match name {
        "hpp" => include_str!("../../../../docs/spec/hpp-v1.openapi.json"),
        "payments" => include_str!("../../../../docs/spec/payments-v1.openapi.json"),
        "ordermanagement" => include_str!("../../../../docs/spec/ordermanagement-v1.openapi.json"),
        other => panic!("unknown spec {other}"),
    };
    serde_json::from_str(text).expect("spec is JSON")
}

/// A validator for `#/components/schemas/<schema>` of a spec (OpenAPI 3.0 ≈ JSON Schema draft 4).
pub fn validator(spec_name: &str, schema: &str) -> jsonschema::Validator {
    let mut root = spec(spec_name);
    assert!(
        root["components"]["schemas"].get(schema).is_some(),
        "{spec_name} has no schema {schema}"
    );
    let obj = root.as_object_mut().expect("object");
    obj.remove("paths");
    obj.insert(
        "$ref".into(),
        Value::String(format!("#/components/schemas/{schema}")),
    );
    jsonschema::draft4::new(&root).expect("schema compiles")
}

/// Panics with every violation when `instance` does not validate against the schema.
pub fn assert_valid(spec_name: &str, schema: &str, instance: &Value) {
    let v = validator(spec_name, schema);
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{spec_name}:{schema} rejects {instance}:\n{}",
        errors.join("\n")
    );
}

/// An example instance of a schema, synthesized from the spec's per-property `example`s
/// (following `$ref`s and arrays), for decoding tests.
pub fn example(spec_name: &str, schema: &str) -> Value {
    let root = spec(spec_name);
    let s = root["components"]["schemas"][schema].clone();
    synth(&root, &s, 0)
}

fn synth(root: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        return synth(root, &root["components"]["schemas"][name], depth + 1);
    }
    if let Some(ex) = schema.get("example") {
        return ex.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") | None if schema.get("properties").is_some() => {
            let mut out = Map::new();
            for (k, v) in schema["properties"].as_object().into_iter().flatten() {
                let val = synth(root, v, depth + 1);
                if !val.is_null() {
                    out.insert(k.clone(), val);
                }
            }
            Value::Object(out)
        }
        Some("array") => {
            let item = synth(root, &schema["items"], depth + 1);
            if item.is_null() {
                Value::Array(vec![])
            } else {
                Value::Array(vec![item])
            }
        }
        _ => Value::Null,
    }
}
