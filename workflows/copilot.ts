// An AWS Copilot scheduled job manifest (`type: Scheduled Job`, copilot/<job>/manifest.yml) turned into a catalog job.
// Pure: text in, the job and warnings out (the CLI side is cli/import.ts). Copilot ran each job as a Step Functions
// execution of one Fargate task, started by an EventBridge rule in UTC; its fields are carried over as it deployed them:
// - retries: Copilot's Retry (10 s, x1.5), none when unset; timeout: the whole execution (every attempt), none when
//   unset; overlap: an execution per rule firing, so runs could overlap (concurrency: allow).
// - on.schedule: as robfig/cron reads it (workflows/kubernetes.ts), @every as rate(...), cron(...)/rate(...) as they are,
//   "none" (started by hand only) as a disabled job. Where Copilot's own translation deployed something else (a stepped
//   '*' in a day field became every day), what it deployed is kept, with a note: that is what ran.
// - secrets: SSM parameter names and ARNs, and `secretsmanager:` names (an ARN needs the account and region).
// - environments.<env>: `on.schedule: none` as enabled: {<env>: false} (a schedule where the job's own is none as
//   enabled: {default: false, <env>: true}); every other override that differs is listed with its line (the catalog
//   has one value per job).
import { isDeepStrictEqual } from 'node:util';
import type { CrontabImport, ImportedJob } from './crontab';
import {
  at, envNameOk, fargateSize, goCronSchedules, goDurationSeconds, helmProblem, importedJob, jobNameFor, ManifestError,
  type ManifestSpec, ordered, prefixProblem, readManifests,
} from './kubernetes';
import { parseSchedule, scheduleProblem } from './schedule';

export interface CopilotOptions {
  /** Put before the job name. */
  prefix?: string;
  /** For `secretsmanager:` secrets given by name: the ARN's account and region. */
  account?: string;
  region?: string;
}

const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** Fields with no catalog equivalent, and why. */
const NOT_CARRIED: Record<string, string> = {
  exec: 'ECS Exec into a running task: not enabled on stepcron tasks (stepcron logs <job> shows its output)',
  network: "subnets, security groups and public IPs are the stage's params in serverless.yml (subnets, securityGroups, assignPublicIp)",
  storage: 'volumes (EFS, ephemeral): a task gets Fargate\'s default 20 GiB; EFS is not in the catalog',
  sidecars: 'a job runs one container',
  logging: 'FireLens log routing: logs go to CloudWatch Logs (/stepcron/<stage>/jobs)',
  taskdef_overrides: 'task definition overrides: no equivalent',
  publish: 'SNS topics to publish to: give the task role a policy (taskPolicyArns) and publish from the command',
  observability: 'X-Ray tracing: no equivalent',
  count: 'a scheduled job runs one task',
};
const KNOWN = new Set(['name', 'type', 'on', 'image', 'cpu', 'memory', 'platform', 'retries', 'timeout', 'variables', 'secrets', 'command',
  'entrypoint', 'environments', 'env_file', ...Object.keys(NOT_CARRIED)]);

/** Parses one manifest into a catalog job; throws ManifestError listing what cannot be imported. */
export function importCopilot(file: string, text: string, options: CopilotOptions = {}): CrontabImport {
  const prefix = options.prefix ?? '';
  const bad = prefixProblem(prefix) ?? helmProblem(file, text);
  if (bad) throw new ManifestError([bad]);
  const [m, ...more] = readManifests(file, text);
  if (!m) throw new ManifestError([at(file, undefined, 'is empty: give a Copilot manifest (copilot/<job>/manifest.yml)')]);
  if (more.length) throw new ManifestError([at(file, undefined, 'has more than one YAML document: a Copilot manifest is one')]);
  const type = m.get(['type']);
  if (type !== 'Scheduled Job') {
    throw new ManifestError([at(file, m.line(['type']) ?? 1, `type is ${type === undefined ? 'missing' : `'${String(type)}'`}: only Scheduled Job manifests are cron jobs`)]);
  }
  const problems: string[] = [];
  const notes: Array<[number | undefined, string]> = [];
  const name = String(m.get(['name']) ?? '');
  if (!name) problems.push(at(file, 1, 'name is missing: give the job its name'));

  // When.
  const spec: Omit<ManifestSpec, 'schedule'> & { schedule?: string } = { description: `Copilot scheduled job ${name}`, timezone: 'UTC' };
  const raw = m.get(['on', 'schedule']);
  const scheduleLine = m.line(['on', 'schedule']) ?? m.line(['on']);
  let schedules: string[] = [];
  if (typeof raw !== 'string' || raw.trim() === '') {
    problems.push(at(file, scheduleLine ?? 1, 'on.schedule is missing: give the job its schedule'));
  } else if (raw.trim() === 'none') {
    // Started by hand only (copilot job run): a schedule is required, so one that never fires while disabled.
    schedules = ['rate(1 day)'];
    spec.enabled = false;
  } else schedules = scheduleOf(raw, scheduleLine, 'on.schedule', file, problems, notes);

  // environments.<env>.on.schedule, the one override the catalog has per stage: `none` turns the job off there
  // (enabled: {<env>: false}); a schedule where the job's own is none turns it on there (enabled: {default: false,
  // <env>: true}) when every such environment gives the same one; any other schedule is listed below with the rest.
  const envSchedules = new Map<string, string>();
  for (const stage of m.keys(['environments'])) {
    const value = m.get(['environments', stage, 'on', 'schedule']);
    if (typeof value === 'string' && value.trim() !== '') envSchedules.set(stage, value.trim());
  }
  const enabled: Record<string, boolean> = {};
  const carried = new Set<string>();
  const own = typeof raw === 'string' ? raw.trim() : '';
  const turnedOn = [...envSchedules].filter(([, v]) => v !== 'none' && v !== own);
  if (own === 'none' && turnedOn.length > 0 && turnedOn.every(([, v]) => v === turnedOn[0]![1])) {
    const [stage, value] = turnedOn[0]!;
    const parsed = scheduleOf(value, m.line(['environments', stage, 'on', 'schedule']), `environments.${stage}.on.schedule`, file, problems, notes);
    if (parsed.length) {
      schedules = parsed;
      enabled.default = false;
      for (const [s] of turnedOn) { enabled[s] = true; carried.add(s); }
    }
  }
  for (const [stage, value] of envSchedules) {
    if (value === 'none' && own !== 'none') { enabled[stage] = false; carried.add(stage); }
    if (value === own) carried.add(stage);
  }
  if (Object.keys(enabled).length) spec.enabled = enabled;
  if (spec.enabled === false) {
    notes.push([scheduleLine, 'schedule none: the job ran only when started by hand: imported disabled with a placeholder rate(1 day); start it with stepcron start <job>']);
  }

  // What runs.
  const image = m.get(['image', 'location']);
  if (typeof image === 'string' && image !== '') spec.image = image;
  else if (m.get(['image', 'build']) !== undefined) {
    notes.push([m.line(['image', 'build']), 'image.build: Copilot built and pushed the image at deploy; stepcron runs an image: push it (e.g. to ECR) and set image:']);
  } else notes.push([m.line(['image']), "no image.location: the catalog's defaults.image applies"]);
  const words = (key: string) => {
    const value = m.get([key]);
    if (value === undefined) return undefined;
    if (Array.isArray(value)) return value.map(String);
    return splitWords(String(value));
  };
  const entrypoint = words('entrypoint');
  const command = words('command');
  if (entrypoint?.length || command?.length) spec.command = [...(entrypoint ?? []), ...(command ?? [])];
  if (entrypoint?.length) {
    notes.push([m.line(['entrypoint']), "entrypoint replaced the image's ENTRYPOINT; the catalog's command replaces its CMD only: as written it runs as meant when the image has no ENTRYPOINT"]);
  } else if (!command?.length) {
    notes.push([m.line(['name']), "no command: the image's own CMD ran; the catalog needs a command: write it (e.g. the image's CMD)"]);
  }
  const cpu = m.get(['cpu']);
  const memory = m.get(['memory']);
  if (cpu !== undefined || memory !== undefined) {
    // Copilot takes numbers only: CPU units and MiB; a field left out is its default, 256 or 512.
    const [units, mib] = [cpu ?? 256, memory ?? 512];
    const line = m.line([cpu !== undefined ? 'cpu' : 'memory']);
    if (typeof units !== 'number') {
      problems.push(at(file, m.line(['cpu']), `cpu '${String(cpu)}' is not a number: Copilot takes CPU units, e.g. 1024`));
    } else if (typeof mib !== 'number') {
      problems.push(at(file, m.line(['memory']), `memory '${String(memory)}' is not a number: Copilot takes MiB, e.g. 2048`));
    } else {
      const size = fargateSize(units, mib);
      if (!size) problems.push(at(file, line, `cpu ${units}, memory ${mib}: no Fargate size has that much: use a Fargate size`));
      else {
        spec.cpu = size.cpu;
        spec.memory = size.memory;
        if (size.cpu !== units || size.memory !== mib) {
          notes.push([line, `cpu ${units}, memory ${mib} is no Fargate size: the smallest that fits, cpu ${size.cpu}, memory ${size.memory}`]);
        }
      }
    }
  }
  const platform = m.get(['platform']);
  const os = typeof platform === 'string' ? platform : (platform as { osfamily?: string; architecture?: string } | undefined)
    && `${String((platform as Record<string, unknown>).osfamily)}/${String((platform as Record<string, unknown>).architecture)}`;
  if (os !== undefined && !/^linux\/(x86_64|amd64)$/i.test(String(os))) {
    notes.push([m.line(['platform']), `platform ${String(os)}: stepcron runs Linux x86_64 tasks: build the image for linux/amd64`]);
  }

  // Environment and secrets.
  const environment: Record<string, string> = {};
  for (const key of m.keys(['variables'])) {
    const value = m.get(['variables', key]);
    const line = m.line(['variables', key]);
    if (!envNameOk(key)) notes.push([line, `variables.${key}: not a name the catalog takes (letters, digits and _, not STEPCRON_)`]);
    else if (value !== null && typeof value === 'object') notes.push([line, `variables.${key} comes from ${Object.keys(value)[0] ?? 'a map'} (a CloudFormation export): write its value out`]);
    else environment[key] = value === null || value === undefined ? '' : String(value);
  }
  if (Object.keys(environment).length) spec.environment = environment;
  const secrets: Record<string, string> = {};
  for (const key of m.keys(['secrets'])) {
    const line = m.line(['secrets', key]);
    if (!envNameOk(key)) {
      notes.push([line, `secrets.${key}: not a name the catalog takes (letters, digits and _, not STEPCRON_)`]);
      continue;
    }
    const ref = secretRef(m.get(['secrets', key]), options);
    if (typeof ref === 'string') secrets[key] = ref;
    else if (ref.skip) notes.push([line, `secrets.${key}: ${ref.note}`]);
    else if (ref.value !== undefined) {
      secrets[key] = ref.value;
      notes.push([line, `secrets.${key}: ${ref.note}`]);
    } else problems.push(at(file, line, `secrets.${key}: ${ref.note}`));
  }
  if (Object.keys(secrets).length) spec.secrets = secrets;

  // Runs: overlap, retries, timeout.
  spec.concurrency = 'allow';
  const retries = m.get(['retries']);
  if (retries === undefined) spec.retries = 0;
  else if (typeof retries === 'number' && Number.isInteger(retries) && retries >= 0) {
    spec.retries = Math.min(retries, 10);
    if (retries > 10) notes.push([m.line(['retries']), `retries ${retries}: the catalog retries at most 10 times`]);
  } else problems.push(at(file, m.line(['retries']), `retries '${String(retries)}' is not a whole number`));
  if (spec.retries) Object.assign(spec, { retryIntervalSeconds: 10, backoffRate: 1.5 });
  const timeout = m.get(['timeout']);
  if (timeout !== undefined) {
    try {
      const seconds = goDurationSeconds(String(timeout));
      if (seconds < 1 || !Number.isInteger(seconds)) throw `'${String(timeout)}' is not a whole number of seconds (at least 1s)`;
      spec.timeoutSeconds = Math.min(seconds, MAX_TIMEOUT_SECONDS);
      if (seconds > MAX_TIMEOUT_SECONDS) notes.push([m.line(['timeout']), `timeout ${String(timeout)}: the catalog stops a run after at most 7 days`]);
      if (spec.retries) notes.push([m.line(['timeout']), `timeout bounded the whole execution, every retry included; timeoutSeconds bounds each attempt (${spec.retries} retries)`]);
    } catch (err) {
      if (typeof err !== 'string') throw err;
      problems.push(at(file, m.line(['timeout']), `timeout: ${err}`));
    }
  } else {
    notes.push([undefined, 'no timeout: Copilot let it run until done; the catalog stops an attempt after timeoutSeconds (default 3600)']);
  }

  // Per-environment overrides and the rest. Copilot lets an environment override any field; the catalog has one value
  // per job (only enabled: is per stage), so each override that differs is listed with its line.
  for (const stage of m.keys(['environments'])) {
    for (const field of m.keys(['environments', stage])) {
      const path = ['environments', stage, field];
      if (field === 'on' && carried.has(stage) && m.keys(path).every((k) => k === 'schedule')) continue;
      const value = m.get(path);
      if (isDeepStrictEqual(value, m.get([field]))) continue;
      const keys = value !== null && typeof value === 'object' && !Array.isArray(value)
        ? m.keys(path).filter((k) => !isDeepStrictEqual(m.get([...path, k]), m.get([field, k]))) : [];
      const what = keys.length ? keys.map((k) => `${field}.${k}`).join(', ') : `${field} ${JSON.stringify(value)}`;
      notes.push([m.line(keys.length ? [...path, keys[0]!] : path), `environments.${stage}.${what}: not carried over: the catalog has one value per job (only enabled: is per stage); ` +
        `import ${stage}'s settings as a job of their own if ${stage} must differ`]);
    }
  }
  if (m.get(['env_file']) !== undefined) notes.push([m.line(['env_file']), 'env_file: list its variables under environment:']);
  for (const [key, why] of Object.entries(NOT_CARRIED)) if (m.get([key]) !== undefined) notes.push([m.line([key]), `${key}: ${why}`]);
  for (const key of m.keys([])) if (!KNOWN.has(key)) notes.push([m.line([key]), `${key}: not a field this import knows`]);
  if (m.keys(['image']).some((k) => !['location', 'build'].includes(k))) {
    notes.push([m.line(['image']), `image.${m.keys(['image']).filter((k) => !['location', 'build'].includes(k)).join(', image.')}: no equivalent`]);
  }
  if (problems.length) throw new ManifestError(problems);

  const taken = new Set<string>();
  const split = schedules.length === 2;
  const base = jobNameFor(name, taken, prefix, split ? ['-dom', '-dow'] : ['']);
  const names = split ? [`${base}-dom`, `${base}-dow`] : [base];
  const comments = [`${file} line ${m.line(['name']) ?? 1}: Copilot scheduled job ${name}, on.schedule '${String(raw)}'`];
  // In line order; the comment says where each came from (the file is named on the job's first comment line).
  notes.sort((a, b) => (a[0] ?? Number.POSITIVE_INFINITY) - (b[0] ?? Number.POSITIVE_INFINITY));
  const notCarried = notes.map(([line, text]) => `${line ? `line ${line}` : 'note'}: ${text}`);
  const jobs: ImportedJob[] = schedules.map((schedule, i) => importedJob(names[i]!, m.line(['name']) ?? 1, name, ordered({
    ...spec, schedule, description: split ? `${spec.description} (${i === 0 ? 'days of the month' : 'weekdays'})` : spec.description,
  }), [...comments, ...(i === 0 ? notCarried : [`the weekdays of ${names[0]}'s schedule (day-of-month OR day-of-week)`])]));
  return {
    jobs,
    warnings: notes.map(([line, text]) => at(file, line ?? 1, `${names.join(' and ')}: ${text}`)),
    header: [
      'Imported by `stepcron import copilot` (README: Coming from crontab, Kubernetes CronJob or Copilot).',
      'Copilot ran each firing even while the last was going (concurrency: allow), retried 10 s apart x1.5, in UTC; so do these.',
    ],
  };
}

/** A Copilot on.schedule that is not `none` as the catalog's schedule(s); problems and notes go to the lists given. */
function scheduleOf(raw: string, line: number | undefined, key: string, file: string, problems: string[], notes: Array<[number | undefined, string]>): string[] {
  if (/^(cron|rate)\(/.test(raw.trim())) {
    const problem = scheduleProblem(raw.trim());
    if (problem) problems.push(at(file, line, `${key}: ${problem}`));
    return problem ? [] : [raw.trim()];
  }
  try {
    const parsed = goCronSchedules(raw);
    let schedules = parsed.schedules;
    // What ran is what Copilot deployed: where its translation reads the line otherwise, that is kept (and said).
    const deployed = copilotDeployed(raw);
    // Both day fields restricted: Copilot's translation refused it, so it never ran; two jobs would invent a schedule.
    if (deployed === undefined && schedules.length === 2 && raw.trim().split(/\s+/).length === 5) {
      const f = raw.trim().split(/\s+/);
      problems.push(at(file, line, `${key}: '${raw.trim()}' restricts both day-of-month and day-of-week, which Copilot refuses ("cannot specify both DOW and DOM ` +
        `in cron expression"), so this manifest never deployed: keep one ('${[...f.slice(0, 4), '*'].join(' ')}' or '${[...f.slice(0, 2), '*', f[3], f[4]].join(' ')}')`));
      return [];
    }
    if (deployed && !scheduleProblem(deployed) && !(schedules.length === 1 && sameTimes(schedules[0]!, deployed))) {
      notes.push([line, `Copilot deployed '${raw.trim()}' as ${deployed} (it reads a day field holding '*' as every day), which is what ran: ` +
        `imported so; the line itself means ${schedules.join(' and ')}`]);
      schedules = [deployed];
    }
    // Copilot deployed EventBridge rules, which are UTC only: a CRON_TZ= prefix did nothing there.
    if (parsed.timezone) notes.push([line, `${parsed.timezone}: Copilot's EventBridge rules ran in UTC whatever the prefix said: imported in UTC`]);
    return schedules;
  } catch (err) {
    if (typeof err !== 'string') throw err;
    problems.push(at(file, line, `${key}: ${err}`));
    return [];
  }
}

/**
 * The cron(...) Copilot deployed for a 5-field schedule (its toAWSCron: a day field with '*' or '?' in it counts as
 * unrestricted, '?' goes into one of them, day-of-week digits + 1), or undefined where it refused the schedule.
 */
export function copilotDeployed(schedule: string): string | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5 || schedule.trim().startsWith('@')) return undefined;
  const specified = (field: string) => !/[*?]/.test(field);
  if (!specified(fields[2]!) && !specified(fields[4]!)) [fields[2], fields[4]] = ['*', '?'];
  else if (!specified(fields[2]!)) fields[2] = '?';
  else if (!specified(fields[4]!)) fields[4] = '?';
  else return undefined; // "cannot specify both DOW and DOM": it never deployed
  fields[4] = fields[4]!.replace(/\d/g, (d) => String(Number(d) + 1));
  return `cron(${fields.join(' ')} *)`;
}

/** Two AWS schedule expressions with the same fields (so the same times). */
function sameTimes(a: string, b: string): boolean {
  const fields = (expression: string) => {
    const parsed = parseSchedule(expression);
    return parsed.kind === 'cron' ? JSON.stringify(parsed.fields) : expression;
  };
  return fields(a) === fields(b);
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** A Copilot secret as the catalog's form: a string, or { value, note } to list, or { note } when it cannot be. */
function secretRef(value: unknown, options: CopilotOptions): string | { value?: string; note: string; skip?: true } {
  if (typeof value === 'string') {
    if (value.startsWith('arn:') || value.startsWith('/')) return value;
    // ECS takes a bare parameter name in the same region; the catalog wants /name or the ARN.
    return { value: `/${value}`, note: `SSM parameter '${value}' has no leading '/': written as /${value}; if the parameter's name has none, give its ARN instead` };
  }
  const map = (value ?? {}) as Record<string, unknown>;
  const sm = map.secretsmanager;
  if (typeof sm === 'string') {
    if (sm.startsWith('arn:')) return sm;
    const { account, region } = options;
    if (account && region && ACCOUNT.test(account) && REGION.test(region)) return `arn:aws:secretsmanager:${region}:${account}:secret:${sm}`;
    return { note: `secretsmanager: '${sm}' is a secret name; the catalog needs its ARN: pass --account and --region (or write the ARN)` };
  }
  if (map.from_cfn !== undefined) return { skip: true, note: `from_cfn ${String(map.from_cfn)} (a CloudFormation export): write the parameter's name or the secret's ARN` };
  return { note: 'is neither an SSM parameter name nor secretsmanager: give /name or an ARN' };
}

/** Copilot's string command, split into words as it splits it (quotes group; no shell). */
function splitWords(text: string): string[] {
  const words: string[] = [];
  for (const match of text.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) words.push(match[1] ?? match[2] ?? match[3]!);
  return words;
}

