// Kubernetes CronJobs (batch/v1) turned into catalog jobs, and what the Copilot import (workflows/copilot.ts) shares
// with it: Go cron schedules (robfig/cron, which both validate with), Fargate sizes, job names, manifest lines. Pure:
// text in, jobs and warnings out (the CLI side is cli/import.ts); rendered and merged by workflows/crontab.ts.
//
// Each field is carried over as Kubernetes ran it, or listed (file:line and why) where the catalog has no equivalent:
// - schedule: robfig/cron's 5-field syntax, which differs from Vixie cron (workflows/crontab.ts) in three places, written
//   into Vixie form first: '?' is '*'; 'N/step' is 'N-max/step'; a stepped '*' (*/2) in a day field is no wildcard, so
//   day-of-month OR day-of-week applies (Vixie ANDs it). Day-of-week is 0-6 (7 is refused by Kubernetes).
// - concurrencyPolicy defaults to Allow, backoffLimit to 6 (10 s doubling to 6 min): written out, since the catalog's
//   defaults (forbid, 2 retries from 30 s) differ.
// - activeDeadlineSeconds bounds the whole Job (every attempt); timeoutSeconds bounds one attempt: said so.
// - DST: a time a fall-back repeats ran twice (robfig/cron matches the wall clock; kubernetes/kubernetes#121594), where
//   Scheduler runs it once: warned about for the year ahead. Spring-forward gaps are skipped by both.
import { isMap, isPair, isScalar, LineCounter, type Node, parseAllDocuments, type Document, visit } from 'yaml';
import { FARGATE_SIZES } from './catalog';
import { awsSchedulesFor, type CrontabImport, CrontabError, type ImportedJob, type ImportedSpec, nextDayOfBoth, transitions, uniqueName } from './crontab';
import { type CronFields, isValidTimezone, parseSchedule, scheduleProblem } from './schedule';

/** Manifests that cannot be imported; each problem is one line, `file:line: what: the fix`. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The catalog fields an import writes (the catalog's defaults fill in the rest). */
export interface ManifestSpec {
  description: string;
  schedule: string;
  timezone: string;
  /** false, or per stage (Copilot's environments.<env>.on.schedule: none): `{ prod: false }`. */
  enabled?: boolean | Record<string, boolean>;
  image?: string;
  command?: string[];
  cpu?: number;
  memory?: number;
  environment?: Record<string, string>;
  secrets?: Record<string, string>;
  concurrency?: 'allow' | 'forbid' | 'replace';
  retries?: number;
  retryIntervalSeconds?: number;
  backoffRate?: number;
  maxDelaySeconds?: number;
  timeoutSeconds?: number;
}

export interface ManifestFile {
  /** Where the text came from, for messages and comments. */
  file: string;
  text: string;
}

export interface ManifestOptions {
  /** Put before every job name (e.g. 'k8s-'), to import beside jobs of the same names. */
  prefix?: string;
  /** Start of the year scanned for DST changes (default: now). */
  from?: Date;
}

/** The catalog's limit for timeoutSeconds (workflows/catalog.ts). */
const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;
const MAX_RETRIES = 10;

// ---------------------------------------------------------------------------------------------------------------------
// Shared: Go cron schedules, Fargate sizes, names, lines.

/** One line of a problem or note: `file:line: text`. */
export const at = (file: string, line: number | undefined, text: string) => `${file}${line ? `:${line}` : ''}: ${text}`;

const DAY_FIELD = [false, false, true, false, true];
const MIN = [0, 0, 1, 1, 0];
const MAX = [59, 23, 31, 12, 6];
const GO_NICKNAMES = new Set(['yearly', 'annually', 'monthly', 'weekly', 'daily', 'midnight', 'hourly']);

/**
 * A schedule as robfig/cron (Kubernetes, Copilot) reads it: the AWS schedule(s) firing at the same times (two where
 * day-of-month OR day-of-week applies), and the zone a `CRON_TZ=`/`TZ=` prefix names. Throws a string saying why not.
 */
export function goCronSchedules(spec: string): { schedules: string[]; timezone?: string; every?: true } {
  let text = spec.trim();
  let timezone: string | undefined;
  const prefix = /^(CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(text);
  if (prefix) {
    if (!isValidTimezone(prefix[2]!)) throw `${prefix[1]}=${prefix[2]} is not an IANA time zone such as Europe/Berlin`;
    timezone = prefix[2]!;
    text = prefix[3]!.trim();
  }
  const every = /^@every\s+(\S+)$/.exec(text);
  if (every) return { schedules: [rateFor(every[1]!)], ...(timezone && { timezone }), every: true };
  const nickname = /^@(\S+)$/.exec(text);
  if (nickname && !GO_NICKNAMES.has(nickname[1]!)) {
    throw `'${text}' is not a schedule: use five fields, @hourly, @daily, @weekly, @monthly, @yearly or @every <duration>`;
  }
  let vixie = text;
  if (!nickname) {
    const fields = text.split(/\s+/);
    if (fields.length !== 5) throw `'${text}' has ${fields.length} fields: a schedule has five (minute hour day-of-month month day-of-week)`;
    vixie = fields.map((field, i) => field.split(',').map((item) => {
      if (item === '?') return '*';
      // Before 'N/step' is widened to N-6/step: 7 would read as the backwards range 7-6.
      if (i === 4 && /(^|-)7(\/|$|-)/.test(item)) throw `day-of-week '${field}': 7 is out of range (0-6, 0 is Sunday), which robfig/cron (Kubernetes' and Copilot's parser) refuses: write 0`;
      // '?' is '*' before a step too ('?/15'): not an 'N/step'.
      const stepped = /^([^*?/-]+)\/(\d+)$/.exec(item);
      if (stepped) return `${stepped[1]}-${MAX[i]}/${stepped[2]}`;
      const starStep = /^[*?]\/(\d+)$/.exec(item);
      if (starStep && DAY_FIELD[i] && Number(starStep[1]) > 1) return `${MIN[i]}-${MAX[i]}/${starStep[1]}`;
      return item.replace(/^\?/, '*');
    }).join(',')).join(' ');
  }
  try {
    return { schedules: awsSchedulesFor(vixie), ...(timezone && { timezone }) };
  } catch (err) {
    if (err instanceof CrontabError) throw err.problems.join('; ').replace(`'${vixie}'`, `'${text}'`);
    throw err;
  }
}

/** Go's time.ParseDuration, in seconds (h, m, s, ms...; decimals; '1h30m'). Throws a string when it is none. */
export function goDurationSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ns: 1e-9 };
  const parts = /^([0-9]*\.?[0-9]+(h|ms|m|s|us|µs|μs|ns))+$/.test(text) ? text.match(/[0-9]*\.?[0-9]+(h|ms|m|s|us|µs|μs|ns)/g)! : null;
  if (!parts) throw `'${text}' is not a duration such as 1h30m, 45m or 90s`;
  return parts.reduce((sum, part) => {
    const [, value, unit] = /^([0-9.]+)(.*)$/.exec(part)!;
    return sum + Number(value) * units[unit!]!;
  }, 0);
}

/** `@every 1h30m` -> rate(90 minutes): whole minutes only, in the largest unit that is exact. */
function rateFor(duration: string): string {
  const seconds = goDurationSeconds(duration);
  if (seconds < 60 || seconds % 60 !== 0) throw `@every ${duration}: EventBridge Scheduler rates are whole minutes (at least 1m)`;
  const minutes = seconds / 60;
  const [value, unit] = minutes % 1440 === 0 ? [minutes / 1440, 'day'] : minutes % 60 === 0 ? [minutes / 60, 'hour'] : [minutes, 'minute'];
  return `rate(${value} ${unit}${value === 1 ? '' : 's'})`;
}

/** The smallest Fargate size (cpu units, memory MiB) with at least this much of both, or undefined when none has. */
export function fargateSize(cpuUnits: number, memoryMiB: number): { cpu: number; memory: number } | undefined {
  for (const cpu of Object.keys(FARGATE_SIZES).map(Number).sort((a, b) => a - b)) {
    if (cpu < cpuUnits) continue;
    const memory = FARGATE_SIZES[cpu]!.find((m) => m >= memoryMiB);
    if (memory !== undefined) return { cpu, memory };
  }
  return undefined;
}

/** A catalog job name from a manifest's name: lowercase letters, digits and '-', starting with a letter, unique. */
export function jobNameFor(raw: string, taken: Set<string>, prefix: string, suffixes: string[] = ['']): string {
  const slug = raw.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'job';
  return uniqueName(`${prefix}${slug}`, taken, suffixes);
}

/** Checks --prefix as the crontab import does. */
export function prefixProblem(prefix: string): string | undefined {
  return prefix === '' || /^[a-z][a-z0-9-]*$/.test(prefix) ? undefined
    : `--prefix: '${prefix}' must be lowercase letters, digits and '-', starting with a letter (e.g. k8s-)`;
}

/** What only a Helm chart writes inside '{{ }}': its objects (.Values, .Release...) and its functions (include, toYaml...). */
const HELM_ACTION = /\{\{-?\s*(\.(Values|Release|Chart|Capabilities|Files|Template)\b|(include|template|toYaml|tpl|required|default|quote)\b)/;

/**
 * Helm charts' templates are not manifests until rendered. A '{{' is a template where the file does not parse as YAML,
 * where it is not inside a string (`name: {{ .Name }}` reads as a map), or in a string that is one whole '{{ }}' or
 * uses Helm's own objects and functions. Else it is data: a rendered manifest may well run
 * `kubectl get pods -o go-template='{{range .items}}...'`.
 */
export function helmProblem(file: string, text: string): string | undefined {
  if (!text.includes('{{')) return undefined;
  const refused = (index: number) =>
    at(file, text.slice(0, index).split('\n').length, "is a Helm template ('{{' here): render it first (helm template <release> <chart> > rendered.yaml) and import that");
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  const all = Array.isArray(docs) ? docs : [docs];
  if (all.some((d) => d.errors.length > 0)) return refused(text.indexOf('{{'));
  // The string values, by where they are in the text; keys are no place for a template's data.
  const strings: Array<{ start: number; end: number; value: string }> = [];
  for (const doc of all) {
    visit(doc, {
      Pair: (_, pair) => {
        const key = pair.key;
        if (isScalar(key) && typeof key.value === 'string' && key.value.includes('{{')) strings.push({ start: -1, end: -1, value: key.value });
      },
      Scalar: (key, node) => {
        if (key !== 'key' && typeof node.value === 'string' && node.range) strings.push({ start: node.range[0], end: node.range[1], value: node.value });
      },
    });
  }
  if (strings.some((s) => s.start < 0)) return refused(text.indexOf('{{'));
  for (let index = text.indexOf('{{'); index >= 0; index = text.indexOf('{{', index + 2)) {
    const inside = strings.find((s) => s.start <= index && index < s.end);
    const lineStart = text.lastIndexOf('\n', index) + 1;
    if (!inside) {
      if (/(^|\s)#/.test(text.slice(lineStart, index))) continue; // in a comment
      return refused(index);
    }
    if (/^\s*\{\{.*\}\}\s*$/s.test(inside.value) || HELM_ACTION.test(inside.value)) return refused(index);
  }
  return undefined;
}

/** A parsed YAML document with the line of any path in it. */
export class Manifest {
  /** `base`: where in the document this manifest is (a List's items[i]); paths below are relative to it. */
  constructor(readonly doc: Document, private readonly lines: LineCounter, private readonly base: Array<string | number> = []) {}

  /** The manifest at `path` in this one (a List's item). */
  at(path: Array<string | number>): Manifest {
    return new Manifest(this.doc, this.lines, [...this.base, ...path]);
  }

  get(relative: Array<string | number>): unknown {
    const path = [...this.base, ...relative];
    const node = this.doc.getIn(path, true);
    if (node === undefined || node === null) return undefined;
    return isScalar(node) ? node.value : (node as Node).toJSON();
  }

  /** The line of the key at `path` (or of the value, for list items). */
  line(relative: Array<string | number>): number | undefined {
    const path = [...this.base, ...relative];
    const parent = path.length > 1 ? this.doc.getIn(path.slice(0, -1), true) : this.doc.contents;
    const last = path.at(-1);
    let node: unknown = this.doc.getIn(path, true);
    if (isMap(parent)) node = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === last)?.key ?? node;
    const offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0];
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }

  /** The keys of the map at `path` ([] when it is none). */
  keys(relative: Array<string | number>): string[] {
    const path = [...this.base, ...relative];
    const node = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    return isMap(node) ? node.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key)) : [];
  }

}

/** The documents of a YAML file (one or more, `---`-separated), or a problem naming the line that is not YAML. */
export function readManifests(file: string, text: string): Manifest[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false });
  if (!Array.isArray(docs)) return [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) throw new ManifestError([at(file, error.linePos?.[0]?.line, `not valid YAML: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`)]);
  }
  // An empty document (a doubled or trailing '---') has no contents, or a null scalar where the next '---' follows.
  return docs.filter((d) => d.contents !== null && !(isScalar(d.contents) && d.contents.value === null)).map((d) => new Manifest(d, lines));
}

/** Kubernetes quantities: cpu ('500m', '2', '0.5') in Fargate cpu units (1024 a vCPU); memory ('512Mi', '1G') in MiB. */
export function cpuUnits(quantity: unknown): number | undefined {
  const m = /^([0-9]*\.?[0-9]+)(m?)$/.exec(String(quantity ?? ''));
  if (!m) return undefined;
  return Math.ceil((Number(m[1]) / (m[2] ? 1000 : 1)) * 1024);
}

export function memoryMiB(quantity: unknown): number | undefined {
  const m = /^([0-9]*\.?[0-9]+)(Ki|Mi|Gi|Ti|k|K|M|G|T|e\d+)?$/.exec(String(quantity ?? ''));
  if (!m) return undefined;
  const factor: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  const unit = m[2] ?? '';
  const bytes = Number(m[1]) * (unit.startsWith('e') ? 10 ** Number(unit.slice(1)) : (factor[unit] ?? 1));
  return Math.ceil(bytes / 1024 ** 2);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An environment variable name the catalog takes. */
export const envNameOk = (name: string) => ENV_NAME.test(name) && !name.startsWith('STEPCRON_');

/** A job for rendering: the spec with its fields in the catalog's order. */
export function importedJob(name: string, line: number, entry: string, spec: ManifestSpec, comments: string[]): ImportedJob {
  const problem = scheduleProblem(spec.schedule);
  if (problem) throw new Error(`import produced an invalid schedule ${spec.schedule} for ${entry}: ${problem}`);
  return { name, line, entry, spec: spec as unknown as ImportedSpec, comments };
}

// ---------------------------------------------------------------------------------------------------------------------
// Kubernetes CronJob.

/** Set to something: kubectl's exports carry empty defaults (`securityContext: {}`) that ask for nothing. */
const present = (value: unknown) => value !== undefined && value !== null && value !== false
  && !(typeof value === 'object' && Object.keys(value).length === 0);

const POLICIES: Record<string, ManifestSpec['concurrency']> = { Allow: 'allow', Forbid: 'forbid', Replace: 'replace' };
/** Job spec fields with no catalog equivalent, and why. */
const JOB_FIELDS_NOT_CARRIED: Record<string, string> = {
  parallelism: 'parallel pods: use fanOut (one task per item) if the pods split work',
  completions: 'several completions: use fanOut (one task per item) if the pods split work',
  completionMode: 'Indexed jobs: use fanOut, whose items each task gets',
  podFailurePolicy: 'use exitCodes (retry: / fail: lists) for what it matched on exit codes',
  backoffLimitPerIndex: 'per-index retries: fanOut items are retried as a whole task',
  ttlSecondsAfterFinished: 'Step Functions keeps run history 90 days',
  suspend: 'a suspended Job template: set enabled: false if it should not run',
};
const POD_FIELDS_NOT_CARRIED: Record<string, string> = {
  initContainers: 'init containers: run their steps at the start of the command, or in the image',
  volumes: 'volumes: a task has its own ephemeral storage; put the data in S3 or the image (or EFS, not in the catalog)',
  serviceAccountName: 'the task role gets taskPolicyArns (IAM managed policies) instead of a service account',
  nodeSelector: 'node placement: Fargate chooses the host',
  affinity: 'node placement: Fargate chooses the host',
  tolerations: 'node placement: Fargate chooses the host',
  hostNetwork: 'the task runs in the stage\'s subnets (params in serverless.yml)',
  imagePullSecrets: 'private registries: use ECR, or a registry the task role can pull from',
  securityContext: 'the task runs as the image\'s user',
};
const CONTAINER_FIELDS_NOT_CARRIED: Record<string, string> = {
  envFrom: 'whole ConfigMaps/Secrets as variables: list each as environment: or secrets:',
  volumeMounts: 'volumes have no equivalent (see volumes)',
  workingDir: "the command runs in the image's WORKDIR: add a cd to the command",
  securityContext: "the task runs as the image's user",
  lifecycle: 'no postStart/preStop hooks on a task',
};
const CRONJOB_FIELDS_NOT_CARRIED: Record<string, string> = {
  successfulJobsHistoryLimit: 'Step Functions keeps run history 90 days (stepcron runs <job>)',
  failedJobsHistoryLimit: 'Step Functions keeps run history 90 days (stepcron runs <job>)',
  startingDeadlineSeconds: 'a missed start is retried by EventBridge Scheduler for up to an hour, then goes to the dead-letter queue (alarmed); stepcron backfill runs missed times',
};

/** Parses the files' CronJobs into catalog jobs; throws ManifestError listing everything that cannot be imported. */
export function importKubernetes(files: ManifestFile[], options: ManifestOptions = {}): CrontabImport {
  const prefix = options.prefix ?? '';
  const bad = prefixProblem(prefix);
  if (bad) throw new ManifestError([bad]);
  const problems: string[] = [];
  const warnings: string[] = [];
  const jobs: ImportedJob[] = [];
  const taken = new Set<string>();
  let noZone = 0;
  const entries: Array<{ warning: string } | { cronJob: { m: Manifest; file: string; index: number; key: string[] } }> = [];
  for (const { file, text } of files) {
    const helm = helmProblem(file, text);
    if (helm) {
      problems.push(helm);
      continue;
    }
    let manifests: Manifest[];
    try {
      manifests = readManifests(file, text);
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      problems.push(...err.problems);
      continue;
    }
    // `kubectl get cronjobs -o yaml` writes a List: its items are the manifests.
    const expanded = manifests.flatMap((m) => {
      const items = m.get(['items']);
      return m.get(['kind']) === 'List' && Array.isArray(items) ? items.map((_, i) => m.at(['items', i])) : [m];
    });
    for (const m of expanded) {
      const kind = m.get(['kind']);
      const name = String(m.get(['metadata', 'name']) ?? '');
      if (kind !== 'CronJob') {
        entries.push({ warning: at(file, m.line(['kind']) ?? m.line([]), `${kind === undefined ? 'a document with no kind' : `${String(kind)} '${name}'`} is not a CronJob: skipped`) });
        continue;
      }
      entries.push({ cronJob: { m, file, index: entries.length, key: [name, String(m.get(['metadata', 'namespace']) ?? ''), file] } });
    }
  }
  // Names are given in the order of the CronJobs' own names (then namespace, file, place in it), not of the input:
  // 'a.b' and 'a-b' both want a-b, and which gets a-b-2 must not depend on which file or document came first.
  const cronJobs = entries.flatMap((e) => ('cronJob' in e ? [e.cronJob] : []));
  const byName = [...cronJobs].sort((x, y) => compareKeys([...x.key, x.index], [...y.key, y.index]));
  const results = new Map(byName.map((c) => [c.index, cronJob(c.m, c.file, taken, prefix, options.from ?? new Date())]));
  // Said and written in the input's order.
  for (const [index, e] of entries.entries()) {
    if ('warning' in e) { warnings.push(e.warning); continue; }
    const result = results.get(index)!;
    problems.push(...result.problems);
    warnings.push(...result.warnings);
    jobs.push(...result.jobs);
    if (result.noZone) noZone++;
  }
  if (problems.length) throw new ManifestError(problems);
  if (jobs.length === 0) throw new ManifestError([`${files.map((f) => f.file).join(', ') || 'the input'}: no CronJob to import (kind: CronJob, apiVersion: batch/v1)`]);
  if (noZone) {
    warnings.push(`${noZone} CronJob${noZone === 1 ? ' has' : 's have'} no timeZone: read in UTC, the zone of kube-controller-manager on most clusters; ` +
      'if yours ran in another, set timezone: on the job');
  }
  const header = [
    'Imported by `stepcron import kubernetes` (README: Coming from crontab, Kubernetes CronJob or Copilot).',
    'concurrency, retries (backoffLimit, default 6, 10 s doubling to 6 min) and timeoutSeconds are written as Kubernetes',
    'ran them where the catalog defaults differ; the comments above a job say, by line, what was not carried over and why.',
  ];
  return { jobs, warnings, header };
}

/** Compares two sort keys part by part: strings by code unit (the same on every machine, unlike localeCompare). */
function compareKeys(a: Array<string | number>, b: Array<string | number>): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    return (a[i] ?? '') < (b[i] ?? '') ? -1 : 1;
  }
  return 0;
}

interface CronJobResult { jobs: ImportedJob[]; problems: string[]; warnings: string[]; noZone: boolean }

function cronJob(m: Manifest, file: string, taken: Set<string>, prefix: string, from: Date): CronJobResult {
  const problems: string[] = [];
  const notes: Array<[number | undefined, string]> = [];
  const result: CronJobResult = { jobs: [], problems, warnings: [], noZone: false };
  const metaName = String(m.get(['metadata', 'name']) ?? '');
  const namespace = m.get(['metadata', 'namespace']);
  const title = `CronJob ${namespace ? `${String(namespace)}/` : ''}${metaName || '(no name)'}`;
  const firstLine = m.line(['kind']) ?? 1;
  if (!metaName) problems.push(at(file, firstLine, `${title}: metadata.name is missing: give the CronJob a name`));
  const apiVersion = m.get(['apiVersion']);
  if (apiVersion !== 'batch/v1') notes.push([m.line(['apiVersion']), `apiVersion ${String(apiVersion)}: read as batch/v1`]);

  // Schedule and zone.
  const spec = ['spec'];
  const rawSchedule = m.get([...spec, 'schedule']);
  const scheduleLine = m.line([...spec, 'schedule']);
  let schedules: string[] = [];
  let timezone = 'UTC';
  const zone = m.get([...spec, 'timeZone']);
  if (typeof rawSchedule !== 'string' || rawSchedule.trim() === '') {
    problems.push(at(file, scheduleLine ?? firstLine, `${title}: spec.schedule is missing: give the CronJob its schedule`));
  } else {
    try {
      const parsed = goCronSchedules(rawSchedule);
      schedules = parsed.schedules;
      if (parsed.timezone && zone !== undefined) {
        problems.push(at(file, scheduleLine, `${title}: both timeZone and a ${rawSchedule.split('=')[0]}= prefix in schedule, which Kubernetes refuses: keep timeZone`));
      }
      if (parsed.timezone) timezone = parsed.timezone;
      if (parsed.every) notes.push([scheduleLine, `@every: EventBridge Scheduler's rate counts from when the schedule is created, not from the controller's start`]);
    } catch (err) {
      if (typeof err !== 'string') throw err;
      problems.push(at(file, scheduleLine, `${title}: schedule: ${err}`));
    }
  }
  if (zone !== undefined) {
    if (typeof zone === 'string' && isValidTimezone(zone)) timezone = zone;
    else problems.push(at(file, m.line([...spec, 'timeZone']), `${title}: timeZone '${String(zone)}' is not an IANA time zone such as Europe/Berlin`));
  } else if (!/^(CRON_TZ|TZ)=/.test(String(rawSchedule ?? '').trim())) {
    result.noZone = true;
  }

  const out: Omit<ManifestSpec, 'schedule'> = { description: '', timezone };
  const annotation = m.get(['metadata', 'annotations', 'description']);
  out.description = typeof annotation === 'string' && annotation.trim() ? annotation.trim().replace(/\s+/g, ' ').slice(0, 200) : title;
  if (m.get([...spec, 'suspend']) === true) out.enabled = false;

  // The Job and its pod.
  const job = [...spec, 'jobTemplate', 'spec'];
  const pod = [...job, 'template', 'spec'];
  const containers = m.get([...pod, 'containers']);
  const container = Array.isArray(containers) ? [...pod, 'containers', 0] : undefined;
  if (!container || (containers as unknown[]).length === 0) {
    problems.push(at(file, m.line([...pod, 'containers']) ?? firstLine, `${title}: jobTemplate.spec.template.spec.containers is missing: a CronJob runs one container`));
  } else {
    const list = containers as Array<Record<string, unknown>>;
    if (list.length > 1) {
      const first = list[0]!.name === undefined ? 'which has no name' : String(list[0]!.name);
      notes.push([m.line([...pod, 'containers', 1]), `containers ${list.slice(1).map((c) => String(c.name ?? '?')).join(', ')}: a job runs one container: only the first, ${first}, was imported`]);
    }
    const image = m.get([...container, 'image']);
    if (typeof image === 'string' && image !== '') out.image = image;
    else notes.push([m.line([...container, 'image']) ?? m.line(container), 'no image: the catalog\'s defaults.image applies']);
    const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : undefined);
    const command = strings(m.get([...container, 'command']));
    const args = strings(m.get([...container, 'args']));
    if (command?.length || args?.length) out.command = [...(command ?? []), ...(args ?? [])];
    if (command?.length) {
      notes.push([m.line([...container, 'command']), "command replaced the image's ENTRYPOINT; the catalog's command replaces its CMD only: " +
        'as written it runs as meant when the image has no ENTRYPOINT']);
    } else if (!args?.length) {
      notes.push([m.line(container), "no command or args: the image's own CMD ran; the catalog needs a command: write it (e.g. the image's CMD)"]);
    }
    if (out.command?.some((a) => /\$\([A-Za-z_][A-Za-z0-9_]*\)/.test(a))) {
      notes.push([m.line([...container, args?.length ? 'args' : 'command']), '$(VAR) in command/args: Kubernetes expanded it, ECS does not: run it through sh -c with ${VAR}']);
    }
    environmentOf(m, container, out, notes);
    sizeOf(m, container, out, notes);
    for (const [key, why] of Object.entries(CONTAINER_FIELDS_NOT_CARRIED)) {
      if (present(m.get([...container, key]))) notes.push([m.line([...container, key]), `${key}: ${why}`]);
    }
  }
  for (const [key, why] of Object.entries(POD_FIELDS_NOT_CARRIED)) {
    if (present(m.get([...pod, key]))) notes.push([m.line([...pod, key]), `${key}: ${why}`]);
  }

  // Overlap, retries, deadlines.
  const policy = m.get([...spec, 'concurrencyPolicy']);
  if (policy === undefined) out.concurrency = 'allow'; // Kubernetes' default
  else if (typeof policy === 'string' && POLICIES[policy]) out.concurrency = POLICIES[policy];
  else problems.push(at(file, m.line([...spec, 'concurrencyPolicy']), `${title}: concurrencyPolicy '${String(policy)}' is none of Allow, Forbid, Replace`));
  const backoff = m.get([...job, 'backoffLimit']);
  const retries = backoff === undefined ? 6 : backoff;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0) {
    problems.push(at(file, m.line([...job, 'backoffLimit']), `${title}: backoffLimit '${String(backoff)}' is not a whole number of retries`));
  } else {
    out.retries = Math.min(retries, MAX_RETRIES);
    if (retries > MAX_RETRIES) notes.push([m.line([...job, 'backoffLimit']), `backoffLimit ${retries}: the catalog retries at most ${MAX_RETRIES} times`]);
    // Kubernetes' back-off between pod failures: 10 s, doubling, at most 6 minutes.
    if (out.retries > 0) Object.assign(out, { retryIntervalSeconds: 10, backoffRate: 2, maxDelaySeconds: 360 });
  }
  const podDeadline = m.get([...pod, 'activeDeadlineSeconds']);
  const jobDeadline = m.get([...job, 'activeDeadlineSeconds']);
  const deadlines = [podDeadline, jobDeadline].filter((d): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0);
  if (deadlines.length) {
    const seconds = Math.min(...deadlines);
    out.timeoutSeconds = Math.min(seconds, MAX_TIMEOUT_SECONDS);
    if (seconds > MAX_TIMEOUT_SECONDS) notes.push([m.line([...job, 'activeDeadlineSeconds']), `activeDeadlineSeconds ${seconds}: the catalog stops a run after at most 7 days`]);
    if (typeof jobDeadline === 'number' && out.retries) {
      notes.push([m.line([...job, 'activeDeadlineSeconds']), `activeDeadlineSeconds bounded the whole Job, every retry included; timeoutSeconds bounds each attempt (${out.retries} retries)`]);
    }
  } else {
    notes.push([undefined, 'no activeDeadlineSeconds: Kubernetes let it run until done; the catalog stops an attempt after timeoutSeconds (default 3600)']);
  }
  for (const [key, why] of Object.entries(CRONJOB_FIELDS_NOT_CARRIED)) {
    if (present(m.get([...spec, key]))) notes.push([m.line([...spec, key]), `${key}: ${why}`]);
  }
  for (const [key, why] of Object.entries(JOB_FIELDS_NOT_CARRIED)) {
    if (present(m.get([...job, key]))) notes.push([m.line([...job, key]), `${key}: ${why}`]);
  }
  if (problems.length || schedules.length === 0) return result;

  const twice = schedules.map((s) => fallBackTwice(s, timezone, from)).find((w) => w !== undefined);
  if (twice) notes.push([scheduleLine, twice]);
  const split = schedules.length === 2;
  const base = jobNameFor(metaName, taken, prefix, split ? ['-dom', '-dow'] : ['']);
  const names = split ? [`${base}-dom`, `${base}-dow`] : [base];
  if (split) {
    // Two jobs where Kubernetes had one: a day that is both (a Sunday the 1st) runs each of them.
    const both = nextDayOfBoth(schedules[0]!, schedules[1]!, timezone, from);
    notes.push([scheduleLine, 'day-of-month and day-of-week are both restricted: Kubernetes ran it when either matched, so it became two jobs; ' +
      `on a day that matches both, both run where Kubernetes ran it once${both ? ` (next on ${both})` : ''}`]);
  }
  const comments = [`${file} line ${firstLine}: ${title}, schedule '${String(rawSchedule)}'${out.timezone === 'UTC' ? '' : ` in ${out.timezone}`}`];
  // In line order; the comment says where each came from (the file is named on the job's first comment line).
  notes.sort((a, b) => (a[0] ?? Number.POSITIVE_INFINITY) - (b[0] ?? Number.POSITIVE_INFINITY));
  const notCarried = notes.map(([line, text]) => `${line ? `line ${line}` : 'note'}: ${text}`);
  schedules.forEach((schedule, i) => {
    const own = split
      ? [i === 0 ? `robfig/cron ran it when day-of-month OR day-of-week matched: this job has the days of the month, ${names[1]} the weekdays`
        : `the weekdays of ${names[0]}'s schedule`]
      : [];
    const jobSpec: ManifestSpec = { ...out, schedule, description: split ? `${out.description} (${i === 0 ? 'days of the month' : 'weekdays'})` : out.description };
    result.jobs.push(importedJob(names[i]!, firstLine, title, ordered(jobSpec), [...comments, ...own, ...(i === 0 ? notCarried : [])]));
  });
  result.warnings.push(...notes.map(([line, text]) => at(file, line ?? firstLine, `${names.join(' and ')}: ${text}`)));
  return result;
}

/** The wall-clock times a fall-back repeats that the schedule fires at, within the year after `from`, as a warning. */
function fallBackTwice(schedule: string, zone: string, from: Date): string | undefined {
  const parsed = parseSchedule(schedule);
  if (parsed.kind !== 'cron') return undefined; // a rate counts real time, there and here
  for (const change of transitions(zone, from.getTime())) {
    if (change.kind !== 'overlap') continue;
    const hits: string[] = [];
    for (let wall = change.start; wall < change.end; wall += 60_000) {
      if (matches(parsed.fields, new Date(wall))) hits.push(new Date(wall).toISOString().slice(11, 16));
    }
    if (hits.length === 0) continue;
    const times = hits.length === 1 ? hits[0] : `${hits[0]}-${hits.at(-1)}`;
    return `${times} happens twice on ${change.date} in ${zone} (clocks fall back): Kubernetes ran it at both ` +
      '(kubernetes/kubernetes#121594); EventBridge Scheduler runs it once, at the first';
  }
  return undefined;
}

/** A wall-clock minute (as UTC fields) matches the fields of the AWS cron expressions this import writes. */
function matches(fields: CronFields, d: Date): boolean {
  const dom = fields.dayOfMonth;
  const dow = fields.dayOfWeek;
  return fields.minutes.includes(d.getUTCMinutes()) && fields.hours.includes(d.getUTCHours()) && fields.months.includes(d.getUTCMonth() + 1)
    && (dom.kind !== 'days' || dom.days.includes(d.getUTCDate())) && (dow.kind !== 'days' || dow.days.includes(d.getUTCDay() + 1));
}

function environmentOf(m: Manifest, container: Array<string | number>, out: Omit<ManifestSpec, 'schedule'>, notes: Array<[number | undefined, string]>): void {
  const env = m.get([...container, 'env']);
  if (!Array.isArray(env)) return;
  const environment: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  env.forEach((entry: Record<string, unknown>, i) => {
    const path = [...container, 'env', i];
    const name = String(entry?.name ?? '');
    const line = m.line(path);
    if (!name) {
      // `env: [~]` or an entry without a name: Kubernetes refuses it; nothing to carry over.
      notes.push([line, `env entry ${i + 1} has no name (Kubernetes refuses it): left out`]);
      return;
    }
    if (!envNameOk(name)) {
      notes.push([line, `env ${name}: not a name the catalog takes (letters, digits and _, not STEPCRON_): rename it`]);
      return;
    }
    const from = entry.valueFrom as Record<string, Record<string, unknown>> | undefined;
    if (from?.secretKeyRef) {
      const { name: secret, key } = from.secretKeyRef;
      // A placeholder in the catalog's SSM form: the value must be put there (or the reference changed) before a deploy.
      secrets[name] = `/kubernetes/${String(secret)}/${String(key)}`.replace(/[^A-Za-z0-9_.\-/]/g, '-');
      notes.push([line, `env ${name} is Secret ${String(secret)} key ${String(key)}: mapped to the SSM parameter ${secrets[name]}: ` +
        'create it (aws ssm put-parameter --type SecureString) or point secrets.' + name + ' at yours']);
    } else if (from) {
      const kind = Object.keys(from)[0] ?? 'valueFrom';
      notes.push([line, `env ${name} comes from ${kind}: give its value under environment: (or secrets:)`]);
    } else {
      environment[name] = entry.value === undefined || entry.value === null ? '' : String(entry.value);
      if (/\$\([A-Za-z_][A-Za-z0-9_]*\)/.test(environment[name]!)) notes.push([line, `env ${name}: $(VAR) references are not expanded by ECS: write the value out`]);
    }
  });
  if (Object.keys(environment).length) out.environment = environment;
  if (Object.keys(secrets).length) out.secrets = secrets;
}

function sizeOf(m: Manifest, container: Array<string | number>, out: Omit<ManifestSpec, 'schedule'>, notes: Array<[number | undefined, string]>): void {
  const resources = [...container, 'resources'];
  // A Fargate task gets exactly its size: no burst above it. The pod was guaranteed its requests and could use up to
  // its limits, so the size is the larger of the two (the limits, where Kubernetes' requests <= limits holds), rounded
  // up to a Fargate size: sized to the requests, a job that used more than them would be throttled or OOM-killed.
  const pick = (what: 'cpu' | 'memory', read: (q: unknown) => number | undefined) => {
    const given = (['requests', 'limits'] as const).map((k) => m.get([...resources, k, what])).filter((q) => q !== undefined);
    if (given.length === 0) return { raw: undefined, value: undefined };
    const values = given.map(read);
    if (values.some((v) => v === undefined)) return { raw: given.find((_, i) => values[i] === undefined), value: Number.NaN };
    const i = values.indexOf(Math.max(...(values as number[])));
    return { raw: given[i], value: values[i]! };
  };
  const cpu = pick('cpu', cpuUnits);
  const memory = pick('memory', memoryMiB);
  if (cpu.raw === undefined && memory.raw === undefined) return;
  const line = m.line(resources);
  const units = cpu.value ?? 256;
  const mib = memory.value ?? 512;
  if (Number.isNaN(units) || Number.isNaN(mib)) {
    // Only what the container gives (not "memory 'undefined'").
    const given = [cpu.raw !== undefined && `cpu '${String(cpu.raw)}'`, memory.raw !== undefined && `memory '${String(memory.raw)}'`].filter(Boolean).join(', ');
    notes.push([line, `resources ${given}: not quantities this import reads: set cpu: and memory: (a Fargate size)`]);
    return;
  }
  const size = fargateSize(units, mib);
  const said = [cpu.raw !== undefined && `cpu ${String(cpu.raw)}`, memory.raw !== undefined && `memory ${String(memory.raw)}`].filter(Boolean).join(', ');
  if (!size) {
    notes.push([line, `resources ${said}: larger than any Fargate task (16 vCPU, 120 GiB): the default size applies; split the work`]);
    return;
  }
  const both = (['cpu', 'memory'] as const).some((w) => m.get([...resources, 'requests', w]) !== undefined && m.get([...resources, 'limits', w]) !== undefined
    && String(m.get([...resources, 'requests', w])) !== String(m.get([...resources, 'limits', w])));
  if (both) {
    notes.push([line, `resources: sized to the larger of requests and limits (${said}) as cpu ${size.cpu}, memory ${size.memory}: ` +
      'a Fargate task gets exactly its size, and the pod could use up to its limits']);
  }
  out.cpu = size.cpu;
  out.memory = size.memory;
}

/** The catalog's field order, so imported jobs read like written ones. */
export function ordered(spec: ManifestSpec): ManifestSpec {
  const order: Array<keyof ManifestSpec> = ['description', 'schedule', 'timezone', 'enabled', 'image', 'command', 'cpu', 'memory', 'environment',
    'secrets', 'concurrency', 'retries', 'retryIntervalSeconds', 'backoffRate', 'maxDelaySeconds', 'timeoutSeconds'];
  return Object.fromEntries(order.filter((k) => spec[k] !== undefined).map((k) => [k, spec[k]])) as unknown as ManifestSpec;
}

