// Parses .circleci/config.yml with CircleCI's own parser
// (@circleci/circleci-config-parser, which builds the CircleCI Config SDK's
// object model and validates jobs, steps and executors against its schemas)
// and asserts the structure the delivery depends on, which the parser does
// not check: job order, tag filters, where push runs, the workspace hand-off.
//
// Then it mutates the config in the ways that would break delivery and
// asserts that each mutation is caught, so a check that cannot fail would
// show up here.
//
// Usage: node check-circleci-config.js <repository root>
'use strict';

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const parser = require('@circleci/circleci-config-parser');

const root = process.argv[2];
const configPath = path.join(root, '.circleci', 'config.yml');
const WORKFLOW_ORDER = ['build', 'test', 'push'];

// CircleCI filter values: a string or a list; /.../ is a regular expression
// that must match the whole name, anything else matches literally.
function filterMatches(value, name) {
  const patterns = Array.isArray(value) ? value : [value];
  return patterns.some((p) => {
    if (typeof p !== 'string') return false;
    if (p.length >= 2 && p.startsWith('/') && p.endsWith('/')) {
      return new RegExp(`^(?:${p.slice(1, -1)})$`).test(name);
    }
    return p === name;
  });
}

// CircleCI's rule: a job runs for a branch when branches.only (if any)
// matches and branches.ignore (if any) does not; for a tag only when
// tags.only matches (no tags filter: never) and tags.ignore does not.
function runsForBranch(filters, branch) {
  const b = (filters && filters.branches) || {};
  if (b.only !== undefined && !filterMatches(b.only, branch)) return false;
  if (b.ignore !== undefined && filterMatches(b.ignore, branch)) return false;
  return true;
}
function runsForTag(filters, tag) {
  const t = filters && filters.tags;
  if (!t || t.only === undefined || !filterMatches(t.only, tag)) return false;
  return !(t.ignore !== undefined && filterMatches(t.ignore, tag));
}

function runCommands(job) {
  return job.steps
    .map((step) => step.generate())
    .filter((g) => g && typeof g === 'object' && g.run)
    .map((g) => (typeof g.run === 'string' ? g.run : g.run.command).trim());
}
function stepOf(job, key) {
  return job.steps.map((s) => s.generate()).find((g) => g && typeof g === 'object' && g[key]);
}

// Returns a list of problems; empty when the config is what delivery needs.
function check(rawConfig, repoRoot) {
  const problems = [];
  let config;
  try {
    config = parser.parseConfig(rawConfig);
  } catch (e) {
    return [`CircleCI's parser rejects the config: ${e.message}`];
  }
  if (String(rawConfig.version) !== '2.1') problems.push(`version is ${rawConfig.version}, expected 2.1`);

  if (config.workflows.length !== 1) {
    return problems.concat(`expected exactly one workflow, found ${config.workflows.length}`);
  }
  const workflow = config.workflows[0];
  const wjobs = new Map(workflow.jobs.map((wj) => [wj.name, wj.parameters || {}]));
  const names = [...wjobs.keys()];
  if (JSON.stringify(names) !== JSON.stringify(WORKFLOW_ORDER)) {
    problems.push(`workflow ${workflow.name} runs ${names.join(', ')}, expected ${WORKFLOW_ORDER.join(', ')}`);
  }
  const requires = (name) => (wjobs.get(name) || {}).requires || [];
  if (requires('build').length !== 0) problems.push(`build requires ${requires('build')}, expected nothing`);
  if (JSON.stringify(requires('test')) !== '["build"]') problems.push(`test requires [${requires('test')}], expected [build]`);
  if (JSON.stringify(requires('push')) !== '["test"]') problems.push(`push requires [${requires('push')}], expected [test]`);

  // Tag builds: CircleCI runs a job on a tag only with a tags filter; a job
  // that is skipped would also block every job that requires it.
  for (const [name, params] of wjobs) {
    for (const tag of ['v1.2.3', '1.0.1']) {
      if (!runsForTag(params.filters, tag)) problems.push(`${name} does not run for tag ${tag} (needs filters: tags: only: /.*/)`);
    }
  }
  for (const name of ['build', 'test']) {
    for (const branch of ['main', 'feature/x', 'dependabot/npm/y']) {
      if (wjobs.has(name) && !runsForBranch(wjobs.get(name).filters, branch)) {
        problems.push(`${name} does not run on branch ${branch}`);
      }
    }
  }
  // One push at a time across pipelines, and CircleCI's pipeline-order protection: a push job of an
  // older pipeline is skipped once a newer one has held the group, so latest never moves back.
  const serialGroup = (wjobs.get('push') || {})['serial-group'];
  if (typeof serialGroup !== 'string' || !/^[A-Za-z0-9._\-/<> ]+$/.test(serialGroup) || !serialGroup.includes('pipeline.project.slug')) {
    problems.push(`push has serial-group ${JSON.stringify(serialGroup)}, expected one per project (<< pipeline.project.slug >>/...)`);
  }
  for (const name of ['build', 'test']) {
    if ((wjobs.get(name) || {})['serial-group'] !== undefined) problems.push(`${name} is in a serial group: only push needs one`);
  }
  const pushFilters = (wjobs.get('push') || {}).filters;
  if (!runsForBranch(pushFilters, 'main')) problems.push('push does not run on main');
  for (const branch of ['feature/x', 'mainline', 'release/1.0', 'master']) {
    if (runsForBranch(pushFilters, branch)) problems.push(`push runs on branch ${branch}; only main and tags may push`);
  }

  // Every step is a script of the repository; the image is built once and
  // handed over through the workspace.
  const jobs = new Map(config.jobs.map((j) => [j.name, j]));
  const workspaceDefault = (fs.readFileSync(path.join(repoRoot, 'scripts/ci/lib.sh'), 'utf8')
    .match(/CI_WORKSPACE:-([^}]+)\}/) || [])[1];
  const expectScripts = {
    build: ['scripts/ci/build-image.sh'],
    test: ['scripts/ci/load-image.sh', 'scripts/ci/test-image.sh', 'scripts/ci/test-compose.sh',
      'scripts/ci/test-integration.sh'],
    push: ['scripts/ci/push-image.sh'],
  };
  for (const [name, expected] of Object.entries(expectScripts)) {
    const job = jobs.get(name);
    if (!job) { problems.push(`job ${name} is missing`); continue; }
    const commands = runCommands(job);
    for (const command of commands) {
      if (!/^scripts\/ci\/[a-z0-9-]+\.sh$/.test(command)) {
        problems.push(`job ${name} runs "${command}"; each step should be one scripts/ci/*.sh`);
        continue;
      }
      const file = path.join(repoRoot, command);
      if (!fs.existsSync(file)) problems.push(`job ${name} runs ${command}, which does not exist`);
      else if ((fs.statSync(file).mode & 0o111) === 0) problems.push(`${command} is not executable`);
    }
    if (JSON.stringify(commands) !== JSON.stringify(expected)) {
      problems.push(`job ${name} runs [${commands.join(', ')}], expected [${expected.join(', ')}]`);
    }
  }
  const persist = jobs.has('build') && stepOf(jobs.get('build'), 'persist_to_workspace');
  if (!persist) {
    problems.push('build does not persist_to_workspace');
  } else {
    const p = persist.persist_to_workspace;
    if (p.root !== workspaceDefault) problems.push(`build persists from ${p.root}, scripts/ci use ${workspaceDefault}`);
    // builder.tar: the compiled tests, which the test job runs against the image's binary.
    for (const f of ['image.tar', 'builder.tar', 'image.env', 'version.json']) {
      if (!(p.paths || []).includes(f)) problems.push(`build does not persist ${f}`);
    }
  }
  for (const name of ['test', 'push']) {
    const attach = jobs.has(name) && stepOf(jobs.get(name), 'attach_workspace');
    if (!attach) problems.push(`${name} does not attach_workspace`);
    else if (attach.attach_workspace.at !== workspaceDefault) {
      problems.push(`${name} attaches the workspace at ${attach.attach_workspace.at}, scripts/ci use ${workspaceDefault}`);
    }
  }
  return problems;
}

// Each mutation breaks something delivery relies on; check() must see it.
const MUTATIONS = {
  'test without tag filter': (c) => { delete workflowJob(c, 'test').filters; },
  'build without tag filter': (c) => { delete workflowJob(c, 'build').filters.tags; },
  'push tags filter matches nothing': (c) => { workflowJob(c, 'push').filters.tags.only = '/^release-.*/'; },
  'push on every branch': (c) => { delete workflowJob(c, 'push').filters.branches; },
  'push on branches matching /main.*/': (c) => { workflowJob(c, 'push').filters.branches.only = '/main.*/'; },
  'push not waiting for test': (c) => { workflowJob(c, 'push').requires = ['build']; },
  'test not waiting for build': (c) => { delete workflowJob(c, 'test').requires; },
  'push rebuilds the image': (c) => { c.jobs.push.steps.splice(2, 0, { run: { command: 'scripts/ci/build-image.sh' } }); },
  'inline shell in a step': (c) => { c.jobs.test.steps.push({ run: { command: 'docker images' } }); },
  'workspace persisted elsewhere': (c) => { stepRaw(c, 'build', 'persist_to_workspace').root = '/tmp/other'; },
  'image not persisted': (c) => { stepRaw(c, 'build', 'persist_to_workspace').paths = ['version.json']; },
  'builder stage not persisted': (c) => {
    const p = stepRaw(c, 'build', 'persist_to_workspace');
    p.paths = p.paths.filter((f) => f !== 'builder.tar');
  },
  'push not in a serial group': (c) => { delete workflowJob(c, 'push')['serial-group']; },
  'push serial group shared by every project': (c) => { workflowJob(c, 'push')['serial-group'] = 'push'; },
  'test job rebuilds the builder stage': (c) => {
    c.jobs.test.steps.splice(2, 0, { run: { command: 'docker build --target builder .' } });
  },
  'unknown job in workflow': (c) => { firstWorkflow(c).jobs.push({ deploy: {} }); },
};
function firstWorkflow(c) { return Object.values(c.workflows).find((w) => w && w.jobs); }
function workflowJob(c, name) {
  const entry = firstWorkflow(c).jobs.find((j) => j === name || (typeof j === 'object' && name in j));
  return entry[name];
}
function stepRaw(c, job, key) { return c.jobs[job].steps.find((s) => typeof s === 'object' && s[key])[key]; }

const raw = YAML.parse(fs.readFileSync(configPath, 'utf8'));
let failed = false;
const problems = check(raw, root);
if (problems.length) {
  failed = true;
  for (const p of problems) console.log(`FAIL: ${configPath}: ${p}`);
} else {
  console.log(`ok: ${configPath} parses with CircleCI's parser; build -> test -> push, every job runs for tags, push only on main and tags`);
}
for (const [name, mutate] of Object.entries(MUTATIONS)) {
  const copy = JSON.parse(JSON.stringify(raw));
  mutate(copy);
  const found = check(copy, root).filter((p) => !problems.includes(p));
  if (found.length === 0) {
    failed = true;
    console.log(`FAIL: mutation "${name}" was not detected`);
  } else {
    console.log(`ok: mutation "${name}" detected: ${found[0].split('\n')[0]}`);
  }
}
process.exit(failed ? 1 : 0);
