//! GitHub's published REST description as the referee of the sandbox and its clients: with
//! [`Sandbox::validate_against_openapi`] on, every request must be an operation the description
//! lists (method, path template, declared query parameters, a body its request schema accepts),
//! and every answer a status that operation lists with a body its schema accepts. The sandbox and
//! the client were written from one understanding of GitHub; this checks both against GitHub's.
//!
//! The description is `openapi/github.json`, trimmed and made strict by `openapi/regen`: objects
//! allow only the properties GitHub lists, so an invented field is a violation.

use std::sync::OnceLock;

use jsonschema::Validator;

use super::*;

const DESCRIPTION: &str = include_str!("../openapi/github.json");

/// What a run of the check found, kept in the sandbox's state.
#[derive(Default)]
pub(super) struct Run {
    pub(super) on: bool,
    /// Scripted answers are checked too: only to prove that the check sees a planted fault.
    pub(super) scripted_checked: bool,
    pub(super) violations: Vec<String>,
}

/// Marks an answer that a test scripted on purpose (a fault, a limit): exempt from the check.
#[derive(Clone, Copy)]
pub(super) struct Exempt;

struct Contract {
    version: String,
    operations: Vec<Operation>,
    basic_error: Validator,
    validation_error: Validator,
}

struct Operation {
    method: Method,
    template: String,
    query: Vec<(String, Validator)>,
    body: Option<(bool, Validator)>,
    /// Status -> the schema of its JSON body (`None`: no body).
    responses: Vec<(u16, Option<Validator>)>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        // The description is committed with the code that reads it: a broken one is a bug here.
        let doc: Value = serde_json::from_str(DESCRIPTION).expect("openapi/github.json is JSON");
        Contract::from(&doc).unwrap_or_else(|err| panic!("openapi/github.json: {err}"))
    })
}

fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|err| err.to_string())
}

impl Contract {
    fn from(doc: &Value) -> Result<Contract, String> {
        let mut operations = Vec::new();
        for (template, methods) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in methods.as_object().into_iter().flatten() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes())
                    .map_err(|err| err.to_string())?;
                operations.push(Operation::from(method, template, op)?);
            }
        }
        Ok(Contract {
            version: doc["version"].as_str().unwrap_or("?").to_owned(),
            operations,
            basic_error: compile(&doc["errors"]["basic"])?,
            validation_error: compile(&doc["errors"]["validation"])?,
        })
    }

    /// The operation a raw path addresses (a GitHub Enterprise sandbox's router took its
    /// `/api/v3` off already): the template with the most literal segments that matches, as
    /// `public-key` beats `{name}`.
    fn operation(&self, method: &Method, path: &str) -> Option<&Operation> {
        // GitHub's paging links address a repository by id (`/repositories/{id}/...`), a form
        // its description does not list: it is the `/repos/{owner}/{repo}/...` operation.
        let by_id = path
            .strip_prefix("/repositories/")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(id, _)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
            .map(|(_, rest)| format!("/repos/{{owner}}/{{repo}}/{rest}"));
        let path = by_id.as_deref().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        self.operations
            .iter()
            .filter(|op| op.method == method)
            .filter_map(|op| op.literals_matching(&segments).map(|n| (n, op)))
            .max_by_key(|(n, _)| *n)
            .map(|(_, op)| op)
    }
}

impl Operation {
    fn from(method: Method, template: &str, op: &Value) -> Result<Operation, String> {
        let mut query = Vec::new();
        for param in op["parameters"].as_array().into_iter().flatten() {
            if param["in"] == "query" {
                let name = param["name"].as_str().unwrap_or_default().to_owned();
                query.push((name, compile(&param["schema"])?));
            }
        }
        let body = match op.get("requestBody") {
            Some(body) => Some((body["required"] == true, compile(&body["json"]["schema"])?)),
            None => None,
        };
        let mut responses = Vec::new();
        for (status, answer) in op["responses"].as_object().into_iter().flatten() {
            let status: u16 = status.parse().map_err(|_| format!("status {status}"))?;
            let schema = match answer["json"].get("schema") {
                Some(schema) if answers_subset(template) => Some(compile(&answer_schema(schema))?),
                Some(schema) => Some(compile(schema)?),
                None => None,
            };
            responses.push((status, schema));
        }
        Ok(Operation {
            method,
            template: template.to_owned(),
            query,
            body,
            responses,
        })
    }

    fn literals_matching(&self, segments: &[&str]) -> Option<usize> {
        let template: Vec<&str> = self.template.split('/').collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut literals = 0;
        for (want, got) in template.iter().zip(segments) {
            if want.starts_with('{') {
                if got.is_empty() {
                    return None;
                }
            } else if want == got {
                literals += 1;
            } else {
                return None;
            }
        }
        Some(literals)
    }

    fn check_query(&self, query: &str, found: &mut Vec<String>) {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let Some((_, schema)) = self.query.iter().find(|(name, _)| name == key) else {
                found.push(format!("query parameter `{key}` is not one it declares"));
                continue;
            };
            // Query values are text; a number-typed parameter is checked as the number it reads as.
            let value = value
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(value));
            schema_errors(schema, &value, &format!("query parameter `{key}`"), found);
        }
    }

    fn check_body(&self, body: &[u8], found: &mut Vec<String>) {
        match (&self.body, body.is_empty()) {
            (None, true) | (Some((false, _)), true) => {}
            (None, false) => found.push("a body sent to an operation that takes none".to_owned()),
            (Some((true, _)), true) => found.push("no body, and it requires one".to_owned()),
            (Some((_, schema)), false) => match serde_json::from_slice::<Value>(body) {
                Ok(value) => schema_errors(schema, &value, "request body", found),
                Err(_) => found.push("a request body that is not JSON".to_owned()),
            },
        }
    }
}

/// The headers that decide how GitHub reads a request: a body is the JSON every operation here
/// takes (`Content-Type`), and the answer asked for is JSON (`Accept`, if sent).
fn check_headers(headers: &HeaderMap, body: &[u8], found: &mut Vec<String>) {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let json = |value: &str| {
        value
            .split(';')
            .next()
            .is_some_and(|t| t.trim().ends_with("json"))
    };
    if !body.is_empty() && !header(CONTENT_TYPE).is_some_and(json) {
        found.push("a body whose Content-Type is not JSON".to_owned());
    }
    let accepts_json = |value: &str| {
        value
            .split(',')
            .any(|t| json(t) || t.trim().starts_with("*/*"))
    };
    if header(http::header::ACCEPT).is_some_and(|v| !accepts_json(v)) {
        found.push("an Accept header that does not take JSON".to_owned());
    }
}

/// Every way `value` fails `schema`, by JSON pointer; values are never quoted (they may be
/// secrets' sealed values or a variable's value).
fn schema_errors(schema: &Validator, value: &Value, what: &str, found: &mut Vec<String>) {
    for error in schema.iter_errors(value) {
        let at = error.instance_path().to_string();
        found.push(format!("{what} at `{at}`: {}", describe(&error)));
    }
}

/// What a schema error says, without the instance's value.
fn describe(error: &jsonschema::ValidationError) -> String {
    use jsonschema::error::ValidationErrorKind as K;
    match error.kind() {
        K::AdditionalProperties { unexpected } => {
            format!("properties it does not document: {}", unexpected.join(", "))
        }
        K::Required { property } => format!("missing required property {property}"),
        K::Type { kind } => format!("not of type {kind:?}"),
        K::Enum { options } => format!("not one of {options}"),
        K::Format { format } => format!("not a {format}"),
        _ => format!("fails the schema's `{}`", error.schema_path()),
    }
}

/// The request's violations (method, path and what is wrong), if any.
fn check_request(parts: &http::request::Parts, body: &[u8]) -> Vec<String> {
    let (method, path) = (&parts.method, parts.uri.path());
    let Some(op) = contract().operation(method, path) else {
        return vec![format!(
            "{method} {path}: no operation of GitHub's description (v{}) has this method and path",
            contract().version
        )];
    };
    let mut found = Vec::new();
    op.check_query(parts.uri.query().unwrap_or(""), &mut found);
    op.check_body(body, &mut found);
    check_headers(&parts.headers, body, &mut found);
    name_all(found, &format!("{method} {path} ({})", op.template))
}

/// The answer's violations, if any. An answer to a request that is no operation was already
/// reported with the request.
fn check_answer(parts: &http::request::Parts, status: StatusCode, body: &[u8]) -> Vec<String> {
    let (method, path) = (&parts.method, parts.uri.path());
    let Some(op) = contract().operation(method, path) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let code = status.as_u16();
    let parsed = serde_json::from_slice::<Value>(body);
    match op.responses.iter().find(|(s, _)| *s == code) {
        Some((_, Some(schema))) => match &parsed {
            Ok(value) => schema_errors(schema, value, "body", &mut found),
            Err(_) => found.push("a body that is not JSON".to_owned()),
        },
        Some((_, None)) if body.is_empty() => {}
        Some((_, None)) => found.push("a body where GitHub documents none".to_owned()),
        None => undocumented_status(parts, status, body, parsed.ok(), &mut found),
    }
    name_all(
        found,
        &format!("{method} {path} ({}) answered {code}", op.template),
    )
}

/// The allow-list, part one: the answers that describe one repository (or, for an installation,
/// a list of full ones), a user or an organization may leave out properties GitHub's schema
/// requires. The sandbox answers the fields a client of secrets and variables reads (a
/// repository's `id`, `full_name`, `permissions`; not its eighty URLs); the client's parsing of
/// GitHub's full examples is checked by the fixtures test instead. An undocumented field or a
/// wrong type is still a violation, and every other answer (secrets, variables, keys,
/// environments, listings of minimal repositories) must have all its required properties.
fn answers_subset(template: &str) -> bool {
    const SUBSETS: &[&str] = &[
        "/user",
        "/installation/repositories",
        "/orgs/{org}",
        "/repos/{owner}/{repo}",
    ];
    SUBSETS.contains(&template)
}

/// `schema` without its `required` keywords.
fn answer_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| *key != "required")
                .map(|(key, value)| match (key.as_str(), value) {
                    // A property may be called `required`: only the keyword goes.
                    ("properties", Value::Object(properties)) => {
                        let kept = properties
                            .iter()
                            .map(|(name, s)| (name.clone(), answer_schema(s)));
                        (key.clone(), Value::Object(kept.collect()))
                    }
                    _ => (key.clone(), answer_schema(value)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(answer_schema).collect()),
        other => other.clone(),
    }
}

/// The allow-list, part two: what GitHub answers everywhere but its description lists per
/// operation only sometimes. An error (4xx, 5xx) must have one of GitHub's two error shapes (its `basic-error`
/// and `validation-error` schemas; GitHub documents its 401, 403, 404 and 422 answers in its REST
/// guide, not on each operation). A 304 with no body answers a GET that sent `If-None-Match`
/// (conditional requests, also documented in the guide). Any other status (an undocumented
/// success, a redirect) is a violation.
fn undocumented_status(
    parts: &http::request::Parts,
    status: StatusCode,
    body: &[u8],
    parsed: Option<Value>,
    found: &mut Vec<String>,
) {
    let contract = contract();
    if status == StatusCode::NOT_MODIFIED {
        let conditional = parts.method == Method::GET && parts.headers.contains_key(IF_NONE_MATCH);
        if !conditional || !body.is_empty() {
            found
                .push("304 to a request that was not a conditional GET, or with a body".to_owned());
        }
    } else if status.is_client_error() || status.is_server_error() {
        match parsed {
            Some(value)
                if contract.basic_error.is_valid(&value)
                    || contract.validation_error.is_valid(&value) => {}
            Some(value) => schema_errors(&contract.basic_error, &value, "error body", found),
            None => found.push("an error whose body is not GitHub's JSON error".to_owned()),
        }
    } else {
        found.push("a status the operation does not list".to_owned());
    }
}

fn name_all(found: Vec<String>, request: &str) -> Vec<String> {
    found
        .into_iter()
        .map(|what| format!("{request}: {what}"))
        .collect()
}

impl Sandbox {
    /// From now on, check every request and answer against GitHub's REST description; see
    /// [`Sandbox::contract_violations`]. Scripted faults, limit answers and injected failures are
    /// exempt: tests plant them on purpose.
    pub fn validate_against_openapi(&self) {
        lock(&self.state).contract.on = true;
    }

    /// Check scripted answers too (see [`Sandbox::inject_fault`]): for a test that plants an
    /// answer GitHub does not document and expects to see it reported.
    pub fn check_scripted_answers(&self) {
        lock(&self.state).contract.scripted_checked = true;
    }

    /// Every violation found so far, each naming the method, the path, the operation's template,
    /// the status for answers, and what is wrong.
    pub fn contract_violations(&self) -> Vec<String> {
        lock(&self.state).contract.violations.clone()
    }

    /// The version of `@octokit/openapi` the committed description came from.
    pub fn openapi_version() -> &'static str {
        &contract().version
    }
}

/// Checks a request as it arrives, if the check is on.
pub(super) fn arrived(shared: &Shared, parts: &http::request::Parts, body: Option<&[u8]>) {
    if !lock(shared).contract.on {
        return;
    }
    let found = match body {
        Some(body) => check_request(parts, body),
        None => vec![format!(
            "{} {}: a body over the sandbox's limit",
            parts.method,
            parts.uri.path()
        )],
    };
    lock(shared).contract.violations.extend(found);
}

/// Checks an answer on its way out, if the check is on and the answer is not exempt; the body is
/// read whole (every checked answer is a JSON document or empty) and sent on unchanged.
pub(super) async fn answered(
    shared: &Shared,
    parts: &http::request::Parts,
    response: Response,
    scripted: bool,
) -> Response {
    let (on, scripted_checked) = {
        let run = &lock(shared).contract;
        (run.on, run.scripted_checked)
    };
    let exempt = response.extensions().get::<Exempt>().is_some() || scripted;
    if !on || (exempt && !scripted_checked) {
        return response;
    }
    let (head, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return dropped_connection();
    };
    let found = check_answer(parts, head.status, &bytes);
    lock(shared).contract.violations.extend(found);
    Response::from_parts(head, Body::from(bytes))
}
