// Helpers for tests/packaging/gitlab.sh (run with NODE_PATH pointing at gitlab-ci-local's
// node_modules, for js-yaml and micromatch). Each subcommand exits non-zero with a message
// naming what is wrong.
//
//   lint TEMPLATES_DIR MLGATE_BINARY        check every GitLab CI/CD component file
//   pipeline EXAMPLE_YML OUT_YML BINARY      the example pipeline, its component includes
//                                            made `local:` and given `binary:`
//   fake-gitlab PORT_FILE REQUESTS_FILE RELEASES_DIR
//                                            a small stand-in for GitLab's notes and statuses
//                                            API; also serves RELEASES_DIR under /releases/
//   artifacts STATE_DIR JOB STEP OUT          the job's dotenv and JUnit reports; prints the dotenv
//   requests REQUESTS_FILE                    summary of what the fake received, one line each

"use strict";
const fs = require("fs");
const path = require("path");
const http = require("http");
const { execFileSync } = require("child_process");
const yaml = require("js-yaml");
const micromatch = require("micromatch");

function fail(msg) {
  console.error(`tests/packaging/gitlab/helpers.js: ${msg}`);
  process.exit(1);
}

// `$[[ inputs.name ]]`, with optional `| function(...)` chains.
const USE = /\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*(?:\|[^\]]*)?\]\]/g;
const COMMON = ["job-name", "stage", "config", "model", "out", "format", "verbose", "image",
  "mlgate-version", "release-url", "sha256sums", "binary"];
const REQUIRED_OK = { predict: ["input", "output"] }; // mandatory CLI arguments: no default

function help(binary, args) {
  return execFileSync(binary, [...args, "--help"], { encoding: "utf8" });
}

function cliSteps(binary) {
  const text = help(binary, []);
  const section = text.split("Commands:")[1].split("Options:")[0];
  const steps = [];
  for (const line of section.split("\n")) {
    const m = /^  ([a-z][a-z-]*)\s/.exec(line);
    if (m && !["config", "schema", "init", "help"].includes(m[1])) steps.push(m[1]);
  }
  return steps;
}

function cliFlags(binary, step) {
  const flags = new Set();
  for (const m of help(binary, [step]).matchAll(/--([a-z][a-z-]*)/g)) flags.add(m[1]);
  flags.delete("help");
  return [...flags];
}

function lint(dir, binary) {
  const problems = [];
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yml")).sort();
  const steps = cliSteps(binary);
  for (const step of steps) {
    if (!files.includes(`${step}.yml`)) problems.push(`${dir}/${step}.yml is missing: mlgate has a step \`${step}\``);
  }
  let setupBlock = null;
  let setupFile = null;
  for (const file of files) {
    const p = path.join(dir, file);
    const step = file.replace(/\.yml$/, "");
    const say = (m) => problems.push(`${p}: ${m}`);
    const text = fs.readFileSync(p, "utf8");
    let docs;
    try {
      docs = yaml.loadAll(text);
    } catch (e) {
      say(`not YAML: ${e.message}`);
      continue;
    }
    if (docs.length !== 2) {
      say(`expected two YAML documents (spec, then the job), found ${docs.length}`);
      continue;
    }
    const [head, body] = docs;
    if (!head || Object.keys(head).join() !== "spec" || !head.spec.inputs) {
      say("the first document must be `spec:` with `inputs:` and nothing else");
      continue;
    }
    const inputs = head.spec.inputs;
    for (const [name, spec] of Object.entries(inputs)) {
      const s = spec || {};
      const type = s.type || "string";
      if (!["string", "number", "boolean", "array"].includes(type)) say(`input ${name}: unknown type ${type}`);
      if (typeof s.description !== "string" || s.description.trim() === "") say(`input ${name}: no description`);
      if (!("default" in s)) {
        if (!(REQUIRED_OK[step] || []).includes(name)) say(`input ${name}: no default`);
      } else {
        const d = s.default;
        const ok = type === "array" ? Array.isArray(d) : typeof d === type;
        if (!ok) say(`input ${name}: default ${JSON.stringify(d)} is not a ${type}`);
        if (s.options && !s.options.includes(d)) say(`input ${name}: default ${JSON.stringify(d)} is not one of its options`);
      }
    }
    for (const name of COMMON) if (!(name in inputs)) say(`input ${name} is not declared (every component has it)`);
    // Uses are counted in the job document only: the header's descriptions may quote them.
    const jobText = text.slice(text.search(/^---\s*$/m));
    const used = new Set([...jobText.matchAll(USE)].map((m) => m[1]));
    for (const name of used) if (!(name in inputs)) say(`$[[ inputs.${name} ]] is used but not declared`);
    for (const name of Object.keys(inputs)) if (!used.has(name)) say(`input ${name} is declared but never used`);
    if (!body || typeof body !== "object") {
      say("the second document holds no job");
      continue;
    }
    const names = Object.keys(body);
    if (names.length !== 1 || names[0] !== "$[[ inputs.job-name ]]") {
      say(`the job document must hold one job named $[[ inputs.job-name ]], found ${names.join(", ")}`);
      continue;
    }
    const job = body[names[0]];
    if (job.stage !== "$[[ inputs.stage ]]") say("stage is not $[[ inputs.stage ]]");
    if (job.image !== "$[[ inputs.image ]]") say("image is not $[[ inputs.image ]]");
    // Every flag of `mlgate <step> --help` is an input of the same name, passed as that flag.
    if (steps.includes(step)) {
      const script = (job.script || []).join("\n");
      for (const flag of cliFlags(binary, step)) {
        if (!(flag in inputs)) say(`mlgate ${step} has --${flag}, but there is no input \`${flag}\``);
        if (flag !== "verbose" && !script.includes(`--${flag} `)) say(`the script does not pass --${flag}`);
      }
      for (const name of Object.keys(inputs)) {
        if (!COMMON.includes(name) && !["store-dir"].includes(name) && !cliFlags(binary, step).includes(name)) {
          say(`input ${name} is neither a flag of mlgate ${step} nor a common input`);
        }
      }
      const last = job.script[job.script.length - 1];
      if (!last.startsWith(`mlgate ${step} `)) say(`the last script line must run \`mlgate ${step} …\`, found: ${last}`);
    } else {
      say(`mlgate has no step \`${step}\``);
    }
    if (job.script.length !== 2) say("the script must be the setup block, then the mlgate command");
    if (setupBlock === null) {
      setupBlock = job.script[0];
      setupFile = p;
    } else if (job.script[0] !== setupBlock) {
      say(`its setup block differs from ${setupFile}'s: keep them identical`);
    }
    const a = job.artifacts || {};
    if (a.when !== "always") say("artifacts:when must be always (a failed step's reports are the interesting ones)");
    if (!(a.paths || []).includes("$[[ inputs.out ]]/")) say("artifacts:paths must keep $[[ inputs.out ]]/ (a folder: the trailing / lets expose_as link it)");
    const r = a.reports || {};
    if (r.dotenv !== "mlgate.env" || (job.variables || {}).MLGATE_DOTENV !== "mlgate.env") {
      say("artifacts:reports:dotenv and MLGATE_DOTENV must both be mlgate.env");
    }
    const junit = step === "run" ? "$[[ inputs.out ]]/*/*.xml" : `$[[ inputs.out ]]/*/${step}.xml`;
    if (r.junit !== junit) say(`artifacts:reports:junit must be ${junit} (this job's own reports only), found ${r.junit}`);
    if (step === "comment" && job.when !== "always") say("the comment job must run when: always");
    if (step !== "comment" && job.when) say(`when: ${job.when} is for the comment job only`);
  }
  if (problems.length) fail(`${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  console.log(`linted ${files.length} components: ${files.join(", ")}`);
}

function pipeline(example, out, binary) {
  const doc = yaml.load(fs.readFileSync(example, "utf8"));
  if (!Array.isArray(doc.include)) fail(`${example}: include is not a list`);
  doc.include = doc.include.map((inc) => {
    const m = /^\$CI_SERVER_FQDN\/mlgate\/mlgate\/([a-z-]+)@[0-9][0-9.]*$/.exec(inc.component || "");
    if (!m) fail(`${example}: unexpected include ${JSON.stringify(inc)}`);
    return { local: `templates/${m[1]}.yml`, inputs: { ...(inc.inputs || {}), binary } };
  });
  fs.writeFileSync(out, yaml.dump(doc, { lineWidth: -1 }));
}

function fakeGitlab(portFile, requestsFile, releasesDir) {
  const notes = new Map(); // "project!iid" -> [{id, body}]
  let nextId = 1;
  const log = (entry) => fs.appendFileSync(requestsFile, JSON.stringify(entry) + "\n");
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const url = new URL(req.url, "http://x");
      if (req.method === "GET" && url.pathname.startsWith("/releases/")) {
        const file = path.join(releasesDir, path.normalize(url.pathname.slice("/releases/".length)));
        if (file.startsWith(releasesDir + path.sep) && fs.existsSync(file)) {
          res.writeHead(200, { "content-type": "application/gzip" });
          return res.end(fs.readFileSync(file));
        }
        res.writeHead(404);
        return res.end();
      }
      let body = {};
      if (raw) {
        const type = req.headers["content-type"] || "";
        body = type.includes("json") ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw));
      }
      for (const [k, v] of url.searchParams) if (!(k in body)) body[k] = v;
      const token = req.headers["private-token"] || null;
      log({ method: req.method, path: url.pathname, token, body });
      const send = (status, value) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (!token) return send(401, { message: "401 Unauthorized" });
      let m = /^\/api\/v4\/projects\/([^/]+)\/merge_requests\/(\d+)\/notes(?:\/(\d+))?$/.exec(url.pathname);
      if (m) {
        const key = `${decodeURIComponent(m[1])}!${m[2]}`;
        const list = notes.get(key) || [];
        notes.set(key, list);
        const id = m[3] && Number(m[3]);
        const found = id && list.find((n) => n.id === id);
        if (req.method === "GET" && !id) return send(200, list);
        if (req.method === "POST" && !id) {
          const note = { id: nextId++, body: body.body, system: false };
          list.push(note);
          return send(201, note);
        }
        if (req.method === "PUT" && found) {
          found.body = body.body;
          return send(200, found);
        }
        if (req.method === "DELETE" && found) {
          list.splice(list.indexOf(found), 1);
          res.writeHead(204);
          return res.end();
        }
      }
      m = /^\/api\/v4\/projects\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(url.pathname);
      if (m && req.method === "POST") {
        return send(201, { id: nextId++, sha: m[2], status: body.state, name: body.name });
      }
      // Promotion: no promotion branch or merge request exists yet, and no file at a ref is
      // already what is proposed; the commit and the merge request are created.
      m = /^\/api\/v4\/projects\/([^/]+)\/(.*)$/.exec(url.pathname);
      const rest = m ? m[2] : "";
      if (req.method === "POST" && rest === "repository/commits") {
        return send(201, { id: "c0ffee".padEnd(40, "0"), branch: body.branch });
      }
      if (req.method === "GET" && rest === "merge_requests") return send(200, []);
      if (req.method === "POST" && rest === "merge_requests") {
        return send(201, { iid: 12, web_url: `https://gitlab.example.com/${decodeURIComponent(m[1])}/-/merge_requests/12` });
      }
      send(404, { message: "404 Not Found" });
    });
  });
  server.listen(0, "127.0.0.1", () => fs.writeFileSync(portFile, String(server.address().port)));
}

// A job's exported artifacts in gitlab-ci-local's state dir: the dotenv report (printed) and
// the JUnit files matched by the job's artifacts:reports:junit in the expanded config.
function artifacts(stateDir, job, step, out) {
  const expanded = yaml.load(fs.readFileSync(path.join(stateDir, "expanded-gitlab-ci.yml"), "utf8"));
  const def = expanded[job];
  if (!def) fail(`${job} is not in gitlab-ci-local's expanded pipeline`);
  const reports = (def.artifacts || {}).reports || {};
  const dir = path.join(stateDir, "artifacts", job);
  const dotenv = path.join(dir, ".gitlab-ci-reports", "dotenv", reports.dotenv || "?");
  if (!reports.dotenv || !fs.existsSync(dotenv)) fail(`${job}: no dotenv report (expected ${dotenv})`);
  if (!reports.junit) fail(`${job}: no artifacts:reports:junit`);
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else files.push(path.relative(dir, f));
    }
  };
  walk(dir);
  const junit = micromatch(files, reports.junit);
  const expected = `${out}/churn/${step}.xml`;
  if (step === "run") {
    if (!junit.includes(expected.replace("run.xml", "compare.xml"))) fail(`${job}: ${reports.junit} matches no compare.xml: ${junit}`);
  } else if (junit.join() !== expected) {
    fail(`${job}: artifacts:reports:junit ${reports.junit} matches [${junit.join(", ")}] in the job's artifacts, expected exactly ${expected}`);
  }
  for (const f of junit) {
    const xml = fs.readFileSync(path.join(dir, f), "utf8");
    if (!/^<\?xml[^>]*\?>\s*<testsuites[\s>]/.test(xml) || !/<testcase /.test(xml)) fail(`${job}: ${f} is not a JUnit report:\n${xml}`);
  }
  process.stdout.write(fs.readFileSync(dotenv, "utf8"));
}

function requests(file) {
  if (!fs.existsSync(file)) return;
  for (const line of fs.readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const r = JSON.parse(line);
    let extra = r.body.state ? ` state=${r.body.state} name=${r.body.name}` : "";
    for (const k of ["branch", "start_branch", "source_branch", "target_branch"]) {
      if (r.body[k] && r.method !== "GET") extra += ` ${k}=${r.body[k]}`;
    }
    const marker = /<!-- mlgate:report model=([^ ]+) -->/.exec(r.body.body || "");
    const note = marker ? ` note-for=${marker[1]}` : "";
    console.log(`${r.method} ${r.path} token=${r.token ? "yes" : "no"}${extra}${note}`);
  }
}

const [cmd, ...args] = process.argv.slice(2);
const commands = { lint, pipeline, "fake-gitlab": fakeGitlab, artifacts, requests };
if (!commands[cmd]) fail(`unknown subcommand ${cmd}`);
commands[cmd](...args);
