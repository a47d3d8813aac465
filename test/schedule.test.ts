// Schedule expressions as EventBridge Scheduler reads them: every rule's valid and invalid forms (errors are one line
// naming the field), and next fire times for L/W/#, leap days, year limits and DST changes in US and EU zones.
import { status, timesBetween } from '../cli/ops/commands';
import { alertProblems, longestGap } from '../workflows/alerts';
import type { OpsPort } from '../cli/ops/types';
import { parseCatalog } from '../workflows/catalog';
import { stageTemplate, toStageParams } from '../workflows/resources';
import {
  deployedExpression, deployedSchedule, isValidTimezone, nextFireTimes, parseSchedule, scheduleProblem, ScheduleError,
  startsAtDeployNote, type CronFields, fireTimesUntil,
} from '../workflows/schedule';

function fields(expression: string): CronFields {
  const schedule = parseSchedule(expression);
  if (schedule.kind !== 'cron') throw new Error(`expected a cron schedule from ${expression}`);
  return schedule.fields;
}

/** Next fire times as ISO strings, from an ISO instant. */
function next(expression: string, from: string, count: number, timezone?: string): string[] {
  return nextFireTimes(expression, { from: new Date(from), count, timezone }).map((d) => d.toISOString());
}

const z = (local: string) => `${local}.000Z`;

describe('parseSchedule: valid cron expressions', () => {
  it.each<[string, Partial<CronFields>]>([
    ['cron(0 10 * * ? *)', { minutes: [0], hours: [10], dayOfWeek: { kind: 'any' } }],
    ['cron(0/15 * * * ? *)', { minutes: [0, 15, 30, 45] }],
    ['cron(1/10 * * * ? *)', { minutes: [1, 11, 21, 31, 41, 51] }],
    ['cron(10-50/10 * * * ? *)', { minutes: [10, 20, 30, 40, 50] }],
    ['cron(0 */5 * * ? *)', { hours: [0, 5, 10, 15, 20] }],
    ['cron(0 8-10,14 * * ? *)', { hours: [8, 9, 10, 14] }],
    ['cron(05 07 * * ? *)', { minutes: [5], hours: [7] }],
    ['cron(0 0 1,15 * ? *)', { dayOfMonth: { kind: 'days', days: [1, 15] } }],
    ['cron(0 0 1/10 * ? *)', { dayOfMonth: { kind: 'days', days: [1, 11, 21, 31] } }],
    ['cron(0 0 L * ? *)', { dayOfMonth: { kind: 'last' } }],
    ['cron(0 0 LW * ? *)', { dayOfMonth: { kind: 'lastWeekday' } }],
    ['cron(0 0 15W * ? *)', { dayOfMonth: { kind: 'nearestWeekday', day: 15 } }],
    ['cron(0 0 * JAN,FEB,MAR ? *)', { months: [1, 2, 3] }],
    ['cron(0 0 * JUN-AUG ? *)', { months: [6, 7, 8] }],
    ['cron(0 0 * */2 ? *)', { months: [1, 3, 5, 7, 9, 11] }],
    ['cron(0 0 ? * MON-FRI *)', { dayOfMonth: { kind: 'any' }, dayOfWeek: { kind: 'days', days: [2, 3, 4, 5, 6] } }],
    ['cron(0 0 ? * 1,7 *)', { dayOfWeek: { kind: 'days', days: [1, 7] } }],
    ['cron(0 0 ? * * *)', { dayOfWeek: { kind: 'days', days: [1, 2, 3, 4, 5, 6, 7] } }],
    ['cron(0 0 ? * L *)', { dayOfWeek: { kind: 'days', days: [7] } }],
    ['cron(0 0 ? * 6L *)', { dayOfWeek: { kind: 'last', weekday: 6 } }],
    ['cron(0 0 ? * 2#1 *)', { dayOfWeek: { kind: 'nth', weekday: 2, nth: 1 } }],
    ['cron(0 0 ? * MON#1 *)', { dayOfWeek: { kind: 'nth', weekday: 2, nth: 1 } }],
    ['cron(0 0 ? * 3#5 *)', { dayOfWeek: { kind: 'nth', weekday: 3, nth: 5 } }],
    ['cron(0 0 * * ? 2026-2028)', { years: [2026, 2027, 2028] }],
    ['cron(0 0 * * ? 1970,2199)', { years: [1970, 2199] }],
    ['cron(0 0 * * ? */100)', { years: [1970, 2070, 2170] }],
  ])('%s', (expression, expected) => {
    // Act
    const parsed = fields(expression);
    // Assess
    expect(parsed).toMatchObject(expected);
    expect(scheduleProblem(expression)).toBeUndefined();
  });

  it('keeps the expression and reads * in day-of-month as every day', () => {
    // Act
    const schedule = parseSchedule('cron(30 2 * * ? *)');
    // Assess
    expect(schedule).toEqual({
      kind: 'cron',
      expression: 'cron(30 2 * * ? *)',
      fields: {
        minutes: [30], hours: [2], dayOfMonth: { kind: 'days', days: Array.from({ length: 31 }, (_, i) => i + 1) },
        months: Array.from({ length: 12 }, (_, i) => i + 1), dayOfWeek: { kind: 'any' },
        years: Array.from({ length: 230 }, (_, i) => 1970 + i),
      },
    });
  });
});

describe('parseSchedule: invalid cron expressions name the field and what is allowed', () => {
  it.each<[string, string]>([
    ['cron(0 10 * * ?)', 'cron: expected 6 fields (minutes hours day-of-month month day-of-week year), got 5'],
    ['cron(0 10 * * ? * *)', 'cron: expected 6 fields'],
    ['cron()', 'cron: expected 6 fields'],
    ['cron(0  10 * * ? *)', 'cron: separate the 6 fields with single spaces'],
    ['cron(0\t10 * * ? *)', 'cron: separate the 6 fields with single spaces'],
    ['cron(60 10 * * ? *)', 'minutes: 60 is out of range (allowed 0-59'],
    ['cron(L 10 * * ? *)', "minutes: 'L' is not a valid value"],
    ['cron(0,,30 10 * * ? *)', "minutes: '0,,30' has an empty list entry"],
    ['cron(*/0 10 * * ? *)', "minutes: the step in '*/0' must be a whole number from 1 to 59"],
    ['cron(*/60 10 * * ? *)', 'minutes: the step'],
    ['cron(0/15/2 10 * * ? *)', "minutes: '0/15/2' has more than one '/'"],
    ['cron(0 24 * * ? *)', 'hours: 24 is out of range (allowed 0-23'],
    ['cron(0 ? * * ? *)', "hours: '?' is only allowed in day-of-month or day-of-week"],
    ['cron(0 10-8 * * ? *)', "hours: the range '10-8' runs backwards"],
    ['cron(0 10 0 * ? *)', 'day-of-month: 0 is out of range (allowed 1-31'],
    ['cron(0 10 32 * ? *)', 'day-of-month: 32 is out of range'],
    ['cron(0 10 L-3 * ? *)', "day-of-month: 'L-3': offsets from the last day (L-n) are not supported"],
    ['cron(0 10 1,15,L * ? *)', "day-of-month: '1,15,L': ?, L, LW and nW must be the whole field"],
    ['cron(0 10 ?,1 * MON *)', 'day-of-month: '],
    ['cron(0 10 0W * ? *)', 'day-of-month: 0 is out of range'],
    ['cron(0 10 32W * ? *)', 'day-of-month: 32 is out of range'],
    ['cron(0 10 1-5W * ? *)', "day-of-month: '1-5W' is not a valid use of ?, L or W"],
    ['cron(0 10 W * ? *)', "day-of-month: 'W' is not a valid use"],
    ['cron(0 10 * 13 ? *)', 'month: 13 is out of range (allowed 1-12 or JAN-DEC'],
    ['cron(0 10 * 0 ? *)', 'month: 0 is out of range'],
    ['cron(0 10 * JANUARY ? *)', "month: 'JANUARY' is not a valid value"],
    ['cron(0 10 ? jan MON *)', "month: 'jan' must be written in upper case"],
    ['cron(0 10 * L ? *)', "month: 'L' is not a valid value"],
    ['cron(0 10 * 12-1 ? *)', "month: the range '12-1' runs backwards"],
    ['cron(0 10 ? * 0 *)', 'day-of-week: 0 is out of range (allowed 1-7 or SUN-SAT (1=SUN)'],
    ['cron(0 10 ? * 8 *)', 'day-of-week: 8 is out of range'],
    ['cron(0 10 ? * MONDAY *)', "day-of-week: 'MONDAY' is not a valid value"],
    ['cron(0 10 ? * mon *)', "day-of-week: 'mon' must be written in upper case"],
    ['cron(0 10 ? * FRI-MON *)', "day-of-week: the range 'FRI-MON' runs backwards"],
    ['cron(0 10 ? * MON/2 *)', "day-of-week: '/' is not allowed here"],
    ['cron(0 10 ? * 2#6 *)', "day-of-week: '2#6': the occurrence after # must be 1-5"],
    ['cron(0 10 ? * 2#0 *)', 'day-of-week: '],
    ['cron(0 10 ? * 3#1,6#3 *)', "day-of-week: '3#1,6#3': ?, L, nL and n#k must be the whole field"],
    ['cron(0 10 ? * 6L,2 *)', 'day-of-week: '],
    ['cron(0 10 ? * 8L *)', 'day-of-week: 8 is out of range'],
    ['cron(0 10 ? * FRIL *)', "day-of-week: 'FRIL' is not a valid use of ?, L or #"],
    ['cron(0 10 * * ? 1969)', 'year: 1969 is out of range (allowed 1970-2199'],
    ['cron(0 10 * * ? 2200)', 'year: 2200 is out of range'],
    ['cron(0 10 * * ? */0)', 'year: the step'],
    ['cron(0 10 * * * *)', "day-of-month and day-of-week: exactly one must be '?' (got '*' and '*')"],
    ['cron(0 10 ? * ? *)', "day-of-month and day-of-week: exactly one must be '?' (got '?' and '?')"],
    ['cron(0 10 1 * MON *)', "day-of-month and day-of-week: exactly one must be '?' (got '1' and 'MON')"],
    ['cron(0 10 L * 6L *)', "day-of-month and day-of-week: exactly one must be '?'"],
  ])('%s', (expression, message) => {
    // Act
    const problem = scheduleProblem(expression);
    // Assess
    expect(problem).toContain(message);
    expect(problem).not.toContain('\n');
  });

  it('throws a ScheduleError carrying the same message', () => {
    // Act
    const parse = () => parseSchedule('cron(0 10 * * * *)');
    // Assess
    expect(parse).toThrow(ScheduleError);
    expect(parse).toThrow("day-of-month and day-of-week: exactly one must be '?' (got '*' and '*')");
    try {
      parse();
    } catch (err) {
      expect((err as Error).name).toBe('ScheduleError');
    }
  });
});

describe('parseSchedule: rate(...)', () => {
  it.each<[string, object]>([
    ['rate(1 minute)', { value: 1, unit: 'minute', seconds: 60 }],
    ['rate(5 minutes)', { value: 5, unit: 'minute', seconds: 300 }],
    ['rate(1 hour)', { value: 1, unit: 'hour', seconds: 3600 }],
    ['rate(12 hours)', { value: 12, unit: 'hour', seconds: 43200 }],
    ['rate(1 day)', { value: 1, unit: 'day', seconds: 86400 }],
    ['rate(7 days)', { value: 7, unit: 'day', seconds: 604800 }],
  ])('accepts %s', (expression, expected) => {
    // Act
    const schedule = parseSchedule(expression);
    // Assess
    expect(schedule).toEqual({ kind: 'rate', expression, ...expected });
  });

  it.each<[string, string]>([
    ['rate(1 minutes)', 'rate: use the singular unit for 1: rate(1 minute)'],
    ['rate(1 hours)', 'rate: use the singular unit for 1: rate(1 hour)'],
    ['rate(1 days)', 'rate: use the singular unit for 1: rate(1 day)'],
    ['rate(5 minute)', 'rate: use the plural unit for values other than 1: rate(5 minutes)'],
    ['rate(2 hour)', 'rate: use the plural unit for values other than 1: rate(2 hours)'],
    ['rate(7 day)', 'rate: use the plural unit for values other than 1: rate(7 days)'],
    ['rate(0 minutes)', "rate: the value must be a positive whole number (got '0')"],
    ['rate(-5 minutes)', 'rate: the value must be a positive whole number'],
    ['rate(1.5 hours)', 'rate: the value must be a positive whole number'],
    ['rate(5 weeks)', "rate: the unit must be minute(s), hour(s) or day(s) (got 'weeks')"],
    ['rate(5 Minutes)', 'rate: the unit must be minute(s), hour(s) or day(s)'],
    ['rate(5 minutess)', 'rate: the unit must be'],
    ['rate(5)', 'rate: expected rate(value unit)'],
    ['rate(5  minutes)', 'rate: expected rate(value unit)'],
    ['rate()', 'rate: expected rate(value unit)'],
  ])('rejects %s', (expression, message) => {
    // Act
    const problem = scheduleProblem(expression);
    // Assess
    expect(problem).toContain(message);
  });
});

describe('parseSchedule: at(...)', () => {
  it('accepts a local date and time', () => {
    // Act
    const schedule = parseSchedule('at(2028-02-29T23:59:59)');
    // Assess
    expect(schedule).toEqual({ kind: 'at', expression: 'at(2028-02-29T23:59:59)', localTime: '2028-02-29T23:59:59' });
  });

  it.each<[string, string]>([
    ['at(2026-02-29T10:00:00)', 'at: 2026-02-29T10:00:00 is not a real date and time'],
    ['at(2026-04-31T10:00:00)', 'at: 2026-04-31T10:00:00 is not a real date and time'],
    ['at(2026-13-01T10:00:00)', 'at: '],
    ['at(2026-01-01T24:00:00)', 'at: '],
    ['at(2026-01-01T10:60:00)', 'at: '],
    ['at(2026-01-01T10:00)', 'at: expected at(yyyy-mm-ddThh:mm:ss)'],
    ['at(2026-01-01 10:00:00)', 'at: expected at(yyyy-mm-ddThh:mm:ss)'],
    ['at(2026-01-01T10:00:00Z)', 'at: expected at(yyyy-mm-ddThh:mm:ss)'],
  ])('rejects %s', (expression, message) => {
    // Act
    const problem = scheduleProblem(expression);
    // Assess
    expect(problem).toContain(message);
  });
});

describe('parseSchedule: anything else', () => {
  it.each(['', 'every day', 'cron 0 10 * * ? *', 'CRON(0 10 * * ? *)', 'cron(0 10 * * ? *', 'daily'])('rejects %j naming the three forms', (expression) => {
    // Act
    const problem = scheduleProblem(expression);
    // Assess
    expect(problem).toMatch(/^schedule must be cron\(minutes hours day-of-month month day-of-week year\), rate\(value unit\) or at\(yyyy-mm-ddThh:mm:ss\)/);
  });

  it.each([' cron(0 10 * * ? *)', 'rate(1 hour) ', 'at(2026-01-01T00:00:00)\n'])('rejects surrounding white space in %j on one line', (expression) => {
    // Act
    const problem = scheduleProblem(expression);
    // Assess
    expect(problem).toContain('schedule must not start or end with white space');
    expect(problem).not.toContain('\n');
  });

  it('keeps a newline inside the expression out of the message', () => {
    // Act
    const problem = scheduleProblem('cron(0\n10 * * ? *)');
    // Assess
    expect(problem).toContain("cron: separate the 6 fields with single spaces (got '0\\n10 * * ? *')");
  });
});

describe('isValidTimezone', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'EST5EDT'])(
    'accepts %s', (zone) => {
      // Act / Assess
      expect(isValidTimezone(zone)).toBe(true);
    });

  it.each(['Mars/Base', '', 'EST5EDT ', ' UTC', 'europe/berlin', 'Europe/Berlin/', '+01:00', 'Europe/Atlantis'])(
    'rejects %j', (zone) => {
      // Act / Assess
      expect(isValidTimezone(zone)).toBe(false);
    });
});

describe('nextFireTimes: cron in UTC', () => {
  it('returns times strictly after from, dropping seconds', () => {
    // Act
    const times = next('cron(* * * * ? *)', '2026-05-01T10:00:30Z', 2);
    // Assess
    expect(times).toEqual([z('2026-05-01T10:01:00'), z('2026-05-01T10:02:00')]);
  });

  it('does not return from itself when it is a fire time', () => {
    // Act / Assess
    expect(next('cron(0 10 * * ? *)', '2026-05-01T10:00:00Z', 1)).toEqual([z('2026-05-02T10:00:00')]);
  });

  it('finds Feb 29 only in leap years', () => {
    // Act
    const times = next('cron(0 0 29 2 ? *)', '2026-01-01T00:00:00Z', 2);
    // Assess
    expect(times).toEqual([z('2028-02-29T00:00:00'), z('2032-02-29T00:00:00')]);
  });

  it('reads L in day-of-month as the last day of each month', () => {
    // Act
    const times = next('cron(0 12 L * ? *)', '2028-01-15T00:00:00Z', 4);
    // Assess
    expect(times).toEqual([z('2028-01-31T12:00:00'), z('2028-02-29T12:00:00'), z('2028-03-31T12:00:00'), z('2028-04-30T12:00:00')]);
  });

  it('reads LW as the last weekday of the month', () => {
    // Prepare: 2026-01-31 is a Saturday, 2026-02-28 a Saturday, 2026-03-31 a Tuesday, 2026-05-31 a Sunday.
    const from = '2026-01-01T00:00:00Z';
    // Act
    const times = next('cron(0 12 LW * ? *)', from, 5);
    // Assess
    expect(times).toEqual([
      z('2026-01-30T12:00:00'), z('2026-02-27T12:00:00'), z('2026-03-31T12:00:00'), z('2026-04-30T12:00:00'), z('2026-05-29T12:00:00'),
    ]);
  });

  it.each<[string, string, string, string]>([
    ['15W when the 15th is a Saturday: Friday the 14th', 'cron(0 9 15W * ? *)', '2026-08-01T00:00:00Z', '2026-08-14T09:00:00'],
    ['15W when the 15th is a Sunday: Monday the 16th', 'cron(0 9 15W * ? *)', '2026-02-01T00:00:00Z', '2026-02-16T09:00:00'],
    ['15W on a weekday: the 15th', 'cron(0 9 15W * ? *)', '2026-04-01T00:00:00Z', '2026-04-15T09:00:00'],
    ['1W when the 1st is a Saturday: Monday the 3rd, not the previous month', 'cron(0 9 1W * ? *)', '2026-07-31T00:00:00Z', '2026-08-03T09:00:00'],
    ['1W when the 1st is a Sunday: Monday the 2nd', 'cron(0 9 1W * ? *)', '2026-02-01T00:00:00Z', '2026-02-02T09:00:00'],
    ['31W when the 31st is a Sunday: Friday the 29th, not the next month', 'cron(0 9 31W * ? *)', '2026-05-01T00:00:00Z', '2026-05-29T09:00:00'],
  ])('nearest weekday: %s', (_name, expression, from, expected) => {
    // Act
    const [first] = next(expression, from, 1);
    // Assess
    expect(first).toBe(z(expected));
  });

  it('skips months shorter than the day nW names', () => {
    // Act: April has no 31st.
    const times = next('cron(0 9 31W 4 ? *)', '2026-01-01T00:00:00Z', 1);
    // Assess
    expect(times).toEqual([]);
  });

  it('reads 6L as the last Friday of the month', () => {
    // Act
    const times = next('cron(0 12 ? * 6L *)', '2026-01-01T00:00:00Z', 3);
    // Assess
    expect(times).toEqual([z('2026-01-30T12:00:00'), z('2026-02-27T12:00:00'), z('2026-03-27T12:00:00')]);
  });

  it('reads 2#1 and MON#1 as the first Monday of the month', () => {
    // Act
    const numbered = next('cron(0 8 ? * 2#1 *)', '2026-01-01T00:00:00Z', 3);
    const named = next('cron(0 8 ? * MON#1 *)', '2026-01-01T00:00:00Z', 3);
    // Assess
    expect(numbered).toEqual([z('2026-01-05T08:00:00'), z('2026-02-02T08:00:00'), z('2026-03-02T08:00:00')]);
    expect(named).toEqual(numbered);
  });

  it('skips months without a fifth occurrence for n#5', () => {
    // Act: the first month of 2026 with five Mondays is March.
    const [first] = next('cron(0 8 ? * 2#5 *)', '2026-01-01T00:00:00Z', 1);
    // Assess
    expect(first).toBe(z('2026-03-30T08:00:00'));
  });

  it('reads L alone in day-of-week as every Saturday', () => {
    // Act
    const times = next('cron(0 0 ? * L *)', '2026-01-01T00:00:00Z', 2);
    // Assess
    expect(times).toEqual([z('2026-01-03T00:00:00'), z('2026-01-10T00:00:00')]);
  });

  it('combines month and day names', () => {
    // Prepare: 2026-03-27 is a Friday; 2027-01-01 is a Friday.
    const from = '2026-03-27T10:00:00Z';
    // Act
    const times = next('cron(0 9 ? JAN-MAR MON-FRI *)', from, 3);
    // Assess
    expect(times).toEqual([z('2026-03-30T09:00:00'), z('2026-03-31T09:00:00'), z('2027-01-01T09:00:00')]);
  });

  it('honours the year field and ends after its last year', () => {
    // Act
    const once = next('cron(0 0 1 1 ? 2030)', '2026-01-01T00:00:00Z', 3);
    const range = next('cron(0 0 1 1 ? 2027-2028)', '2026-01-01T00:00:00Z', 5);
    // Assess
    expect(once).toEqual([z('2030-01-01T00:00:00')]);
    expect(range).toEqual([z('2027-01-01T00:00:00'), z('2028-01-01T00:00:00')]);
  });

  it('gives up after 2199 with an empty result', () => {
    // Act
    const last = next('cron(0 0 1 1 ? *)', '2199-06-01T00:00:00Z', 3);
    const never = next('cron(0 0 30 2 ? *)', '2026-01-01T00:00:00Z', 1);
    // Assess
    expect(last).toEqual([]);
    expect(never).toEqual([]);
  });

  it('accepts a parsed schedule as well as a string', () => {
    // Prepare
    const schedule = parseSchedule('cron(0/30 * * * ? *)');
    // Act
    const times = nextFireTimes(schedule, { from: new Date('2026-05-01T10:10:00Z'), count: 2 });
    // Assess
    expect(times.map((d) => d.toISOString())).toEqual([z('2026-05-01T10:30:00'), z('2026-05-01T11:00:00')]);
  });

  it('finds 1000 consecutive minutes, in UTC and across a DST change', () => {
    // Prepare
    const from = new Date('2026-03-08T00:00:00Z');
    // Act: the New York run crosses the spring-forward, the slowest day to map.
    const utc = nextFireTimes('cron(* * * * ? *)', { from, count: 1000 });
    const newYork = nextFireTimes('cron(* * * * ? *)', { from, count: 1000, timezone: 'America/New_York' });
    // Assess
    expect(utc).toHaveLength(1000);
    expect(utc[999]!.getTime() - utc[0]!.getTime()).toBe(999 * 60_000);
    expect(newYork).toHaveLength(1000);
    expect(newYork[999]!.getTime() - newYork[0]!.getTime()).toBe(999 * 60_000);
  });
});

describe('nextFireTimes: time zones and DST (skipped times do not fire; repeated times fire once, the first time)', () => {
  it('America/New_York spring-forward: 02:30 does not exist on 2026-03-08, so that day is skipped', () => {
    // Act
    const times = next('cron(30 2 * * ? *)', '2026-03-07T00:00:00Z', 3, 'America/New_York');
    // Assess: 02:30 EST (UTC-5), no run on the 8th, then 02:30 EDT (UTC-4).
    expect(times).toEqual([z('2026-03-07T07:30:00'), z('2026-03-09T06:30:00'), z('2026-03-10T06:30:00')]);
  });

  it('America/New_York spring-forward: every minute runs from 01:59 EST straight to 03:00 EDT', () => {
    // Act
    const times = next('cron(* * * * ? *)', '2026-03-08T06:58:00Z', 3, 'America/New_York');
    // Assess
    expect(times).toEqual([z('2026-03-08T06:59:00'), z('2026-03-08T07:00:00'), z('2026-03-08T07:01:00')]);
  });

  it('America/New_York fall-back: 01:30 happens twice on 2026-11-01 and runs only the first time', () => {
    // Act
    const times = next('cron(30 1 * * ? *)', '2026-10-31T00:00:00Z', 3, 'America/New_York');
    // Assess: 01:30 EDT on the 31st and the 1st, then 01:30 EST.
    expect(times).toEqual([z('2026-10-31T05:30:00'), z('2026-11-01T05:30:00'), z('2026-11-02T06:30:00')]);
  });

  it('America/New_York fall-back: the repeated hour does not run again', () => {
    // Act
    const halfHourly = next('cron(*/30 * * * ? *)', '2026-11-01T04:45:00Z', 4, 'America/New_York');
    const hourly = next('cron(0 * * * ? *)', '2026-11-01T04:30:00Z', 3, 'America/New_York');
    // Assess: 01:00 and 01:30 EDT, then 02:00 EST (an hour of UTC with no runs in between).
    expect(halfHourly).toEqual([z('2026-11-01T05:00:00'), z('2026-11-01T05:30:00'), z('2026-11-01T07:00:00'), z('2026-11-01T07:30:00')]);
    expect(hourly).toEqual([z('2026-11-01T05:00:00'), z('2026-11-01T07:00:00'), z('2026-11-01T08:00:00')]);
  });

  it('America/New_York fall-back: starting inside the repeated hour waits for 02:00 EST', () => {
    // Act: from 01:30 EST, the second 01:30.
    const times = next('cron(*/15 * * * ? *)', '2026-11-01T06:30:00Z', 2, 'America/New_York');
    // Assess
    expect(times).toEqual([z('2026-11-01T07:00:00'), z('2026-11-01T07:15:00')]);
  });

  it('Europe/Berlin spring-forward: 02:30 does not exist on 2026-03-29', () => {
    // Act
    const times = next('cron(30 2 * * ? *)', '2026-03-28T00:00:00Z', 2, 'Europe/Berlin');
    // Assess: 02:30 CET (UTC+1), nothing on the 29th, then 02:30 CEST (UTC+2).
    expect(times).toEqual([z('2026-03-28T01:30:00'), z('2026-03-30T00:30:00')]);
  });

  it('Europe/Berlin fall-back: 02:30 happens twice on 2026-10-25 and runs only the first time', () => {
    // Act
    const times = next('cron(30 2 * * ? *)', '2026-10-24T00:00:00Z', 3, 'Europe/Berlin');
    // Assess
    expect(times).toEqual([z('2026-10-24T00:30:00'), z('2026-10-25T00:30:00'), z('2026-10-26T01:30:00')]);
  });

  it('Asia/Tokyo has no DST: 09:00 JST is 00:00Z all year', () => {
    // Act
    const march = next('cron(0 9 * * ? *)', '2026-03-07T00:00:00Z', 3, 'Asia/Tokyo');
    const november = next('cron(0 9 * * ? *)', '2026-10-31T12:00:00Z', 2, 'Asia/Tokyo');
    // Assess
    expect(march).toEqual([z('2026-03-08T00:00:00'), z('2026-03-09T00:00:00'), z('2026-03-10T00:00:00')]);
    expect(november).toEqual([z('2026-11-01T00:00:00'), z('2026-11-02T00:00:00')]);
  });

  it('reads day fields in the zone, not in UTC', () => {
    // Act: 2026-01-01T00:00Z is still Dec 31 in New York; 23:30 on a last day is already the 1st in UTC.
    const times = next('cron(30 23 L * ? *)', '2026-01-01T00:00:00Z', 2, 'America/New_York');
    // Assess
    expect(times).toEqual([z('2026-01-01T04:30:00'), z('2026-02-01T04:30:00')]);
  });

  it('rejects an unknown time zone', () => {
    // Act
    const run = () => nextFireTimes('cron(0 9 * * ? *)', { from: new Date('2026-01-01T00:00:00Z'), count: 1, timezone: 'Mars/Base' });
    // Assess
    expect(run).toThrow(ScheduleError);
    expect(run).toThrow("timezone: 'Mars/Base' is not an IANA time zone");
  });
});

describe('nextFireTimes: rate and at', () => {
  it('fires rate() every period after from', () => {
    // Act
    const times = next('rate(5 minutes)', '2026-05-01T10:02:00Z', 3);
    // Assess
    expect(times).toEqual([z('2026-05-01T10:07:00'), z('2026-05-01T10:12:00'), z('2026-05-01T10:17:00')]);
  });

  it('keeps rate(1 day) at 24 hours across a DST change', () => {
    // Act
    const times = next('rate(1 day)', '2026-03-07T12:00:00Z', 2, 'America/New_York');
    // Assess
    expect(times).toEqual([z('2026-03-08T12:00:00'), z('2026-03-09T12:00:00')]);
  });

  it('fires at() once at the local time in the zone, and never once it has passed', () => {
    // Act
    const ahead = next('at(2026-11-24T02:00:00)', '2026-01-01T00:00:00Z', 3, 'Europe/Berlin');
    const passed = next('at(2026-11-24T02:00:00)', '2026-11-24T01:00:00Z', 3, 'Europe/Berlin');
    const utc = next('at(2026-11-24T02:00:00)', '2026-01-01T00:00:00Z', 1);
    // Assess
    expect(ahead).toEqual([z('2026-11-24T01:00:00')]);
    expect(passed).toEqual([]);
    expect(utc).toEqual([z('2026-11-24T02:00:00')]);
  });

  it('applies the DST rule to at(): a skipped time does not fire, a repeated one fires the first time', () => {
    // Act
    const skipped = next('at(2026-03-08T02:30:00)', '2026-01-01T00:00:00Z', 1, 'America/New_York');
    const repeated = next('at(2026-11-01T01:30:00)', '2026-01-01T00:00:00Z', 1, 'America/New_York');
    // Assess
    expect(skipped).toEqual([]);
    expect(repeated).toEqual([z('2026-11-01T05:30:00')]);
  });

  it('returns nothing for count 0 and refuses a negative count', () => {
    // Act
    const none = next('rate(1 hour)', '2026-01-01T00:00:00Z', 0);
    const negative = () => next('rate(1 hour)', '2026-01-01T00:00:00Z', -1);
    // Assess
    expect(none).toEqual([]);
    expect(negative).toThrow('count: must be a whole number >= 0');
  });
});

describe('deployedSchedule: a rate(...) aligned to the clock deploys as its cron(...), so no run at deploy', () => {
  // EventBridge Scheduler starts a rate schedule without StartDate the moment it is created; a cron fires on the clock.
  it.each<[string, string]>([
    ['rate(1 minute)', 'cron(* * * * ? *)'],
    ...[2, 3, 4, 5, 6, 10, 12, 15, 20, 30].map((n): [string, string] => [`rate(${n} minutes)`, `cron(0/${n} * * * ? *)`]),
    ['rate(60 minutes)', 'cron(0 * * * ? *)'],
    ['rate(1 hour)', 'cron(0 * * * ? *)'],
    ...[2, 3, 4, 6, 8, 12].map((n): [string, string] => [`rate(${n} hours)`, `cron(0 0/${n} * * ? *)`]),
    ['rate(120 minutes)', 'cron(0 0/2 * * ? *)'],
    ['rate(720 minutes)', 'cron(0 0/12 * * ? *)'],
    ['rate(24 hours)', 'cron(0 0 * * ? *)'],
    ['rate(1440 minutes)', 'cron(0 0 * * ? *)'],
    ['rate(1 day)', 'cron(0 0 * * ? *)'],
  ])('%s -> %s, firing every period on the clock', (rate, cron) => {
    // Act
    const deployed = deployedSchedule(rate, 'Europe/Berlin');
    const period = (parseSchedule(rate) as { seconds: number }).seconds * 1000;
    const times = nextFireTimes(deployed.expression, { from: new Date('2026-05-05T05:05:05Z'), count: 30, timezone: 'UTC' }).map((t) => t.getTime());
    // Assess: the cron, and its times are the rate's period apart, each on a multiple of the period since midnight
    expect(deployed).toEqual({ expression: cron, timezone: 'UTC', startsAtDeploy: false });
    expect(deployedExpression(rate)).toBe(cron);
    expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(new Array(29).fill(period));
    expect(times.every((t) => t % period === 0)).toBe(true);
  });

  it.each<[string, string | undefined]>([
    ['rate(7 minutes)', 'cron(0/6 * * * ? *)'],
    ['rate(45 minutes)', undefined],
    ['rate(50 minutes)', 'cron(0 * * * ? *)'],
    ['rate(90 minutes)', undefined],
    ['rate(5 hours)', 'cron(0 0/4 * * ? *)'],
    ['rate(25 hours)', 'cron(0 0 * * ? *)'],
    ['rate(36 hours)', undefined],
    ['rate(2 days)', 'cron(0 0 1/2 * ? *)'],
    ['rate(7 days)', 'cron(0 0 ? * 2 *)'],
    ['rate(10 days)', undefined],
    ['rate(30 days)', 'cron(0 0 1 * ? *)'],
  ])('%s is not aligned: it deploys as written and starts at deploy (close cron: %s)', (rate, close) => {
    // Act
    const deployed = deployedSchedule(rate, 'Europe/Berlin');
    const note = startsAtDeployNote(rate, 'jobs.sync.schedule');
    // Assess: AWS's behaviour kept, and said, with a cron for fixed times only when one is close
    expect(deployed.expression).toBe(rate);
    expect(deployed.timezone).toBe('Europe/Berlin');
    expect(deployed.startsAtDeploy).toBe(true);
    expect(deployed.closeCron?.expression).toBe(close);
    if (close) expect(scheduleProblem(close)).toBeUndefined();
    expect(note).toMatch(new RegExp(`^jobs\\.sync\\.schedule: ${rate.replace(/[()]/g, '\\$&')} is not aligned to the clock: on AWS its first run ` +
      'is when the deploy creates the schedule .*then every .* from there'));
    expect(note?.includes('for fixed times use')).toBe(close !== undefined);
  });

  it('leaves cron(...) and at(...) as they are, with nothing to say', () => {
    for (const expression of ['cron(30 2 * * ? *)', 'cron(0/15 * * * ? *)', 'at(2026-12-24T18:00:00)']) {
      expect(deployedSchedule(expression, 'Asia/Tokyo')).toEqual({ expression, timezone: 'Asia/Tokyo', startsAtDeploy: false });
      expect(startsAtDeployNote(expression, 'x')).toBeUndefined();
    }
  });

  it('fires in UTC whatever the job\'s zone, so daylight saving never stretches or skips a period', () => {
    // Act: the nights a cron in the job's zone would break: Berlin's fall-back hour (25 Oct 2026), Santiago's
    // spring-forward at midnight (6 Sep 2026: its midnight does not exist), New York's fall-back day
    const every = (rate: string, zone: string, from: string, count: number) => {
      const deployed = deployedSchedule(rate, zone);
      const times = nextFireTimes(deployed.expression, { timezone: deployed.timezone, from: new Date(from), count }).map((t) => t.getTime());
      return new Set(times.slice(1).map((t, i) => t - times[i]!));
    };
    // Assess: one gap only, the period
    expect(every('rate(1 hour)', 'Europe/Berlin', '2026-10-24T20:00:00Z', 12)).toEqual(new Set([3600_000]));
    expect(every('rate(2 hours)', 'Europe/Berlin', '2026-03-28T20:00:00Z', 12)).toEqual(new Set([7200_000]));
    expect(every('rate(1 day)', 'America/Santiago', '2026-09-03T12:00:00Z', 6)).toEqual(new Set([86_400_000]));
    expect(every('rate(1 day)', 'America/New_York', '2026-10-30T12:00:00Z', 6)).toEqual(new Set([86_400_000]));
  });

  it('is what the template deploys, with the catalog\'s expression in the schedule\'s Description', () => {
    // Prepare
    const jobs = parseCatalog(['jobs:', ...['rate(15 minutes)', 'rate(7 minutes)', 'cron(30 2 * * ? *)'].flatMap((schedule, i) =>
      [`  job-${i}:`, '    description: d', `    schedule: ${schedule}`, '    timezone: Europe/Berlin', '    image: i:1', '    command: [x]'])].join('\n'), { stage: 'dev' });
    const params = toStageParams('dev', { subnets: 'subnet-0a1b2c3d4e5f60001' });
    // Act
    const resources = stageTemplate(jobs, params).Resources as Record<string, { Properties: Record<string, unknown> }>;
    const schedule = (i: number) => resources[`Job${i}Schedule`]!.Properties;
    // Assess
    expect([0, 1, 2].map((i) => [schedule(i).ScheduleExpression, schedule(i).ScheduleExpressionTimezone]))
      .toEqual([['cron(0/15 * * * ? *)', 'UTC'], ['rate(7 minutes)', 'Europe/Berlin'], ['cron(30 2 * * ? *)', 'Europe/Berlin']]);
    expect(schedule(0).Description).toBe('job-0 (schedule: rate(15 minutes)): d');
  });
});

describe('status and backfill read what deploys', () => {
  // Parsed in each test, not while jest loads the file: a mutant that breaks parsing then fails tests (npm run mutate).
  const job = () => parseCatalog('jobs:\n  sync:\n    description: d\n    schedule: rate(1 hour)\n    timezone: Europe/Berlin\n    image: i:1\n    command: [x]\n', { stage: 'prod' })[0]!;

  it('status: a stage that deployed an aligned rate as its cron is not "changed since the deploy", and fires on the clock', async () => {
    // Prepare: the stage as the template deployed it (its own expression and zone); no runs yet
    const ops = {
      schedule: async () => ({ enabled: true, deployed: { expression: 'cron(0 * * * ? *)', timezone: 'UTC' } }),
      runs: async () => [],
    } as unknown as OpsPort;
    const lines: string[] = [];
    // Act
    await status(ops, [job()], { json: true, last: 5 }, { out: (t) => lines.push(t), err: (t) => lines.push(t), tty: false, now: () => new Date('2026-05-05T05:05:05Z') });
    // Assess: no drift; the catalog's rate and the job's zone shown, what fires beside them (its cron in UTC: an aligned
    // rate); the next times on the hour
    const [row] = JSON.parse(lines.join('')) as Array<Record<string, unknown>>;
    expect(row).toMatchObject({ schedule: 'rate(1 hour)', timezone: 'Europe/Berlin', next: ['2026-05-05T06:00:00.000Z', '2026-05-05T07:00:00.000Z', '2026-05-05T08:00:00.000Z'] });
    expect(row?.deployed).toEqual({ expression: 'cron(0 * * * ? *)', timezone: 'UTC' });
    expect(row).not.toHaveProperty('catalog');
  });

  it('backfill: the times an aligned rate fired are on the clock', () => {
    // Act
    const times = timesBetween(job(), new Date('2026-05-05T05:05:05Z'), new Date('2026-05-05T07:30:00Z'));
    // Assess
    expect(times.map((t) => t.toISOString())).toEqual(['2026-05-05T06:00:00.000Z', '2026-05-05T07:00:00.000Z']);
  });

  it('the alerts\' deadline check: an hourly rate in Berlin waits one hour, the fall-back night included (it fires in UTC)', () => {
    // Act
    const gap = longestGap('rate(1 hour)', 'Europe/Berlin', new Date('2026-10-01T00:00:00Z'));
    const problems = alertProblems({ schedule: 'rate(1 hour)', timezone: 'Europe/Berlin', timeoutSeconds: 600, retries: 0, successDeadlineMinutes: 90 },
      new Date('2026-10-01T00:00:00Z'));
    // Assess: a 90-minute deadline holds every night
    expect(gap?.ms).toBe(3600_000);
    expect(problems).toEqual([]);
  });
});

// Gaps mutation testing found (npm run mutate -- schedule): each rule below was broken by some mutant no test noticed.
describe('parseSchedule: the edges of each rule', () => {
  it('sorts a list given out of order, so the next times come in order', () => {
    // Act
    const minutes = fields('cron(30,10 * * * ? *)').minutes;
    const times = next('cron(30,10 * * * ? *)', '2026-01-01T00:00:00Z', 3);
    // Assess
    expect(minutes).toEqual([10, 30]);
    expect(times).toEqual([z('2026-01-01T00:10:00'), z('2026-01-01T00:30:00'), z('2026-01-01T01:10:00')]);
  });

  it.each<[string, string]>([
    ['xcron(0 10 * * ? *)', "schedule must be cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss) (got 'xcron(0 10 * * ? *)')"],
    ['cron(0 10 * * ? *)x', "schedule must be cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss) (got 'cron(0 10 * * ? *)x')"],
    ['rate(5 minutes extra)', "rate: expected rate(value unit) such as rate(5 minutes) or rate(1 hour) (got 'rate(5 minutes extra)')"],
    ['xrate(5 minutes)', 'schedule must be cron('],
    ['at(2026-11-24T02:00:00)x', 'schedule must be cron('],
    ['at(2026-11-24T02:00:00Z)', "at: expected at(yyyy-mm-ddThh:mm:ss) such as at(2026-11-24T02:00:00) (got 'at(2026-11-24T02:00:00Z)')"],
    ['at(x2026-11-24T02:00:00)', 'at: expected at(yyyy-mm-ddThh:mm:ss)'],
    ['cron(0 0 15WX * ? *)', "day-of-month: '15WX' is not a valid use of ?, L or W (allowed 1-31 with , - * /, or alone: ?, L, LW, nW (e.g. 15W))"],
    ['cron(0 0 X15W * ? *)', "day-of-month: 'X15W' is not a valid use of ?, L or W"],
    ['cron(0 0 ? * 2#15 *)', "day-of-week: '2#15': the occurrence after # must be 1-5 (allowed 1-7 or SUN-SAT (1=SUN) with , - *, or alone: ?, L, nL (e.g. 6L), n#k (e.g. 2#1, k 1-5))"],
    ['cron(0 0 ? * 5X *)', "day-of-week: '5X' is not a valid value"],
    ['cron(0 0 ? * X5L *)', "day-of-week: 'X5L' is not a valid use of ?, L or #"],
    ['cron(0 0 ? * 5LX *)', "day-of-week: '5LX' is not a valid use of ?, L or #"],
    ['cron(5X 0 * * ? *)', "minutes: '5X' is not a valid value (allowed 0-59 with , - * /)"],
    ['cron(0 0 * * ? 2026/x)', "year: the step in '2026/x' must be a whole number from 1 to 229"],
    ['cron(0 0 * * ? 2026/1x)', "year: the step in '2026/1x' must be a whole number from 1 to 229"],
    ['rate(x5 minutes)', "rate: the value must be a positive whole number (got 'x5')"],
    ['rate(5x minutes)', "rate: the value must be a positive whole number (got '5x')"],
    ['rate(5 xminutes)', "rate: the unit must be minute(s), hour(s) or day(s) (got 'xminutes')"],
    ['rate(5 minutess)', "rate: the unit must be minute(s), hour(s) or day(s) (got 'minutess')"],
  ])('refuses junk before or after a valid part: %s', (expression, message) => {
    // Act
    const problem = scheduleProblem(expression);
    // Assess
    expect(problem).toContain(message);
  });

  it.each<[string, string]>([
    ['at(2026-00-10T00:00:00)', 'month 00'],
    ['at(2026-13-10T00:00:00)', 'month 13'],
    ['at(2026-01-00T00:00:00)', 'day 00'],
    ['at(2026-02-29T00:00:00)', 'Feb 29 outside a leap year'],
    ['at(2026-04-31T00:00:00)', 'day 31 of a 30-day month'],
    ['at(2026-01-10T24:00:00)', 'hour 24'],
    ['at(2026-01-10T00:60:00)', 'minute 60'],
    ['at(2026-01-10T00:00:60)', 'second 60'],
  ])('at(): refuses %s (%s) as not a real date and time', (expression) => {
    // Act
    const problem = scheduleProblem(expression);
    // Assess
    expect(problem).toBe(`at: ${expression.slice(3, -1)} is not a real date and time (yyyy-mm-ddThh:mm:ss, hours 00-23)`);
  });

  it.each(['at(2026-01-01T00:00:00)', 'at(2026-12-31T23:59:59)', 'at(2028-02-29T12:00:00)'])('at(): accepts the first and last valid values: %s', (expression) => {
    // Act
    const problem = scheduleProblem(expression);
    // Assess
    expect(problem).toBeUndefined();
  });

  it.each<[string, Partial<CronFields>]>([
    ['cron(*/1 * * * ? *)', { minutes: Array.from({ length: 60 }, (_, i) => i) }],
    ['cron(0/59 * * * ? *)', { minutes: [0, 59] }],
    ['cron(59/59 * * * ? *)', { minutes: [59] }],
    ['cron(5-5 * * * ? *)', { minutes: [5] }],
    ['cron(0 0/23 * * ? *)', { hours: [0, 23] }],
    ['cron(0 0 1/31 * ? *)', { dayOfMonth: { kind: 'days', days: [1] } }],
    ['cron(0 0 1 1/12 ? *)', { months: [1] }],
    ['cron(0 0 1 * ? 1970/229)', { years: [1970, 2199] }],
    ['cron(0 0 1 * ? 2199)', { years: [2199] }],
    ['cron(0 0 1 DEC ? *)', { months: [12] }],
    ['cron(0 0 ? * SAT *)', { dayOfWeek: { kind: 'days', days: [7] } }],
    ['cron(0 0 ? * SUN-SAT *)', { dayOfWeek: { kind: 'days', days: [1, 2, 3, 4, 5, 6, 7] } }],
    ['cron(0 0 ? * 7L *)', { dayOfWeek: { kind: 'last', weekday: 7 } }],
    ['cron(0 0 ? * 1#5 *)', { dayOfWeek: { kind: 'nth', weekday: 1, nth: 5 } }],
    ['cron(0 0 31W * ? *)', { dayOfMonth: { kind: 'nearestWeekday', day: 31 } }],
  ])('accepts a boundary value: %s', (expression, expected) => {
    // Act
    const parsed = fields(expression);
    // Assess
    expect(parsed).toMatchObject(expected);
  });

  it.each<[string, string]>([
    ['cron(0/60 * * * ? *)', "minutes: the step in '0/60' must be a whole number from 1 to 59"],
    ['cron(0 0/24 * * ? *)', "hours: the step in '0/24' must be a whole number from 1 to 23"],
    ['cron(0 0 1/32 * ? *)', "day-of-month: the step in '1/32' must be a whole number from 1 to 31"],
    ['cron(0 0 1 1/13 ? *)', "month: the step in '1/13' must be a whole number from 1 to 12"],
    ['cron(0 0 1 * ? 1970/230)', "year: the step in '1970/230' must be a whole number from 1 to 229"],
    ['cron(0 0 ? * 0L *)', 'day-of-week: 0 is out of range'],
    ['cron(0 0 ? * 0#1 *)', 'day-of-week: 0 is out of range'],
    ['cron(0 0 ? * 8#1 *)', 'day-of-week: 8 is out of range'],
  ])('refuses one past a boundary: %s', (expression, message) => {
    // Act
    const problem = scheduleProblem(expression);
    // Assess
    expect(problem).toContain(message);
  });

  it('reads nL as the last n-day only: in July 2026 Friday the 24th is 7 days before the end, Friday the 31st the last', () => {
    // Act
    const times = next('cron(0 0 ? * 6L *)', '2026-07-01T00:00:00Z', 2);
    // Assess
    expect(times).toEqual([z('2026-07-31T00:00:00'), z('2026-08-28T00:00:00')]);
  });

  it('reads n#k by whole weeks of the month: day 7 is in the first week, day 8 in the second', () => {
    // Act (2026-06-07 and 2026-03-08 are Sundays)
    const first = next('cron(0 0 ? * 1#1 *)', '2026-06-01T00:00:00Z', 1);
    const second = next('cron(0 0 ? * 1#2 *)', '2026-03-01T00:00:00Z', 1);
    // Assess
    expect(first).toEqual([z('2026-06-07T00:00:00')]);
    expect(second).toEqual([z('2026-03-08T00:00:00')]);
  });

  it('finds nothing for count 0, for cron and at as for rate (a search that stops after the first find would give one)', () => {
    // Act
    const cron = next('cron(0 10 * * ? *)', '2026-01-01T00:00:00Z', 0);
    const at = next('at(2027-01-01T00:00:00)', '2026-01-01T00:00:00Z', 0);
    // Assess
    expect(cron).toEqual([]);
    expect(at).toEqual([]);
  });

  it('refuses a count that is not a whole number, and an invalid from', () => {
    // Act
    const fraction = () => next('rate(1 hour)', '2026-01-01T00:00:00Z', 1.5);
    const invalid = () => nextFireTimes('rate(1 hour)', { from: new Date('nope'), count: 1 });
    // Assess
    expect(fraction).toThrow('count: must be a whole number >= 0 (got 1.5)');
    expect(invalid).toThrow('from: must be a valid Date');
  });

  it('names the closest IANA zone for a misspelt one', () => {
    // Act
    const misspelt = () => next('rate(1 hour)', '2026-01-01T00:00:00Z', 1, 'Europe/Berln');
    const lower = () => next('rate(1 hour)', '2026-01-01T00:00:00Z', 1, 'europe/berlin');
    // Assess
    expect(misspelt).toThrow("timezone: 'Europe/Berln' is not an IANA time zone such as Europe/Berlin or UTC: did you mean Europe/Berlin?");
    expect(lower).toThrow('did you mean Europe/Berlin?');
  });
});

describe('nextFireTimes: DST east of UTC (southern hemisphere: spring in October/September, fall-back in April)', () => {
  it('Australia/Sydney spring-forward: 02:30 does not exist on 2026-10-04, so that day is skipped', () => {
    // Act
    const times = next('cron(30 2 * * ? *)', '2026-10-03T00:00:00Z', 2, 'Australia/Sydney');
    // Assess: 10-05 02:30 AEDT (UTC+11), 10-06 02:30 AEDT
    expect(times).toEqual([z('2026-10-04T15:30:00'), z('2026-10-05T15:30:00')]);
  });

  it('Australia/Sydney fall-back: 02:30 happens twice on 2026-04-05 and runs only the first time (AEDT)', () => {
    // Act
    const times = next('cron(30 2 * * ? *)', '2026-04-04T00:00:00Z', 2, 'Australia/Sydney');
    // Assess: 04-05 02:30 AEDT (UTC+11), then 04-06 02:30 AEST (UTC+10)
    expect(times).toEqual([z('2026-04-04T15:30:00'), z('2026-04-05T16:30:00')]);
  });

  it('Pacific/Auckland spring-forward (2026-09-27) and fall-back (2026-04-05) follow the same rule', () => {
    // Act
    const spring = next('cron(30 2 * * ? *)', '2026-09-26T00:00:00Z', 2, 'Pacific/Auckland');
    const fall = next('cron(30 2 * * ? *)', '2026-04-04T00:00:00Z', 2, 'Pacific/Auckland');
    // Assess: NZDT is UTC+13, NZST UTC+12
    expect(spring).toEqual([z('2026-09-27T13:30:00'), z('2026-09-28T13:30:00')]);
    expect(fall).toEqual([z('2026-04-04T13:30:00'), z('2026-04-05T14:30:00')]);
  });

  it('at() on a DST-change day in Sydney: skipped 02:30 never fires, 03:30 fires in AEDT, repeated 02:30 fires the first time', () => {
    // Act
    const skipped = next('at(2026-10-04T02:30:00)', '2026-01-01T00:00:00Z', 1, 'Australia/Sydney');
    const after = next('at(2026-10-04T03:30:00)', '2026-01-01T00:00:00Z', 1, 'Australia/Sydney');
    const repeated = next('at(2026-04-05T02:30:00)', '2026-01-01T00:00:00Z', 1, 'Australia/Sydney');
    // Assess
    expect(skipped).toEqual([]);
    expect(after).toEqual([z('2026-10-03T16:30:00')]);
    expect(repeated).toEqual([z('2026-04-04T15:30:00')]);
  });

  it('every minute across Sydney\'s spring-forward runs from 01:59 AEST straight to 03:00 AEDT', () => {
    // Act
    const times = next('cron(* * * * ? *)', '2026-10-03T15:58:00Z', 2, 'Australia/Sydney');
    // Assess
    expect(times).toEqual([z('2026-10-03T15:59:00'), z('2026-10-03T16:00:00')]);
  });
});

describe('more edges: the search, what deploys, zone names and every message', () => {
  it('stops a rate at the end of 2199, as it stops a cron: 2200-01-01 is not a time', () => {
    // Act
    const times = next('rate(1 day)', '2199-12-30T00:00:00Z', 5);
    // Assess
    expect(times).toEqual([z('2199-12-31T00:00:00')]);
  });

  it('starts scanning at from\'s own day only in from\'s own month and year', () => {
    // Act
    const monthly = next('cron(0 0 1 * ? *)', '2026-01-15T00:00:00Z', 1);
    const yearly = next('cron(0 0 1 1 ? *)', '2026-01-15T00:00:00Z', 1);
    const daily = next('cron(0 6 * * ? *)', '2026-01-15T12:00:00Z', 60);
    // Assess: the 1st of later months and years, and 06:00 on the same day-of-month a month later, are not skipped
    expect(monthly).toEqual([z('2026-02-01T00:00:00')]);
    expect(yearly).toEqual([z('2027-01-01T00:00:00')]);
    expect(daily[0]).toBe(z('2026-01-16T06:00:00'));
    expect(daily).toContain(z('2026-02-15T06:00:00'));
    expect(daily).toContain(z('2026-03-15T06:00:00'));
  });

  it.each<[string, string]>([
    ['cron(0 24 * * ? *)', 'hours: 24 is out of range (allowed 0-23 with , - * /)'],
    ['cron(0 0 * 13 ? *)', 'month: 13 is out of range (allowed 1-12 or JAN-DEC with , - * /)'],
    ['cron(60 0 * * ? *)', 'minutes: 60 is out of range (allowed 0-59 with , - * /)'],
    ['cron(0 0 * * ? 2200)', 'year: 2200 is out of range (allowed 1970-2199 with , - * /)'],
    ['cron(0 0 32 * ? *)', 'day-of-month: 32 is out of range (allowed 1-31 with , - * /, or alone: ?, L, LW, nW (e.g. 15W))'],
    ['cron(0 0 ? * 8 *)', 'day-of-week: 8 is out of range (allowed 1-7 or SUN-SAT (1=SUN) with , - *, or alone: ?, L, nL (e.g. 6L), n#k (e.g. 2#1, k 1-5))'],
    ['cron()', 'cron: expected 6 fields (minutes hours day-of-month month day-of-week year), got 0'],
    ['rate( 5 minutes)', "rate: expected rate(value unit) such as rate(5 minutes) or rate(1 hour) (got 'rate( 5 minutes)')"],
    ['rate(5 minutes )', "rate: expected rate(value unit) such as rate(5 minutes) or rate(1 hour) (got 'rate(5 minutes )')"],
    ['rate(99999999999999 days)', 'rate: the value 99999999999999 is too large'],
    ['rate(1 minutes)', 'rate: use the singular unit for 1: rate(1 minute) (got rate(1 minutes))'],
    ['rate(5 hour)', 'rate: use the plural unit for values other than 1: rate(5 hours) (got rate(5 hour))'],
    ['cron(x5 * * * ? *)', "minutes: 'x5' is not a valid value (allowed 0-59 with , - * /)"],
    ['cron(0 0 1L-3 * ? *)', "day-of-month: '1L-3' is not a valid use of ?, L or W (allowed 1-31 with , - * /, or alone: ?, L, LW, nW (e.g. 15W))"],
    ['cron(0 0 ? * 10L *)', 'day-of-week: 10 is out of range (allowed 1-7 or SUN-SAT (1=SUN) with , - *, or alone: ?, L, nL (e.g. 6L), n#k (e.g. 2#1, k 1-5))'],
  ])('says exactly what is wrong: %s', (expression, message) => {
    expect(scheduleProblem(expression)).toBe(message);
  });

  it('refuses a schedule that is not a string, naming the forms', () => {
    expect(scheduleProblem(42 as never)).toBe('schedule must be a string: cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)');
  });

  it('reads every month and weekday name as its number, and every unit in both forms', () => {
    expect(fields('cron(0 0 1 JAN,FEB,MAR,APR,MAY,JUN,JUL,AUG,SEP,OCT,NOV,DEC ? *)').months).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const [i, day] of ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'].entries()) {
      expect(fields(`cron(0 0 ? * ${day} *)`).dayOfWeek).toEqual({ kind: 'days', days: [i + 1] });
    }
    expect(['rate(1 minute)', 'rate(15 minutes)', 'rate(1 hour)', 'rate(2 hours)', 'rate(1 day)', 'rate(10 days)'].map((e) => parseSchedule(e)))
      .toEqual([
        { kind: 'rate', expression: 'rate(1 minute)', value: 1, unit: 'minute', seconds: 60 },
        { kind: 'rate', expression: 'rate(15 minutes)', value: 15, unit: 'minute', seconds: 900 },
        { kind: 'rate', expression: 'rate(1 hour)', value: 1, unit: 'hour', seconds: 3600 },
        { kind: 'rate', expression: 'rate(2 hours)', value: 2, unit: 'hour', seconds: 7200 },
        { kind: 'rate', expression: 'rate(1 day)', value: 1, unit: 'day', seconds: 86400 },
        { kind: 'rate', expression: 'rate(10 days)', value: 10, unit: 'day', seconds: 864000 },
      ]);
  });

  it.each<[string, boolean]>([
    ['UTC', true], ['GMT', true], ['Japan', true], ['Etc/UTC', true], ['US/Pacific', true], ['America/Argentina/Buenos_Aires', true],
    ['europe/Berlin', false], ['Europe/berlin', false], ['+01:00', false], ['Mars/Olympus', false], ['', false],
  ])('isValidTimezone(%j) is %j: IANA names as tzdb spells them, aliases included', (zone, valid) => {
    expect(isValidTimezone(zone)).toBe(valid);
  });

  it('names a zone that is not a string without a suggestion', () => {
    expect(() => next('rate(1 hour)', '2026-01-01T00:00:00Z', 1, 42 as never)).toThrow(/^timezone: '42' is not an IANA time zone such as Europe\/Berlin or UTC$/);
  });

  it.each<[string, string | undefined, string | undefined]>([
    ['rate(7 minutes)', 'cron(0/6 * * * ? *)', 'every 6 minutes on the clock'],
    ['rate(11 minutes)', 'cron(0/10 * * * ? *)', 'every 10 minutes on the clock'], // 10 and 12 are as close: the shorter
    ['rate(70 minutes)', 'cron(0 * * * ? *)', 'every hour on the clock'],
    ['rate(100 minutes)', 'cron(0 0/2 * * ? *)', 'every 2 hours on the clock'],
    ['rate(7 hours)', 'cron(0 0/6 * * ? *)', 'every 6 hours on the clock'],
    ['rate(1300 minutes)', 'cron(0 0 * * ? *)', 'every day at 00:00'],
    ['rate(90 minutes)', undefined, undefined], // a third off the hour and off two hours: nothing close
    ['rate(36 hours)', undefined, undefined],
    ['rate(2 days)', 'cron(0 0 1/2 * ? *)', 'at 00:00 every 2 days from the 1st of each month'],
    ['rate(6 days)', 'cron(0 0 1/6 * ? *)', 'at 00:00 every 6 days from the 1st of each month'],
    ['rate(7 days)', 'cron(0 0 ? * 2 *)', 'every Monday at 00:00'],
    ['rate(8 days)', undefined, undefined],
    ['rate(60 hours)', undefined, undefined], // 2.5 days: not a whole number of days
    ['rate(8 minutes)', 'cron(0/6 * * * ? *)', 'every 6 minutes on the clock'], // exactly a quarter off 6 (and 10): still close
    ['rate(27 days)', undefined, undefined],
    ['rate(28 days)', 'cron(0 0 1 * ? *)', 'on the 1st of every month at 00:00'],
    ['rate(31 days)', 'cron(0 0 1 * ? *)', 'on the 1st of every month at 00:00'],
    ['rate(32 days)', undefined, undefined],
  ])('an unaligned %s starts at deploy; the close cron is %s (%s)', (expression, close, says) => {
    // Act
    const deployed = deployedSchedule(expression, 'Europe/Berlin');
    // Assess
    expect(deployed).toEqual({ expression, timezone: 'Europe/Berlin', startsAtDeploy: true, ...(close && { closeCron: { expression: close, says } }) });
  });

  it('says what AWS does with an unaligned rate, naming who and the close cron when there is one', () => {
    expect(startsAtDeployNote('rate(7 minutes)', 'jobs.sync')).toBe('jobs.sync: rate(7 minutes) is not aligned to the clock: on AWS its first run is when the deploy creates the schedule (and again whenever a deploy recreates it), then every 7 minutes from there; for fixed times use cron(0/6 * * * ? *) (every 6 minutes on the clock)');
    expect(startsAtDeployNote('rate(27 days)')).toBe('rate(27 days) is not aligned to the clock: on AWS its first run is when the deploy creates the schedule (and again whenever a deploy recreates it), then every 27 days from there');
    expect(startsAtDeployNote('rate(15 minutes)')).toBeUndefined();
  });

  it('deploys an aligned rate as its cron and anything else as it is, in UTC unless a zone is given', () => {
    expect(deployedExpression('rate(15 minutes)')).toBe('cron(0/15 * * * ? *)');
    expect(deployedExpression('rate(7 minutes)')).toBe('rate(7 minutes)');
    expect(deployedSchedule('cron(0 1 * * ? *)')).toEqual({ expression: 'cron(0 1 * * ? *)', timezone: 'UTC', startsAtDeploy: false });
  });
});

describe('timezoneProblem on its own', () => {
  it('suggests a zone even when it is the first thing the module is asked (the zone list is read on first use)', () => {
    jest.isolateModules(() => {
      // Act
      const { timezoneProblem } = require('../workflows/schedule') as typeof import('../workflows/schedule');
      // Assess
      expect(timezoneProblem('Europe/Berln')).toBe("'Europe/Berln' is not an IANA time zone such as Europe/Berlin or UTC: did you mean Europe/Berlin?");
    });
  });
});

describe('fireTimesUntil: the fire times in a window, in batches', () => {
  const minutely = parseSchedule('cron(* * * * ? *)');
  const after = new Date('2026-12-08T00:00:00Z');
  const minutes = (n: number) => after.getTime() + n * 60_000;

  it('includes a time equal to until, and none after it', () => {
    const times = fireTimesUntil(minutely, 'UTC', after, minutes(3));
    expect(times.map((t) => t.toISOString())).toEqual(['2026-12-08T00:01:00.000Z', '2026-12-08T00:02:00.000Z', '2026-12-08T00:03:00.000Z']);
  });

  it('gives at most cap times, exactly cap when there are more', () => {
    expect(fireTimesUntil(minutely, 'UTC', after, minutes(100), 5)).toHaveLength(5);
    expect(fireTimesUntil(minutely, 'UTC', after, minutes(100), 0)).toEqual([]);
    // Across batch ends (32, then 64, ...): every time once, in order.
    const many = fireTimesUntil(minutely, 'UTC', after, minutes(5000));
    expect(many).toHaveLength(5000);
    expect(many.every((t, i) => t.getTime() === minutes(i + 1))).toBe(true);
    expect(fireTimesUntil(minutely, 'UTC', after, minutes(5000), 4097)).toHaveLength(4097);
  });

  it('stops where the schedule ends: a one-time at() gives its one time, a year range its last', () => {
    expect(fireTimesUntil(parseSchedule('at(2026-12-24T18:00:00)'), 'Europe/Berlin', after, minutes(60 * 24 * 30)).map((t) => t.toISOString()))
      .toEqual(['2026-12-24T17:00:00.000Z']);
    expect(fireTimesUntil(parseSchedule('cron(0 12 * * ? 2026)'), 'UTC', after, minutes(60 * 24 * 365)).at(-1)!.toISOString()).toBe('2026-12-31T12:00:00.000Z');
  });
});
