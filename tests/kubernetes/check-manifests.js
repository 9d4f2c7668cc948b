#!/usr/bin/env node
// check-manifests.js DIR...: validates every *.yaml / *.yml in each DIR (every document in each)
// against the Kubernetes OpenAPI schemas, then checks what a Sluice training job needs of them. Each
// DIR is one example, checked on its own. Prints each problem (FAIL DIR/FILE ...) and exits 1 if
// there is any; exit 0 and one summary line per DIR otherwise. Several DIRs in one run share the
// parsed type declarations (the costly part), which the test's broken copies use.
//
// Two checks come from the Kubernetes OpenAPI spec (kubernetes-models, generated from it):
//  - each object's model .validate(): types, required fields, enums, formats (JSON Schema, ajv);
//  - a TypeScript type check of each object against the model's interface, generated from the same
//    spec: it also rejects a field the schema does not have (a misspelt key), which the OpenAPI
//    schemas allow and the API server's strict field validation (kubectl's default) refuses.
// Then the Sluice checks (docs/scale-out.md): one Indexed Job whose completions and parallelism are
// the InstanceCount of the job.json it mounts; the headless Service its pods' subdomain names;
// store credentials only as a mounted Secret file, never in an environment value.
"use strict";

const fs = require("fs");
const path = require("path");

const TOOL_DIR = __dirname;

function need(name) {
  try {
    return require(name);
  } catch (e) {
    console.error(`check-manifests: cannot load '${name}' (${e.code || e.message}). ` +
                  `Install it with: ./sluice.sh deps (runs npm ci in ${TOOL_DIR})`);
    process.exit(2);
  }
}
const yaml = need("js-yaml");
const ts = need("typescript");

const dirs = process.argv.slice(2);
if (dirs.length === 0 || dirs.some((d) => !fs.statSync(d, { throwIfNoEntry: false })?.isDirectory())) {
  console.error("usage: check-manifests.js DIR...");
  process.exit(2);
}
const declarations = new Map();  // parsed .d.ts files, shared by the type checks of every DIR
let failed = 0;
for (const dir of dirs) {
  const problems = checkDir(dir);
  for (const p of problems) console.error(`FAIL ${p}`);
  if (problems.length > 0) {
    console.error(`check-manifests: ${problems.length} problem(s) in ${dir}`);
    failed++;
  }
}
process.exit(failed > 0 ? 1 : 0);

function checkDir(dir) {
  const problems = [];
  const problem = (where, what) => problems.push(`${where}: ${what}`);

  // ---- loading -------------------------------------------------------------------------------------
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) {
    problem(dir, "no *.yaml file");
    return problems;
  }
  const objects = [];  // {where, obj}
  for (const f of files) {
    let docs;
    try {
      docs = yaml.loadAll(fs.readFileSync(path.join(dir, f), "utf8"));
    } catch (e) {
      problem(path.join(dir, f), `not valid YAML: ${e.message}`);
      continue;
    }
    docs.forEach((obj, i) => {
      if (obj === null || obj === undefined) return;  // an empty document (a trailing ---)
      const where = `${path.join(dir, f)}${docs.length > 1 ? ` (document ${i + 1})` : ""}`;
      if (typeof obj !== "object" || Array.isArray(obj)) return problem(where, "not a Kubernetes object (a mapping)");
      objects.push({ where, obj });
    });
  }

  // ---- 1. the OpenAPI schemas (kubernetes-models validate) -------------------------------------------
  const typed = [];  // objects whose model was found, for the type check
  for (const { where, obj } of objects) {
    const { apiVersion, kind } = obj;
    if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9]+$/.test(kind) ||
        !/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) {
      problem(where, `apiVersion/kind missing or malformed (${JSON.stringify(apiVersion)}/${JSON.stringify(kind)})`);
      continue;
    }
    const modulePath = `kubernetes-models/${apiVersion}/${kind}`;
    let Model;
    try {
      Model = require(modulePath)[kind];
    } catch (e) {
      Model = undefined;
    }
    if (typeof Model !== "function") {
      problem(where, `${apiVersion} ${kind} is not a Kubernetes built-in kind (no OpenAPI schema for it)`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      problem(`${where} ${kind}/${obj.metadata?.name ?? "?"}`, `OpenAPI schema: ${e.message}`);
    }
    typed.push({ where, obj, modulePath, kind });
  }

  // ---- 2. unknown fields (TypeScript against the interfaces generated from the spec) ----------------
  if (typed.length > 0) {
    const virtual = path.join(TOOL_DIR, "__manifests_under_check__.ts");
    const lines = [];
    const starts = [];  // [first line (0-based), object] in the generated source
    typed.forEach((t, i) => {
      lines.push(`import type { I${t.kind} as T${i} } from ${JSON.stringify(t.modulePath)};`);
    });
    typed.forEach((t, i) => {
      starts.push([lines.length, t]);
      lines.push(...`export const m${i}: T${i} = ${JSON.stringify(t.obj, null, 1)};`.split("\n"));
    });
    const source = lines.join("\n") + "\n";
    const options = {
      strict: true, noEmit: true, skipLibCheck: true, types: [], target: ts.ScriptTarget.ES2020,
      module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10,
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (f, lang, ...rest) => {
      if (path.resolve(f) === virtual) return ts.createSourceFile(f, source, lang);
      if (!declarations.has(f)) declarations.set(f, getSourceFile(f, lang, ...rest));
      return declarations.get(f);
    };
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (f) => path.resolve(f) === virtual || fileExists(f);
    const program = ts.createProgram([virtual], options, host);
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const text = ts.flattenDiagnosticMessageText(d.messageText, " ");
      if (!d.file || path.resolve(d.file.fileName) !== virtual) {
        problem("type check", text);
        continue;
      }
      const line = d.file.getLineAndCharacterOfPosition(d.start).line;
      const owner = starts.filter(([first]) => first <= line).pop();
      if (!owner) {
        problem("type check", text);  // an import: the model's interface is missing
        continue;
      }
      const t = owner[1];
      problem(`${t.where} ${t.kind}/${t.obj.metadata?.name ?? "?"}`,
              `Kubernetes types: ${text} (at: ${lines[line].trim()})`);
    }
  }

  // ---- 3. what a Sluice training job needs ---------------------------------------------------------
  const byKind = (kind) => objects.filter((o) => o.obj.kind === kind);
  const named = (kind, name) => byKind(kind).find((o) => o.obj.metadata?.name === name);

  // Credentials never travel as environment values: every env entry of every container of every
  // object that has a pod template (or is a Pod).
  const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|ACCESS_KEY|PRIVATE_KEY|API_KEY|SESSION_KEY/i;
  const SECRET_VALUE = [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, /^[A-Za-z0-9/+]{40}$/, /-----BEGIN [A-Z ]*PRIVATE KEY-----/];
  function podSpecs(obj) {
    if (obj.kind === "Pod") return [obj.spec];
    const t = obj.spec?.template?.spec ?? obj.spec?.jobTemplate?.spec?.template?.spec;
    return t ? [t] : [];
  }
  for (const { where, obj } of objects) {
    for (const spec of podSpecs(obj)) {
      for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
        const at = `${where} container ${c.name}`;
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) {
            problem(at, `env ${e.name} comes from Secret ${e.valueFrom.secretKeyRef.name}: mount credentials as a file instead`);
          }
          if (typeof e.value !== "string") continue;
          if (SECRET_NAME.test(e.name)) problem(at, `env ${e.name} has a value in clear; it looks like a credential`);
          else if (SECRET_VALUE.some((re) => re.test(e.value))) problem(at, `env ${e.name}'s value looks like a credential`);
        }
        for (const e of c.envFrom ?? []) {
          if (e.secretRef) problem(at, `envFrom Secret ${e.secretRef.name}: mount credentials as a file instead`);
        }
      }
    }
  }
  for (const { where, obj } of byKind("Secret")) {
    const values = [...Object.values(obj.stringData ?? {}),
                    ...Object.values(obj.data ?? {}).map((v) => Buffer.from(String(v), "base64").toString())];
    if (values.some((v) => SECRET_VALUE.some((re) => re.test(String(v))) || /\b(AKIA|ASIA)[0-9A-Z]{16}\b/.test(String(v)))) {
      problem(where, "holds what looks like a real credential: an example holds placeholders only");
    }
  }

  const jobs = byKind("Job");
  if (jobs.length !== 1) problem(dir, `${jobs.length} Jobs: the example is one training job, one Indexed Job`);
  for (const { where, obj: job } of jobs) {
    const at = `${where} Job/${job.metadata?.name}`;
    const spec = job.spec ?? {};
    const pod = spec.template?.spec ?? {};
    if (spec.completionMode !== "Indexed") problem(at, `completionMode is ${spec.completionMode}, not Indexed`);
    if (pod.restartPolicy !== "Never") problem(at, `restartPolicy is ${pod.restartPolicy}, not Never`);
    if (spec.backoffLimit !== 0) problem(at, `backoffLimit is ${spec.backoffLimit}, not 0 (a failed host fails the job)`);

    // job.json: from a ConfigMap volume mounted where the command reads it.
    const container = (pod.containers ?? []).find((c) => (c.command ?? []).concat(c.args ?? []).join(" ").includes("sluice train"));
    if (!container) {
      problem(at, "no container runs sluice train");
      continue;
    }
    const cmd = container.command.concat(container.args ?? []).join(" ");
    const m = /sluice train (\S+)/.exec(cmd);
    if (!cmd.includes("--host algo-$((JOB_COMPLETION_INDEX + 1))")) {
      problem(at, "the command does not pass --host algo-$((JOB_COMPLETION_INDEX + 1))");
    }
    const hostsFile = /--hosts-file (\S+)/.exec(cmd)?.[1];
    if (!hostsFile) problem(at, "the command does not pass --hosts-file");
    const volumeAt = (c, file) => {
      const mount = (c.volumeMounts ?? []).filter((v) => file.startsWith(v.mountPath.replace(/\/?$/, "/")))
        .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      return mount && (pod.volumes ?? []).find((v) => v.name === mount.name);
    };
    const jobVolume = m && volumeAt(container, m[1]);
    const configMapName = jobVolume?.configMap?.name;
    const configMap = configMapName && named("ConfigMap", configMapName);
    if (!configMap) {
      problem(at, `${m?.[1]} is not in a mounted ConfigMap of this folder`);
    } else {
      const key = path.basename(m[1]);
      let trainingJob;
      try {
        trainingJob = JSON.parse(configMap.obj.data?.[key]);
      } catch (e) {
        problem(configMap.where, `data.${key} is not JSON: ${e.message}`);
      }
      const n = trainingJob?.ResourceConfig?.InstanceCount;
      if (trainingJob && !Number.isInteger(n)) problem(configMap.where, `data.${key} has no integer ResourceConfig.InstanceCount`);
      if (Number.isInteger(n) && (spec.completions !== n || spec.parallelism !== n)) {
        problem(at, `completions ${spec.completions} and parallelism ${spec.parallelism} must both be ` +
                    `InstanceCount ${n} (${configMap.where}): one pod per host, all at once`);
      }
    }

    // The hosts file: an emptyDir written by an init container.
    if (hostsFile) {
      const v = volumeAt(container, hostsFile);
      if (!v?.emptyDir) problem(at, `--hosts-file ${hostsFile} is not on an emptyDir volume`);
      const writer = (pod.initContainers ?? []).find((c) => volumeAt(c, hostsFile)?.name === v?.name &&
                                                            (c.command ?? []).concat(c.args ?? []).join(" ").includes(hostsFile));
      if (!writer) problem(at, `no init container writes ${hostsFile}`);
    }

    // Host names: pods are <job>-<index>.<subdomain>, served by a headless Service selecting them.
    const svc = pod.subdomain && named("Service", pod.subdomain);
    if (!svc) {
      problem(at, `the pods' subdomain (${pod.subdomain}) is no Service of this folder`);
    } else {
      const s = svc.obj.spec ?? {};
      if (s.clusterIP !== "None") problem(svc.where, "not headless (clusterIP: None)");
      if (s.publishNotReadyAddresses !== true) {
        problem(svc.where, "publishNotReadyAddresses is not true: the init containers would wait for names published only when pods are Ready");
      }
      const labels = spec.template?.metadata?.labels ?? {};
      const sel = Object.entries(s.selector ?? {});
      if (sel.length === 0 || sel.some(([k, v]) => labels[k] !== v)) problem(svc.where, "its selector does not select the Job's pods");
    }
    for (const c of pod.initContainers ?? []) {
      const envs = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
      if ("JOB_NAME" in envs && envs.JOB_NAME !== job.metadata?.name) problem(at, `init container ${c.name}: JOB_NAME is not the Job's name`);
      if ("HOSTS_SERVICE" in envs && envs.HOSTS_SERVICE !== pod.subdomain) problem(at, `init container ${c.name}: HOSTS_SERVICE is not the pods' subdomain`);
    }

    // Credentials: AWS_SHARED_CREDENTIALS_FILE names a file in a mounted Secret.
    const creds = (container.env ?? []).find((e) => e.name === "AWS_SHARED_CREDENTIALS_FILE")?.value;
    const secretName = creds && volumeAt(container, creds)?.secret?.secretName;
    if (!secretName) {
      problem(at, "AWS_SHARED_CREDENTIALS_FILE does not name a file in a mounted Secret");
    } else if (!named("Secret", secretName)) {
      problem(at, `Secret ${secretName} is not in this folder`);
    } else {
      const sec = named("Secret", secretName).obj;
      const key = path.basename(creds);
      if (!(key in (sec.stringData ?? {})) && !(key in (sec.data ?? {}))) problem(at, `Secret ${secretName} has no key ${key}`);
    }
  }

  if (problems.length === 0) {
    console.log(`check-manifests: ${dir}: ${objects.length} objects in ${files.length} files valid (OpenAPI schemas and ` +
                `types of kubernetes-models ${require("kubernetes-models/package.json").version}; the Sluice checks)`);
  }
  return problems;
}
