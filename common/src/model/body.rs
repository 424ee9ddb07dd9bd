//! Reading JSON request bodies field by field, so every refusal names the field and what
//! was wrong with it ("maxJobs must be a positive integer, got -1") instead of serde's
//! generic messages. A field set to `null` counts as absent.

use serde_json::{Map, Value};

use crate::duration::MistDuration;

/// A JSON object body being read; fields are taken out one by one and whatever is left at
/// the end is unknown.
#[derive(Debug)]
pub struct Body {
    fields: Map<String, Value>,
}

impl Body {
    /// Refuses anything but an object at the top level.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err("request body is empty: send a JSON object".into());
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(fields)) => Ok(Self { fields }),
            Ok(other) => Err(format!("request body must be a JSON object, got {}", kind_of(&other))),
            Err(err) => Err(format!("request body is not valid JSON: {err}")),
        }
    }

    fn take(&mut self, field: &str) -> Option<Value> {
        self.fields.remove(field).filter(|v| !v.is_null())
    }

    pub fn string(&mut self, field: &str) -> Result<Option<String>, String> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!("{field} must be a string, got {}", kind_of(&other))),
        }
    }

    pub fn required_string(&mut self, field: &str) -> Result<String, String> {
        self.string(field)?.ok_or_else(|| format!("{field} is required"))
    }

    pub fn bool(&mut self, field: &str) -> Result<Option<bool>, String> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(format!("{field} must be true or false, got {}", show(&other))),
        }
    }

    pub fn positive_int(&mut self, field: &str) -> Result<Option<u32>, String> {
        match self.take(field) {
            None => Ok(None),
            Some(value) => match value.as_u64() {
                Some(n) if n >= 1 && n <= u32::MAX as u64 => Ok(Some(n as u32)),
                _ => Err(format!("{field} must be a positive integer, got {}", show(&value))),
            },
        }
    }

    pub fn whole_number(&mut self, field: &str) -> Result<Option<u32>, String> {
        match self.take(field) {
            None => Ok(None),
            Some(value) => match value.as_u64() {
                Some(n) if n <= u32::MAX as u64 => Ok(Some(n as u32)),
                _ => Err(format!("{field} must be a whole number, got {}", show(&value))),
            },
        }
    }

    pub fn duration(&mut self, field: &str) -> Result<Option<MistDuration>, String> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::String(s)) => s.parse().map(Some).map_err(|e| format!("{field}: {e}")),
            Some(other) => Err(format!(
                "{field} must be a duration string like \"30s\" or \"Inf\", got {}",
                show(&other)
            )),
        }
    }

    /// A string → string map; numbers and booleans are kept as their text, since old
    /// clients send `"spark.executor.instances": 2`.
    pub fn string_map(&mut self, field: &str) -> Result<Option<std::collections::BTreeMap<String, String>>, String> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::Object(entries)) => entries
                .into_iter()
                .map(|(key, value)| match value {
                    Value::String(s) => Ok((key, s)),
                    Value::Number(n) => Ok((key, n.to_string())),
                    Value::Bool(b) => Ok((key, b.to_string())),
                    other => Err(format!(
                        "{field}.{key} must be a string, number or boolean, got {}",
                        kind_of(&other)
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Some),
            Some(other) => Err(format!("{field} must be an object of string values, got {}", kind_of(&other))),
        }
    }

    /// Call last: a field nobody took is most likely a typo the user wants to hear about.
    pub fn finish(self, known: &[&str]) -> Result<(), String> {
        match self.fields.keys().next() {
            None => Ok(()),
            Some(unknown) => Err(format!("unknown field {unknown:?}; known fields are {}", known.join(", "))),
        }
    }
}

/// "a string", "an array"…, for messages.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The value as JSON, cut short so a huge value cannot flood an error message.
pub fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 80 {
        format!("{}…", &text[..text.floor_char_boundary(80)])
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_must_be_an_object() {
        assert!(Body::parse(b"").unwrap_err().contains("empty"));
        assert!(Body::parse(b"[]").unwrap_err().contains("an array"));
        assert!(Body::parse(b"null").unwrap_err().contains("null"));
        assert!(Body::parse(b"{").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn fields_are_named_in_refusals() {
        let mut body = Body::parse(br#"{"maxJobs": -1, "x": 1, "n": null}"#).unwrap();
        assert_eq!(body.positive_int("maxJobs").unwrap_err(), "maxJobs must be a positive integer, got -1");
        assert_eq!(body.string("n"), Ok(None));
        assert!(body.finish(&["maxJobs"]).unwrap_err().contains("\"x\""));
    }
}
