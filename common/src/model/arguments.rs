//! Checking a job's arguments against what its function declares (`execute`), so a bad
//! call is refused at the door with a message naming the argument, never on the worker.

use serde_json::{Map, Value};

use super::body::show;
use super::endpoint::{ArgKind, ArgType, EndpointInfo};

/// Returns the arguments to run with (`null`s dropped, so defaults apply), or why not.
pub fn check_arguments(endpoint: &EndpointInfo, given: Map<String, Value>) -> Result<Map<String, Value>, String> {
    let declared = declared_arguments(endpoint)?;
    let mut arguments = Map::new();
    for (name, value) in given {
        if value.is_null() {
            continue;
        }
        match declared.iter().find(|(declared_name, _)| *declared_name == name) {
            Some((_, arg_type)) => check_value(&name, arg_type, &value)?,
            None if endpoint.accepts_any_args => {}
            None if declared.is_empty() => {
                return Err(format!("unknown argument {name}: {} takes no arguments", endpoint.name))
            }
            None => {
                let known: Vec<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
                return Err(format!("unknown argument {name}: {} takes {}", endpoint.name, known.join(", ")));
            }
        }
        arguments.insert(name, value);
    }
    for (name, arg_type) in &declared {
        if arg_type.kind != ArgKind::MOption && !arguments.contains_key(name) {
            return Err(format!("missing argument {name} ({})", describe(arg_type)));
        }
    }
    Ok(arguments)
}

/// The endpoint's `execute`, typed, in declaration order.
fn declared_arguments(endpoint: &EndpointInfo) -> Result<Vec<(String, ArgType)>, String> {
    endpoint
        .execute
        .iter()
        .map(|(name, descriptor)| {
            serde_json::from_value(descriptor.clone()).map(|t| (name.clone(), t)).map_err(|e| {
                format!("endpoint {} declares argument {name} with an unreadable type: {e}", endpoint.name)
            })
        })
        .collect()
}

/// Checks `value` against `arg_type`; `path` names where in the argument it is.
fn check_value(path: &str, arg_type: &ArgType, value: &Value) -> Result<(), String> {
    let inner = |i: usize| arg_type.args.as_ref().and_then(|a| a.get(i));
    let fits = match arg_type.kind {
        ArgKind::MAny => true,
        ArgKind::MInt => value.is_i64() || value.is_u64(),
        ArgKind::MDouble => value.is_number(),
        ArgKind::MString => value.is_string(),
        ArgKind::MBoolean => value.is_boolean(),
        ArgKind::MOption => return if value.is_null() { Ok(()) } else { inner(0).map_or(Ok(()), |t| check_value(path, t, value)) },
        ArgKind::MList => match value.as_array() {
            Some(items) => {
                if let Some(item_type) = inner(0) {
                    for (i, item) in items.iter().enumerate() {
                        check_value(&format!("{path}[{i}]"), item_type, item)?;
                    }
                }
                true
            }
            None => false,
        },
        ArgKind::MMap => match value.as_object() {
            Some(entries) => {
                if let Some(value_type) = inner(1) {
                    for (key, item) in entries {
                        check_value(&format!("{path}.{key}"), value_type, item)?;
                    }
                }
                true
            }
            None => false,
        },
        ArgKind::MObj => match value.as_object() {
            Some(entries) => {
                for (field, field_type) in arg_type.fields.iter().flatten() {
                    match entries.get(field) {
                        Some(item) if !item.is_null() => check_value(&format!("{path}.{field}"), field_type, item)?,
                        _ if field_type.kind == ArgKind::MOption => {}
                        _ => return Err(format!("argument {path} is missing field {field} ({})", describe(field_type))),
                    }
                }
                true
            }
            None => false,
        },
    };
    if fits {
        Ok(())
    } else {
        Err(format!("argument {path} must be {}, got {}", describe(arg_type), show(value)))
    }
}

/// "a list of integers", for messages.
fn describe(arg_type: &ArgType) -> String {
    let inner = |i: usize| arg_type.args.as_ref().and_then(|a| a.get(i)).map(describe);
    match arg_type.kind {
        ArgKind::MInt => "an integer".into(),
        ArgKind::MDouble => "a number".into(),
        ArgKind::MString => "a string".into(),
        ArgKind::MBoolean => "true or false".into(),
        ArgKind::MAny => "any value".into(),
        ArgKind::MList => format!("a list of {}", inner(0).map(plural).unwrap_or_else(|| "values".into())),
        ArgKind::MMap => format!("an object of {}", inner(1).map(plural).unwrap_or_else(|| "values".into())),
        ArgKind::MOption => format!("optional, {}", inner(0).unwrap_or_else(|| "any value".into())),
        ArgKind::MObj => "an object".into(),
    }
}

fn plural(single: String) -> String {
    match single.as_str() {
        "an integer" => "integers".into(),
        "a number" => "numbers".into(),
        "a string" => "strings".into(),
        "true or false" => "booleans".into(),
        "any value" => "values".into(),
        other => format!("({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::endpoint::Lang;
    use serde_json::json;

    fn endpoint(execute: Value, accepts_any_args: bool) -> EndpointInfo {
        EndpointInfo {
            name: "e".into(),
            path: "e.py".into(),
            class_name: "f".into(),
            default_context: "default".into(),
            retries: 0,
            retry_backoff: None,
            retry_on_error: false,
            lang: Lang::Python,
            execute: execute.as_object().cloned().unwrap_or_default(),
            tags: vec![],
            accepts_any_args,
        }
    }

    fn simple() -> EndpointInfo {
        endpoint(
            json!({"numbers": {"type": "MList", "args": [{"type": "MInt"}]},
                   "multiplier": {"type": "MOption", "args": [{"type": "MDouble"}]}}),
            false,
        )
    }

    fn check(endpoint: &EndpointInfo, args: Value) -> Result<Map<String, Value>, String> {
        check_arguments(endpoint, args.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn accepts_fitting_arguments_and_drops_nulls() {
        let args = check(&simple(), json!({"numbers": [1, 2], "multiplier": null})).unwrap();
        assert_eq!(Value::Object(args), json!({"numbers": [1, 2]}));
        assert!(check(&simple(), json!({"numbers": [], "multiplier": 3})).is_ok());
    }

    #[test]
    fn names_the_argument_that_does_not_fit() {
        assert_eq!(check(&simple(), json!({})).unwrap_err(), "missing argument numbers (a list of integers)");
        assert_eq!(
            check(&simple(), json!({"numbers": [1, "x"]})).unwrap_err(),
            "argument numbers[1] must be an integer, got \"x\""
        );
        assert_eq!(
            check(&simple(), json!({"numbers": [1], "multiplier": "big"})).unwrap_err(),
            "argument multiplier must be a number, got \"big\""
        );
        assert_eq!(
            check(&simple(), json!({"numbers": [1], "extra": 1})).unwrap_err(),
            "unknown argument extra: e takes numbers, multiplier"
        );
        assert!(check(&endpoint(json!({}), false), json!({"a": 1})).unwrap_err().contains("takes no arguments"));
    }

    #[test]
    fn kwargs_functions_take_anything_extra() {
        assert!(check(&endpoint(json!({}), true), json!({"a": 1})).is_ok());
    }
}
