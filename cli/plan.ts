// `stepcron plan --stage s [--against ref] [--aws]`: what a deploy of the working tree would change, per job, as
// `terraform plan` / `cdk diff` say it. Offline: the stage template (workflows/resources.ts stageTemplate) built from
// the working tree's catalog and serverless.yml against the same built from a git ref. The jobs' settings name what
// changed; the templates (resource by logical id) make sure nothing that deploys is missed. --aws: against the deployed
// schedules and state machines instead (Scheduler, Step Functions), read-only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type Job, logicalId, oneLine, parseCatalog, scheduledOnStage } from '../workflows/catalog';
import { jobResourceIds, type RawParams, type StageParams, stageTemplate, toStageParams } from '../workflows/resources';
import { deployedSchedule, nextFireTimes } from '../workflows/schedule';
import { localTime } from '../workflows/times';
import { UsageError } from './errors';
import { DEPLOY_TIME_PLACEHOLDERS, enabledJobsKey, readStageParams, stageCatalog } from './stage';

/**
 * `--exit-code`'s "something would change": 4, not git's 2, because 2 already means a usage or catalog mistake in every
 * stepcron command (and 1 a failure), so CI can tell "changes" from "plan could not run".
 */
export const EXIT_CHANGES = 4;

type Template = { Resources: Record<string, Record<string, unknown>> };

/** One side of the comparison: the jobs and the stage template they deploy as. */
export interface Side {
  jobs: Job[]; params: StageParams; template: Template; catalog: string;
  /** What this side lacks and stands in for it (a ref without serverless.yml or without the catalog), one line each. */
  notes?: string[];
}

export interface Detail {
  setting: string;
  before?: unknown;
  after?: unknown;
  /** schedule and time zone: the next 3 fire times, ISO UTC (the human output shows them in the job's zone). */
  nextBefore?: string[];
  nextAfter?: string[];
  /** The job does not fire on the stage before / after (enabled: false, or not in enabledJobs): no times to show. */
  offBefore?: boolean;
  offAfter?: boolean;
  /** What to know about this change (--aws: drift a deploy may leave as it is). */
  note?: string;
}

export interface JobChange {
  job: string;
  change: 'added' | 'removed' | 'changed';
  details: Detail[];
  /** Template resources of the job that differ where no named setting explains it. */
  other?: string[];
}

export interface Plan {
  stage: string;
  against: string;
  jobs: JobChange[];
  /** Shared resources (not one job's), by logical id. */
  shared: { added: string[]; removed: string[]; changed: string[] };
  /** serverless.yml params of the stage that differ (enabledJobs aside: it shows as each job's `enabled`). */
  params: Detail[];
  changes: boolean;
  /** Why the comparison is not file against file (the ref lacks serverless.yml or the catalog), one line each. */
  notes?: string[];
}

/** The next 3 times as the schedule deploys (an aligned rate(1 hour) fires on the hour: its cron, not now + 1 h). */
const next3 = (schedule: string, zone: string, now: Date) => {
  try {
    const deployed = deployedSchedule(schedule, zone);
    return nextFireTimes(deployed.expression, { timezone: deployed.timezone, from: now, count: 3 }).map((d) => d.toISOString());
  } catch {
    return [];
  }
};

/** The settings a job's resources depend on, by the suffix of their logical id: a difference elsewhere is "other". */
const EXPLAINS: Record<string, string[]> = {
  TaskDefinition: ['image', 'command', 'cpu/memory', 'environment', 'IAM'],
  // The time zone too: the notify states send it, so the notification shows the start on the job's clock.
  StateMachine: ['image', 'command', 'cpu/memory', 'capacity', 'timeout/retries', 'concurrency', 'notify', 'alerts', 'fan-out', 'input', 'environment', 'description', 'time zone'],
  Schedule: ['schedule', 'time zone', 'enabled', 'description'],
  Alarm: ['concurrency', 'alerts'],
  DeadlineAlarm: ['alerts', 'enabled', 'schedule', 'time zone'],
  ExecutionRole: ['IAM'],
  TaskRole: ['IAM'],
};

const pick = (job: Job, keys: Array<keyof Job>) => Object.fromEntries(keys.filter((k) => job[k] !== undefined).map((k) => [k, job[k]]));

/** The named settings of a job that differ, with before and after values. */
function settingChanges(a: Job, b: Job, pa: StageParams, pb: StageParams, now: Date): Detail[] {
  const out: Detail[] = [];
  const cmp = (setting: string, before: unknown, after: unknown) => {
    if (!isDeepStrictEqual(before, after)) out.push({ setting, before, after });
  };
  // The fire times go with the first of schedule or time zone that changed: either moves them.
  const on = { before: scheduledOnStage(a, pa.enabledJobs), after: scheduledOnStage(b, pb.enabledJobs) };
  const times = {
    nextBefore: on.before ? next3(a.schedule, a.timezone, now) : [], nextAfter: on.after ? next3(b.schedule, b.timezone, now) : [],
    ...(!on.before && { offBefore: true }), ...(!on.after && { offAfter: true }),
  };
  if (a.schedule !== b.schedule) out.push({ setting: 'schedule', before: a.schedule, after: b.schedule, ...times });
  if (a.timezone !== b.timezone) out.push({ setting: 'time zone', before: a.timezone, after: b.timezone, ...(a.schedule === b.schedule && times) });
  cmp('enabled', on.before, on.after);
  cmp('image', a.image, b.image);
  cmp('command', a.command, b.command);
  cmp('cpu/memory', `${a.cpu}/${a.memory}`, `${b.cpu}/${b.memory}`);
  cmp('capacity', a.capacity, b.capacity);
  const retry: Array<keyof Job> = ['timeoutSeconds', 'retries', 'retryOn', 'retryIntervalSeconds', 'backoffRate', 'maxDelaySeconds', 'exitCodes'];
  cmp('timeout/retries', pick(a, retry), pick(b, retry));
  cmp('concurrency', a.concurrency, b.concurrency);
  cmp('notify', a.notify, b.notify);
  const alerts: Array<keyof Job> = ['successDeadlineMinutes', 'runtimeWarningSeconds', 'minRuntimeSeconds'];
  cmp('alerts', pick(a, alerts), pick(b, alerts));
  // Secrets by name and reference (never values: the catalog holds none), and the task role's managed policies.
  cmp('IAM', { secrets: a.secrets, taskPolicyArns: a.taskPolicyArns }, { secrets: b.secrets, taskPolicyArns: b.taskPolicyArns });
  cmp('fan-out', a.fanOut, b.fanOut);
  cmp('environment', a.environment, b.environment);
  cmp('input', a.input, b.input);
  cmp('description', a.description, b.description);
  return out;
}

/** Resources added or removed (`+ id` / `- id`) or changed (`~ id`) among `ids` between two templates. */
function resourceDiff(ids: string[], a: Template, b: Template) {
  const added = ids.filter((id) => !a.Resources[id] && b.Resources[id]);
  const removed = ids.filter((id) => a.Resources[id] && !b.Resources[id]);
  const changed = ids.filter((id) => a.Resources[id] && b.Resources[id] && !isDeepStrictEqual(a.Resources[id], b.Resources[id]));
  return { added, removed, changed };
}

/** What changes from `before` to `after`, per job and for the stage's shared resources. */
export function diffSides(before: Side, after: Side, against: string, now = new Date()): Plan {
  const byName = (jobs: Job[]) => new Map(jobs.map((j) => [j.name, j]));
  const a = byName(before.jobs);
  const b = byName(after.jobs);
  const jobs: JobChange[] = [];
  const jobIds = new Set<string>();
  const params = (Object.keys(after.params) as Array<keyof StageParams>).filter((k) => k !== 'enabledJobs' && !isDeepStrictEqual(before.params[k], after.params[k]))
    .map((k) => ({ setting: k, before: before.params[k], after: after.params[k] }));
  for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const ja = a.get(name);
    const jb = b.get(name);
    const ids = [...new Set([...(ja ? jobResourceIds(ja) : []), ...(jb ? jobResourceIds(jb) : [])])];
    for (const id of ids) jobIds.add(id);
    if (!ja) { jobs.push({ job: name, change: 'added', details: [] }); continue; }
    if (!jb) { jobs.push({ job: name, change: 'removed', details: [] }); continue; }
    const details = settingChanges(ja, jb, before.params, after.params, now);
    const diff = resourceDiff(ids, before.template, after.template);
    const named = new Set(details.map((d) => d.setting));
    // Alarms come and go with the alerts that make them: said as such, not only as a changed setting.
    for (const id of diff.added.filter((i) => i.endsWith('Alarm'))) details.push({ setting: 'alarm added', after: id });
    for (const id of diff.removed.filter((i) => i.endsWith('Alarm'))) details.push({ setting: 'alarm removed', before: id });
    const prefix = logicalId(name);
    // A stage param (subnets, cluster, ...) reaches every job's definition: those show here, the params at the stage.
    const other = [...diff.added, ...diff.removed, ...diff.changed].filter((id) => !(EXPLAINS[id.slice(prefix.length)] ?? []).some((s) => named.has(s)));
    if (details.length || other.length) jobs.push({ job: name, change: 'changed', details, ...(other.length && { other }) });
  }
  const sharedIds = [...new Set([...Object.keys(before.template.Resources), ...Object.keys(after.template.Resources)])]
    .filter((id) => !jobIds.has(id)).sort();
  const shared = resourceDiff(sharedIds, before.template, after.template);
  const changes = jobs.length > 0 || params.length > 0 || shared.added.length + shared.removed.length + shared.changed.length > 0;
  return { stage: after.params.stage, against, jobs, shared, params, changes, ...(before.notes?.length && { notes: before.notes }) };
}

/**
 * enabledJobs was written for the stage's own catalog: with another (--catalog), the names it lacks are left out (said
 * once by `warn`), as validate does (cli/main.ts validatedStageParams); the stage's own catalog keeps the error.
 */
function fitEnabledJobs(params: StageParams, jobs: Job[], explicit: boolean, warn: (line: string) => void, key = 'params: enabledJobs'): StageParams {
  if (!explicit || params.enabledJobs === '*') return params;
  const names = new Set(jobs.map((j) => j.name));
  const missing = params.enabledJobs.filter((n) => !names.has(n));
  if (missing.length === 0) return params;
  warn(`stepcron: warning: stage ${params.stage}: ${key} names ${missing.join(', ')}, not in this catalog: left out here; ` +
    'the jobs it does not name are off on the stage, as a deploy of this catalog would have them\n');
  return { ...params, enabledJobs: params.enabledJobs.filter((n) => names.has(n)) };
}

/**
 * The params of a stage with no serverless.yml (a catalog-only repository): the defaults, with stage.ts's placeholders
 * for the network a deploy needs (subnets, security groups), the same on both sides, so they never show as a change.
 */
const noServerlessParams = (stage: string) =>
  toStageParams(stage, { subnets: DEPLOY_TIME_PLACEHOLDERS.subnets, securityGroups: DEPLOY_TIME_PLACEHOLDERS.securityGroups } as RawParams);

/**
 * The working tree's side: the catalog as the CLI resolved it (`explicit`: given with --catalog), and serverless.yml
 * beside it (none: default params).
 */
export function workingSide(stage: string, catalog: string, serverless: string, catalogText: string, explicit = false,
  warn = (line: string) => void process.stderr.write(line)): Side {
  const jobs = parseCatalog(catalogText, { stage, file: catalog });
  const params = existsSync(serverless)
    // Named as validate names it: the file and the key to change (serverless.yml params.dev.enabledJobs).
    ? fitEnabledJobs(readStageParams(stage, serverless), jobs, explicit, warn, `${relative(process.cwd(), serverless) || serverless} ${enabledJobsKey(stage, serverless)}`)
    : noServerlessParams(stage);
  return { jobs, params, template: stageTemplate(jobs, params), catalog };
}

/** `git show <ref>:./<path>` run in `dir`: the file's text at the ref, or undefined when the ref does not have it. */
function gitShow(dir: string, ref: string, path: string): string | undefined {
  try {
    return execFileSync('git', ['show', `${ref}:./${path}`], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const text = String((err as { stderr?: string }).stderr ?? '');
    if (/does not exist in|exists on disk, but not in/.test(text)) return undefined;
    if (/not a git repository/i.test(text)) throw new UsageError(`plan: ${dir} is not in a git repository: plan compares with --against <git-ref> there, or use --aws`);
    throw new UsageError(`plan: --against ${ref}: git cannot read it (${text.trim().split('\n')[0]})`);
  }
}

/**
 * The side at a git ref: serverless.yml at the ref (its params for the stage, and its catalog param unless --catalog
 * was given), the catalog at the ref. A ref without serverless.yml (from before the project had one, or a catalog-only
 * repository) has no stage params of its own: it takes `working`'s (the working tree's), so that only the catalog's
 * changes show, and a note says so; the default params would make every job's definition differ for no change of the
 * user's. A catalog the ref does not have is nothing deployed yet: every job is added, and a note says why.
 */
export function refSide(stage: string, ref: string, serverless: string, explicitCatalog: string | undefined, cwd = process.cwd(),
  working?: StageParams): Side {
  const dir = dirname(resolve(serverless));
  const ymlPath = relative(dir, resolve(serverless));
  const yml = gitShow(dir, ref, ymlPath);
  const notes: string[] = [];
  let params = working ?? noServerlessParams(stage);
  let catalogPath = explicitCatalog ? resolve(cwd, explicitCatalog) : resolve(dir, 'workflows/jobs.yml');
  if (yml !== undefined) {
    // stage.ts reads a file: the ref's text goes to a temporary one beside nothing, and paths come back relative.
    const tmp = mkdtempSync(join(tmpdir(), 'stepcron-plan-'));
    try {
      const file = join(tmp, 'serverless.yml');
      writeFileSync(file, yml);
      params = readStageParams(stage, file, () => undefined);
      if (!explicitCatalog) catalogPath = resolve(dir, relative(tmp, stageCatalog(stage, file)));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  } else {
    notes.push(existsSync(serverless)
      ? `${ref} has no ${relative(cwd, resolve(serverless)) || ymlPath}: its side takes this tree's stage ${stage} params, so only catalog changes show`
      : `no serverless.yml here or at ${ref}: both sides take the default stage params`);
  }
  const text = gitShow(dir, ref, relative(dir, catalogPath));
  if (text === undefined) {
    notes.push(`${ref} has no ${relative(cwd, catalogPath)}: nothing to compare with, so every job shows as added`);
    return { ...emptySide(params), catalog: `no ${relative(cwd, catalogPath)} at ${ref}`, notes };
  }
  const catalog = `${ref}:${relative(cwd, catalogPath)}`;
  const jobs = parseCatalog(text, { stage, file: catalog });
  // Said once, for the working tree: the ref's side leaves the same names out quietly.
  if (yml !== undefined) params = fitEnabledJobs(params, jobs, explicitCatalog !== undefined, () => undefined);
  return { jobs, params, template: stageTemplate(jobs, params), catalog, ...(notes.length && { notes }) };
}

/** The working tree against nothing deployed (a ref without the catalog): every job and shared resource is added. */
export function emptySide(params: StageParams): Side {
  return { jobs: [], params, template: { Resources: {} }, catalog: 'none' };
}

/** A value as one line a terminal shows as it is: control characters (ESC, CR, BEL) escaped, as describe does. */
const show = (v: unknown) => (typeof v === 'string' ? oneLine(v) : JSON.stringify(v));

/** Settings compared as a group (one template resource each) but read one by one: `retries: 0 -> 1`. */
const GROUPED = new Set(['timeout/retries', 'alerts', 'notify']);

/** The keys of two grouped settings that differ, one line each; a key one side lacks is `(unset)`. */
function perSetting(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const value = (o: Record<string, unknown>, k: string) => (o[k] === undefined ? '(unset)' : show(o[k]));
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !isDeepStrictEqual(before[k], after[k]))
    .map((k) => `    ${k}: ${value(before, k)} -> ${value(after, k)}`);
}

type Iam = Pick<Job, 'secrets' | 'taskPolicyArns'>;

/** `secret CRM_TOKEN added (/crm/token); policy arn:... removed`: what the job's roles gain or lose. */
function iamChange(a: Iam, b: Iam): string {
  const parts: string[] = [];
  for (const [name, ref] of Object.entries(b.secrets)) {
    if (!(name in a.secrets)) parts.push(`secret ${name} added (${ref})`);
    else if (a.secrets[name] !== ref) parts.push(`secret ${name}: ${a.secrets[name]} -> ${ref}`);
  }
  for (const [name, ref] of Object.entries(a.secrets)) if (!(name in b.secrets)) parts.push(`secret ${name} removed (${ref})`);
  for (const arn of b.taskPolicyArns) if (!a.taskPolicyArns.includes(arn)) parts.push(`policy ${arn} added`);
  for (const arn of a.taskPolicyArns) if (!b.taskPolicyArns.includes(arn)) parts.push(`policy ${arn} removed`);
  return parts.join('; ') || 'policies reordered';
}

/** One line per job (+ added, - removed, ~ changed) with its details indented; the stage's shared resources last. */
export function formatPlan(plan: Plan, zones: Map<string, { before: string; after: string }>, now: Date): string {
  const lines = [`stepcron plan: stage ${plan.stage}, the working tree against ${plan.against}`, ...(plan.notes ?? []).map((n) => `note: ${n}`)];
  if (!plan.changes) return `${lines.join('\n')}\nno changes: a deploy would change nothing\n`;
  const mark = { added: '+', removed: '-', changed: '~' } as const;
  for (const j of plan.jobs) {
    lines.push(`${mark[j.change]} ${j.job}${j.change === 'changed' ? '' : ` (${j.change})`}`);
    const zone = zones.get(j.job);
    for (const d of j.details) {
      if (d.setting === 'alarm added') lines.push(`    alarm added: ${show(d.after)}`);
      else if (d.setting === 'alarm removed') lines.push(`    alarm removed: ${show(d.before)}`);
      else if (d.setting === 'IAM') lines.push(`    IAM: ${iamChange(d.before as Iam, d.after as Iam)}`);
      else if (GROUPED.has(d.setting)) lines.push(...perSetting(d.before as Record<string, unknown>, d.after as Record<string, unknown>));
      else lines.push(`    ${d.setting}: ${show(d.before)} -> ${show(d.after)}`);
      if (d.note) lines.push(`      (${d.note})`);
      if (d.nextBefore && zone) {
        const times = (list: string[], z: string, off?: boolean) => (off ? `none: off on ${plan.stage}`
          : list.map((t) => localTime(new Date(t), z, now)).join(', ') || '(none)');
        lines.push(`      next before: ${times(d.nextBefore, zone.before, d.offBefore)}`, `      next after:  ${times(d.nextAfter ?? [], zone.after, d.offAfter)}`);
      }
    }
    if (j.other) lines.push(`    other changes: ${j.other.join(', ')}`);
  }
  const { added, removed, changed } = plan.shared;
  if (plan.params.length) lines.push(`stage params: ${plan.params.map((p) => `${p.setting}: ${show(p.before)} -> ${show(p.after)}`).join('; ')}`);
  if (added.length + removed.length + changed.length) {
    lines.push('stage (shared resources):');
    for (const id of added) lines.push(`  + ${id}`);
    for (const id of removed) lines.push(`  - ${id}`);
    for (const id of changed) lines.push(`  ~ ${id}`);
  }
  const count = (c: JobChange['change']) => plan.jobs.filter((j) => j.change === c).length;
  lines.push(`${count('added')} to add, ${count('changed')} to change, ${count('removed')} to remove; ${added.length + removed.length + changed.length} shared resources change`);
  return `${lines.join('\n')}\n`;
}

/** The zones each job's times are shown in, before and after. */
export function zonesOf(before: Side, after: Side): Map<string, { before: string; after: string }> {
  const a = new Map(before.jobs.map((j) => [j.name, j.timezone]));
  return new Map(after.jobs.map((j) => [j.name, { before: a.get(j.name) ?? j.timezone, after: j.timezone }]));
}

// --- --aws: against the deployed stage ---------------------------------------------------------------------------

export type { Deployed } from './plan-aws';

/** The working tree against the deployed stage: jobs added, removed, and their schedules' drift (expression, zone, state). */
export function diffDeployed(after: Side, deployed: import('./plan-aws').Deployed, against: string, now = new Date()): Plan {
  const jobs: JobChange[] = [];
  const inCatalog = new Map(after.jobs.map((j) => [j.name, j]));
  for (const name of [...new Set([...inCatalog.keys(), ...deployed.jobs.keys()])].sort()) {
    const job = inCatalog.get(name);
    if (!job) { jobs.push({ job: name, change: 'removed', details: [] }); continue; }
    if (!deployed.jobs.has(name)) { jobs.push({ job: name, change: 'added', details: [] }); continue; }
    const s = deployed.jobs.get(name);
    const want = deployedSchedule(job.schedule, job.timezone);
    const state = scheduledOnStage(job, after.params.enabledJobs) ? 'ENABLED' : 'DISABLED';
    const details: Detail[] = [];
    if (!s) details.push({ setting: 'schedule', before: '(none deployed)', after: want.expression });
    else {
      if (s.expression !== want.expression || s.timezone !== want.timezone) {
        const d: Detail = { setting: s.expression !== want.expression ? 'schedule' : 'time zone', nextBefore: s.expression ? next3(s.expression, s.timezone ?? 'UTC', now) : [], nextAfter: next3(want.expression, want.timezone, now) };
        Object.assign(d, s.expression !== want.expression ? { before: s.expression, after: want.expression } : { before: s.timezone, after: want.timezone });
        details.push(d);
        if (s.expression !== want.expression && s.timezone !== want.timezone) details.push({ setting: 'time zone', before: s.timezone, after: want.timezone });
      }
      // A pause (stepcron pause) is a DISABLED schedule with a note: said, so nobody resumes it by surprise. Drift made
      // outside CloudFormation stays until a deploy updates this schedule (CloudFormation sends only changed resources).
      if (s.state !== state) {
        details.push({ setting: 'state', before: s.paused ? `${s.state} (${s.paused})` : s.state, after: state,
          note: 'set outside the deploy: a deploy restores it only when it updates this schedule' });
      }
    }
    if (details.length) jobs.push({ job: name, change: 'changed', details });
  }
  return { stage: after.params.stage, against, jobs, shared: { added: [], removed: [], changed: [] }, params: [], changes: jobs.length > 0 };
}

// --- the command ---------------------------------------------------------------------------------------------------

export interface PlanOptions { catalog: string; stage: string; against: string; aws: boolean; region?: string; profile?: string; json: boolean; exitCode: boolean }

/**
 * The command's body (registered in cli/main.ts, which loads this file only when plan runs). `explicitCatalog`: the
 * --catalog given on the command line (the ref side then reads that same path), else the stage's catalog param.
 */
export async function planCommand(o: PlanOptions, explicitCatalog: string | undefined, deps: { setExit: (code: number) => void; serverlessFile: (catalog: string) => string }): Promise<void> {
  const serverless = deps.serverlessFile(o.catalog);
  let text: string;
  try {
    text = readFileSync(o.catalog, 'utf8');
  } catch (err) {
    throw new UsageError(`plan: cannot read the catalog ${o.catalog} (${(err as NodeJS.ErrnoException).code})`);
  }
  const after = workingSide(o.stage, o.catalog, serverless, text, explicitCatalog !== undefined);
  const now = new Date();
  let plan: Plan;
  let zones = new Map<string, { before: string; after: string }>();
  if (o.aws) {
    const [{ awsClients }, { guarded }, { knownStages }] = await Promise.all([import('./ops/aws'), import('./ops/commands'), import('./stage')]);
    const stages = existsSync(serverless) ? knownStages(serverless) : [];
    let deployed: import('./plan-aws').Deployed | undefined;
    const code = await guarded({ out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t), tty: false }, async () => {
      deployed = await (await import('./plan-aws')).readDeployed(o.stage, awsClients({ stage: o.stage, region: o.region, profile: o.profile }), stages);
      return 0;
    });
    if (!deployed) return deps.setExit(code);
    plan = diffDeployed(after, deployed, `the deployed stage ${o.stage}`, now);
    // Deployed times are in the deployed zone; the catalog's in the catalog's.
    zones = new Map(after.jobs.map((j) => [j.name, { before: deployed!.jobs.get(j.name)?.timezone ?? j.timezone, after: deployedSchedule(j.schedule, j.timezone).timezone }]));
  } else {
    const before = refSide(o.stage, o.against, serverless, explicitCatalog, process.cwd(), after.params);
    plan = diffSides(before, after, `${o.against} (${before.catalog})`, now);
    zones = zonesOf(before, after);
  }
  process.stdout.write(o.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan, zones, now));
  deps.setExit(o.exitCode && plan.changes ? EXIT_CHANGES : 0);
}
