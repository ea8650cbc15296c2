// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The report `gst-onvif` prints: a tree of named values, written as indented text for
//! people or as JSON for scripts (the two say the same, in the same order).

/// One value of the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::Int(i64::from(n))
    }
}

impl From<u16> for Value {
    fn from(n: u16) -> Value {
        Value::Int(i64::from(n))
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

/// A map built field by field, in the order written.
#[derive(Debug, Default)]
pub struct Map(Vec<(String, Value)>);

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    /// Adds `key`.
    pub fn with(mut self, key: &str, v: impl Into<Value>) -> Map {
        self.0.push((key.to_string(), v.into()));
        self
    }

    /// Adds `key` in place.
    pub fn set(&mut self, key: &str, v: impl Into<Value>) {
        self.0.push((key.to_string(), v.into()));
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Map(m.0)
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Value {
    /// The value as JSON (RFC 8259), on one line.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => out.push_str(&n.to_string()),
            Value::Text(s) => json_string(s, out),
            Value::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out);
                }
                out.push(']');
            }
            Value::Map(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_string(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }

    /// The value as indented `key: value` lines (a list's items each after `-`).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(0, &mut out);
        out
    }

    fn scalar(&self) -> Option<String> {
        match self {
            Value::Null => Some("-".into()),
            Value::Bool(b) => Some(if *b { "yes" } else { "no" }.into()),
            Value::Int(n) => Some(n.to_string()),
            // One line each: a control character is written escaped.
            Value::Text(s) => Some(
                s.chars()
                    .flat_map(|c| {
                        let escaped: Vec<char> = if c.is_control() {
                            c.escape_default().collect()
                        } else {
                            vec![c]
                        };
                        escaped
                    })
                    .collect(),
            ),
            Value::List(l) if l.is_empty() => Some("none".into()),
            _ => None,
        }
    }

    fn write_text(&self, depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        match self {
            Value::Map(fields) => {
                for (k, v) in fields {
                    match v.scalar() {
                        Some(s) => out.push_str(&format!("{pad}{k}: {s}\n")),
                        None => {
                            out.push_str(&format!("{pad}{k}:\n"));
                            v.write_text(depth + 1, out);
                        }
                    }
                }
            }
            Value::List(items) => {
                for v in items {
                    match v.scalar() {
                        Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                        None => {
                            out.push_str(&format!("{pad}-\n"));
                            v.write_text(depth + 1, out);
                        }
                    }
                }
            }
            v => {
                if let Some(s) = v.scalar() {
                    out.push_str(&format!("{pad}{s}\n"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_json_and_text() {
        let v: Value = Map::new()
            .with("name", "a \"cam\"\n")
            .with("port", 443u16)
            .with("ok", true)
            .with("none", None::<String>)
            .with("list", vec!["x", "y"])
            .with("empty", Vec::<String>::new())
            .with("sub", Map::new().with("k", "v"))
            .into();
        assert_eq!(
            v.to_json(),
            r#"{"name":"a \"cam\"\n","port":443,"ok":true,"none":null,"list":["x","y"],"empty":[],"sub":{"k":"v"}}"#
        );
        assert_eq!(
            v.to_text(),
            "name: a \"cam\"\\n\nport: 443\nok: yes\nnone: -\nlist:\n  - x\n  - y\nempty: none\nsub:\n  k: v\n"
        );
        assert_eq!(Value::from("\u{1}").to_json(), "\"\\u0001\"");
    }
}
