// `npm run bench`: every figure of issue 6 next to its baseline, measured in this one run, with the ratio and the
// target where the issue gives one; writes BENCHMARKS.md (and prints it). Benchmarks are not tests: nothing in
// `npm test` depends on how fast this machine is. Measurements whose peak RSS matters run each side in a fresh
// `node` (bench/isolate.ts, bench/child.ts). Sizes come from environment variables (see SIZES); a run that skips a
// section (BENCH_ONLY) prints its table but leaves BENCHMARKS.md alone unless BENCH_OUT names a file.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseCatalog } from '../workflows/catalog';
import { compile } from '../workflows/compile';
import { nextFireTimes } from '../workflows/schedule';
import { localInfra } from '../cli/engine';
import { containerBackend, detectEngine, engineGlobalArgs } from '../cli/backends/container';
import { bigCatalog } from '../test/support/big-catalog';
import { measureCliStart } from './cli';
import { measureEngineFanOut } from './engine';
import { engineInlineLimit, type FanOutResult } from './fanout';
import { measureHandlers } from './handlers';
import { measureOutput } from './output';
import { measureUi } from './ui';
import { runIsolated } from './isolate';
import { bareService, projectCopy, removeDir, slsPackage, type StackFigures, templateFigures } from './package';
import { countTransitions, POLL_SECONDS, TASK_SECONDS, USD_PER_TRANSITION } from './transitions';

const root = join(__dirname, '..');

const list = (name: string, fallback: number[]) => (process.env[name] ?? fallback.join(',')).split(',').map(Number).filter((n) => n > 0);
/** Sizes, each overridable by its environment variable. */
const SIZES = {
  engine: list('BENCH_ENGINE_ITEMS', [1000, 10000]),
  distributed: list('BENCH_DISTRIBUTED_ITEMS', [10000])[0]!,
  spawn: list('BENCH_SPAWN_TASKS', [200])[0]!,
  catalogs: list('BENCH_CATALOGS', [50, 200, 1000]),
};
const SECTIONS = ['transitions', 'engine', 'distributed', 'spawn', 'package', 'catalogs', 'handlers', 'cli', 'other', 'output', 'ui'] as const;
type Section = (typeof SECTIONS)[number];
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) as Section[] | undefined;

interface Row {
  measure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  met: string;
}

const tables: Array<{ title: string; rows: Row[]; notes: string[] }> = [];
const problems: string[] = [];

// ---- formatting -----------------------------------------------------------------------------------------------------
const s = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const msText = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : ms < 100 ? 1 : 0)} ms`;
const mb = (n: number) => `${Math.round(n)} MB`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');
const usd = (n: number) => `$${n.toFixed(n < 1 ? 3 : 2)}`;
const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
const row = (measure: string, value: string, baseline = '—', r = '—', target = '—', met = '—'): Row => ({ measure, value, baseline, ratio: r, target, met });

function table(title: string): { rows: Row[]; notes: string[] } {
  const t = { title, rows: [] as Row[], notes: [] as string[] };
  tables.push(t);
  process.stderr.write(`\n== ${title}\n`);
  return t;
}

function add(t: { rows: Row[] }, r: Row): void {
  t.rows.push(r);
  process.stderr.write(`  ${r.measure}: ${r.value} | baseline ${r.baseline} | ${r.ratio} | target ${r.target} ${r.met}\n`);
}

/** Each item ran exactly once and the run counted them all as succeeded. */
function verified(r: FanOutResult, n: number): string[] {
  const wrong: string[] = [];
  if (r.status !== 'SUCCEEDED') wrong.push(`status ${r.status}${r.error ? ` (${r.error})` : ''}`);
  if (r.tasks !== n) wrong.push(`${r.tasks} tasks started for ${n} items`);
  if (r.distinctItems !== n) wrong.push(`${r.distinctItems} distinct items`);
  if (r.distinctStartedBy !== n) wrong.push(`${r.distinctStartedBy} distinct StartedBy`);
  if (r.succeeded !== n || r.failed !== 0) wrong.push(`the run counted ${r.succeeded} succeeded, ${r.failed} failed`);
  return wrong;
}

const onceText = (r: FanOutResult) => `${int(r.tasks)} tasks, ${int(r.distinctItems)} distinct items, ${int(r.distinctStartedBy)} distinct StartedBy; ${int(r.succeeded ?? 0)} succeeded, ${int(r.failed ?? 0)} failed`;

// ---- 1. transitions -------------------------------------------------------------------------------------------------
async function transitions() {
  const t = table('1. State transitions and their price (Standard workflows)');
  const c = await countTransitions();
  const per1000 = (n: number) => usd(n * 1000 * USD_PER_TRANSITION);
  add(t, row('one run of a single-task job (task succeeds)', `${c.single} (${per1000(c.single)} per 1,000 runs)`,
    `${c.polling} (${per1000(c.polling)} per 1,000 runs)`, ratio(c.single, c.polling)));
  add(t, row('per fan-out item, inline Map', `${c.perItemInline} (${per1000(c.perItemInline)} per 1,000 items)`,
    `${c.perItemPolling} (${per1000(c.perItemPolling)} per 1,000 items)`, ratio(c.perItemInline, c.perItemPolling)));
  add(t, row('per fan-out item, Distributed Map (child executions)', `${c.perItemDistributed} (${per1000(c.perItemDistributed)} per 1,000 items)`,
    `${c.perItemPolling} (${per1000(c.perItemPolling)} per 1,000 items)`, ratio(c.perItemDistributed, c.perItemPolling)));
  add(t, row('one job retry (exit 1, then 0) adds', `${c.singleOneRetry - c.single} (${per1000(c.singleOneRetry - c.single)} per 1,000 retries)`));
  t.notes.push(
    `Baseline: a polling workflow for a ${TASK_SECONDS / 60}-minute task — RunTask without \`.sync\` → Wait ${POLL_SECONDS} s → DescribeTasks → Choice (STOPPED?) → loop — ` +
    `run on the same engine (aws-local-stepfunctions) with the Wait overridden to 0 and a DescribeTasks fake that keeps a simulated clock (${POLL_SECONDS} s per poll) ` +
    `and answers RUNNING until the task has run ${TASK_SECONDS / 60} minutes: ${c.polls} polls, the last one sees STOPPED. Its per-item figure is the same loop as a Map's iteration.`,
    'stepcron: the compiled definitions on the local engine (execute()) with instant fake tasks; the single-task count includes the Precheck and ShouldRun states, which the polling baseline does not have. ' +
    'Per item = (transitions with 20 items − with 10 items) / 10; a Distributed Map item counts its child execution\'s states (RunTask, ItemSucceeded), not the runner\'s ItemSelector Pass. ' +
    '`.sync` waiting costs nothing however long the task runs; the polling loop costs 3 transitions per poll.',
    'Price: $0.025 per 1,000 state transitions (Standard workflows, us-east-1, before the 4,000 free a month), so $ per 1,000 runs = transitions × $0.025.',
  );
}

// ---- 2. engine fan-out ----------------------------------------------------------------------------------------------
function engine() {
  const t = table('2. Local fan-out with an instant task: stepcron\'s engine path vs the raw engine');
  const limit = engineInlineLimit();
  const idle = runIsolated<unknown>('idle', 0);
  for (const n of SIZES.engine) {
    const r = measureEngineFanOut(n);
    const route = n > limit ? 'Distributed Map' : 'inline Map';
    for (const [side, result] of [['stepcron', r.stepcron], ['raw', r.raw]] as const) {
      const wrong = verified(result, n);
      if (wrong.length) problems.push(`engine fan-out ${n}, ${side}: ${wrong.join('; ')}`);
    }
    add(t, row(`${int(n)} items (stepcron: ${route}): time`, s(r.stepcronMs), s(r.rawMs), ratio(r.stepcronMs, r.rawMs)));
    add(t, row(`${int(n)} items: peak RSS`, mb(r.stepcronRssMb), mb(r.rawRssMb), ratio(r.stepcronRssMb, r.rawRssMb)));
    t.notes.push(`${int(n)} items: stepcron ${onceText(r.stepcron)}; ${int(r.transitions)} transitions, largest history ${int(r.events)} events. Raw: ${onceText(r.raw)}.`);
  }
  t.notes.push(
    `stepcron: execute() (cli/engine.ts) on the compiled fan-out job (retries 0, maxConcurrency 40), its items routed by the real precheck: the inline Map up to the job's inline limit (${int(limit)} items), ` +
    'above it the Distributed Map, one child execution per item (AWS would fail an inline Map at 25,000 history events, ~2,500 items). Limits checked, no events kept.',
    'Raw: `new StateMachine(definition)` of aws-local-stepfunctions running the same definition\'s inline Map (MaxConcurrency 40) over the same items with the same Task handlers, its event log drained; ' +
    'it has no history limit and no Distributed Map, so it runs every size inline.',
    'Each side runs in its own fresh `node` (with tsx\'s loader) after a 100-item warm-up in that process; time is the measured run\'s, RSS the process\'s peak over its life ' +
    `(\`process.resourceUsage().maxRSS\`). For scale: the same child with the same code loaded and nothing run peaks at ${mb(idle.maxRssMb)}.`,
  );
}

// ---- 3. the Distributed Map target ----------------------------------------------------------------------------------
function distributed() {
  const n = SIZES.distributed;
  const t = table(`3. Target: a ${int(n)}-item distributed fan-out of \`true\`, locally`);
  const raw = runIsolated<FanOutResult>('distributed-raw', n);
  const viaRun = runIsolated<FanOutResult>('distributed-runlocal', n);
  const viaExecute = runIsolated<FanOutResult>('distributed-execute', n);
  for (const [side, r] of [['raw engine', raw], ['stepcron run', viaRun], ['execute()', viaExecute]] as const) {
    const wrong = verified(r.result, n);
    if (wrong.length) problems.push(`distributed ${n}, ${side}: ${wrong.join('; ')}`);
  }
  for (const [label, r] of [['`stepcron run` path (runLocal)', viaRun], ['engine path (execute())', viaExecute]] as const) {
    const ok = verified(r.result, n).length === 0;
    add(t, row(`${label}: time`, s(r.result.ms), s(raw.result.ms), ratio(r.result.ms, raw.result.ms), '≤ 1.5×', yes(ok && r.result.ms <= 1.5 * raw.result.ms)));
    add(t, row(`${label}: peak RSS`, mb(r.maxRssMb), mb(raw.maxRssMb), ratio(r.maxRssMb, raw.maxRssMb), '≤ 500 MB', yes(r.maxRssMb <= 500)));
    add(t, row(`${label}: every item exactly once, ${int(n)} succeeded`, onceText(r.result), onceText(raw.result), '—', 'each once, none lost', yes(verified(r.result, n).length === 0)));
  }
  const perItem = (r: { result: FanOutResult }) => r.result.ms / n;
  t.notes.push(
    `stepcron: the catalog job \`fanOut: { itemsFrom: s3://bench/items.jsonl, maxConcurrency: 40 }\`, retries 0, command \`true\`; ${int(n)} JSON Lines items in a local S3 folder (\`s3Dir\`); ` +
    'the real precheck routes it to the Distributed Map (FanOutJsonl): the runner reads the object and runs each item as a child execution, at most 40 at once, results written to the local S3 folder. ' +
    'Tasks are served by the real process backend (cli/backends/process.ts). `stepcron run` = runLocal (cli/run.ts: the run store, progress, summary) minus the CLI\'s start; execute() = the engine alone.',
    'Baseline: aws-local-stepfunctions\' `new StateMachine()` running the same compiled item states as an inline Map (the route a short list takes; MaxConcurrency 40) over the same items, ' +
    'read and parsed from the same file; its RunTask handler calls the same process backend (not a bare `spawn`: row 4 gives the backend\'s own cost), so the ratio is the runner\'s overhead.',
    `Verified per side: RunTask calls counted by STEPCRON_ITEM and StartedBy (each item once, none lost), and the run's own counts (runLocal's summary, execute()'s map run, the raw Map's results) say ${int(n)} succeeded. ` +
    'Each side in its own fresh `node` after a 40-item warm-up; one measured run each, so expect ±10% between runs on a busy 2-core machine.',
    `Per item: raw ${msText(perItem(raw))}, stepcron run ${msText(perItem(viaRun))}, execute() ${msText(perItem(viaExecute))}, on both sides mostly the child process: ` +
    'the engine alone costs about a millisecond per item (row 2), and a spawn from a large, busy process costs more than the bare spawns of row 4 from a small, idle one.',
  );
}

// ---- 4. process backend vs bare spawn -------------------------------------------------------------------------------
function spawns() {
  const n = SIZES.spawn;
  const t = table(`4. ${int(n)} tasks: the process backend vs bare spawn`);
  const backend = runIsolated<{ ms: number; exited0: number }>('spawn-backend', n);
  const bare = runIsolated<{ ms: number; exited0: number }>('spawn-bare', n);
  for (const [side, r] of [['backend', backend], ['bare', bare]] as const) {
    if (r.result.exited0 !== n) problems.push(`spawn ${side}: ${r.result.exited0} of ${n} exited 0`);
  }
  add(t, row(`${int(n)} \`true\` tasks, 40 at a time: time`, s(backend.result.ms), s(bare.result.ms), ratio(backend.result.ms, bare.result.ms)));
  add(t, row('per task', msText(backend.result.ms / n), msText(bare.result.ms / n), ratio(backend.result.ms, bare.result.ms)));
  t.notes.push(
    'Process backend: processBackend().run() — its own process group (detached), stdout/stderr piped and split into lines, the ECS Task object built at exit. ' +
    'Bare: `child_process.spawn(\'true\', [], { stdio: \'ignore\' })`, awaited to exit. Each side in its own fresh `node` after 10 warm-up tasks.',
  );
}

// ---- 5. sls package: the project vs a bare service ------------------------------------------------------------------
function packaging() {
  const t = table('5. `sls package --stage dev`: the project vs a bare osls service with the same functions');
  const project = projectCopy(root);
  const bare = bareService(root);
  try {
    // One untimed package warms the file cache and osls's own caches; then alternate, the faster of two each.
    slsPackage(root, bare, 'dev');
    const times = { project: [] as number[], bare: [] as number[] };
    let projectStacks: StackFigures[] = [];
    let bareStacks: StackFigures[] = [];
    for (let i = 0; i < 2; i++) {
      const b = slsPackage(root, bare, 'dev');
      times.bare.push(b.ms);
      bareStacks = templateFigures(b.out);
      const p = slsPackage(root, project, 'dev');
      times.project.push(p.ms);
      projectStacks = templateFigures(p.out);
    }
    const [p, b] = [Math.min(...times.project), Math.min(...times.bare)];
    add(t, row('package time', s(p), s(b), ratio(p, b)));
    const resources = (x: StackFigures[]) => x.reduce((sum, f) => sum + f.resources, 0);
    const bytes = (x: StackFigures[]) => x.reduce((sum, f) => sum + f.bytes, 0);
    add(t, row('CloudFormation resources (all stacks)', `${int(resources(projectStacks))} in ${projectStacks.length} stacks`, `${int(resources(bareStacks))} in ${bareStacks.length}`, ratio(resources(projectStacks), resources(bareStacks))));
    add(t, row('template bytes (all stacks)', int(bytes(projectStacks)), int(bytes(bareStacks)), ratio(bytes(projectStacks), bytes(bareStacks))));
    t.notes.push(
      'Both are copies in temporary folders (node_modules linked), packaged with the project\'s osls offline (`--package <tmp>`). Project: serverless.yml, package.json, tsconfig.json, handlers/, workflows/, cli/ (the deploy-guard plugin) with the sample catalog. ' +
      'Bare: the same provider, the same two functions (handlers, environment) and the same serverless-esbuild settings, but no serverless-step-functions, no stacks plugin, no resources (so no roles of its own). ' +
      `Times: the faster of two alternated runs each, after one untimed run (project ${times.project.map(s).join(', ')}; bare ${times.bare.map(s).join(', ')}).`,
    );
  } finally {
    removeDir(project);
    removeDir(bare);
  }
}

// ---- 6. catalogs of 50/200/1,000 jobs -------------------------------------------------------------------------------
function catalogs() {
  const t = table('6. Catalogs of many jobs (stage prod): stacks, resources and bytes vs the limits, package time');
  const bare = bareService(root);
  let bareMs: number;
  try {
    slsPackage(root, bare, 'prod');
    bareMs = slsPackage(root, bare, 'prod').ms;
  } finally {
    removeDir(bare);
  }
  for (const n of SIZES.catalogs) {
    const dir = projectCopy(root, bigCatalog(n));
    try {
      const { ms, out } = slsPackage(root, dir, 'prod');
      const stacks = templateFigures(out);
      const fullest = stacks.reduce((a, b) => (b.resources > a.resources ? b : a));
      const largest = stacks.reduce((a, b) => (b.bytes > a.bytes ? b : a));
      const main = stacks[0]!;
      add(t, row(`${int(n)} jobs: sls package time`, s(ms), `${s(bareMs)} (bare service)`, ratio(ms, bareMs),
        n === 1000 ? '≤ 90 s' : '—', n === 1000 ? yes(ms <= 90_000) : '—'));
      add(t, row(`${int(n)} jobs: most resources in one stack`, `${fullest.resources} (${fullest.name}; ${stacks.length} stacks, main ${main.resources})`, '500 (limit)', ratio(fullest.resources, 500), '≤ 500', yes(fullest.resources <= 500)));
      add(t, row(`${int(n)} jobs: largest template`, `${int(largest.bytes)} bytes (${largest.name}; main ${int(main.bytes)})`, '1,000,000 (limit)', ratio(largest.bytes, 1_000_000), '≤ 1,000,000', yes(largest.bytes <= 1_000_000)));
    } finally {
      removeDir(dir);
    }
  }
  t.notes.push(
    'Each catalog is test/support/big-catalog.ts\'s bigCatalog(n) (plain, Spot, secrets, own policies, fan-out jobs, as a real team\'s) written to workflows/jobs.yml of a temporary copy of the project, ' +
    'then a real `sls package --stage prod --package <tmp>` (one run each, timed); the figures are read from the main template and the nested `stepcron-Jobs*.json` templates it wrote. ' +
    'Bytes are the files\' sizes as written (what `sls deploy` uploads). Baseline for time: the bare service of row 5 packaged for prod in this run; for resources and bytes: CloudFormation\'s per-stack limits.',
  );
}

// ---- 7. handlers ----------------------------------------------------------------------------------------------------
async function handlers() {
  const t = table('7. Lambda handlers: bundle bytes and init vs an empty handler with the same SDK clients');
  for (const h of await measureHandlers(root)) {
    add(t, row(`${h.handler}: bundle`, `${int(h.bytes)} bytes`, `${int(h.emptyBytes)} bytes`, ratio(h.bytes, h.emptyBytes), '≤ 50,000 bytes', yes(h.bytes <= 50_000)));
    const own = h.initMs - h.emptyInitMs;
    const ownText = own < 0 ? `${msText(own)}: below this run's noise` : msText(own);
    add(t, row(`${h.handler}: init`, `${msText(h.initMs)} (own code ${ownText})`, msText(h.emptyInitMs), ratio(h.initMs, h.emptyInitMs), '≤ 30 ms beyond the SDK clients\'', yes(own <= 30)));
  }
  t.notes.push(
    'bench/handlers.ts: each handler bundled as `sls package` does (serverless-esbuild with serverless.yml\'s custom.esbuild; the AWS SDK left to the Lambda runtime). ' +
    'Init = `require` of the bundle in a fresh `node` with a Lambda-like environment (constructs its SDK clients, found through NODE_PATH as the runtime provides them); ' +
    'baseline = an empty handler that imports and constructs the same SDK clients, bundled the same way. Fastest of 11 alternated runs each.',
  );
}

// ---- 8. CLI start ---------------------------------------------------------------------------------------------------
function cliStart() {
  const t = table('8. CLI start vs a bare `node -e 0`');
  const c = measureCliStart(root);
  add(t, row('`stepcron --help`', msText(c.helpMs), msText(c.bareNodeMs), ratio(c.helpMs, c.bareNodeMs), '≤ 2×', yes(c.helpMs <= 2 * c.bareNodeMs)));
  add(t, row('`stepcron validate` (sample catalog)', msText(c.validateMs), msText(c.bareNodeMs), ratio(c.validateMs, c.bareNodeMs), '≤ 2×', yes(c.validateMs <= 2 * c.bareNodeMs)));
  if (c.validateMs > 2 * c.bareNodeMs || c.helpMs > 2 * c.bareNodeMs) {
    t.notes.push('Where the time goes (timing marks in a copy of the CLI, the fastest of 20 starts on a loaded machine, Node\'s own start of ~16 ms aside): ' +
      'loading the build ~9 ms (bin/cli-build.cjs and the stat check ~2 ms, reading the 1.2 MB bundle and its code cache ~2 ms, V8 reading the cache ~3 ms, ' +
      'the bundle\'s top level ~2 ms) and the commander program ~2 ms, what `--help` pays too; then the catalog, resources and stage modules with their zod ' +
      'schemas ~5 ms; serverless.yml\'s YAML ~4 ms (yaml runs cold: its cost grows with the text, comments included, ~1 ms per KB); the catalog ~6 ms ' +
      '(its YAML, zod\'s checks, the time zone list); the stage template ~5 ms and its split into stacks ~2 ms. All of it is work validate reports on, run ' +
      'once each, in code that has not warmed up. `node --cpu-prof bin/stepcron.cjs validate` shows the shares.');
  }
  t.notes.push(`bench/cli.ts: \`node bin/stepcron.cjs …\` as a user runs it (not through npx, which adds ~1.5 s of its own), the same node binary; median of ${c.runs} interleaved runs after one untimed run of each. ` +
    `Fastest runs: bare ${msText(c.fastest.bareNodeMs)}, --help ${msText(c.fastest.helpMs)} (${ratio(c.fastest.helpMs, c.fastest.bareNodeMs)}), validate ${msText(c.fastest.validateMs)} (${ratio(c.fastest.validateMs, c.fastest.bareNodeMs)}).`);
}

// ---- 9. today's other rows ------------------------------------------------------------------------------------------
async function other() {
  const t = table('9. Other: compile, schedule search, container task');
  const jobs = parseCatalog(readFileSync(join(root, 'workflows/jobs.yml'), 'utf8'), { stage: 'dev' });
  const rounds = 2000;
  let definitions = jobs.map((job) => compile(job, localInfra(job, 'dev')));
  let started = performance.now();
  for (let i = 0; i < rounds; i++) definitions = jobs.map((job) => compile(job, localInfra(job, 'dev')));
  const compileMs = (performance.now() - started) / rounds;
  started = performance.now();
  for (let i = 0; i < rounds; i++) structuredClone(definitions);
  const cloneMs = (performance.now() - started) / rounds;
  add(t, row(`compile the sample catalog (${jobs.length} jobs)`, msText(compileMs), `${msText(cloneMs)} (structuredClone of its output)`, ratio(compileMs, cloneMs), '< 1 ms (earlier bench)', yes(compileMs < 1)));

  for (const timezone of ['UTC', 'America/New_York']) {
    const from = new Date('2026-03-08T00:00:00Z');
    nextFireTimes('cron(* * * * ? *)', { from, count: 100, timezone });
    started = performance.now();
    const times = nextFireTimes('cron(* * * * ? *)', { from, count: 1000, timezone });
    const nextMs = performance.now() - started;
    const format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    started = performance.now();
    for (const time of times) format.formatToParts(time);
    const intlMs = performance.now() - started;
    add(t, row(`\`next\`: 1,000 fire times of a per-minute cron (${timezone}${timezone === 'UTC' ? '' : ', across the March DST change'})`, msText(nextMs), `${msText(intlMs)} (Intl wall time of the same 1,000 in that zone)`, ratio(nextMs, intlMs), '< 100 ms (earlier bench)', yes(nextMs < 100)));
  }

  const found = await detectEngine();
  const image = 'localhost/stepcron-busybox:latest';
  if (!found) {
    add(t, row('container task (`true`)', 'not measured: no container engine answers (podman/docker)', '—', '—', '< 1 s (earlier bench)', '—'));
  } else {
    const job = { ...jobs[0]!, image, command: ['true'] };
    const containers = containerBackend({ engine: found.engine, extraArgs: ['--pull', 'never'] });
    started = performance.now();
    const task = await containers.run({ job, cluster: 'bench', taskDefinition: 'bench', startedBy: 'bench', environment: {}, command: ['true'], onOutput: () => undefined });
    const ms = performance.now() - started;
    if (task.Containers[0]?.ExitCode !== 0) {
      add(t, row('container task (`true`)', `not measured: ${task.StoppedReason} (build ${image} with the container tests first)`, '—', '—', '< 1 s (earlier bench)', '—'));
    } else {
      const limits = found.engine === 'podman' && !process.env.CONTAINERS_CONF ? ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'] : [];
      started = performance.now();
      const bare = spawnSync(found.engine, [...engineGlobalArgs(found.engine), 'run', '--rm', '--pull', 'never', ...limits, image, 'true']);
      const bareMs = performance.now() - started;
      add(t, row(`container task (\`true\`, ${found.engine})`, msText(ms), bare.status === 0 ? `${msText(bareMs)} (bare \`${found.engine} run --rm\`)` : 'bare run failed', ratio(ms, bareMs), '< 1 s (earlier bench)', yes(ms < 1000)));
    }
  }
  t.notes.push(
    'compile: every sample job to ASL, 2,000 rounds; baseline: structuredClone of the same definitions (building objects of that size with no logic). ' +
    '`next`: nextFireTimes (workflows/schedule.ts) after a 100-time warm-up; baseline: Intl.DateTimeFormat wall time of the same instants, the least a zone-aware search does per fire time.',
  );
}

// ---- 10. job output --------------------------------------------------------------------------------------------------
async function output() {
  const t = table('10. Job output through `stepcron run` vs a bare pipe');
  const cases = [
    ['one 100 MB line', "head -c 100000000 /dev/zero | tr '\\0' x"],
    ['100 MB in 1,000,000 lines of 100 bytes', "yes 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' | head -n 1000000"],
  ] as const;
  for (const [what, command] of cases) {
    const r = await measureOutput(command);
    add(t, row(`${what}: time`, s(r.stepcron.ms), s(r.bare.ms), ratio(r.stepcron.ms, r.bare.ms)));
    add(t, row(`${what}: peak RSS`, mb(r.stepcron.peakMb), mb(r.bare.peakMb), ratio(r.stepcron.peakMb, r.bare.peakMb)));
    add(t, row(`${what}: run store afterwards`, `${int(r.stepcron.storeBytes ?? 0)} bytes`, '100,000,000 bytes (the output)', ratio(r.stepcron.storeBytes ?? 0, 1e8)));
  }
  t.notes.push(
    'stepcron: `node bin/stepcron.cjs run out` in a fresh directory, the job `sh -c <command>` on the process backend, the CLI\'s stdout to /dev/null: ' +
    'the output is split into lines (a line over 64 KiB is cut and marked), written on with back-pressure, and its last 1 MiB per stream kept in `.stepcron/store.db`. ' +
    'Baseline: a bare `node -e` that spawns the same command and pipes its stdout to its own (no lines, nothing kept). ' +
    'Peak RSS: VmHWM from /proc, sampled every 10 ms until the process exits; one untimed run of each side first. The issue measured 74 s and 2 GB for the 100 MB line before the linear splitter.',
  );
}

// ---- 11. the console's jobs page ------------------------------------------------------------------------------------
async function console() {
  const t = table('11. `stepcron ui`: the jobs page over 1,000 jobs and 100,000 stored runs');
  const jobs = Number(process.env.BENCH_UI_JOBS ?? 1000);
  const runs = Number(process.env.BENCH_UI_RUNS ?? 100);
  const r = await measureUi(jobs, runs);
  add(t, row(`GET /api/jobs, ${int(jobs)} jobs x ${int(runs)} runs (warm server)`, msText(r.warmMs), `${msText(r.statusMs)} (\`status --json\`, same store)`,
    ratio(r.warmMs, r.statusMs), '< 300 ms', yes(r.warmMs < 300)));
  add(t, row('the same, first request before warm-up', msText(r.coldMs), `${msText(r.statusMs)} (\`status --json\`)`, ratio(r.coldMs, r.statusMs)));
  add(t, row('the page as sent (gzip)', `${int(r.gzipBytes)} bytes`, `${int(r.jsonBytes)} bytes (JSON)`, ratio(r.gzipBytes, r.jsonBytes)));
  t.notes.push(
    `A store seeded with ${int(jobs * runs)} finished runs (test/support/seed-store.ts: summaries as a local run writes them) of bigCatalog(${jobs}); ` +
    'GET /api/jobs through cli/ui/server.ts on loopback with the token and Accept-Encoding: gzip; median of 5 after the server\'s warm-up (`stepcron ui` warms up at start: ' +
    'the catalog parse and each schedule\'s runs per 30 days). The page reads the newest 30 runs of every job in one query (Store.recent, the runs_by_job index); ' +
    'baseline: `status --json --last 30` over the same store, which asks the port per job (Store.list reads all of a job\'s runs and each one\'s summary).',
  );
}

// ---- the report -----------------------------------------------------------------------------------------------------
function machine(): string[] {
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return [
    `- machine: ${availableParallelism()} cores (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${process.platform} ${process.arch}`,
    `- node: ${process.version} (the \`node@24\` devDependency, as npm scripts run it)`,
    `- date: ${new Date().toISOString()}; commit ${commit} (the working tree as it was then)`,
  ];
}

function render(elapsedMs: number, sections: readonly Section[]): string {
  const lines = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts), which measured every figure below next to its baseline in one run on this machine:',
    '',
    ...machine(),
    `- the whole run took ${(elapsedMs / 60_000).toFixed(1)} minutes${sections.length < SECTIONS.length ? ` (sections: ${sections.join(', ')})` : ''}`,
    '',
    'Re-run: `npm run bench` (prints this file and rewrites it; run nothing else heavy meanwhile). Sizes: `BENCH_ENGINE_ITEMS=1000,10000`, `BENCH_DISTRIBUTED_ITEMS=10000`, ' +
    '`BENCH_SPAWN_TASKS=200`, `BENCH_CATALOGS=50,200,1000`; `BENCH_ONLY=transitions,engine,distributed,spawn,package,catalogs,handlers,cli,other,output` runs some sections only ' +
    '(printed, and written only to `BENCH_OUT=<file>` if set). Benchmarks are not tests: `npm test` asserts no timing.',
    '',
    'Ratio = stepcron ÷ baseline (below 1× stepcron is faster or smaller). "Met" is judged only where issue 6 gives a target (row 9: the earlier benchmark\'s own). MB = 10^6 bytes.',
    '',
  ];
  if (problems.length) lines.push('**Problems in this run:**', '', ...problems.map((p) => `- ${p}`), '');
  const targets = tables.flatMap((t) => t.rows.filter((r) => r.met !== '—').map((r) => ({ section: t.title.split('.')[0] ?? '', ...r })));
  if (targets.length) {
    lines.push('## Targets', '', '| row | measure | stepcron | baseline | ratio | target | met |', '|---|---|---|---|---|---|---|');
    for (const r of targets) lines.push(`| ${[r.section, r.measure, r.value, r.baseline, r.ratio, r.target, r.met].map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
    lines.push('');
  }
  for (const t of tables) {
    lines.push(`## ${t.title}`, '', '| measure | stepcron | baseline | ratio | target | met |', '|---|---|---|---|---|---|');
    for (const r of t.rows) lines.push(`| ${[r.measure, r.value, r.baseline, r.ratio, r.target, r.met].map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
    lines.push('', ...t.notes.flatMap((n) => [n, '']));
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

async function main() {
  const started = performance.now();
  const sections = SECTIONS.filter((name) => !only || only.includes(name));
  const run: Record<Section, () => unknown> = {
    transitions, engine, distributed, spawn: spawns, package: packaging, catalogs, handlers, cli: cliStart, other, output, ui: console,
  };
  for (const name of sections) {
    try {
      await run[name]();
    } catch (err) {
      problems.push(`section ${name} failed: ${(err as Error).message.split('\n')[0]}`);
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
    }
  }
  const text = render(performance.now() - started, sections);
  process.stdout.write(`\n${text}`);
  const out = process.env.BENCH_OUT ?? (sections.length === SECTIONS.length ? join(root, 'BENCHMARKS.md') : undefined);
  if (out) {
    writeFileSync(out, text);
    process.stderr.write(`\nwrote ${out}\n`);
  }
  if (problems.length) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
