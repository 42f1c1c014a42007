//! The CloudFormation template as `sam build` leaves it, read the way CloudFormation reads it:
//! parameters, conditions and the intrinsic functions the template uses, resolved against
//! the resources the rehearsal created.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

/// A template, with short-form tags (`!Ref X`) turned into their long form (`Ref: X`).
#[derive(Debug, Clone)]
pub struct Template {
    pub root: Value,
}

/// What a `Ref` or `Fn::GetAtt` stands for once the stack exists.
#[derive(Debug, Default, Clone)]
pub struct Stack {
    pub name: String,
    pub region: String,
    pub account: String,
    pub parameters: HashMap<String, Value>,
    /// Logical id of a resource → what `Ref` gives.
    pub refs: HashMap<String, Value>,
    /// (logical id, attribute) → what `Fn::GetAtt` gives.
    pub attributes: HashMap<(String, String), Value>,
    pub conditions: HashMap<String, bool>,
    /// A stack read off the template alone, before anything exists: a `Ref` to a resource
    /// reads `ref:<id>` and a `Fn::GetAtt` reads `getatt:<id>.<attribute>`, so that what the
    /// template wires together can be compared without deploying it.
    pub symbolic: bool,
}

/// Left where `AWS::NoValue` stood; taken out of the lists and maps around it.
const NO_VALUE: &str = "\u{0}AWS::NoValue";

impl Template {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let yaml: serde_norway::Value =
            serde_norway::from_str(text).map_err(|e| format!("template YAML: {e}"))?;
        Ok(Self {
            root: long_form(yaml)?,
        })
    }

    pub fn section(&self, name: &str) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.root
            .get(name)
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// Resources of `kind` (e.g. `AWS::Serverless::Function`), by logical id.
    pub fn resources_of(&self, kind: &str) -> Vec<(&str, &Value)> {
        let mut found: Vec<_> = self
            .section("Resources")
            .iter()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
            .map(|(id, r)| (id.as_str(), r))
            .collect();
        found.sort_by_key(|(id, _)| *id);
        found
    }

    /// Parameter values: those given, else the template's defaults. A parameter with neither
    /// is an error, as in CloudFormation.
    pub fn parameter_values(
        &self,
        given: &HashMap<String, String>,
    ) -> Result<HashMap<String, Value>, String> {
        let mut values = HashMap::new();
        for (name, spec) in self.section("Parameters") {
            let raw = match given.get(name) {
                Some(v) => v.clone(),
                None => match spec.get("Default") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    Some(other) => return Err(format!("parameter {name}: default {other}")),
                    None => return Err(format!("parameter {name} has no value")),
                },
            };
            if let Some(allowed) = spec.get("AllowedValues").and_then(Value::as_array) {
                let ok = allowed.iter().any(|a| match a {
                    Value::String(s) => *s == raw,
                    Value::Number(n) => n.to_string() == raw,
                    _ => false,
                });
                if !ok {
                    return Err(format!("parameter {name}: {raw:?} is not allowed"));
                }
            }
            let value = if spec.get("Type").and_then(Value::as_str) == Some("CommaDelimitedList") {
                Value::Array(
                    raw.split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| Value::String(s.trim().to_owned()))
                        .collect(),
                )
            } else {
                Value::String(raw)
            };
            values.insert(name.clone(), value);
        }
        for name in given.keys() {
            if !values.contains_key(name) {
                return Err(format!("parameter {name} is not in the template"));
            }
        }
        Ok(values)
    }

    /// The stack the template describes with `given` parameters (the rest at their
    /// defaults; one without a default reads `param:<name>`), its conditions evaluated, its
    /// resources symbolic (see [`Stack::symbolic`]).
    pub fn symbolic_stack(&self, given: &[(&str, &str)]) -> Result<Stack, String> {
        let mut values: HashMap<String, String> = given
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        for (name, spec) in self.section("Parameters") {
            if spec.get("Default").is_none() && !values.contains_key(name) {
                values.insert(name.clone(), format!("param:{name}"));
            }
        }
        let mut stack = Stack {
            name: "stack".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            symbolic: true,
            ..Stack::default()
        };
        stack.parameters = self.parameter_values(&values)?;
        self.evaluate_conditions(&mut stack)?;
        Ok(stack)
    }

    /// Whether resource `id` exists in `stack`: declared, and its condition (if any) true. A
    /// condition the template does not declare is an error, as in CloudFormation.
    pub fn is_created(&self, stack: &Stack, id: &str) -> Result<bool, String> {
        let Some(resource) = self.section("Resources").get(id) else {
            return Ok(false);
        };
        resource_is_created(stack, resource).map_err(|error| format!("{id}: {error}"))
    }

    /// The resource a raw `Ref` or `Fn::GetAtt` (`{"Fn::GetAtt": [id, attribute]}`) names,
    /// when the template declares it: what `Role: !GetAtt XRole.Arn` or
    /// `TargetFunctionArn: !GetAtt F.Arn` point at.
    pub fn named_resource<'a>(&self, value: &'a Value) -> Option<&'a str> {
        let id = match (value.get("Ref"), value.get("Fn::GetAtt")) {
            (Some(Value::String(id)), None) => id.as_str(),
            (None, Some(Value::Array(parts))) => parts.first()?.as_str()?,
            (None, Some(Value::String(dotted))) => dotted.split_once('.')?.0,
            _ => return None,
        };
        self.section("Resources").contains_key(id).then_some(id)
    }

    /// The function behind the function URL `id`: the `TargetFunctionArn` of an
    /// `AWS::Lambda::Url` the stack creates, or `F` for the `<F>Url` SAM makes from a
    /// function's `FunctionUrlConfig`. `None` when `id` is neither (or is not created).
    pub fn url_function(&self, stack: &Stack, id: &str) -> Result<Option<String>, String> {
        let resources = self.section("Resources");
        if let Some(url) = resources.get(id) {
            if url["Type"] != "AWS::Lambda::Url" || !self.is_created(stack, id)? {
                return Ok(None);
            }
            let target = &url["Properties"]["TargetFunctionArn"];
            return self
                .named_resource(target)
                .filter(|function| {
                    resources[*function]["Type"] == "AWS::Serverless::Function"
                        || resources[*function]["Type"] == "AWS::Lambda::Function"
                })
                .map(|function| Some(function.to_owned()))
                .ok_or_else(|| {
                    format!("{id}: TargetFunctionArn {target} is no function of the stack")
                });
        }
        let Some(function) = id.strip_suffix("Url") else {
            return Ok(None);
        };
        match resources.get(function) {
            Some(resource)
                if resource["Type"] == "AWS::Serverless::Function"
                    && resource["Properties"].get("FunctionUrlConfig").is_some() =>
            {
                Ok(self
                    .is_created(stack, function)?
                    .then(|| function.to_owned()))
            }
            _ => Ok(None),
        }
    }

    /// Evaluates the Conditions section against `stack`'s parameters.
    pub fn evaluate_conditions(&self, stack: &mut Stack) -> Result<(), String> {
        let conditions = self.section("Conditions").clone();
        for (name, expr) in &conditions {
            let value = stack.resolve(expr)?;
            let truth = value
                .as_bool()
                .ok_or_else(|| format!("condition {name} is not a boolean: {value}"))?;
            stack.conditions.insert(name.clone(), truth);
        }
        Ok(())
    }
}

/// Whether `resource` exists in `stack`: its condition, if any, is true. A condition the
/// template does not declare is an error, as in CloudFormation.
pub fn resource_is_created(stack: &Stack, resource: &Value) -> Result<bool, String> {
    match resource.get("Condition") {
        None => Ok(true),
        Some(Value::String(condition)) => stack
            .conditions
            .get(condition)
            .copied()
            .ok_or_else(|| format!("unknown condition {condition}")),
        Some(other) => Err(format!("Condition {other} is not a condition's name")),
    }
}

impl Stack {
    /// Resolves every intrinsic function in `value`.
    pub fn resolve(&self, value: &Value) -> Result<Value, String> {
        let resolved = self.resolve_inner(value)?;
        Ok(strip_no_value(resolved))
    }

    fn resolve_inner(&self, value: &Value) -> Result<Value, String> {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().ok_or("empty map")?;
                match key.as_str() {
                    "Ref" => self.reference(arg.as_str().ok_or("Ref takes a name")?),
                    "Fn::GetAtt" => {
                        let (id, attr) = get_att_parts(arg)?;
                        self.attribute(&id, &attr)
                            .ok_or_else(|| format!("unresolved Fn::GetAtt {id}.{attr}"))
                    }
                    "Fn::Sub" => self.sub(arg),
                    "Fn::If" => {
                        let parts = arg.as_array().filter(|a| a.len() == 3).ok_or("Fn::If")?;
                        let name = parts[0].as_str().ok_or("Fn::If condition name")?;
                        let truth = *self
                            .conditions
                            .get(name)
                            .ok_or_else(|| format!("unknown condition {name}"))?;
                        self.resolve_inner(&parts[if truth { 1 } else { 2 }])
                    }
                    "Fn::Equals" => {
                        let parts = arg
                            .as_array()
                            .filter(|a| a.len() == 2)
                            .ok_or("Fn::Equals")?;
                        let (a, b) = (self.resolve(&parts[0])?, self.resolve(&parts[1])?);
                        // CloudFormation compares parameter values as text: "0" equals 0.
                        let same = match (scalar_text(&a), scalar_text(&b)) {
                            (Some(a), Some(b)) => a == b,
                            _ => a == b,
                        };
                        Ok(Value::Bool(same))
                    }
                    "Fn::Not" => {
                        let parts = arg.as_array().filter(|a| a.len() == 1).ok_or("Fn::Not")?;
                        let inner = self.resolve(&parts[0])?;
                        Ok(Value::Bool(
                            !inner.as_bool().ok_or("Fn::Not of a non-boolean")?,
                        ))
                    }
                    "Fn::And" | "Fn::Or" => {
                        let parts = arg.as_array().ok_or("Fn::And/Or takes a list")?;
                        let values = parts
                            .iter()
                            .map(|p| {
                                self.resolve(p)?
                                    .as_bool()
                                    .ok_or_else(|| format!("{key} of a non-boolean"))
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok(Value::Bool(if key == "Fn::And" {
                            values.iter().all(|v| *v)
                        } else {
                            values.iter().any(|v| *v)
                        }))
                    }
                    "Condition" => {
                        let name = arg.as_str().ok_or("Condition takes a name")?;
                        self.conditions
                            .get(name)
                            .map(|b| Value::Bool(*b))
                            .ok_or_else(|| format!("unknown condition {name}"))
                    }
                    "Fn::Join" => {
                        let parts = arg.as_array().filter(|a| a.len() == 2).ok_or("Fn::Join")?;
                        let sep = parts[0].as_str().ok_or("Fn::Join separator")?;
                        let items = self.resolve(&parts[1])?;
                        let items = items.as_array().ok_or("Fn::Join takes a list")?;
                        let texts = items
                            .iter()
                            .map(|i| scalar_text(i).ok_or("Fn::Join of a non-string"))
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok(Value::String(texts.join(sep)))
                    }
                    "Fn::Select" => {
                        let parts = arg
                            .as_array()
                            .filter(|a| a.len() == 2)
                            .ok_or("Fn::Select")?;
                        let index = scalar_text(&self.resolve(&parts[0])?)
                            .and_then(|t| t.parse::<usize>().ok())
                            .ok_or("Fn::Select index")?;
                        let list = self.resolve(&parts[1])?;
                        list.as_array()
                            .and_then(|l| l.get(index).cloned())
                            .ok_or_else(|| format!("Fn::Select {index} out of range"))
                    }
                    "Fn::Split" => {
                        let parts = arg.as_array().filter(|a| a.len() == 2).ok_or("Fn::Split")?;
                        let sep = parts[0].as_str().ok_or("Fn::Split separator")?;
                        let text = self.resolve(&parts[1])?;
                        let text = text.as_str().ok_or("Fn::Split of a non-string")?;
                        Ok(Value::Array(
                            text.split(sep)
                                .map(|s| Value::String(s.to_owned()))
                                .collect(),
                        ))
                    }
                    other if other.starts_with("Fn::") => {
                        Err(format!("the rehearsal does not know {other}"))
                    }
                    _ => Ok(Value::Object(self.resolve_map(map)?)),
                }
            }
            Value::Object(map) => Ok(Value::Object(self.resolve_map(map)?)),
            Value::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|i| self.resolve_inner(i))
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(other.clone()),
        }
    }

    fn resolve_map(&self, map: &Map<String, Value>) -> Result<Map<String, Value>, String> {
        map.iter()
            .map(|(k, v)| Ok((k.clone(), self.resolve_inner(v)?)))
            .collect()
    }

    fn attribute(&self, id: &str, attr: &str) -> Option<Value> {
        self.attributes
            .get(&(id.to_owned(), attr.to_owned()))
            .cloned()
            .or_else(|| {
                self.symbolic
                    .then(|| Value::String(format!("getatt:{id}.{attr}")))
            })
    }

    fn reference(&self, name: &str) -> Result<Value, String> {
        let pseudo = match name {
            "AWS::Region" => Some(self.region.clone()),
            "AWS::AccountId" => Some(self.account.clone()),
            "AWS::Partition" => Some("aws".to_owned()),
            "AWS::URLSuffix" => Some("amazonaws.com".to_owned()),
            "AWS::StackName" => Some(self.name.clone()),
            "AWS::StackId" => Some(format!(
                "arn:aws:cloudformation:{}:{}:stack/{}/rehearsal",
                self.region, self.account, self.name
            )),
            "AWS::NoValue" => Some(NO_VALUE.to_owned()),
            _ => None,
        };
        if let Some(value) = pseudo {
            return Ok(Value::String(value));
        }
        self.parameters
            .get(name)
            .or_else(|| self.refs.get(name))
            .cloned()
            .or_else(|| self.symbolic.then(|| Value::String(format!("ref:{name}"))))
            .ok_or_else(|| format!("unresolved Ref {name}"))
    }

    fn sub(&self, arg: &Value) -> Result<Value, String> {
        let (text, vars) = match arg {
            Value::String(text) => (text.as_str(), Map::new()),
            Value::Array(parts) if parts.len() == 2 => (
                parts[0].as_str().ok_or("Fn::Sub text")?,
                self.resolve_map(parts[1].as_object().ok_or("Fn::Sub variables")?)?,
            ),
            _ => return Err("Fn::Sub takes a string or [string, map]".into()),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let end = after.find('}').ok_or("Fn::Sub: unclosed ${")?;
            let name = &after[..end];
            let value = match vars.get(name) {
                Some(v) => v.clone(),
                None => match name.split_once('.') {
                    Some((id, attr)) if !name.starts_with("AWS::") => self
                        .attribute(id, attr)
                        .ok_or_else(|| format!("unresolved ${{{name}}} in Fn::Sub"))?,
                    _ => self.reference(name)?,
                },
            };
            out.push_str(&scalar_text(&value).ok_or_else(|| format!("${{{name}}} is not text"))?);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }
}

fn get_att_parts(arg: &Value) -> Result<(String, String), String> {
    match arg {
        Value::String(s) => s
            .split_once('.')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .ok_or_else(|| format!("Fn::GetAtt {s}")),
        Value::Array(parts) if parts.len() == 2 => Ok((
            parts[0].as_str().ok_or("Fn::GetAtt id")?.to_owned(),
            parts[1].as_str().ok_or("Fn::GetAtt attribute")?.to_owned(),
        )),
        other => Err(format!("Fn::GetAtt {other}")),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strip_no_value(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter(|i| i.as_str() != Some(NO_VALUE))
                .map(strip_no_value)
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| v.as_str() != Some(NO_VALUE))
                .map(|(k, v)| (k, strip_no_value(v)))
                .collect(),
        ),
        other => other,
    }
}

/// YAML to JSON, with CloudFormation's short-form tags in their long form.
fn long_form(yaml: serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(n).map_err(|e| e.to_string())?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            Value::Array(items.into_iter().map(long_form).collect::<Result<_, _>>()?)
        }
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("a map key that is not text: {other:?}")),
                };
                out.insert(key, long_form(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = long_form(tagged.value)?;
            let key = match name {
                "Ref" | "Condition" => name.to_owned(),
                _ => format!("Fn::{name}"),
            };
            let inner = match (name, inner) {
                ("GetAtt", Value::String(s)) => {
                    let (id, attr) = get_att_parts(&Value::String(s))?;
                    Value::Array(vec![Value::String(id), Value::String(attr)])
                }
                (_, other) => other,
            };
            let mut out = Map::new();
            out.insert(key, inner);
            Value::Object(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stack() -> Stack {
        let mut stack = Stack {
            name: "s".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            ..Stack::default()
        };
        stack.parameters.insert("Key".into(), json!(""));
        stack.parameters.insert("Zero".into(), json!("0"));
        stack.refs.insert("Table".into(), json!("s-Table-1"));
        stack
            .attributes
            .insert(("Table".into(), "Arn".into()), json!("arn:table"));
        stack
    }

    #[test]
    fn short_forms_read_as_long_forms_and_resolve() {
        let template = Template::parse(
            "Conditions:\n  HasKey: !Not [!Equals [!Ref Key, \"\"]]\n  IsZero: !Equals [!Ref Zero, 0]\n\
             Value:\n  - !Sub arn:${AWS::Partition}:x:${AWS::Region}:${Table}/${Table.Arn}\n  \
             - !If [HasKey, yes, !Ref AWS::NoValue]\n  - !GetAtt Table.Arn\n",
        )
        .expect("parses");
        let mut stack = stack();
        template
            .evaluate_conditions(&mut stack)
            .expect("conditions");
        assert!(!stack.conditions["HasKey"]);
        assert!(
            stack.conditions["IsZero"],
            "compared as text, as CloudFormation does"
        );
        let resolved = stack.resolve(&template.root["Value"]).expect("resolves");
        assert_eq!(
            resolved,
            json!(["arn:aws:x:us-east-1:s-Table-1/arn:table", "arn:table"])
        );
    }

    #[test]
    fn an_unknown_reference_is_an_error_not_a_blank() {
        let template = Template::parse("Value: !Ref Nowhere\n").expect("parses");
        let error = stack()
            .resolve(&template.root["Value"])
            .expect_err("unknown");
        assert!(error.contains("Nowhere"), "{error}");
    }
}
