// EventBridge Scheduler schedule expressions - cron(...), rate(...) and at(...) - parsed and validated as AWS documents
// them, with one-line errors, plus the next fire times in an IANA time zone. Pure: Node built-ins and Intl only.
//
// DST rule implemented (EventBridge Scheduler user guide, "Daylight savings time"): a wall-clock time skipped by a
// spring-forward does not fire that day; a wall-clock time that occurs twice at fall-back fires once, at its first occurrence.

import { closest } from './names';

/** Day-of-month field: '?', explicit days (numbers, ranges, steps, '*'), 'L', 'LW' or 'nW'. */
export type DayOfMonthRule =
  | { kind: 'any' }
  | { kind: 'days'; days: number[] }
  | { kind: 'last' }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number };

/** Day-of-week field (1=SUN ... 7=SAT): '?', explicit weekdays, 'nL' (last n-day of the month) or 'n#k' (k-th n-day). */
export type DayOfWeekRule =
  | { kind: 'any' }
  | { kind: 'days'; days: number[] }
  | { kind: 'last'; weekday: number }
  | { kind: 'nth'; weekday: number; nth: number };

/** A parsed cron expression; number lists are sorted and free of duplicates. */
export interface CronFields {
  minutes: number[];
  hours: number[];
  dayOfMonth: DayOfMonthRule;
  months: number[];
  dayOfWeek: DayOfWeekRule;
  years: number[];
}

export type RateUnit = 'minute' | 'hour' | 'day';

export type Schedule =
  | { kind: 'cron'; expression: string; fields: CronFields }
  | { kind: 'rate'; expression: string; value: number; unit: RateUnit; seconds: number }
  | { kind: 'at'; expression: string; localTime: string /* yyyy-mm-ddThh:mm:ss */ };

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

const FORMS = 'cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)';

/** Parses and validates a schedule expression; throws a ScheduleError naming what is wrong and what is allowed. */
export function parseSchedule(expression: string): Schedule {
  if (typeof expression !== 'string') throw new ScheduleError(`schedule must be a string: ${FORMS}`);
  if (expression !== expression.trim()) {
    throw new ScheduleError(`schedule must not start or end with white space (got ${quote(expression)})`);
  }
  const form = /^(cron|rate|at)\((.*)\)$/s.exec(expression);
  const body = form?.[2] ?? '';
  switch (form?.[1]) {
    case 'cron': return { kind: 'cron', expression, fields: parseCron(body) };
    case 'rate': return { kind: 'rate', expression, ...parseRate(body) };
    case 'at': return { kind: 'at', expression, localTime: parseAt(body) };
    default: throw new ScheduleError(`schedule must be ${FORMS} (got ${quote(expression)})`);
  }
}

/** The ScheduleError message for an invalid expression, or undefined when it is valid. */
export function scheduleProblem(expression: string): string | undefined {
  try {
    parseSchedule(expression);
    return undefined;
  } catch (err) {
    if (err instanceof ScheduleError) return err.message;
    throw err;
  }
}

/** Quotes user text for a one-line message: control characters (newlines) are escaped. */
function quote(text: string): string {
  return `'${JSON.stringify(text).slice(1, -1)}'`;
}

// ---------------------------------------------------------------------------------------------------------------------
// cron(minutes hours day-of-month month day-of-week year)

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  /** Names for min, min+1, ... (upper case, as AWS documents them). */
  names?: readonly string[];
  /** Largest step after '/'; 0 when the field takes no '/' (Quartz's limits: 59, 23, 31, 12). */
  maxStep: number;
  allowed: string;
}

const MINUTES: FieldSpec = { label: 'minutes', min: 0, max: 59, maxStep: 59, allowed: '0-59 with , - * /' };
const HOURS: FieldSpec = { label: 'hours', min: 0, max: 23, maxStep: 23, allowed: '0-23 with , - * /' };
const DAY_OF_MONTH: FieldSpec = {
  label: 'day-of-month', min: 1, max: 31, maxStep: 31, allowed: "1-31 with , - * /, or alone: ?, L, LW, nW (e.g. 15W)",
};
const MONTH: FieldSpec = {
  label: 'month', min: 1, max: 12, maxStep: 12, allowed: '1-12 or JAN-DEC with , - * /',
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
const DAY_OF_WEEK: FieldSpec = {
  label: 'day-of-week', min: 1, max: 7, maxStep: 0,
  allowed: '1-7 or SUN-SAT (1=SUN) with , - *, or alone: ?, L, nL (e.g. 6L), n#k (e.g. 2#1, k 1-5)',
  names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
};
const YEAR: FieldSpec = { label: 'year', min: 1970, max: 2199, maxStep: 229, allowed: '1970-2199 with , - * /' };

function parseCron(body: string): CronFields {
  if (/^\s|\s$|\s\s|[^\S ]/.test(body)) {
    throw new ScheduleError(`cron: separate the 6 fields with single spaces (got ${quote(body)})`);
  }
  const texts = body.split(' ');
  const [minutes = '', hours = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = texts;
  if (texts.length !== 6 || body === '') {
    throw new ScheduleError(
      `cron: expected 6 fields (minutes hours day-of-month month day-of-week year), got ${body === '' ? 0 : texts.length}`);
  }
  const fields: CronFields = {
    minutes: parsePlainField(MINUTES, minutes),
    hours: parsePlainField(HOURS, hours),
    dayOfMonth: parseDayOfMonth(dayOfMonth),
    months: parsePlainField(MONTH, month),
    dayOfWeek: parseDayOfWeek(dayOfWeek),
    years: parsePlainField(YEAR, year),
  };
  // AWS: a value or '*' in one day field requires '?' in the other; '?' in both is refused too.
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new ScheduleError(
      `day-of-month and day-of-week: exactly one must be '?' (got ${quote(dayOfMonth)} and ${quote(dayOfWeek)})`);
  }
  return fields;
}

function fieldError(spec: FieldSpec, problem: string): ScheduleError {
  return new ScheduleError(`${spec.label}: ${problem} (allowed ${spec.allowed})`);
}

/** Minutes, hours, month and year: lists of numbers, names, ranges and steps only. */
function parsePlainField(spec: FieldSpec, text: string): number[] {
  if (text.includes('?')) throw fieldError(spec, `'?' is only allowed in day-of-month or day-of-week`);
  return parseList(spec, text);
}

function parseList(spec: FieldSpec, text: string): number[] {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') throw fieldError(spec, `${quote(text)} has an empty list entry`);
    for (const value of parseItem(spec, item)) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/** One list entry: '*', 'v', 'a-b', each optionally with '/step' ('v/step' runs from v to the field's maximum). */
function parseItem(spec: FieldSpec, item: string): number[] {
  const [base = '', stepText, extra] = item.split('/');
  if (extra !== undefined) throw fieldError(spec, `${quote(item)} has more than one '/'`);
  const step = stepText === undefined ? 1 : parseStep(spec, item, stepText);
  const [start, end] = parseRange(spec, base, stepText !== undefined);
  const values: number[] = [];
  for (let value = start; value <= end; value += step) values.push(value);
  return values;
}

function parseStep(spec: FieldSpec, item: string, stepText: string): number {
  if (spec.maxStep === 0) throw fieldError(spec, `'/' is not allowed here (got ${quote(item)})`);
  const step = /^\d+$/.test(stepText) ? Number(stepText) : NaN;
  if (!(step >= 1 && step <= spec.maxStep)) {
    throw fieldError(spec, `the step in ${quote(item)} must be a whole number from 1 to ${spec.maxStep}`);
  }
  return step;
}

function parseRange(spec: FieldSpec, base: string, stepped: boolean): [number, number] {
  if (base === '*') return [spec.min, spec.max];
  const dash = base.indexOf('-');
  if (dash < 0) {
    const value = parseValue(spec, base);
    return [value, stepped ? spec.max : value];
  }
  const start = parseValue(spec, base.slice(0, dash));
  const end = parseValue(spec, base.slice(dash + 1));
  // Quartz can wrap ranges such as FRI-MON; AWS does not document it, so it is refused rather than guessed at.
  if (start > end) throw fieldError(spec, `the range ${quote(base)} runs backwards: its start must not exceed its end`);
  return [start, end];
}

function parseValue(spec: FieldSpec, token: string): number {
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    if (value < spec.min || value > spec.max) throw fieldError(spec, `${token} is out of range`);
    return value;
  }
  const index = spec.names?.indexOf(token) ?? -1;
  if (index >= 0) return spec.min + index;
  if (spec.names?.includes(token.toUpperCase())) throw fieldError(spec, `${quote(token)} must be written in upper case`);
  throw fieldError(spec, `${quote(token)} is not a valid value`);
}

function parseDayOfMonth(text: string): DayOfMonthRule {
  if (text === '?') return { kind: 'any' };
  if (text === 'L') return { kind: 'last' };
  if (text === 'LW') return { kind: 'lastWeekday' };
  if (!/[?LW]/.test(text)) return { kind: 'days', days: parseList(DAY_OF_MONTH, text) };
  // Quartz refuses ?, L and W inside a list; AWS documents them only on their own.
  if (text.includes(',')) throw fieldError(DAY_OF_MONTH, `${quote(text)}: ?, L, LW and nW must be the whole field`);
  const nearest = /^(\d+)W$/.exec(text);
  if (nearest) return { kind: 'nearestWeekday', day: parseValue(DAY_OF_MONTH, nearest[1] ?? '') };
  if (/^L-/.test(text)) {
    throw fieldError(DAY_OF_MONTH, `${quote(text)}: offsets from the last day (L-n) are not supported by AWS`);
  }
  throw fieldError(DAY_OF_MONTH, `${quote(text)} is not a valid use of ?, L or W`);
}

function parseDayOfWeek(text: string): DayOfWeekRule {
  if (text === '?') return { kind: 'any' };
  if (text === 'L') return { kind: 'days', days: [7] }; // Quartz and AWS: L alone is the last day of the week, Saturday
  if (!/[?L#]/.test(text)) return { kind: 'days', days: parseList(DAY_OF_WEEK, text) };
  // AWS: "3#1,6#3" is invalid - one # expression only; Quartz refuses L and ? in lists as well.
  if (text.includes(',')) throw fieldError(DAY_OF_WEEK, `${quote(text)}: ?, L, nL and n#k must be the whole field`);
  const nth = /^([^#]+)#(.*)$/.exec(text);
  if (nth) {
    const weekday = parseValue(DAY_OF_WEEK, nth[1] ?? '');
    const n = nth[2] ?? '';
    if (!/^[1-5]$/.test(n)) throw fieldError(DAY_OF_WEEK, `${quote(text)}: the occurrence after # must be 1-5`);
    return { kind: 'nth', weekday, nth: Number(n) };
  }
  const last = /^(\d+)L$/.exec(text);
  if (last) return { kind: 'last', weekday: parseValue(DAY_OF_WEEK, last[1] ?? '') };
  throw fieldError(DAY_OF_WEEK, `${quote(text)} is not a valid use of ?, L or #`);
}

// ---------------------------------------------------------------------------------------------------------------------
// rate(value unit) and at(yyyy-mm-ddThh:mm:ss)

const UNIT_SECONDS: Record<RateUnit, number> = { minute: 60, hour: 3600, day: 86400 };

function isRateUnit(unit: string): unit is RateUnit {
  return unit === 'minute' || unit === 'hour' || unit === 'day';
}

function parseRate(body: string): { value: number; unit: RateUnit; seconds: number } {
  const parts = /^(\S+) (\S+)$/.exec(body);
  if (!parts) {
    throw new ScheduleError(`rate: expected rate(value unit) such as rate(5 minutes) or rate(1 hour) (got ${quote(`rate(${body})`)})`);
  }
  const [, valueText = '', unitText = ''] = parts;
  const value = /^\d+$/.test(valueText) ? Number(valueText) : 0;
  if (value < 1) throw new ScheduleError(`rate: the value must be a positive whole number (got ${quote(valueText)})`);
  const unit = unitText.replace(/s$/, '');
  if (!isRateUnit(unit)) {
    throw new ScheduleError(`rate: the unit must be minute(s), hour(s) or day(s) (got ${quote(unitText)})`);
  }
  // AWS: singular unit for 1, plural for anything else.
  const plural = unitText.endsWith('s');
  if (value === 1 && plural) throw new ScheduleError(`rate: use the singular unit for 1: rate(1 ${unit}) (got rate(${body}))`);
  if (value !== 1 && !plural) {
    throw new ScheduleError(`rate: use the plural unit for values other than 1: rate(${value} ${unit}s) (got rate(${body}))`);
  }
  const seconds = value * UNIT_SECONDS[unit];
  if (!Number.isSafeInteger(seconds * 1000)) throw new ScheduleError(`rate: the value ${valueText} is too large`);
  return { value, unit, seconds };
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

function parseAt(body: string): string {
  const parts = LOCAL_TIME.exec(body);
  if (!parts) {
    throw new ScheduleError(`at: expected at(yyyy-mm-ddThh:mm:ss) such as at(2026-11-24T02:00:00) (got ${quote(`at(${body})`)})`);
  }
  const [year, month, day, hour, minute, second] = parts.slice(1).map(Number) as [number, number, number, number, number, number];
  const real = month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
    && hour <= 23 && minute <= 59 && second <= 59;
  if (!real) throw new ScheduleError(`at: ${body} is not a real date and time (yyyy-mm-ddThh:mm:ss, hours 00-23)`);
  return body;
}

// ---------------------------------------------------------------------------------------------------------------------
// Time zones

const formatters = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

// Intl also accepts lower-case names and offsets like '+01:00'; AWS wants IANA names as tzdb spells them.
const ZONE_NAME = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*)*$/;

/** True for IANA time zone names Intl knows (e.g. Europe/Berlin, America/New_York, UTC). */
/** Canonical IANA names, read once: a lookup costs ~4 ms where the first formatter costs ~30 ms (ICU's zone data). */
let canonicalZones: Set<string> | undefined;

export function isValidTimezone(zone: string): boolean {
  if (typeof zone !== 'string' || !ZONE_NAME.test(zone)) return false;
  if (zone === 'UTC') return true;
  canonicalZones ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (canonicalZones.has(zone)) return true;
  // Aliases (Etc/UTC, US/Pacific) are valid too: only a formatter knows them.
  try {
    zoneFormatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** Why a time zone is refused, repeating it, with the closest IANA name when one is near (Europe/Berln, europe/berlin). */
export function timezoneProblem(zone: string): string {
  canonicalZones ??= new Set(Intl.supportedValuesOf('timeZone'));
  const near = typeof zone === 'string' ? closest(zone, ['UTC', ...canonicalZones]) : undefined;
  return `${quote(String(zone))} is not an IANA time zone such as Europe/Berlin or UTC${near ? `: did you mean ${near}?` : ''}`;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The zone's UTC offset (ms) at an instant: the wall-clock fields read as UTC, minus the instant (whole seconds). */
function offsetAt(zone: string, instant: number): number {
  if (zone === 'UTC') return 0;
  const parts = zoneFormatter(zone).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

interface LocalMinute { year: number; month: number; day: number; hour: number; minute: number }

function localMinuteAt(zone: string, instant: number): LocalMinute {
  const wall = new Date(instant + offsetAt(zone, instant));
  return {
    year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate(),
    hour: wall.getUTCHours(), minute: wall.getUTCMinutes(),
  };
}

/** Offsets at the earliest and latest instants a local day can span; equal means no DST change that day. */
interface DayOffsets { before: number; after: number }

function dayOffsets(zone: string, dayStart: number): DayOffsets {
  // UTC offsets lie within -12h..+14h, so local day D lies within [D 00:00 - 14h, D 24:00 + 12h] in UTC.
  return { before: offsetAt(zone, dayStart - 14 * HOUR), after: offsetAt(zone, dayStart + DAY + 12 * HOUR) };
}

/** The instant a wall-clock time (ms, read as UTC) first happens in the zone; undefined inside a spring-forward gap. */
function firstInstant(zone: string, offsets: DayOffsets, wall: number): number | undefined {
  if (offsets.before === offsets.after) return wall - offsets.before;
  // A DST change is near: try both offsets, keep those that really show this wall time, and take the earliest.
  const candidates = [wall - offsets.before, wall - offsets.after].filter((t) => t + offsetAt(zone, t) === wall);
  return candidates.length === 0 ? undefined : Math.min(...candidates);
}

// ---------------------------------------------------------------------------------------------------------------------
// Next fire times

/** Searches stop at the end of the last year a cron expression may name. */
const SEARCH_END = Date.UTC(2200, 0, 1);

export interface FireTimeOptions {
  /** IANA zone the cron fields and at() time are read in; default 'UTC'. */
  timezone?: string | undefined;
  /** Times returned are strictly after this instant. */
  from: Date;
  count: number;
}

/** The next `count` fire times strictly after `from` (fewer when the schedule ends or passes year 2199). */
export function nextFireTimes(schedule: Schedule | string, options: FireTimeOptions): Date[] {
  const parsed = typeof schedule === 'string' ? parseSchedule(schedule) : schedule;
  const zone = options.timezone ?? 'UTC';
  if (!isValidTimezone(zone)) {
    throw new ScheduleError(`timezone: ${timezoneProblem(zone)}`);
  }
  const from = options.from.getTime();
  if (Number.isNaN(from)) throw new ScheduleError('from: must be a valid Date');
  const { count } = options;
  if (!Number.isInteger(count) || count < 0) throw new ScheduleError(`count: must be a whole number >= 0 (got ${count})`);
  if (count === 0) return [];
  switch (parsed.kind) {
    case 'rate': return rateTimes(parsed.seconds * 1000, from, count);
    case 'at': return atTimes(parsed.localTime, zone, from);
    case 'cron': return cronTimes(parsed.fields, zone, from, count);
  }
}

/**
 * The fire times after `after` up to and including `until` (at most `cap`), in batches that double from 32: a daily
 * job's month is one batch of 32, not a thousand times (years) cut down. `status`, the console and the monthly cost
 * ask it for 1,000 jobs.
 */
export function fireTimesUntil(schedule: Schedule, timezone: string, after: Date, until: number, cap = Number.POSITIVE_INFINITY): Date[] {
  const times: Date[] = [];
  let cursor = after;
  for (let size = 32; times.length < cap; size = Math.min(size * 2, 2048)) {
    const batch = nextFireTimes(schedule, { timezone, from: cursor, count: size });
    for (const t of batch) {
      if (t.getTime() > until || times.length >= cap) return times;
      times.push(t);
    }
    if (batch.length < size) break;
    cursor = batch.at(-1)!;
  }
  return times;
}

/** rate(): every period after `from`; a day is always 24 hours, whatever DST does (as AWS documents). */
function rateTimes(period: number, from: number, count: number): Date[] {
  const times: Date[] = [];
  for (let k = 1; k <= count && from + k * period < SEARCH_END; k++) times.push(new Date(from + k * period));
  return times;
}

function atTimes(localTime: string, zone: string, from: number): Date[] {
  const wall = Date.parse(`${localTime}Z`);
  const dayStart = wall - (((wall % DAY) + DAY) % DAY);
  // AWS documents DST only for cron; a one-time schedule in a skipped hour is treated the same way: it does not fire.
  const instant = firstInstant(zone, dayOffsets(zone, dayStart), wall);
  return instant !== undefined && instant > from ? [new Date(instant)] : [];
}

function cronTimes(fields: CronFields, zone: string, from: number, count: number): Date[] {
  const times: Date[] = [];
  eachCronTime(fields, zone, from, (time) => {
    times.push(new Date(time));
    return times.length < count;
  });
  return times;
}

/**
 * Calls `visit` with each fire time (ms) of the cron fields strictly after `from`, in order, until it returns false or
 * the schedule ends: nextFireTimes without a Date per time, for walks over thousands of times (alerts' longestGap).
 */
export function eachCronTime(fields: CronFields, zone: string, from: number, visit: (time: number) => boolean): void {
  // Local wall-clock times map to instants in the same order (first occurrences only), so scanning forward from
  // `from`'s own wall-clock minute finds every later fire time in order.
  const start = localMinuteAt(zone, from);
  for (const dayStart of matchingDays(fields, start)) {
    const offsets = dayOffsets(zone, dayStart);
    for (const wall of minutesOfDay(fields, dayStart, start)) {
      const instant = firstInstant(zone, offsets, wall);
      if (instant === undefined || instant <= from) continue;
      if (!visit(instant)) return;
    }
  }
}

/** Local days (midnight, ms read as UTC) on or after `start`'s day that the year, month and day fields allow. */
function* matchingDays(fields: CronFields, start: LocalMinute): Generator<number> {
  const dayMatches = dayTest(fields);
  for (const year of fields.years) {
    if (year < start.year) continue;
    for (const month of fields.months) {
      if (year === start.year && month < start.month) continue;
      const last = daysInMonth(year, month);
      const first = year === start.year && month === start.month ? start.day : 1;
      for (let day = first; day <= last; day++) {
        if (dayMatches(year, month, day, last)) yield Date.UTC(year, month - 1, day);
      }
    }
  }
}

/** The day's allowed hour:minute wall-clock times, skipping those before `start` on `start`'s own day. */
function* minutesOfDay(fields: CronFields, dayStart: number, start: LocalMinute): Generator<number> {
  const startDay = Date.UTC(start.year, start.month - 1, start.day);
  for (const hour of fields.hours) {
    if (dayStart === startDay && hour < start.hour) continue;
    for (const minute of fields.minutes) {
      if (dayStart === startDay && hour === start.hour && minute < start.minute) continue;
      yield dayStart + hour * HOUR + minute * MINUTE;
    }
  }
}

type DayTest = (year: number, month: number, day: number, daysInMonth: number) => boolean;

function dayTest(fields: CronFields): DayTest {
  const ofMonth = dayOfMonthTest(fields.dayOfMonth);
  const ofWeek = dayOfWeekTest(fields.dayOfWeek);
  return (year, month, day, last) => ofMonth(year, month, day, last) && ofWeek(year, month, day, last);
}

function dayOfMonthTest(rule: DayOfMonthRule): DayTest {
  switch (rule.kind) {
    case 'any': return () => true;
    case 'days': {
      const days = new Set(rule.days);
      return (_year, _month, day) => days.has(day);
    }
    case 'last': return (_year, _month, day, last) => day === last;
    case 'lastWeekday': return (year, month, day, last) => day === nearestWeekday(year, month, last, last);
    case 'nearestWeekday': return (year, month, day, last) => day === nearestWeekday(year, month, rule.day, last);
  }
}

function dayOfWeekTest(rule: DayOfWeekRule): DayTest {
  switch (rule.kind) {
    case 'any': return () => true;
    case 'days': {
      const weekdays = new Set(rule.days);
      return (year, month, day) => weekdays.has(weekday(year, month, day));
    }
    case 'last': return (year, month, day, last) => day + 7 > last && weekday(year, month, day) === rule.weekday;
    case 'nth': return (year, month, day) => Math.ceil(day / 7) === rule.nth && weekday(year, month, day) === rule.weekday;
  }
}

/**
 * 'nW': the weekday nearest day n without leaving the month (Quartz): Saturday -> Friday before, or Monday 3rd for the
 * 1st; Sunday -> Monday after, or Friday before for the last day. Months shorter than n have no such day.
 */
function nearestWeekday(year: number, month: number, n: number, last: number): number | undefined {
  if (n > last) return undefined;
  const day = weekday(year, month, n);
  if (day === 7) return n === 1 ? 3 : n - 1;
  if (day === 1) return n === last ? n - 2 : n + 1;
  return n;
}

/** 1=SUN ... 7=SAT, as cron numbers them. */
function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0); // unlike Date.UTC, keeps years 0-99 as they are
  return date.getUTCDate();
}

// ---------------------------------------------------------------------------------------------------------------------
// What deploys: EventBridge Scheduler starts a rate(...) schedule without StartDate the moment it is created (and
// again whenever an update recreates it), then every period from there. A cron user expects no run at deploy, so a
// rate whose period divides the clock's hour or day deploys as the cron(...) that fires at the same period on the
// clock, in UTC: a rate is a period, not a time of day, and in a zone with daylight saving a cron would stretch or
// skip one period twice a year (Europe/Berlin's rate(1 hour) would lose the repeated hour; America/Santiago's
// rate(1 day) a whole day, its midnight skipped). `stepcron schedule`, `next`, backfill and the alerts use the same.

export interface DeployedSchedule {
  /** The expression the schedule is created with: the catalog's, or an aligned rate's cron(...). */
  expression: string;
  /** The zone it is read in: the job's, or UTC for an aligned rate's cron(...). */
  timezone: string;
  /** A rate that is not aligned to the clock: on AWS it first runs when the deploy creates the schedule. */
  startsAtDeploy: boolean;
  /** For such a rate, a cron(...) at fixed times close to it, and what it does, when there is one. */
  closeCron?: { expression: string; says: string };
}

/** Periods (minutes) that divide the hour, and hours that divide the day: those a cron repeats exactly. */
const ALIGNED_MINUTES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440];

/** The cron(...) of an aligned period (minutes): `0/15` minutes, `0/2` hours, midnight for a day. */
function alignedCron(minutes: number): string {
  if (minutes < 60) return minutes === 1 ? 'cron(* * * * ? *)' : `cron(0/${minutes} * * * ? *)`;
  const hours = minutes / 60;
  if (hours === 1) return 'cron(0 * * * ? *)';
  return hours === 24 ? 'cron(0 0 * * ? *)' : `cron(0 0/${hours} * * ? *)`;
}

/** A cron(...) at fixed times near an unaligned rate: the nearest aligned period within a quarter, or a day rule. */
function closeCronOf(minutes: number): DeployedSchedule['closeCron'] {
  const days = minutes / 1440;
  if (days === 7) return { expression: 'cron(0 0 ? * 2 *)', says: 'every Monday at 00:00' };
  if (days >= 28 && days <= 31) return { expression: 'cron(0 0 1 * ? *)', says: 'on the 1st of every month at 00:00' };
  if (Number.isInteger(days) && days >= 2 && days <= 6) {
    return { expression: `cron(0 0 1/${days} * ? *)`, says: `at 00:00 every ${days} days from the 1st of each month` };
  }
  const [nearest] = ALIGNED_MINUTES.map((p) => ({ p, off: Math.abs(p - minutes) / minutes })).sort((a, b) => a.off - b.off || a.p - b.p);
  if (!nearest || nearest.off > 0.25) return undefined;
  const p = nearest.p;
  const says = p < 60 ? `every ${p} minutes on the clock` : p === 1440 ? 'every day at 00:00' : `every ${p / 60 === 1 ? 'hour' : `${p / 60} hours`} on the clock`;
  return { expression: alignedCron(p), says };
}

/** How a valid schedule expression deploys (see DeployedSchedule); cron(...) and at(...) deploy as they are. */
export function deployedSchedule(expression: string, timezone = 'UTC'): DeployedSchedule {
  const parsed = parseSchedule(expression);
  if (parsed.kind !== 'rate') return { expression, timezone, startsAtDeploy: false };
  const minutes = parsed.seconds / 60;
  if (ALIGNED_MINUTES.includes(minutes)) return { expression: alignedCron(minutes), timezone: 'UTC', startsAtDeploy: false };
  const close = closeCronOf(minutes);
  return { expression, timezone, startsAtDeploy: true, ...(close && { closeCron: close }) };
}

/** The expression that deploys for `expression` (what the schedule's ScheduleExpression is). */
export const deployedExpression = (expression: string): string => deployedSchedule(expression).expression;

/**
 * One line for a rate that starts at deploy, naming `who` (a job or field) first if given: what AWS does with it, and
 * the cron(...) to use for fixed times when one is close. Undefined for every other schedule.
 */
export function startsAtDeployNote(expression: string, who?: string): string | undefined {
  const deployed = deployedSchedule(expression);
  if (!deployed.startsAtDeploy) return undefined;
  const period = expression.slice('rate('.length, -1);
  return `${who ? `${who}: ` : ''}${expression} is not aligned to the clock: on AWS its first run is when the deploy creates the ` +
    `schedule (and again whenever a deploy recreates it), then every ${period} from there` +
    (deployed.closeCron ? `; for fixed times use ${deployed.closeCron.expression} (${deployed.closeCron.says})` : '');
}
