// Renders deploy/k8s (a kustomize base and overlays: resources, namespace, images, patches, the
// subset kustomize features these manifests use; anything else in a kustomization.yaml is refused),
// validates every object against the Kubernetes API schemas (kubernetes-models from npm: the
// OpenAPI schemas, compiled) plus a strict check for fields the API does not know (kubectl apply
// refuses them: its field validation is Strict by default), and asserts what running this service
// needs: the image by digest, uid/gid 10001 without privileges, CPU limits that fit
// DOCKERFLOW_THREADS' default, probes on /__lbheartbeat__ (never /__heartbeat__) timed against the
// drain, a grace period longer than drain + check deadline, selectors that match the pods.
//
// Then it breaks the rendered overlay in the ways that matter and asserts that each is caught, so a
// check that cannot fail would show up here.
//
// Usage: node check-k8s-manifests.js <repository root>
'use strict';

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

const root = process.argv[2];
const k8sDir = path.join(root, 'deploy', 'k8s');
const modelsDir = path.dirname(require.resolve('kubernetes-models/package.json'));
const apimachineryDir = path.dirname(require.resolve('@kubernetes-models/apimachinery/package.json'));

// --- rendering (kustomize's semantics for the features used) --------------------------------------

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume',
  'StorageClass', 'CustomResourceDefinition', 'PriorityClass', 'IngressClass']);
const KUSTOMIZATION_KEYS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);
// Strategic merge: lists merged by these keys (the API's patchMergeKey); other lists are replaced.
const MERGE_KEYS = { containers: 'name', initContainers: 'name', env: 'name', ports: 'containerPort',
  volumes: 'name', volumeMounts: 'mountPath', imagePullSecrets: 'name' };

function readDocs(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS();
  }).filter((o) => o !== null && o !== undefined);
}

function render(dir) {
  const file = path.join(dir, 'kustomization.yaml');
  const [k] = readDocs(file);
  for (const key of Object.keys(k)) {
    if (!KUSTOMIZATION_KEYS.has(key)) throw new Error(`${file}: "${key}" is not supported by this renderer`);
  }
  let objects = [];
  for (const r of k.resources || []) {
    const p = path.join(dir, r);
    objects = objects.concat(fs.statSync(p).isDirectory() ? render(p) : readDocs(p));
  }
  for (const patch of k.patches || []) applyPatch(objects, patch, dir);
  for (const image of k.images || []) setImage(objects, image);
  if (k.namespace) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  return objects;
}

function matches(o, target) {
  return ['kind', 'name', 'namespace'].every((f) => {
    if (target[f] === undefined) return true;
    const value = f === 'kind' ? o.kind : (o.metadata || {})[f];
    return value === target[f];
  });
}

function applyPatch(objects, patch, dir) {
  const text = patch.path ? fs.readFileSync(path.join(dir, patch.path), 'utf8') : patch.patch;
  const body = YAML.parse(text);
  if (Array.isArray(body)) {
    if (!patch.target) throw new Error('a JSON 6902 patch needs a target');
    const hits = objects.filter((o) => matches(o, patch.target));
    if (!hits.length) throw new Error(`patch target ${JSON.stringify(patch.target)} matches nothing`);
    for (const o of hits) for (const op of body) jsonPatch(o, op);
  } else {
    const target = patch.target || { kind: body.kind, name: body.metadata.name };
    const hits = objects.filter((o) => matches(o, target));
    if (!hits.length) throw new Error(`patch ${patch.path || ''} for ${JSON.stringify(target)} matches nothing`);
    for (const o of hits) Object.assign(o, strategicMerge(o, body));
  }
}

function jsonPatch(o, op) {
  const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = parts.pop();
  let node = o;
  for (const p of parts) {
    if (node[p] === undefined) throw new Error(`JSON patch path ${op.path} not found`);
    node = node[p];
  }
  const index = Array.isArray(node) ? (last === '-' ? node.length : Number(last)) : last;
  if (op.op === 'remove') {
    if (node[index] === undefined) throw new Error(`JSON patch: nothing to remove at ${op.path}`);
    if (Array.isArray(node)) node.splice(index, 1); else delete node[index];
  } else if (op.op === 'add' && Array.isArray(node)) {
    node.splice(index, 0, op.value);
  } else if (op.op === 'add' || op.op === 'replace') {
    if (op.op === 'replace' && node[index] === undefined) throw new Error(`JSON patch: nothing to replace at ${op.path}`);
    node[index] = op.value;
  } else {
    throw new Error(`JSON patch op ${op.op} is not supported by this renderer`);
  }
}

function strategicMerge(base, patch, key) {
  if (patch === null) return undefined;
  if (Array.isArray(patch)) {
    const mergeKey = MERGE_KEYS[key];
    if (!mergeKey || !Array.isArray(base)) return patch;
    const out = base.map((x) => x);
    for (const item of patch) {
      const i = out.findIndex((x) => x[mergeKey] === item[mergeKey]);
      if (i < 0) out.push(item); else out[i] = strategicMerge(out[i], item);
    }
    return out;
  }
  if (typeof patch !== 'object' || typeof base !== 'object' || base === null || Array.isArray(base)) return patch;
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const merged = strategicMerge(base[k], v, k);
    if (merged === undefined) delete out[k]; else out[k] = merged;
  }
  return out;
}

function podSpecs(o) {
  const spec = o.spec || {};
  if (spec.template && spec.template.spec) return [spec.template.spec];
  if (o.kind === 'Pod') return [spec];
  return [];
}

function setImage(objects, entry) {
  for (const o of objects) {
    for (const ps of podSpecs(o)) {
      for (const c of [...(ps.containers || []), ...(ps.initContainers || [])]) {
        const name = c.image.replace(/@.*$/, '').replace(/:[^:/]+$/, '');
        if (name !== entry.name) continue;
        let image = entry.newName || name;
        if (entry.digest) image += `@${entry.digest}`;
        else if (entry.newTag) image += `:${entry.newTag}`;
        else if (c.image !== name) image += c.image.slice(name.length);
        c.image = image;
      }
    }
  }
}

// --- the API schemas ------------------------------------------------------------------------------

function modelPath(o) {
  const [group, version] = String(o.apiVersion).includes('/') ? o.apiVersion.split('/') : [null, o.apiVersion];
  return path.join(modelsDir, group ? `${group}/${version}` : version, o.kind);
}

function schemaProblems(o) {
  const where = `${o.kind}/${(o.metadata || {}).name}`;
  let Model;
  try {
    Model = require(modelPath(o))[o.kind];
  } catch (e) {
    return [`${where}: no API schema for ${o.apiVersion} ${o.kind}`];
  }
  try {
    new Model(o).validate();
  } catch (e) {
    return [`${where}: the ${o.apiVersion} ${o.kind} schema rejects it: ${e.message}`];
  }
  const type = typeOfKind(o);
  if (!typeIndex.has(type)) return [`${where}: no field list for ${type} in kubernetes-models' declarations`];
  return unknownFields(o, type, where);
}

// The fields each API type has, read from the package's TypeScript declarations (the schemas are
// compiled validators that accept unknown fields, as the API server does unless asked to be strict).
let typeIndex = null;
function loadTypes() {
  typeIndex = new Map();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) { if (entry.name !== '_schemas' && entry.name !== 'node_modules') walk(p); continue; }
      if (!entry.name.endsWith('.d.ts')) continue;
      const text = fs.readFileSync(p, 'utf8');
      const local = new Map();
      for (const m of text.matchAll(/^export interface (\w+)(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/gm)) {
        const props = new Map();
        for (const pm of m[2].matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
          let type = pm[2];
          if (type === '{') {
            const rest = m[2].slice(pm.index + pm[0].length);
            const mm = rest.match(/^\s*\[key: string\]: (.*);/);
            type = mm ? `Map<${mm[1]}>` : 'object';
          }
          props.set(pm[1], type.replace(/;$/, ''));
        }
        local.set(m[1], props);
      }
      for (const m of text.matchAll(/^export \{ (.*) \};$/gm)) {
        for (const pair of m[1].split(',')) {
          const [from, to] = pair.trim().split(' as ');
          if (local.has(from)) typeIndex.set(to, local.get(from));
        }
      }
      for (const [name, props] of local) if (!typeIndex.has(name)) typeIndex.set(name, props);
    }
  };
  walk(modelsDir);
  walk(apimachineryDir);
}
function typeOfKind(o) {
  if (!typeIndex) loadTypes();
  const [group, version] = String(o.apiVersion).includes('/') ? o.apiVersion.split('/') : ['core', o.apiVersion];
  const g = group.split('.')[0].replace(/^./, (c) => c.toUpperCase());
  const v = version.replace(/^./, (c) => c.toUpperCase());
  return `IIoK8sApi${g}${v}${o.kind}`;
}
function unknownFields(value, type, where) {
  if (value === null || typeof value !== 'object') return [];
  let m;
  if ((m = type.match(/^Array<(.*)>$/))) return value.flatMap((v, i) => unknownFields(v, m[1], `${where}[${i}]`));
  if ((m = type.match(/^Map<(.*)>$/))) return Object.entries(value).flatMap(([k, v]) => unknownFields(v, m[1], `${where}.${k}`));
  const props = typeIndex.get(type);
  if (!props) return [];
  const problems = [];
  for (const [k, v] of Object.entries(value)) {
    if (!props.has(k)) problems.push(`${where}: unknown field "${k}" (kubectl apply refuses it)`);
    else problems.push(...unknownFields(v, props.get(k), `${where}.${k}`));
  }
  return problems;
}

// --- what this service needs --------------------------------------------------------------------

function cpuCores(q) {
  const s = String(q);
  if (/^\d+m$/.test(s)) return Number(s.slice(0, -1)) / 1000;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  return NaN;
}

function serviceProblems(objects) {
  const problems = [];
  const of = (kind) => objects.filter((o) => o.kind === kind);
  const one = (kind, optional) => {
    const list = of(kind);
    if (list.length > 1 || (!optional && list.length === 0)) problems.push(`expected ${optional ? 'at most' : 'exactly'} one ${kind}, found ${list.length}`);
    return list[0];
  };
  const deployment = one('Deployment');
  const service = one('Service');
  const pdb = one('PodDisruptionBudget');
  const hpa = one('HorizontalPodAutoscaler', true);
  if (!deployment) return problems;
  const namespaces = new Set(objects.filter((o) => !CLUSTER_SCOPED.has(o.kind)).map((o) => o.metadata.namespace));
  if (namespaces.size !== 1 || namespaces.has(undefined)) problems.push(`objects are in namespaces ${[...namespaces]}, expected one`);

  const pod = deployment.spec.template;
  const ps = pod.spec || {};
  const podLabels = (pod.metadata || {}).labels || {};
  const selects = (selector) => selector && Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  const containers = ps.containers || [];
  const web = containers.find((c) => (c.ports || []).some((p) => p.containerPort === 8000)) || containers[0] || {};
  const sc = { ...(ps.securityContext || {}), ...(web.securityContext || {}) };

  // Environment as the container sees it: envFrom first, env wins.
  const env = {};
  const fromSecret = new Set();
  for (const ref of web.envFrom || []) {
    if (ref.configMapRef) {
      const cm = of('ConfigMap').find((c) => c.metadata.name === ref.configMapRef.name);
      if (!cm) problems.push(`envFrom names ConfigMap ${ref.configMapRef.name}, which is not in the manifests`);
      else Object.assign(env, cm.data || {});
    }
    if (ref.secretRef) {
      const secret = of('Secret').find((c) => c.metadata.name === ref.secretRef.name);
      if (!secret) problems.push(`envFrom names Secret ${ref.secretRef.name}, which is not in the manifests`);
      else for (const k of Object.keys({ ...(secret.stringData || {}), ...(secret.data || {}) })) { env[k] = '(secret)'; fromSecret.add(k); }
    }
  }
  for (const e of web.env || []) { env[e.name] = e.value; if (e.valueFrom && e.valueFrom.secretKeyRef) fromSecret.add(e.name); else fromSecret.delete(e.name); }
  const drain = Number(env.DOCKERFLOW_DRAIN_SECONDS ?? 5);
  const timeoutS = Number(env.DOCKERFLOW_CHECK_TIMEOUT_MS ?? 2000) / 1000;
  const stopBudget = drain + timeoutS + 1; // drain, then a heartbeat's deadline, then 1 s to exit
  for (const name of ['DATABASE_URL', 'REDIS_URL']) {
    if (!fromSecret.has(name)) problems.push(`${name} holds credentials and must come from a Secret`);
  }

  // Image: pinned by digest, registry-qualified, never a tag.
  for (const c of [...containers, ...(ps.initContainers || [])]) {
    if (!/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$/.test(c.image)) {
      problems.push(`container ${c.name} image "${c.image}" is not <registry>/<repository>@sha256:<digest>`);
    }
  }
  // Security.
  const want = { runAsUser: 10001, runAsGroup: 10001, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false };
  for (const [k, v] of Object.entries(want)) {
    if (sc[k] !== v) problems.push(`securityContext.${k} is ${JSON.stringify(sc[k])}, expected ${v}`);
  }
  if (sc.privileged === true) problems.push('securityContext.privileged is true');
  const caps = sc.capabilities || {};
  if (!(caps.drop || []).includes('ALL')) problems.push('securityContext.capabilities.drop does not contain ALL');
  if ((caps.add || []).length) problems.push(`securityContext.capabilities.add is ${caps.add}, expected none`);
  // CPU: DOCKERFLOW_THREADS defaults to the CPU quota rounded down (at least 1).
  const limits = (web.resources || {}).limits || {};
  const requests = (web.resources || {}).requests || {};
  const cpu = cpuCores(limits.cpu);
  if (limits.cpu === undefined) problems.push('no CPU limit: DOCKERFLOW_THREADS would default to every CPU of the node');
  else if (!(cpu >= 1 && Number.isInteger(cpu))) problems.push(`CPU limit ${limits.cpu} is not a whole number of CPUs: DOCKERFLOW_THREADS defaults to ${Math.max(1, Math.floor(cpu))} thread(s) and the rest is only throttling`);
  if (env.DOCKERFLOW_THREADS !== undefined && Number(env.DOCKERFLOW_THREADS) !== cpu) problems.push(`DOCKERFLOW_THREADS=${env.DOCKERFLOW_THREADS} does not match the CPU limit ${limits.cpu}`);
  if (requests.cpu === undefined || cpuCores(requests.cpu) > cpu) problems.push(`CPU request ${requests.cpu} is missing or above the limit ${limits.cpu}`);
  if (limits.memory === undefined) problems.push('no memory limit');
  // Probes.
  const port = (web.ports || []).find((p) => p.containerPort === 8000) || {};
  if (env.PORT !== undefined && Number(env.PORT) !== 8000) problems.push(`PORT=${env.PORT} but the container port is 8000`);
  const probes = { readinessProbe: web.readinessProbe, livenessProbe: web.livenessProbe, startupProbe: web.startupProbe };
  for (const [name, probe] of Object.entries(probes)) {
    if (!probe) { if (name !== 'startupProbe') problems.push(`no ${name}`); continue; }
    const get = probe.httpGet || {};
    if (get.path !== '/__lbheartbeat__') {
      problems.push(`${name} asks ${get.path || JSON.stringify(probe)}, expected httpGet /__lbheartbeat__ (never /__heartbeat__: a database outage would ${name === 'livenessProbe' ? 'restart' : 'unroute'} every pod)`);
    }
    if (get.port !== port.name && get.port !== port.containerPort) problems.push(`${name} port ${get.port} is not the container's port 8000`);
  }
  const window = (p, defPeriod = 10, defThreshold = 3) => (p.periodSeconds ?? defPeriod) * (p.failureThreshold ?? defThreshold);
  if (web.readinessProbe && window(web.readinessProbe) >= drain) {
    problems.push(`readiness fails after ${window(web.readinessProbe)} s of drain, not within the ${drain} s drain`);
  }
  if (web.livenessProbe && window(web.livenessProbe) <= stopBudget) {
    problems.push(`liveness kills after ${window(web.livenessProbe)} s of 503s, not longer than drain + deadline + 1 s = ${stopBudget} s: a draining pod would be killed`);
  }
  const grace = ps.terminationGracePeriodSeconds ?? 30;
  if (grace < stopBudget) problems.push(`terminationGracePeriodSeconds ${grace} < drain ${drain} s + check deadline ${timeoutS} s + 1 s`);
  const ru = (deployment.spec.strategy || {}).rollingUpdate || {};
  if (ru.maxUnavailable !== 0) problems.push(`rollingUpdate.maxUnavailable is ${ru.maxUnavailable}, expected 0 (keep capacity during a rollout)`);
  // Selectors.
  if (!selects((deployment.spec.selector || {}).matchLabels)) problems.push('the Deployment selector does not match its pod labels');
  if (service) {
    if (!selects(service.spec.selector)) problems.push(`Service selector ${JSON.stringify(service.spec.selector)} does not match the pods`);
    for (const p of service.spec.ports || []) {
      if (p.targetPort !== port.name && p.targetPort !== port.containerPort) problems.push(`Service targetPort ${p.targetPort} is not the container's port`);
    }
  }
  const replicas = hpa ? (hpa.spec || {}).minReplicas : deployment.spec.replicas ?? 1;
  if (pdb) {
    if (!selects((pdb.spec.selector || {}).matchLabels)) problems.push(`PodDisruptionBudget selector ${JSON.stringify(pdb.spec.selector)} does not match the pods`);
    const s = pdb.spec;
    const leaves = s.maxUnavailable !== undefined ? (typeof s.maxUnavailable === 'number' && s.maxUnavailable >= 1 && s.maxUnavailable < replicas)
      : (typeof s.minAvailable === 'number' && s.minAvailable >= 1 && s.minAvailable < replicas);
    if (!leaves) problems.push(`PodDisruptionBudget ${JSON.stringify(s)} with ${replicas} replicas either blocks every drain or protects nothing`);
  }
  if (hpa) {
    hpa.spec = hpa.spec || {};
    const t = hpa.spec.scaleTargetRef || {};
    if (t.kind !== 'Deployment' || t.name !== deployment.metadata.name || t.apiVersion !== 'apps/v1') problems.push(`HorizontalPodAutoscaler targets ${JSON.stringify(t)}, not the Deployment`);
    if (!(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas >= hpa.spec.minReplicas)) problems.push(`HorizontalPodAutoscaler replicas ${hpa.spec.minReplicas}..${hpa.spec.maxReplicas}: need 2 <= min <= max`);
    if (deployment.spec.replicas !== undefined) problems.push('the Deployment sets replicas although an autoscaler owns them (every apply would reset them)');
  }
  return problems;
}

// --- the checks ---------------------------------------------------------------------------------

function allProblems(objects) {
  return [...objects.flatMap(schemaProblems), ...serviceProblems(objects)];
}

let failed = false;
const report = (ok, text) => { if (!ok) failed = true; console.log(`${ok ? 'ok' : 'FAIL'}: ${text}`); };

const base = render(path.join(k8sDir, 'base'));
const baseSchema = base.flatMap(schemaProblems);
report(baseSchema.length === 0, `base renders ${base.map((o) => o.kind).join(', ')}; schema: ${baseSchema.join('; ') || 'valid'}`);

const overlays = fs.readdirSync(path.join(k8sDir, 'overlays'));
for (const name of overlays) {
  const objects = render(path.join(k8sDir, 'overlays', name));
  const problems = allProblems(objects);
  report(problems.length === 0, `overlay ${name}: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}` +
    (problems.length ? `\n  ${problems.join('\n  ')}` : ': every object valid against the API schemas, every assertion holds'));
}

// The renderer did what kustomize does with the example overlay.
const example = render(path.join(k8sDir, 'overlays', 'example'));
const dep = example.find((o) => o.kind === 'Deployment');
const webContainer = dep.spec.template.spec.containers[0];
report(example.every((o) => CLUSTER_SCOPED.has(o.kind) || o.metadata.namespace === 'dockerflow-example'), 'example: namespace applied to every namespaced object');
report(/^docker\.io\/mozilla\/dockerflow-app@sha256:[0-9a-f]{64}$/.test(webContainer.image), `example: image set by digest (${webContainer.image})`);
report(dep.spec.replicas === undefined, 'example: the JSON patch removed spec.replicas');
report(webContainer.resources.requests.cpu === '500m' && webContainer.securityContext.readOnlyRootFilesystem === true,
  'example: the strategic merge patch changed the CPU request and kept the rest of the container');

// Each mutation breaks something the service relies on; the checks must see it.
const container = (o) => o.find((x) => x.kind === 'Deployment').spec.template.spec.containers[0];
const podSpec = (o) => o.find((x) => x.kind === 'Deployment').spec.template.spec;
const kind = (o, k) => o.find((x) => x.kind === k);
const MUTATIONS = {
  'image by tag': (o) => { container(o).image = 'docker.io/mozilla/dockerflow-app:latest'; },
  'image name left unreplaced': (o) => { container(o).image = 'dockerflow-app'; },
  'runs as root': (o) => { podSpec(o).securityContext.runAsUser = 0; container(o).securityContext.runAsUser = 0; },
  'runAsNonRoot off': (o) => { container(o).securityContext.runAsNonRoot = false; },
  'another group': (o) => { container(o).securityContext.runAsGroup = 0; },
  'writable root filesystem': (o) => { container(o).securityContext.readOnlyRootFilesystem = false; },
  'capabilities kept': (o) => { delete container(o).securityContext.capabilities; },
  'a capability added': (o) => { container(o).securityContext.capabilities.add = ['NET_ADMIN']; },
  'privilege escalation allowed': (o) => { container(o).securityContext.allowPrivilegeEscalation = true; },
  'liveness on /__heartbeat__': (o) => { container(o).livenessProbe.httpGet.path = '/__heartbeat__'; },
  'readiness on /__heartbeat__': (o) => { container(o).readinessProbe.httpGet.path = '/__heartbeat__'; },
  'no readiness probe': (o) => { delete container(o).readinessProbe; },
  'probe on another port': (o) => { container(o).readinessProbe.httpGet.port = 8080; },
  'liveness kills a draining pod': (o) => { Object.assign(container(o).livenessProbe, { periodSeconds: 2, failureThreshold: 3 }); },
  'readiness slower than the drain': (o) => { Object.assign(container(o).readinessProbe, { periodSeconds: 5, failureThreshold: 3 }); },
  'grace period shorter than drain + deadline': (o) => { podSpec(o).terminationGracePeriodSeconds = 8; },
  'drain raised without the grace period': (o) => { kind(o, 'ConfigMap').data.DOCKERFLOW_DRAIN_SECONDS = '30'; },
  'no CPU limit': (o) => { delete container(o).resources.limits.cpu; },
  'fractional CPU limit': (o) => { container(o).resources.limits.cpu = '1500m'; },
  'DOCKERFLOW_THREADS above the CPU limit': (o) => { kind(o, 'ConfigMap').data.DOCKERFLOW_THREADS = '4'; },
  'rollout may drop capacity': (o) => { dep0(o).spec.strategy.rollingUpdate.maxUnavailable = 1; },
  'PDB selects other pods': (o) => { kind(o, 'PodDisruptionBudget').spec.selector.matchLabels['app.kubernetes.io/name'] = 'other'; },
  'PDB blocks every drain': (o) => { delete kind(o, 'PodDisruptionBudget').spec.maxUnavailable; kind(o, 'PodDisruptionBudget').spec.minAvailable = 3; },
  'Service selects other pods': (o) => { kind(o, 'Service').spec.selector['app.kubernetes.io/component'] = 'worker'; },
  'HPA scales another Deployment': (o) => { kind(o, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name = 'other'; },
  'replicas set beside the HPA': (o) => { dep0(o).spec.replicas = 3; },
  'DATABASE_URL in the ConfigMap': (o) => {
    kind(o, 'ConfigMap').data.DATABASE_URL = 'postgresql://u:p@db/x';
    delete kind(o, 'Secret').stringData.DATABASE_URL;
  },
  'Secret missing': (o) => { o.splice(o.indexOf(kind(o, 'Secret')), 1); },
  'replicas as a string (schema)': (o) => { o.splice(o.indexOf(kind(o, 'HorizontalPodAutoscaler')), 1); dep0(o).spec.replicas = 'three'; },
  'misspelt field (strict fields)': (o) => { container(o).securityContext.readOnlyRootFileSystem = true; },
  'port number as a string (schema)': (o) => { container(o).ports[0].containerPort = '8000'; },
};
function dep0(o) { return o.find((x) => x.kind === 'Deployment'); }

const baseline = allProblems(example);
for (const [name, mutate] of Object.entries(MUTATIONS)) {
  const copy = JSON.parse(JSON.stringify(example));
  mutate(copy);
  const found = allProblems(copy).filter((p) => !baseline.includes(p));
  report(found.length > 0, found.length ? `broken variant "${name}" rejected: ${found[0]}` : `broken variant "${name}" was not detected`);
}
process.exit(failed ? 1 : 0);
