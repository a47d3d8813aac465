// `stepcron plan --stage s [--against ref] [--aws]`: what a deploy of the working tree would change, per job, as
// `terraform plan` / `cdk diff` say it. Offline: the stage template (workflows/resources.ts stageTemplate) built from
// the working tree's catalog and serverless.yml against the same built from a git ref. The jobs' settings name what
// changed; the templates (resource by logical id) make sure nothing that deploys is missed. --aws: against the deployed
// schedules and state machines instead (Scheduler, Step Functions), read-only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { enabledJobsProblem, type Job, logicalId, offReason, oneLine, parseCatalog, scheduledOnStage } from '../workflows/catalog';
import { jobResourceIds, type RawParams, STAGE_PARAM_NAMES, type StageParams, stageTemplate, toStageParams } from '../workflows/resources';
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
  /** Where the stage's enabledJobs is set (`serverless.yml params.dev.enabledJobs`, `--param enabledJobs`), for "off" reasons. */
  enabledJobsKey?: string;
  /** The working tree only: why `sls package|deploy` would refuse this deploy (workflows/serverless.cjs), in its words. */
  refused?: string;
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
  /** Why sls would refuse the deploy (the jobs above are what it would deploy once that is fixed). */
  refused?: string;
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

/**
 * What an added job brings (`which`: after) or a removed one takes away (before): its schedule with the next 3 times
 * (none when it is off on the stage), zone, image, whether it fires on the stage and why not, IAM and alarms; as the
 * same details a changed job has, one side only.
 */
function jobFacts(job: Job, side: Side, now: Date, which: 'before' | 'after'): Detail[] {
  const at = (setting: string, value: unknown, extra: Partial<Detail> = {}): Detail => ({ setting, [which]: value, ...extra });
  const off = offReason(job, side.params.enabledJobs);
  const next = off ? [] : next3(job.schedule, job.timezone, now);
  const times = which === 'after' ? { nextAfter: next, ...(off && { offAfter: true }) } : { nextBefore: next, ...(off && { offBefore: true }) };
  const why = off === 'not in enabledJobs' ? `not in ${side.enabledJobsKey ?? 'enabledJobs'}` : 'enabled: false in the catalog';
  const out = [at('schedule', job.schedule, times), at('time zone', job.timezone), at('image', job.image),
    at('enabled', !off, off ? { note: `off on ${side.params.stage}: ${why}` } : {})];
  if (Object.keys(job.secrets).length || job.taskPolicyArns.length) out.push(at('IAM', { secrets: job.secrets, taskPolicyArns: job.taskPolicyArns }));
  for (const id of jobResourceIds(job).filter((i) => i.endsWith('Alarm') && side.template.Resources[i])) {
    out.push(at(which === 'after' ? 'alarm added' : 'alarm removed', id));
  }
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
    if (!ja) { jobs.push({ job: name, change: 'added', details: jobFacts(jb!, after, now, 'after') }); continue; }
    if (!jb) { jobs.push({ job: name, change: 'removed', details: jobFacts(ja, before, now, 'before') }); continue; }
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
  return { stage: after.params.stage, against, jobs, shared, params, changes, ...(before.notes?.length && { notes: before.notes }),
    ...(after.refused && { refused: after.refused }) };
}

/**
 * The names of enabledJobs the catalog lacks, left out: the jobs it does name compare as they would deploy (the
 * working tree says the refusal such names cause; a ref's side leaves them out quietly).
 */
function fitEnabledJobs(params: StageParams, jobs: Job[]): StageParams {
  if (params.enabledJobs === '*') return params;
  const names = new Set(jobs.map((j) => j.name));
  return { ...params, enabledJobs: params.enabledJobs.filter((n) => names.has(n)) };
}

/**
 * The params of a stage with no serverless.yml (a catalog-only repository): the defaults, with stage.ts's placeholders
 * for the network a deploy needs (subnets, security groups), the same on both sides, so they never show as a change;
 * the working tree takes plan's --param over them.
 */
const noServerlessParams = (stage: string, params: Record<string, string> = {}) =>
  toStageParams(stage, { subnets: DEPLOY_TIME_PLACEHOLDERS.subnets, securityGroups: DEPLOY_TIME_PLACEHOLDERS.securityGroups, ...params } as RawParams);

/**
 * The working tree's side: the catalog as the CLI resolved it, serverless.yml beside it (none: default params), and
 * `params`: plan's `--param key=value`, taken before serverless.yml's as `sls --param` is. An enabledJobs naming a job
 * the catalog lacks (the sample's list with a catalog of one's own) makes `sls package|deploy` refuse
 * (workflows/serverless.cjs): said as `refused`, in its words, with the line to change and the no-edit flag; the jobs
 * it does name still show, as they would deploy once that is fixed.
 */
export function workingSide(stage: string, catalog: string, serverless: string, catalogText: string,
  params: Record<string, string> = {}): Side {
  const jobs = parseCatalog(catalogText, { stage, file: catalog });
  if (!existsSync(serverless)) {
    const own = noServerlessParams(stage, params);
    return { jobs, params: own, template: stageTemplate(jobs, own), catalog };
  }
  const read = readStageParams(stage, serverless, undefined, params);
  const key = 'enabledJobs' in params ? '--param enabledJobs' : `${basename(serverless)} ${enabledJobsKey(stage, serverless)}`;
  // As sls names the catalog: relative to serverless.yml's folder (its --param catalog=).
  const problem = enabledJobsProblem(jobs.map((j) => j.name), read.enabledJobs, { stage, key, catalog: relative(dirname(resolve(serverless)), resolve(catalog)) });
  const refused = problem && (key === '--param enabledJobs' ? problem
    : `${problem}; or, with no edit, add --param="enabledJobs=<names or *>" to the sls command (and to plan, to see that deploy)`);
  const fitted = fitEnabledJobs(read, jobs);
  return { jobs, params: fitted, template: stageTemplate(jobs, fitted), catalog, enabledJobsKey: key, ...(refused && { refused }) };
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
 * A path as git names it at a ref (`HEAD:mine/jobs.yml`): relative to the repository's root, wherever plan runs from.
 * Both sides real paths: the root git prints has its symlinks resolved (macOS /tmp is /private/tmp).
 */
function gitPath(dir: string, path: string): string {
  const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  let real = path;
  try {
    real = join(realpathSync(dirname(path)), basename(path));
  } catch {
    // A folder that is gone from the working tree: the path as given.
  }
  return relative(root, real);
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
  let enabledKey: string | undefined;
  let catalogPath = explicitCatalog ? resolve(cwd, explicitCatalog) : resolve(dir, 'workflows/jobs.yml');
  if (yml !== undefined) {
    // stage.ts reads a file: the ref's text goes to a temporary one beside nothing, and paths come back relative.
    const tmp = mkdtempSync(join(tmpdir(), 'stepcron-plan-'));
    try {
      const file = join(tmp, 'serverless.yml');
      writeFileSync(file, yml);
      params = readStageParams(stage, file, () => undefined);
      enabledKey = `${basename(serverless)} ${enabledJobsKey(stage, file)}`;
      if (!explicitCatalog) catalogPath = resolve(dir, relative(tmp, stageCatalog(stage, file)));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  } else {
    notes.push(existsSync(serverless)
      ? `${ref} has no ${gitPath(dir, resolve(serverless))}: its side takes this tree's stage ${stage} params, so only catalog changes show`
      : `no serverless.yml here or at ${ref}: both sides take the default stage params`);
  }
  const text = gitShow(dir, ref, relative(dir, catalogPath));
  const label = gitPath(dir, catalogPath);
  if (text === undefined) {
    notes.push(`${ref} has no ${label}: nothing to compare with, so every job shows as added`);
    return { ...emptySide(params), catalog: `no ${label} at ${ref}`, notes };
  }
  const catalog = `${ref}:${label}`;
  const jobs = parseCatalog(text, { stage, file: catalog });
  // Said once, for the working tree: the ref's side leaves the same names out quietly.
  if (yml !== undefined) params = fitEnabledJobs(params, jobs);
  return { jobs, params, template: stageTemplate(jobs, params), catalog, ...(notes.length && { notes }), ...(enabledKey && { enabledJobsKey: enabledKey }) };
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
  if (plan.refused) lines.push(`refused: sls package|deploy --stage ${plan.stage} stops: ${oneLine(plan.refused)}`);
  if (!plan.changes) return `${lines.join('\n')}\nno changes${plan.refused ? ' once that is fixed' : ': a deploy would change nothing'}\n`;
  const mark = { added: '+', removed: '-', changed: '~' } as const;
  for (const j of plan.jobs) {
    lines.push(`${mark[j.change]} ${j.job}${j.change === 'changed' ? '' : ` (${j.change})`}`);
    const zone = zones.get(j.job);
    for (const d of j.details) {
      // An added or removed job: each setting as it comes or goes (IAM as what its roles gain or lose).
      const only = j.change === 'added' ? d.after : d.before;
      if (j.change !== 'changed' && d.setting === 'IAM') {
        const none: Iam = { secrets: {}, taskPolicyArns: [] };
        lines.push(`    IAM: ${j.change === 'added' ? iamChange(none, only as Iam) : iamChange(only as Iam, none)}`);
      } else if (j.change !== 'changed' && d.setting === 'schedule') {
        // Read together: the expression in its zone (the zone is its own detail in --json, as for a changed job).
        const tz = j.details.find((x) => x.setting === 'time zone');
        lines.push(`    schedule: ${show(only)}${tz ? ` in ${show(j.change === 'added' ? tz.after : tz.before)}` : ''}`);
      } else if (j.change !== 'changed' && d.setting === 'time zone') continue;
      else if (j.change !== 'changed' && !d.setting.startsWith('alarm')) lines.push(`    ${d.setting}: ${show(only)}`);
      else if (d.setting === 'alarm added') lines.push(`    alarm added: ${show(d.after)}`);
      else if (d.setting === 'alarm removed') lines.push(`    alarm removed: ${show(d.before)}`);
      else if (d.setting === 'IAM') lines.push(`    IAM: ${iamChange(d.before as Iam, d.after as Iam)}`);
      else if (GROUPED.has(d.setting)) lines.push(...perSetting(d.before as Record<string, unknown>, d.after as Record<string, unknown>));
      else lines.push(`    ${d.setting}: ${show(d.before)} -> ${show(d.after)}`);
      if (d.note) lines.push(`      (${d.note})`);
      const times = (list: string[], z: string, off?: boolean) => (off ? `none: off on ${plan.stage}`
        : list.map((t) => localTime(new Date(t), z, now)).join(', ') || '(none)');
      // A changed job's times before and after; an added job's after alone, a removed job's before (what goes away).
      if (zone && j.change !== 'removed' && d.nextAfter && (j.change === 'added' || d.nextBefore)) {
        if (d.nextBefore) lines.push(`      next before: ${times(d.nextBefore, zone.before, d.offBefore)}`);
        lines.push(`      next after:  ${times(d.nextAfter, zone.after, d.offAfter)}`);
      } else if (zone && j.change === 'removed' && d.nextBefore) lines.push(`      next before: ${times(d.nextBefore, zone.before, d.offBefore)}`);
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

/** The zones each job's times are shown in, before and after (a removed job: its zone before). */
export function zonesOf(before: Side, after: Side): Map<string, { before: string; after: string }> {
  const a = new Map(before.jobs.map((j) => [j.name, j.timezone]));
  const zones = new Map(before.jobs.map((j) => [j.name, { before: j.timezone, after: j.timezone }]));
  for (const j of after.jobs) zones.set(j.name, { before: a.get(j.name) ?? j.timezone, after: j.timezone });
  return zones;
}

// --- --aws: against the deployed stage ---------------------------------------------------------------------------

export type { Deployed } from './plan-aws';

/** The working tree against the deployed stage: jobs added, removed, and their schedules' drift (expression, zone, state). */
export function diffDeployed(after: Side, deployed: import('./plan-aws').Deployed, against: string, now = new Date()): Plan {
  const jobs: JobChange[] = [];
  const inCatalog = new Map(after.jobs.map((j) => [j.name, j]));
  for (const name of [...new Set([...inCatalog.keys(), ...deployed.jobs.keys()])].sort()) {
    const job = inCatalog.get(name);
    const s = deployed.jobs.get(name);
    if (!job) {
      // What goes away, as deployed: the schedule, its next times while it fires, its state.
      const gone: Detail[] = s?.expression ? [{ setting: 'schedule', before: s.expression, nextBefore: s.state === 'DISABLED' ? [] : next3(s.expression, s.timezone ?? 'UTC', now),
        ...(s.state === 'DISABLED' && { offBefore: true }) }, { setting: 'time zone', before: s.timezone }, { setting: 'state', before: s.state }] : [];
      jobs.push({ job: name, change: 'removed', details: gone });
      continue;
    }
    if (!deployed.jobs.has(name)) { jobs.push({ job: name, change: 'added', details: jobFacts(job, after, now, 'after') }); continue; }
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
  return { stage: after.params.stage, against, jobs, shared: { added: [], removed: [], changed: [] }, params: [], changes: jobs.length > 0,
    ...(after.refused && { refused: after.refused }) };
}

// --- the command ---------------------------------------------------------------------------------------------------

export interface PlanOptions {
  catalog: string; stage: string; against: string; aws: boolean; region?: string; profile?: string; json: boolean; exitCode: boolean;
  /** `--param key=value`, as given to sls (repeatable). */
  param?: string[];
}

/** `--param key=value` as `sls --param` reads it: serverless.yml's stage params by name, the catalog too. */
export function planParams(given: string[]): Record<string, string> {
  const known = [...STAGE_PARAM_NAMES, 'catalog'];
  const out: Record<string, string> = {};
  for (const p of given) {
    const at = p.indexOf('=');
    const key = p.slice(0, at).trim();
    if (at < 1 || !known.includes(key)) throw new UsageError(`plan: --param ${p}: give key=value with one of ${known.join(', ')}`);
    out[key] = p.slice(at + 1);
  }
  return out;
}

/**
 * The command's body (registered in cli/main.ts, which loads this file only when plan runs). `explicitCatalog`: the
 * --catalog given on the command line (the ref side then reads that same path), else the stage's catalog param.
 */
export async function planCommand(o: PlanOptions, explicitCatalog: string | undefined, deps: { setExit: (code: number) => void; serverlessFile: (catalog: string) => string }): Promise<void> {
  const serverless = deps.serverlessFile(o.catalog);
  const params = planParams(o.param ?? []);
  // --param catalog= is relative to serverless.yml's folder, as for sls; --catalog (relative to here) comes first.
  if (params.catalog !== undefined && explicitCatalog === undefined) {
    o.catalog = relative(process.cwd(), resolve(dirname(serverless), params.catalog)) || '.';
    explicitCatalog = o.catalog;
  }
  delete params.catalog;
  let text: string;
  try {
    text = readFileSync(o.catalog, 'utf8');
  } catch (err) {
    throw new UsageError(`plan: cannot read the catalog ${o.catalog} (${(err as NodeJS.ErrnoException).code})`);
  }
  const after = workingSide(o.stage, o.catalog, serverless, text, params);
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
    zones = new Map([...deployed.jobs].map(([name, s]) => [name, { before: s?.timezone ?? 'UTC', after: s?.timezone ?? 'UTC' }]));
    for (const j of after.jobs) zones.set(j.name, { before: deployed.jobs.get(j.name)?.timezone ?? j.timezone, after: deployedSchedule(j.schedule, j.timezone).timezone });
  } else {
    const before = refSide(o.stage, o.against, serverless, explicitCatalog, process.cwd(), after.params);
    plan = diffSides(before, after, `${o.against} (${before.catalog})`, now);
    zones = zonesOf(before, after);
  }
  process.stdout.write(o.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan, zones, now));
  // A deploy sls would refuse is a catalog/params mistake (2), not "changes" (4): CI must not take it for a plan.
  deps.setExit(!o.exitCode ? 0 : plan.refused ? 2 : plan.changes ? EXIT_CHANGES : 0);
}
