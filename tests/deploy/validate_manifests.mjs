// Validates every document of deploy/kubernetes/ offline against the
// Kubernetes schemas: each is constructed with its kubernetes-models class
// (by apiVersion and kind) and .validate()d. The Secrets kustomization.yaml
// generates are built the same way from its secretGenerator, and every
// ConfigMap and Secret a pod mounts, every key it picks and every image must
// be one the kustomization provides.
//
//   node validate_manifests.mjs DEPLOY_DIR NODE_MODULES_DIR
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const [dir, nodeModules] = process.argv.slice(2);
const require = createRequire(path.join(nodeModules, "node_modules", "x.js"));
const YAML = require("yaml");

let failures = 0;
const fail = (msg) => { console.log(`FAIL ${msg}`); failures++; };

async function modelFor(apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion : `v1`;
  // The package's own files (it is ESM-only: import by path, not require).
  const file = path.join(nodeModules, "node_modules", "kubernetes-models", group, `${kind}.js`);
  if (!fs.existsSync(file)) return null;
  try {
    return (await import(pathToFileURL(file).href))[kind];
  } catch (e) {
    return null;
  }
}

async function validate(where, doc) {
  const Model = await modelFor(doc.apiVersion, doc.kind);
  if (!Model) { fail(`${where}: no schema for ${doc.apiVersion} ${doc.kind}`); return; }
  try {
    new Model(doc).validate();
    console.log(`ok   ${where}: ${doc.kind} ${doc.metadata?.name}`);
  } catch (e) {
    fail(`${where}: ${doc.kind} ${doc.metadata?.name}: ${e.message}`);
  }
}

const kustomization = YAML.parse(fs.readFileSync(path.join(dir, "kustomization.yaml"), "utf8"));
const docs = [];
for (const file of kustomization.resources ?? []) {
  const full = path.join(dir, file);
  if (!fs.existsSync(full)) { fail(`kustomization.yaml: resource ${file} does not exist`); continue; }
  const parsed = YAML.parseAllDocuments(fs.readFileSync(full, "utf8"));
  parsed.forEach((d, i) => {
    if (d.errors.length) { fail(`${file}#${i}: ${d.errors[0].message}`); return; }
    const doc = d.toJS();
    if (doc) docs.push({ where: `${file}#${i}`, doc });
  });
}
// Every manifest in the folder is listed (none forgotten).
for (const f of fs.readdirSync(dir)) {
  if (f.endsWith(".yaml") && f !== "kustomization.yaml" && !(kustomization.resources ?? []).includes(f))
    fail(`${f} is not in kustomization.yaml's resources`);
}
if (!kustomization.images?.some((i) => i.name === "tariff-alert" && i.newName))
  fail("kustomization.yaml: no images entry for tariff-alert with newName (the reader's registry)");

for (const { where, doc } of docs) await validate(where, doc);

// The generated Secrets, as kustomize would make them (data from the files).
const secrets = new Map();
for (const g of kustomization.secretGenerator ?? []) {
  const data = {};
  for (const f of g.files ?? []) data[f.split("=")[0]] = Buffer.from("x").toString("base64");
  secrets.set(g.name, Object.keys(data));
  await validate("kustomization.yaml secretGenerator", { apiVersion: "v1", kind: "Secret", metadata: { name: g.name }, type: "Opaque", data });
}
const configMaps = new Map(docs.filter((d) => d.doc.kind === "ConfigMap")
  .map((d) => [d.doc.metadata.name, Object.keys(d.doc.data ?? {})]));

// References from pods: volumes, keys and images.
const images = new Set((kustomization.images ?? []).map((i) => i.name));
for (const { where, doc } of docs) {
  const pod = doc.spec?.template?.spec;
  if (!pod) continue;
  for (const v of pod.volumes ?? []) {
    const [kind, ref, have] = v.secret ? ["Secret", v.secret.secretName, secrets]
      : v.configMap ? ["ConfigMap", v.configMap.name, configMaps] : [];
    if (!kind) continue;
    if (!have.has(ref)) { fail(`${where}: volume ${v.name}: no ${kind} ${ref}`); continue; }
    for (const item of (v.secret ?? v.configMap).items ?? [])
      if (!have.get(ref).includes(item.key)) fail(`${where}: volume ${v.name}: ${kind} ${ref} has no key ${item.key}`);
  }
  for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
    if (!images.has(c.image)) fail(`${where}: container ${c.name}: image ${c.image} has no images entry in kustomization.yaml`);
    const mounts = new Set((pod.volumes ?? []).map((v) => v.name));
    for (const m of c.volumeMounts ?? [])
      if (!mounts.has(m.name) && !(doc.spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === m.name))
        fail(`${where}: container ${c.name}: mount ${m.name} has no volume`);
  }
}
console.log(failures ? `${failures} failed` : `${docs.length} documents and ${secrets.size} generated Secrets valid`);
process.exit(failures ? 1 : 0);
