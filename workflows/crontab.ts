// A crontab turned into catalog jobs: each entry becomes a job whose EventBridge Scheduler schedule fires when Vixie
// cron / cronie would have run the line, or the line is refused (file:line and the fix) or warned about; nothing is
// translated silently wrong. Pure: text in, jobs and warnings out (the CLI side is cli/import.ts).
//
// What cron and AWS cron differ on, and what this does about it:
// - cron runs a line when day-of-month OR day-of-week matches if both are restricted, and when both match if either
//   field starts with '*' (even '*/2'); AWS needs '?' in one of them. Both restricted: two jobs (<name>-dom,
//   <name>-dow). A '*'-led step in one and a restriction in the other (AND of two sets): refused.
// - day-of-week: cron 0-7 (0 and 7 = Sunday), AWS 1-7 (1 = Sunday): written as names (MON-FRI); AWS allows no step
//   in day-of-week, so steps are written out as lists. Every field is read into its set of values and written back in
//   AWS syntax (`0/15` for `*/15`), so ranges, steps and names cannot be mistranslated one by one.
// - '?', 'L', 'W', '#' and a year field are AWS/Quartz syntax that cron refuses: so are they here.
// - @reboot has no schedule (warning, left out); an unescaped '%' (cron's stdin) is refused; '\%' is cron's literal %.
// - DST: a time a spring-forward skips, or a fall-back repeats, is handled differently by cron and by Scheduler:
//   every job whose times fall where they differ within the next year gets a warning that says how.
import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isScalar, isSeq, parseDocument, type YAMLSeq } from 'yaml';
import { eachCronTime, isValidTimezone, parseSchedule, scheduleProblem } from './schedule';
import { logicalId, MAX_YAML_ALIASES } from './catalog';

export interface CrontabOptions {
  /** Where the text came from, for messages. */
  file?: string;
  /** /etc/crontab (and /etc/cron.d) format: a user name between the schedule and the command. */
  system?: boolean;
  /** The container image of every job; without it the jobs take the catalog's defaults.image (or validation flags them). */
  image?: string;
  /** The zone of the entries above any CRON_TZ=/TZ= line: the machine's, where cron ran. Default UTC, with a warning. */
  timezone?: string;
  /** Put before every job name (e.g. 'legacy-'), to import beside jobs of the same names. */
  prefix?: string;
  /** Start of the year scanned for DST changes (default: now). */
  from?: Date;
}

/** A catalog job as written into the YAML (the catalog's defaults fill in the rest). */
export interface ImportedSpec {
  description: string;
  schedule: string;
  timezone: string;
  image?: string;
  command: string[];
  environment?: Record<string, string>;
}

export interface ImportedJob {
  name: string;
  /** The crontab line it comes from (1-based) and the entry's text, for the comment above the job. */
  line: number;
  entry: string;
  spec: ImportedSpec;
  /** Comment lines written above the job. */
  comments: string[];
}

export interface CrontabImport {
  jobs: ImportedJob[];
  /** One line each, `file:line: ...`, for stderr. */
  warnings: string[];
  /** Comment lines for the top of the output (or of the jobs merged into a catalog). */
  header: string[];
}

/** Lines that cannot be imported; each problem is one line, `file:line: what: the fix`. */
export class CrontabError extends Error {
  override name = 'CrontabError';
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** A catalog the jobs cannot be merged into, or a name it has already: one line, nothing written. */
export class MergeError extends Error {
  override name = 'MergeError';
}

/** Job names stay well under the catalog's limit (80 characters with `stepcron-<stage>-` in front). */
export const MAX_IMPORTED_NAME = 40;
const DESCRIPTION_MAX = 200;
const YEAR_MS = 366 * 86_400_000;

// ---------------------------------------------------------------------------------------------------------------------
// Fields: read as cron reads them (cronie's entry.c grammar), into sets of values.

interface FieldSpec { label: string; min: number; max: number; names?: readonly string[] }

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const FIELDS: readonly FieldSpec[] = [
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day-of-month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: MONTH_NAMES },
  // cron takes 0-7 (7 is Sunday again); names are the first seven.
  { label: 'day-of-week', min: 0, max: 7, names: DAY_NAMES },
];

class FieldError extends Error {}

/** `list = range {',' range}`, `range = '*' ['/' step] | value ['-' value ['/' step]]`, values numbers or names. */
function parseField(spec: FieldSpec, text: string): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const match = /^(?:(\*)|([A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?)(?:\/([0-9]+))?$/.exec(item);
    // ?, L, W and # (AWS, Quartz, croner) first: 'L' alone would otherwise read as an unknown name.
    const quartz = /[?#]/.test(item) || /^(\d*L|L-?\d*|LW|\d+W)$/i.test(item);
    if (!match || quartz) {
      throw new FieldError(`'${item}' is not crontab syntax (numbers, ${spec.names ? 'names, ' : ''}a-b, */n, a-b/n, lists)` +
        (quartz ? ": ?, L, W and # are AWS/Quartz syntax that cron refuses; write the values out" : ''));
    }
    const [, star, first, last, stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step === 0) throw new FieldError(`the step in '${item}' must be at least 1`);
    let start = spec.min;
    let end = spec.max;
    if (!star) {
      start = value(spec, first!);
      end = last === undefined ? start : value(spec, last);
      // cronie reads '5/10' as an error, not as 5-59/10 as some crons do: say how to write it.
      if (last === undefined && stepText !== undefined) {
        throw new FieldError(`'${item}': cron takes a step only after '*' or a range: write ${first}-${spec.max === 7 ? 6 : spec.max}/${stepText}`);
      }
      if (start > end) {
        throw new FieldError(`the range '${first}-${last}' runs backwards, which cron refuses` +
          (spec.names === DAY_NAMES ? ` (SUN is 0): write it as two parts, e.g. ${first}-sat,sun` : ''));
      }
    }
    for (let v = start; v <= end; v += step) values.add(spec.max === 7 && v === 7 ? 0 : v);
  }
  return values;
}

function value(spec: FieldSpec, token: string): number {
  if (/^\d+$/.test(token)) {
    const v = Number(token);
    if (v < spec.min || v > spec.max) throw new FieldError(`${token} is out of range (${spec.min}-${spec.max})`);
    return v;
  }
  // cron compares names case-insensitively, three letters only (strcasecmp against Jan..Dec, Sun..Sat).
  const index = spec.names?.indexOf(token.toUpperCase() as never) ?? -1;
  if (index < 0) {
    throw new FieldError(`'${token}' is not ${spec.label === 'hour' ? 'an' : 'a'} ${spec.label} value (${spec.min}-${spec.max}${spec.names ? ` or ${spec.names[0]}-${spec.names.at(-1)}` : ''})`);
  }
  return spec.min + index;
}

/** One crontab entry, as cron's matcher sees it. */
interface CronEntry {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>; // 0-6, 0 = Sunday
  /** The day-of-month / day-of-week field starts with '*': cron then needs both day fields to match. */
  daysStar: boolean;
  weekdaysStar: boolean;
  /** '*' leads the minute or hour field: cron's "wildcard" jobs, which it treats differently around DST changes. */
  wildcard: boolean;
}

const NICKNAMES: Record<string, string> = {
  yearly: '0 0 1 1 *', annually: '0 0 1 1 *', monthly: '0 0 1 * *', weekly: '0 0 * * 0',
  daily: '0 0 * * *', midnight: '0 0 * * *', hourly: '0 * * * *',
};

function parseEntry(fields: string[]): CronEntry {
  const sets = fields.map((text, i) => {
    try {
      return parseField(FIELDS[i]!, text);
    } catch (err) {
      if (err instanceof FieldError) throw new FieldError(`${FIELDS[i]!.label}: ${err.message}`);
      throw err;
    }
  });
  const [minutes, hours, days, months, weekdays] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  return {
    minutes, hours, days, months, weekdays,
    daysStar: fields[2]!.startsWith('*'), weekdaysStar: fields[4]!.startsWith('*'),
    wildcard: fields[0]!.startsWith('*') || fields[1]!.startsWith('*'),
  };
}

/** cron's test for a day (cronie's find_jobs). */
function dayMatches(entry: CronEntry, day: number, weekday: number): boolean {
  return entry.daysStar || entry.weekdaysStar
    ? entry.days.has(day) && entry.weekdays.has(weekday)
    : entry.days.has(day) || entry.weekdays.has(weekday);
}

// ---------------------------------------------------------------------------------------------------------------------
// Writing a set back in AWS syntax.

function awsList(values: Set<number>, spec: FieldSpec): string {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === spec.max - spec.min + 1) return '*';
  const step = sorted.length >= 3 ? sorted[1]! - sorted[0]! : 0;
  if (step > 1 && sorted.every((v, i) => i === 0 || v - sorted[i - 1]! === step)) {
    // AWS writes "every n from a" as a/n (cron's */n); a/n runs to the field's end.
    const last = sorted.at(-1)!;
    return last + step > spec.max ? `${sorted[0]}/${step}` : `${sorted[0]}-${last}/${step}`;
  }
  return runs(sorted).map(([a, b]) => (a === b ? `${a}` : b === a + 1 ? `${a},${b}` : `${a}-${b}`)).join(',');
}

/** AWS day-of-week: 1-7 = SUN-SAT, written as names; no steps allowed, so ranges and lists only. */
function awsWeekdays(weekdays: Set<number>): string {
  const sorted = [...weekdays].sort((a, b) => a - b);
  return runs(sorted).map(([a, b]) => {
    const [from, to] = [DAY_NAMES[a]!, DAY_NAMES[b]!];
    return a === b ? from : b === a + 1 ? `${from},${to}` : `${from}-${to}`;
  }).join(',');
}

function runs(sorted: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const v of sorted) {
    const last = out.at(-1);
    if (last && v === last[1] + 1) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

const ALL_DAYS = 31;
const ALL_WEEKDAYS = 7;

/**
 * The AWS day fields that give cron's days: one pair, or two (day-of-month, day-of-week) when cron ORs them.
 * Throws a FieldError when cron ANDs two restrictions, which AWS cannot express.
 */
function awsDays(entry: CronEntry, fields: string[]): { pairs: Array<[string, string]>; everyDayNote?: string } {
  const daysAll = entry.days.size === ALL_DAYS;
  const weekdaysAll = entry.weekdays.size === ALL_WEEKDAYS;
  const dom = () => awsList(entry.days, FIELDS[2]!);
  if (entry.daysStar || entry.weekdaysStar) {
    if (daysAll) return { pairs: [[weekdaysAll ? '*' : '?', weekdaysAll ? '?' : awsWeekdays(entry.weekdays)]] };
    if (weekdaysAll) return { pairs: [[dom(), '?']] };
    throw new FieldError(`day-of-month '${fields[2]}' and day-of-week '${fields[4]}': cron runs it only on days matching both ` +
      `(a field that starts with '*' makes it AND), which AWS cron cannot express (one of them must be '?'): ` +
      "restrict one of the two, and test the other in the command, e.g. [ \"$(date +\\%u)\" = 1 ] && ...");
  }
  if (daysAll || weekdaysAll) {
    const field = daysAll ? `day-of-month '${fields[2]}'` : `day-of-week '${fields[4]}'`;
    return { pairs: [['*', '?']], everyDayNote: `${field} covers every day, and cron runs a line when either day field matches: it ran every day (imported so)` };
  }
  return { pairs: [[dom(), '?'], ['?', awsWeekdays(entry.weekdays)]] };
}

function awsCron({ minutes, hours, months }: CronEntry, [dom, dow]: [string, string]): string {
  return `cron(${awsList(minutes, FIELDS[0]!)} ${awsList(hours, FIELDS[1]!)} ${dom} ${awsList(months, FIELDS[3]!)} ${dow} *)`;
}

/**
 * The AWS cron expression(s) for one crontab schedule (five fields, or a nickname such as @daily): one, or two (the
 * days of the month, the weekdays) where cron runs the line when either day field matches. Throws CrontabError saying
 * what cannot be translated. The catalog uses it to answer a crontab line pasted into `schedule:`.
 */
export function awsSchedulesFor(spec: string): string[] {
  const text = spec.trim();
  const nickname = /^@(\S+)$/.exec(text);
  const fields = nickname ? NICKNAMES[nickname[1]!]?.split(' ') : text.split(/\s+/);
  if (fields?.length !== 5) throw new CrontabError([`'${spec}' is not a crontab schedule (five fields, or @hourly, @daily, @weekly, ...)`]);
  try {
    const cron = parseEntry(fields);
    return awsDays(cron, fields).pairs.map((pair) => awsCron(cron, pair));
  } catch (err) {
    if (err instanceof FieldError) throw new CrontabError([err.message]);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The crontab, line by line.

const ENV_LINE = /^\s*("[^"]*"|'[^']*'|[^\s="']+)\s*=\s*(.*?)\s*$/;
const MAIL_VARIABLES = new Set(['MAILTO', 'MAILFROM', 'CONTENT_TYPE', 'CONTENT_TRANSFER_ENCODING']);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type ZoneSource = 'CRON_TZ' | 'TZ' | 'option' | 'default';

interface Entry {
  line: number;
  text: string;
  fields: string[];
  cron: CronEntry;
  user?: string;
  command: string;
  comment: string[];
  environment: Record<string, string>;
  shell: string;
  timezone: string;
  zoneSource: ZoneSource;
}

/** Parses and translates a crontab; throws CrontabError listing every line that cannot be imported. */
export function importCrontab(text: string, options: CrontabOptions = {}): CrontabImport {
  const file = options.file ?? 'crontab';
  const at = (line: number) => `${file}:${line}`;
  const problems: string[] = [];
  const warnings: string[] = [];
  const header: string[] = [];
  const entries: Entry[] = [];

  if (options.timezone !== undefined && !isValidTimezone(options.timezone)) {
    throw new CrontabError([`--tz: '${options.timezone}' is not an IANA time zone such as Europe/Berlin or UTC`]);
  }
  let timezone = options.timezone ?? 'UTC';
  let zoneSource: ZoneSource = options.timezone === undefined ? 'default' : 'option';
  let cronTzSet = false;
  const environment: Record<string, string> = {};
  let shell = 'sh';
  let comment: string[] = [];

  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    // A crontab saved on Windows: cron would pass the '\r' on to the shell as part of the command.
    const content = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = content.trim();
    if (trimmed === '') {
      comment = [];
      return;
    }
    if (trimmed.startsWith('#')) {
      const note = trimmed.replace(/^#+\s*/, '');
      // A commented-out entry, or the column header of Debian's crontab template, is not a description of the next one.
      if (looksLikeEntry(note, options.system ?? false) || /^m\s+h\s+dom\s+mon\s+dow\b/i.test(note)) comment = [];
      else if (note !== '') comment.push(note);
      return;
    }
    const env = ENV_LINE.exec(content);
    if (env) {
      const name = unquote(env[1]!);
      const val = unquote(env[2]!);
      comment = [];
      if (name === 'CRON_TZ' || (name === 'TZ' && !cronTzSet)) {
        if (name === 'CRON_TZ') cronTzSet = true;
        if (isValidTimezone(val)) {
          timezone = val;
          zoneSource = name;
        } else {
          timezone = 'UTC';
          zoneSource = name;
          warnings.push(`${at(line)}: ${name}='${val}' is not an IANA time zone (such as Europe/Berlin): the jobs below it are read in UTC; fix the name and import again`);
        }
        if (name === 'CRON_TZ') return;
      }
      if (MAIL_VARIABLES.has(name)) {
        header.push(...mailNote(name, val, line));
        return;
      }
      if (name === 'RANDOM_DELAY') {
        warnings.push(`${at(line)}: RANDOM_DELAY=${val} (cronie's random start delay) has no equivalent: the jobs below it start on time`);
        return;
      }
      if (!ENV_NAME.test(name) || name.startsWith('STEPCRON_')) {
        problems.push(`${at(line)}: '${name}' cannot be a job's environment variable (letters, digits and _, not starting with a digit or STEPCRON_): rename it in the crontab and in the commands that read it`);
        return;
      }
      if (name === 'SHELL') shell = val;
      environment[name] = val;
      return;
    }
    const description = comment;
    comment = [];
    try {
      const entry = readEntry(content, options.system ?? false);
      if (entry === 'reboot') {
        warnings.push(`${at(line)}: @reboot runs when the machine starts, which has no schedule: left out (run it from the image's entry point if it is still needed)`);
        return;
      }
      // Output sent to a file (`>> /var/log/x.log 2>&1`) would vanish with the task: it goes to the job's log instead.
      const { command, removed } = withoutFileOutput(entry.command);
      if (removed.length) {
        warnings.push(`${at(line)}: '${removed.join(' ')}' taken out of the command: a task's files vanish when it stops, ` +
          "so its output now goes to the job's log (CloudWatch Logs; stepcron logs <job>)");
      }
      entries.push({
        ...entry, command, line, text: trimmed, comment: description, environment: { ...environment }, shell, timezone, zoneSource,
      });
      if (entry.user === undefined && /^root\s/.test(entry.command)) {
        warnings.push(`${at(line)}: the command starts with 'root': is this /etc/crontab or /etc/cron.d format? Then import with --system`);
      }
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      problems.push(`${at(line)}: ${err.message}`);
    }
  });

  const jobs: ImportedJob[] = [];
  // Unique among themselves; a clash with a catalog's jobs is refused when merging (an import run twice, say).
  const taken = new Set<string>();
  const prefix = options.prefix ?? '';
  if (prefix !== '' && !/^[a-z][a-z0-9-]*$/.test(prefix)) {
    throw new CrontabError([`--prefix: '${prefix}' must be lowercase letters, digits and '-', starting with a letter (e.g. legacy-)`]);
  }
  const from = options.from ?? new Date();
  for (const entry of entries) {
    let days: ReturnType<typeof awsDays>;
    try {
      days = awsDays(entry.cron, entry.fields);
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      problems.push(`${at(entry.line)}: ${err.message}`);
      continue;
    }
    if (days.everyDayNote) warnings.push(`${at(entry.line)}: ${days.everyDayNote}`);
    const split = days.pairs.length === 2;
    const base = uniqueName(prefix + nameFor(entry.command), taken, split ? ['-dom', '-dow'] : ['']);
    const names = split ? [`${base}-dom`, `${base}-dow`] : [base];
    const description = clip(entry.comment.length ? entry.comment.join(' ') : entry.command, DESCRIPTION_MAX);
    days.pairs.forEach(([dom, dow], i) => {
      const schedule = awsCron(entry.cron, [dom, dow]);
      // The translation writes only what schedule.ts accepts; anything else is a bug here, not in the crontab.
      const problem = scheduleProblem(schedule);
      if (problem) throw new Error(`crontab import produced an invalid schedule ${schedule} for line ${entry.line}: ${problem}`);
      const comments = [`${file} line ${entry.line}: ${entry.text}`];
      if (split) {
        comments.push(i === 0
          ? `cron ran it when day-of-month OR day-of-week matched: this job has the days of the month, ${names[1]} the weekdays`
          : `the weekdays of ${file} line ${entry.line}; ${names[0]} has the days of the month`);
      }
      if (entry.user !== undefined && entry.user !== 'root') comments.push(`cron ran it as user ${entry.user}; the task runs as the image's user`);
      const spec: ImportedSpec = {
        description: split ? clip(`${description} (${i === 0 ? 'days of the month' : 'weekdays'})`, DESCRIPTION_MAX + 20) : description,
        schedule,
        timezone: entry.timezone,
        ...(options.image !== undefined && { image: options.image }),
        command: [entry.shell, '-c', entry.command],
        ...(Object.keys(entry.environment).length > 0 && { environment: entry.environment }),
      };
      jobs.push({ name: names[i]!, line: entry.line, entry: entry.text, spec, comments });
    });
    if (split) {
      const both = nextDayOfBoth(jobs.at(-2)!.spec.schedule, jobs.at(-1)!.spec.schedule, entry.timezone, from);
      warnings.push(`${at(entry.line)}: day-of-month '${entry.fields[2]}' and day-of-week '${entry.fields[4]}' are both restricted: ` +
        `cron runs the line when either matches, AWS cron needs '?' in one, so it became two jobs, ${names[0]} and ${names[1]}; ` +
        `on a day that matches both, both run (cron ran it once)${both ? `: next on ${both}` : ''}`);
    }
    if (entry.user !== undefined && entry.user !== 'root') {
      warnings.push(`${at(entry.line)}: cron ran it as user '${entry.user}': ${names.join(' and ')} run as the image's user`);
    }
    warnings.push(...dstWarnings(entry, names, from).map((w) => `${at(entry.line)}: ${w}`));
  }

  // In line order (day fields, DST and splits are checked after the whole file is read); file-wide ones last.
  const lineOf = (w: string) => Number(/^:(\d+): /.exec(w.slice(file.length))?.[1] ?? Infinity);
  problems.sort((a, b) => lineOf(a) - lineOf(b));
  warnings.sort((a, b) => lineOf(a) - lineOf(b));
  if (problems.length) throw new CrontabError(problems);
  if (jobs.length === 0) throw new CrontabError([`${file}: no cron entries to import (only comments, variables or @reboot)`]);
  if (entries.some((e) => e.zoneSource === 'default')) {
    warnings.push(`${file}: no --tz given and no CRON_TZ= or TZ= line above ${entries.filter((e) => e.zoneSource === 'default').length === entries.length ? 'the entries' : 'some entries'}: ` +
      "they are read in UTC, while cron read them in the machine's time zone: pass --tz <zone> (e.g. --tz Europe/Berlin) unless it ran on UTC");
  }
  if (options.image === undefined) {
    warnings.push(`${file}: no --image given: the jobs have no image, so they take the catalog's defaults.image; without one, stepcron validate flags each job`);
  }
  header.unshift(
    `Imported from ${file} by \`stepcron import crontab\` (README: Coming from crontab).`,
    "Unlike cron, a job is retried on failure, stopped after timeoutSeconds and skipped while its previous run is still",
    'going (the defaults retries: 2, timeoutSeconds: 3600, concurrency: forbid): set them per job to keep what cron did.',
  );
  return { jobs, warnings, header };
}

function unquote(text: string): string {
  return text.length >= 2 && (text[0] === '"' || text[0] === "'") && text.at(-1) === text[0] ? text.slice(1, -1) : text;
}

function mailNote(name: string, value: string, line: number): string[] {
  if (name !== 'MAILTO') return [`${name}=${value} (line ${line}): mail settings have no equivalent; stepcron notifies through SNS.`];
  if (value === '') return [`MAILTO="" (line ${line}): cron mailed nothing for the jobs below it; stepcron still notifies failures (notify.onFailure).`];
  return [
    `MAILTO=${value} (line ${line}): cron mailed the output of the jobs below it there. stepcron notifies failures through`,
    `the stage's SNS topic: add ${value.split(',').map((a) => a.trim()).join(', ')} to params.notifyEmails in serverless.yml.`,
  ];
}

/** The fields, user and command of an entry line; 'reboot' for @reboot. Throws FieldError naming what is wrong. */
function readEntry(content: string, system: boolean): { fields: string[]; cron: CronEntry; user?: string; command: string } | 'reboot' {
  // cronie: a leading '-' only turns off logging of the line.
  const line = content.trimStart().replace(/^-(?=\S)/, '');
  let fields: string[];
  let rest: string;
  const nickname = /^@(\S+)(?:\s+(.*))?$/.exec(line);
  if (nickname) {
    const name = nickname[1]!;
    if (name === 'reboot') return 'reboot';
    const expansion = NICKNAMES[name];
    if (!expansion) throw new FieldError(`'@${name}' is not a cron nickname: use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually, or five fields`);
    fields = expansion.split(' ');
    rest = nickname[2] ?? '';
  } else {
    const parts = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (!parts) throw new FieldError(`not a cron entry, a comment or a NAME=value line: an entry is five time fields then ${system ? 'a user and ' : ''}the command`);
    fields = parts.slice(1, 6) as string[];
    rest = parts[6] ?? '';
    // A minute field is digits or '*' at heart: "run the backup at night" is no entry with a bad minute.
    if (!/[\d*]/.test(fields[0]!)) {
      throw new FieldError(`not a cron entry, a comment or a NAME=value line: an entry is five time fields then ${system ? 'a user and ' : ''}the command`);
    }
  }
  // cronie flags @hourly as a '*' hour and @weekly, @monthly and @yearly as a '*' day-of-week: their expansions
  // above start with '*' in those fields, which sets the same flags (wildcard, daysStar/weekdaysStar) here.
  const cron = parseEntry(fields);
  // cronie refuses a command starting with '*': it is nearly always a sixth time field (AWS's year, or seconds). A
  // year such as 2027 it would run as a command that is not found.
  const extra = /^([0-9*?,/-]+|[0-9]*L|[0-9]+W|[0-9]#[0-9])(?:\s|$)/.exec(rest);
  if (extra) {
    throw new FieldError(`the command starts with '${extra[1]}', which looks like a sixth time field: cron takes five (AWS's year field is not crontab syntax); remove it`);
  }
  let user: string | undefined;
  if (system) {
    const parts = /^(\S+)(?:\s+(.*))?$/.exec(rest);
    if (!parts?.[2]) throw new FieldError('expected a user name and then the command after the schedule (the /etc/crontab format, --system)');
    user = parts[1]!;
    rest = parts[2];
  }
  const command = rest.trimEnd();
  if (command === '') throw new FieldError('the entry has no command');
  return { fields, cron, ...(user !== undefined && { user }), command: cronCommand(command) };
}

/**
 * The command as the shell gets it: cron turns '\%' into '%', and an unescaped '%' ends the command (the rest becomes
 * its standard input, with further '%' as newlines), which a catalog job cannot give: refused with the fix.
 */
function cronCommand(command: string): string {
  let out = '';
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === '\\' && command[i + 1] === '%') {
      out += '%';
      i++;
    } else if (c === '%') {
      throw new FieldError("the command has an unescaped '%', which cron turns into a newline and the text after it into the command's " +
        "standard input: write \\% for a literal % (e.g. date +\\%F), or move the input into a script the command runs");
    } else out += c;
  }
  return out;
}

interface ShellToken { start: number; end: number; kind: 'word' | 'op' | 'out' | 'dup' | 'in'; target?: string }

/**
 * A shell command's tokens, enough to find redirections: words (quotes, escapes, $(...) and `...` kept whole),
 * operators (| || && ; &), output redirections to a file (`> f`, `2>>f`, `&> f`), fd duplications (2>&1), input.
 */
function shellTokens(command: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  let i = 0;
  const word = (): number => {
    let depth = 0;
    let quote = '';
    for (; i < command.length; i++) {
      const c = command[i]!;
      if (quote) {
        if (c === '\\' && quote !== "'") i++;
        else if (c === quote) quote = '';
      } else if (c === '\\') i++;
      else if (c === "'" || c === '"' || c === '`') quote = c;
      else if (c === '$' && command[i + 1] === '(') {
        depth++;
        i++;
      } else if (c === ')' && depth > 0) depth--;
      else if (depth === 0 && (/\s/.test(c) || '|;&<>()'.includes(c))) break;
    }
    return i;
  };
  while (i < command.length) {
    if (/\s/.test(command[i]!)) {
      i++;
      continue;
    }
    const start = i;
    const rest = command.slice(i);
    const redirect = /^(\d*|&)(>>?\|?)(&\d*-?)?/.exec(rest);
    if (redirect && (redirect[1] !== '&' || !redirect[3])) {
      i += redirect[0].length;
      if (redirect[3]) tokens.push({ start, end: i, kind: 'dup' });
      else {
        while (/[ \t]/.test(command[i] ?? '')) i++;
        const from = i;
        tokens.push({ start, end: word(), kind: 'out', target: command.slice(from, i) });
      }
      continue;
    }
    const input = /^\d*<+/.exec(rest);
    const op = /^(\|\||&&|\||;|&|\(|\))/.exec(rest);
    if (input) {
      i += input[0].length;
      while (/[ \t]/.test(command[i] ?? '')) i++;
      tokens.push({ start, end: word(), kind: 'in' });
    } else if (op) {
      i += op[0].length;
      tokens.push({ start, end: i, kind: 'op' });
    } else {
      const end = word();
      if (end === start) i++; // a character no rule takes: passed over
      else tokens.push({ start, end, kind: 'word' });
    }
  }
  return tokens;
}

/**
 * The command without its output redirections to files (`>> /var/log/x.log`, `> /dev/null`, and a `2>&1` beside
 * them), and what was taken out. Kept: a redirection in a command whose output feeds a pipe, one to a file the command
 * reads again (`> out.txt && mv out.txt ...`), `2>&1` alone, input redirections.
 */
export function withoutFileOutput(command: string): { command: string; removed: string[] } {
  const tokens = shellTokens(command);
  const drop: ShellToken[] = [];
  // Each simple command: the tokens between operators.
  let from = 0;
  for (let t = 0; t <= tokens.length; t++) {
    if (t < tokens.length && tokens[t]!.kind !== 'op') continue;
    const segment = tokens.slice(from, t);
    const pipedOn = t < tokens.length && command.slice(tokens[t]!.start, tokens[t]!.end) === '|';
    from = t + 1;
    if (pipedOn) continue;
    const files = segment.filter((k) => k.kind === 'out' && (k.target === '/dev/null' || (k.target !== '' && command.split(k.target!).length === 2)));
    if (files.length === 0 || files.length !== segment.filter((k) => k.kind === 'out').length) continue;
    drop.push(...segment.filter((k) => k.kind === 'out' || k.kind === 'dup'));
  }
  if (drop.length === 0) return { command, removed: [] };
  let out = '';
  let at = 0;
  for (const k of drop) {
    out += command.slice(at, k.start).replace(/[ \t]+$/, '');
    at = k.end;
  }
  out += command.slice(at);
  return { command: out.replace(/[ \t]+(?=;|&&|\|\||$)/g, '').trim(), removed: drop.map((k) => command.slice(k.start, k.end)) };
}

function looksLikeEntry(text: string, system: boolean): boolean {
  try {
    readEntry(text, system); // an entry, or @reboot (readEntry refuses an entry without a command)
  } catch {
    return false;
  }
  return true;
}

function clip(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Job names from commands: `/usr/local/bin/backup.sh --full /var/db` -> backup-db.

const SKIPPED_COMMANDS = new Set(['cd', 'test', '[', '[[', 'true', ':', 'set', 'export', 'source', '.', 'sleep', 'echo', 'umask']);
const WRAPPERS = new Set(['sudo', 'nice', 'ionice', 'nohup', 'exec', 'env', 'time', 'setsid', 'chronic', 'cronic', 'timeout', 'flock', 'stdbuf']);
/** Script names that say little alone: /opt/payroll/run.sh is named payroll-run. */
const GENERIC = new Set(['run', 'main', 'start', 'index', 'job', 'task', 'script', 'cron', 'app', 'do', 'go', 'exec', 'cli']);
const INTERPRETERS = /^(sh|bash|dash|zsh|ksh|python\d?(\.\d+)?|perl|ruby|php\d?|node|nodejs|Rscript)$/;

/** The program (past cd, test, wrappers and interpreters) and its first plain argument, as a name. */
function nameFor(command: string): string {
  for (const segment of command.split(/&&|\|\||[;|&(){}]/)) {
    const words = segment.trim().split(/\s+/).filter((w) => w !== '');
    const picked: string[] = [];
    let wrapper = '';
    for (let i = 0; i < words.length && picked.length < 2; i++) {
      const word = words[i]!.replace(/^["']|["']$/g, '');
      // Redirections (`> /dev/null`, `2>&1`), assignments, options, variables and numbers (nice -n 10) are no names.
      // (`&>` cannot start a word: the segments are split at every '&'.)
      if (/^\d*[<>]/.test(word)) {
        if (/^\d*(>>?|<)$/.test(word)) i++;
        continue;
      }
      if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word) || word.startsWith('-') || word.startsWith('$') || /^\d+[smhd]?$/.test(word)) {
        if (wrapper === 'sudo' && /^-[ug]$/.test(word)) i++;
        continue;
      }
      const base = word.split('/').filter(Boolean).at(-1) ?? '';
      if (picked.length === 0) {
        if (SKIPPED_COMMANDS.has(base)) break;
        if (wrapper === 'flock') {
          wrapper = ''; // flock's first argument is its lock file
          continue;
        }
        if (WRAPPERS.has(base) || INTERPRETERS.test(base)) {
          wrapper = base;
          continue;
        }
      }
      const stem = base.replace(/\.(sh|bash|py|pl|rb|php|js|ts)$/, '');
      const parent = word.split('/').filter(Boolean).at(-2);
      const slug = slugify(picked.length === 0 && GENERIC.has(stem) && parent ? `${parent}-${stem}` : stem);
      // An argument that repeats the program's name (logrotate /etc/logrotate.conf) says nothing more: passed over.
      if (picked.length === 1 && slug.split('-').includes(picked[0]!.split('-').at(-1)!)) continue;
      if (slug !== '') picked.push(slug);
    }
    if (picked.length > 0) return picked.join('-');
  }
  return slugify(command) || 'job';
}

function slugify(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** A name not yet taken (compared as CloudFormation ids, as the catalog does), with every suffix free too. */
export function uniqueName(wanted: string, taken: Set<string>, suffixes: string[]): string {
  const room = MAX_IMPORTED_NAME - Math.max(...suffixes.map((s) => s.length));
  let base = wanted.replace(/^([^a-z])/, 'job-$1');
  if (base.length > room) {
    // Cut at a '-' when that keeps most of the room, so no half word is left at the end.
    const cut = base.slice(0, room + 1).lastIndexOf('-');
    base = cut >= room / 2 ? base.slice(0, cut) : base.slice(0, room);
  }
  // A '-' left at the end (by the cut, or by the prefix) goes below, with the room for -n.
  for (let n = 1; ; n++) {
    const tail = n === 1 ? '' : `-${n}`;
    const name = `${base.slice(0, room - tail.length).replace(/-+$/, '')}${tail}`;
    const ids = suffixes.map((s) => logicalId(`${name}${s}`));
    if (ids.every((id) => !taken.has(id))) {
      for (const id of ids) taken.add(id);
      return name;
    }
  }
}

/**
 * The first local day (yyyy-mm-dd) after `from`, within 10 years, on which both jobs of a split entry fire (`dom`:
 * the days-of-the-month schedule, `dow`: the weekdays one): there both run, where cron ran once. Undefined if none.
 */
export function nextDayOfBoth(dom: string, dow: string, zone: string, from: Date): string | undefined {
  const [a, b] = [parseSchedule(dom), parseSchedule(dow)];
  if (a.kind !== 'cron' || b.kind !== 'cron' || b.fields.dayOfWeek.kind !== 'days') return undefined;
  const weekdays = b.fields.dayOfWeek.days;
  const local = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short' });
  const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const until = from.getTime() + 10 * 366 * 86_400_000;
  let found: string | undefined;
  eachCronTime(a.fields, zone, from.getTime(), (time) => {
    const parts = Object.fromEntries(local.formatToParts(time).map((p) => [p.type, p.value]));
    // AWS numbers weekdays 1 (SUN) to 7 (SAT).
    if (weekdays.includes(WEEKDAYS.indexOf(parts.weekday!) + 1)) found = `${parts.year}-${parts.month}-${parts.day}`;
    return found === undefined && time < until;
  });
  return found;
}

// ---------------------------------------------------------------------------------------------------------------------
// DST: the local times a zone's changes skip or repeat, and the entries that fire in them.

export interface Transition {
  /** The local day of the change, yyyy-mm-dd, and the wall-clock span skipped (gap) or repeated (overlap). */
  date: string;
  kind: 'gap' | 'overlap';
  /** Wall-clock minutes, as ms read as UTC: [start, end). */
  start: number;
  end: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function offsetAt(zone: string, instant: number): number {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  const parts = formatter.formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'));
  return wall - Math.floor(instant / 60_000) * 60_000;
}

const transitionCache = new Map<string, Transition[]>();

/** The zone's offset changes in the year after `from`, found day by day and then to the minute. */
export function transitions(zone: string, fromInstant: number): Transition[] {
  // Changes happen on whole minutes: searching from one finds each change's exact minute.
  const from = Math.floor(fromInstant / 60_000) * 60_000;
  const key = `${zone} ${from}`;
  const cached = transitionCache.get(key);
  if (cached) return cached;
  const found: Transition[] = [];
  if (zone !== 'UTC') {
    const DAY = 86_400_000;
    for (let t = from; t < from + YEAR_MS; t += DAY) {
      const before = offsetAt(zone, t);
      const after = offsetAt(zone, t + DAY);
      if (before === after) continue;
      let [lo, hi] = [t, t + DAY];
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
        if (offsetAt(zone, mid) === before) lo = mid;
        else hi = mid;
      }
      const [a, b] = [hi + before, hi + after];
      const kind = after > before ? 'gap' : 'overlap';
      const [start, end] = kind === 'gap' ? [a, b] : [b, a];
      found.push({ date: new Date(start).toISOString().slice(0, 10), kind, start, end });
    }
  }
  transitionCache.set(key, found);
  return found;
}

/**
 * Where cron and Scheduler part ways around DST, within the year after `from`. Scheduler skips a time a spring-forward
 * skips and runs a repeated time once, at the first. cron in the machine's zone (cronie, Vixie cron) runs a skipped
 * fixed-time entry right after the change, and repeats entries whose minute or hour starts with '*' (its "wildcard"
 * entries); cronie under CRON_TZ skips the skipped times too but runs a repeated time twice.
 */
function dstWarnings(entry: Entry, names: string[], from: Date): string[] {
  const warnings: string[] = [];
  const seen = new Set<string>();
  const cronTz = entry.zoneSource === 'CRON_TZ';
  const { cron } = entry;
  for (const change of transitions(entry.timezone, from.getTime())) {
    const differs = change.kind === 'gap' ? !cronTz && !cron.wildcard : cronTz || cron.wildcard;
    if (!differs || seen.has(change.kind)) continue;
    const hits: string[] = [];
    for (let wall = change.start; wall < change.end; wall += 60_000) {
      const d = new Date(wall);
      if (cron.minutes.has(d.getUTCMinutes()) && cron.hours.has(d.getUTCHours()) && cron.months.has(d.getUTCMonth() + 1)
        && dayMatches(cron, d.getUTCDate(), d.getUTCDay())) hits.push(d.toISOString().slice(11, 16));
    }
    if (hits.length === 0) continue;
    seen.add(change.kind);
    const times = hits.length === 1 ? hits[0] : `${hits[0]}-${hits.at(-1)}`;
    const jobs = names.join(' and ');
    if (change.kind === 'gap') {
      warnings.push(`${jobs}: ${times} does not exist on ${change.date} in ${entry.timezone} (clocks spring forward): ` +
        "cron (in the machine's zone) ran it right after the change; EventBridge Scheduler skips it that day (README: Coming from crontab)");
    } else {
      const cronSide = cronTz ? 'cronie (CRON_TZ) ran it at both'
        : "cron (in the machine's zone) ran it at both, as its minute or hour field starts with '*'";
      warnings.push(`${jobs}: ${times} happens twice on ${change.date} in ${entry.timezone} (clocks fall back): ` +
        `${cronSide}; EventBridge Scheduler runs it once, at the first (README: Coming from crontab)`);
    }
  }
  return warnings;
}

// ---------------------------------------------------------------------------------------------------------------------
// YAML: the jobs written out, alone or into a catalog's text.

/** The jobs as YAML under `jobs:`, each key indented by `indent` spaces, with their comments. */
export function renderJobs(imported: Pick<CrontabImport, 'jobs'>, indent: number, header: string[] = []): string {
  const pad = ' '.repeat(indent);
  const lines: string[] = header.map((h) => `${pad}# ${h}`.trimEnd());
  for (const job of imported.jobs) {
    const doc = new Document({ [job.name]: job.spec });
    // Imports from manifests may leave the command out (the image's own), so only a command there is written inline.
    const command = doc.getIn([job.name, 'command'], true);
    if (isSeq(command)) (command as YAMLSeq).flow = true;
    const body = doc.toString({ lineWidth: 0, flowCollectionPadding: false }).trimEnd().split('\n');
    lines.push(...job.comments.map((c) => `${pad}# ${c}`), ...body.map((l) => `${pad}${l}`.replace(/^\s+$/, '')));
  }
  return `${lines.join('\n')}\n`;
}

/** A catalog holding just the imported jobs, the header on top. */
export function renderCatalog(imported: CrontabImport): string {
  return `${imported.header.map((h) => `# ${h}`).join('\n')}\njobs:\n${renderJobs(imported, 2)}`;
}

/**
 * The catalog text with the imported jobs added at the end of its `jobs:` map: only inserted lines, the rest of the
 * file byte for byte as it was (comments, order, quoting). Refuses a job name the catalog has already.
 */
export function mergeJobs(existing: string, imported: CrontabImport, file: string): string {
  const doc = parseDocument(existing);
  if (doc.errors.length) {
    throw new MergeError(`-o ${file}: is not valid YAML (${doc.errors[0]!.message.split('\n')[0]}): fix it, or write the jobs to a new file`);
  }
  const root = doc.contents;
  if (root !== null && !isMap(root)) throw new MergeError(`-o ${file}: is not a catalog (a map with defaults: and jobs:): give a catalog file, or a new file`);
  const pair = root?.items.find((p) => isScalar(p.key) && p.key.value === 'jobs');
  const jobs = pair?.value;
  const names = isMap(jobs) ? jobs.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key)) : [];

  // Names that differ only in '-' are the same resources (the catalog refuses them too).
  const existingIds = new Map(names.map((n) => [logicalId(n), n]));
  const clashes = imported.jobs.filter((j) => existingIds.has(logicalId(j.name)));
  if (clashes.length) {
    const list = clashes.map((j) => `'${j.name}' (line ${j.line}) clashes with job '${existingIds.get(logicalId(j.name))}'`).join(', ');
    throw new MergeError(`-o ${file}: ${list} already in ${file}: nothing was written; rename or remove ${clashes.length === 1 ? 'it' : 'them'} there, ` +
      'or import with --prefix <text>- (e.g. --prefix legacy-)');
  }

  let merged: string;
  const text = existing === '' || existing.endsWith('\n') ? existing : `${existing}\n`;
  if (!pair) {
    merged = `${text}jobs:\n${renderJobs(imported, 2, imported.header)}`;
  } else if (isMap(jobs)) {
    if (jobs.flow) throw new MergeError(`-o ${file}: jobs is written as a flow map ({...}): write it as a block map (one job per indented key) to merge into it`);
    const firstKey = jobs.items[0]?.key as { range?: [number, number, number] } | undefined;
    const indent = firstKey?.range ? firstKey.range[0] - text.lastIndexOf('\n', firstKey.range[0] - 1) - 1 : 2;
    // Where the map ends (after the last job and the comments indented under it), at the start of a line.
    const end = jobs.range![1];
    const at = text.lastIndexOf('\n', end - 1) + 1 === end ? end : (text.indexOf('\n', end) + 1 || text.length);
    merged = `${text.slice(0, at)}${renderJobs(imported, indent, imported.header)}${text.slice(at)}`;
  } else if (jobs === null || (isScalar(jobs) && jobs.value === null && (jobs.source ?? '') === '')) {
    // `jobs:` with nothing under it: the jobs go right below that line.
    const keyEnd = (pair.key as { range: [number, number, number] }).range[1];
    const at = text.indexOf('\n', keyEnd) + 1 || text.length;
    merged = `${text.slice(0, at)}${renderJobs(imported, 2, imported.header)}${text.slice(at)}`;
  } else {
    throw new MergeError(`-o ${file}: jobs is not a map of job name -> job: fix it, or write the jobs to a new file`);
  }

  // The insertion must add exactly these jobs and change nothing else; anything else is a bug here.
  const before = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) ?? {};
  const after = parseDocument(merged).toJS({ maxAliasCount: MAX_YAML_ALIASES });
  const expected = { ...before, jobs: { ...(before.jobs ?? {}), ...Object.fromEntries(imported.jobs.map((j) => [j.name, j.spec])) } };
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(after)), JSON.parse(JSON.stringify(expected)))) {
    throw new Error(`merging into ${file} would change more than the imported jobs: nothing was written`);
  }
  return merged;
}
