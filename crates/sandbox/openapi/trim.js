// Trims GitHub's dereferenced description to the operations secretsync calls (see regen).
"use strict";
const fs = require("fs");
const [source, version] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(source, "utf8"));

// Every method and path template the client (src/github, src/shared_state.rs, src/doctor) calls;
// the sandbox's routes.rs serves exactly these.
const secrets = (base) => [
  ["get", base],
  ["get", `${base}/public-key`],
  ["get", `${base}/{secret_name}`],
  ["put", `${base}/{secret_name}`],
  ["delete", `${base}/{secret_name}`],
];
const variables = (base) => [
  ["get", base],
  ["post", base],
  ["get", `${base}/{name}`],
  ["patch", `${base}/{name}`],
  ["delete", `${base}/{name}`],
];
const selected = (item) => [
  ["get", `${item}/repositories`],
  ["put", `${item}/repositories`],
  ["put", `${item}/repositories/{repository_id}`],
  ["delete", `${item}/repositories/{repository_id}`],
];
const repo = "/repos/{owner}/{repo}";
const env = `${repo}/environments/{environment_name}`;
const used = [
  ["get", "/user"],
  ["get", "/installation/repositories"],
  ["get", "/orgs/{org}"],
  ["get", "/orgs/{org}/repos"],
  ["get", repo],
  ["get", env],
  ["put", env],
  ...secrets(`${repo}/actions/secrets`),
  ...secrets(`${repo}/dependabot/secrets`),
  ...secrets(`${env}/secrets`),
  ...secrets("/orgs/{org}/actions/secrets"),
  ...secrets("/orgs/{org}/dependabot/secrets"),
  ...variables(`${repo}/actions/variables`),
  ...variables(`${env}/variables`),
  ...variables("/orgs/{org}/actions/variables"),
  ...selected("/orgs/{org}/actions/secrets/{secret_name}"),
  ...selected("/orgs/{org}/dependabot/secrets/{secret_name}"),
  ...selected("/orgs/{org}/actions/variables/{name}"),
];

// OpenAPI 3.0 schema -> JSON Schema: `nullable` becomes a "null" type, documentation keywords
// go, and every object that lists its properties allows no others (GitHub's description leaves
// additionalProperties open; closing it is what lets a test see an undocumented field).
function schema(s) {
  if (Array.isArray(s)) return s.map(schema);
  if (s === null || typeof s !== "object") return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (["description", "title", "example", "examples", "externalDocs", "deprecated",
         "readOnly", "writeOnly", "xml", "nullable"].includes(k) || k.startsWith("x-")) continue;
    out[k] = k === "properties"
      ? Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, schema(ps)]))
      : schema(v);
  }
  // A closed object inside allOf would refuse its siblings' properties: merge the branches.
  if (out.allOf && out.allOf.every((b) => b.properties && !b.allOf && !b.anyOf)) {
    const merged = { type: "object", properties: {}, required: [] };
    for (const b of out.allOf) {
      Object.assign(merged.properties, b.properties);
      merged.required.push(...(b.required || []));
    }
    delete out.allOf;
    Object.assign(out, merged);
  }
  // The description's oneOf branches overlap (a public user is a private user with fewer fields;
  // null is in every nullable branch), so JSON Schema's exactly-one would refuse GitHub's own
  // examples: at least one is what it means.
  if (out.oneOf) {
    out.anyOf = out.oneOf;
    delete out.oneOf;
  }
  if (s.nullable === true) {
    if (typeof out.type === "string") out.type = [out.type, "null"];
    else if (out.enum && !out.enum.includes(null)) out.enum = [...out.enum, null];
    else if (!out.type) return { anyOf: [out, { type: "null" }] };
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function parameters(list) {
  return (list || []).map((p) => ({
    name: p.name, in: p.in, required: !!p.required, schema: schema(p.schema),
  }));
}

function content(c) {
  const json = c && c["application/json"];
  if (!json) return undefined;
  const out = { schema: schema(json.schema) };
  if (json.examples) {
    out.examples = Object.fromEntries(
      Object.entries(json.examples).map(([name, e]) => [name, e.value]),
    );
  }
  return out;
}

const paths = {};
for (const [method, path] of used) {
  const op = doc.paths[path] && doc.paths[path][method];
  if (!op) throw new Error(`not in the description: ${method.toUpperCase()} ${path}`);
  const trimmed = {
    operationId: op.operationId,
    parameters: parameters(op.parameters),
    responses: Object.fromEntries(
      Object.entries(op.responses).map(([status, r]) => [status, { json: content(r.content) }]),
    ),
  };
  if (op.requestBody) {
    trimmed.requestBody = { required: !!op.requestBody.required, json: content(op.requestBody.content) };
  }
  (paths[path] = paths[path] || {})[method] = trimmed;
}

// GitHub's two error shapes, which its description lists for only some operations; the validator
// checks an error answer that an operation does not list against them.
const errorSchema = (path, method, status) =>
  schema(doc.paths[path][method].responses[status].content["application/json"].schema);

process.stdout.write(JSON.stringify({
  source: `npm @octokit/openapi@${version}, generated/api.github.com.deref.json`,
  openapi: doc.openapi,
  version: doc.info.version,
  errors: {
    basic: errorSchema("/orgs/{org}", "get", "404"),
    validation: errorSchema("/orgs/{org}/repos", "post", "422"),
  },
  paths,
}, null, 1) + "\n");
