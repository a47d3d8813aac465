// A schedule expression in words, for people scanning a list of jobs (the console's jobs page): "every day at 02:30",
// "every 15 minutes", "Mon-Fri at 09:00 and 17:00", "on the last day of the month at 23:00". Pure: it reads the
// expression as workflows/schedule.ts parses it, and falls back to the expression itself for shapes too irregular to
// say shortly (the expression is always shown beside it).
import { type CronFields, parseSchedule } from './schedule';

const WEEKDAYS = ['', 'Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['', 'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** More than this many times a day are said as a step or as "N times an hour", not listed. */
const LISTED_TIMES = 4;

/** The schedule in words; the expression itself when it cannot be said shortly, or does not parse. */
export function scheduleInWords(expression: string): string {
  let parsed: ReturnType<typeof parseSchedule>;
  try {
    parsed = parseSchedule(expression);
  } catch {
    return expression;
  }
  if (parsed.kind === 'rate') return parsed.value === 1 ? `every ${parsed.unit}` : `every ${parsed.value} ${parsed.unit}s`;
  if (parsed.kind === 'at') return `once, at ${parsed.localTime.replace('T', ' ').slice(0, 16)}`;
  return cronInWords(parsed.fields) ?? expression;
}

function cronInWords(f: CronFields): string | undefined {
  const time = timesOfDay(f.minutes, f.hours);
  if (!time) return undefined;
  const days = daysInWords(f);
  if (days === undefined) return undefined;
  const months = f.months.length === 12 ? '' : ` in ${ranges(f.months, (m) => MONTHS[m]!)}`;
  const years = f.years.length > 0 && f.years.length <= 3 ? ` (${f.years.join(', ')})` : '';
  // "every day" goes with a time of day ("every day at 02:30"), not with a frequency ("every 15 minutes").
  const lead = days && !(days === 'every day' && !time.startsWith('at ')) ? `${days} ` : '';
  return `${lead}${time}${months}${years}`;
}

/** "every day at 02:30" style: the times part, or undefined. */
function timesOfDay(minutes: number[], hours: number[]): string | undefined {
  const minuteStep = step(minutes, 60);
  if (hours.length === 24) {
    if (minutes.length === 60) return 'every minute';
    if (minuteStep) return `every ${minuteStep} minutes`;
    if (minutes.length === 1) return `every hour at :${pad(minutes[0]!)}`;
    return minutes.length <= LISTED_TIMES ? `every hour at ${minutes.map((m) => `:${pad(m)}`).join(', ')}` : `${minutes.length} times an hour`;
  }
  const hourStep = step(hours, 24);
  if (minutes.length === 1 && hourStep && hours[0] === 0) return `every ${hourStep} hours at :${pad(minutes[0]!)}`;
  if (minutes.length * hours.length <= LISTED_TIMES) {
    const times = hours.flatMap((h) => minutes.map((m) => `${pad(h)}:${pad(m)}`));
    return `at ${times.slice(0, -1).join(', ')}${times.length > 1 ? ' and ' : ''}${times.at(-1)}`;
  }
  if (minutes.length === 60) return `every minute from ${pad(hours[0]!)}:00 to ${pad(hours.at(-1)!)}:59`;
  if (minuteStep && consecutive(hours)) return `every ${minuteStep} minutes from ${pad(hours[0]!)}:00 to ${pad(hours.at(-1)!)}:${pad(60 - minuteStep)}`;
  if (minutes.length === 1 && consecutive(hours)) return `every hour at :${pad(minutes[0]!)} from ${pad(hours[0]!)}:00 to ${pad(hours.at(-1)!)}:00`;
  return undefined;
}

/** The days part ('' for every day), or undefined when it cannot be said shortly. */
function daysInWords(f: CronFields): string | undefined {
  const dom = f.dayOfMonth;
  const dow = f.dayOfWeek;
  if (dow.kind === 'days') return dow.days.length === 7 ? 'every day' : `${ranges(dow.days, (d) => WEEKDAYS[d]!)}`;
  if (dow.kind === 'last') return `on the last ${WEEKDAYS[dow.weekday]} of the month`;
  if (dow.kind === 'nth') return `on the ${ordinal(dow.nth)} ${WEEKDAYS[dow.weekday]} of the month`;
  switch (dom.kind) {
    case 'any': return 'every day';
    case 'last': return 'on the last day of the month';
    case 'lastWeekday': return 'on the last weekday of the month';
    case 'nearestWeekday': return `on the weekday nearest day ${dom.day}`;
    case 'days':
      if (dom.days.length === 31) return 'every day';
      return dom.days.length <= 4 ? `on day ${dom.days.join(', ')} of the month` : `on days ${ranges(dom.days, String)}`;
  }
}

/** The step of a list that is 0, s, 2s, ... over the whole range (0/15 in minutes), or undefined. */
function step(values: number[], range: number): number | undefined {
  if (values.length < 2 || values[0] !== 0) return undefined;
  const s = values[1]! - values[0]!;
  if (range % s !== 0 || values.length !== range / s) return undefined;
  return values.every((v, i) => v === i * s) ? s : undefined;
}

function consecutive(values: number[]): boolean {
  return values.every((v, i) => i === 0 || v === values[i - 1]! + 1);
}

/** Mon-Fri, Sat / 1-5, 10: runs of consecutive values joined by a dash. */
function ranges(values: number[], name: (v: number) => string): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; i++) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${name(values[i]!)}-${name(values[j]!)}` : values.slice(i, j + 1).map(name).join(', '));
    i = j;
  }
  return parts.join(', ');
}

function ordinal(n: number): string {
  return `${n}${n === 1 ? 'st' : n === 2 ? 'nd' : n === 3 ? 'rd' : 'th'}`;
}

const pad = (n: number) => String(n).padStart(2, '0');
