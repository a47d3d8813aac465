// `stepcron import crontab`: a crontab using every construct (test/fixtures/every-construct.crontab) becomes catalog
// jobs, checked three ways: the fields written, parseCatalog accepting them, and each job's next 100 fire times
// (workflows/schedule.ts, EventBridge Scheduler's semantics) against croner, an independent Vixie-style cron library,
// from just before the DST changes of Europe/Berlin and America/New_York. Then every construct where cron and AWS cron
// differ, refused or warned about with its line; the -o merge; and the real CLI.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cron } from 'croner';
import {
  awsSchedulesFor, CrontabError, type CrontabImport, type ImportedJob, importCrontab, MAX_IMPORTED_NAME, MergeError, mergeJobs, nextDayOfBoth,
  renderCatalog, renderJobs, withoutFileOutput,
} from '../workflows/crontab';
import { logicalId, parseCatalog } from '../workflows/catalog';
import { nextFireTimes } from '../workflows/schedule';
import { importCrontabFile } from '../cli/import';
import { cleanUp, startCli } from './support/cli';

const FIXTURE = join(__dirname, 'fixtures', 'every-construct.crontab');
const FILE = 'every-construct.crontab';
/** The DST warnings look one year ahead: from here they name the 2026 changes. */
const FROM = new Date('2026-01-01T00:00:00Z');

const fixture = readFileSync(FIXTURE, 'utf8');
// Imported when a test first asks, not at load: a mutant that breaks the import then fails those tests (a throw while
// jest loads the file would count as an error, not as a test noticing; npm run mutate). Imported again by each test
// (5 ms): with one import shared by the file, Stryker's per-test coverage credits the import's code to the first test
// only, and runs just that one against a mutant there (the warnings test then never saw a broken warning).
let fixtureImport: CrontabImport | undefined;
beforeEach(() => {
  fixtureImport = undefined;
});
const imported = (): CrontabImport =>
  (fixtureImport ??= importCrontab(fixture, { file: FILE, image: 'busybox:latest', timezone: 'Europe/Berlin', from: FROM }));
const job = (name: string): ImportedJob => {
  const found = imported().jobs.find((j) => j.name === name);
  if (!found) throw new Error(`no imported job ${name}: ${imported().jobs.map((j) => j.name).join(', ')}`);
  return found;
};

/** One crontab line into jobs (UTC, an image), or the CrontabError's problems. */
function translate(text: string, options: Parameters<typeof importCrontab>[1] = {}): CrontabImport {
  return importCrontab(text, { file: 'c', image: 'busybox:latest', timezone: 'UTC', from: FROM, ...options });
}

function problemsOf(text: string, options: Parameters<typeof importCrontab>[1] = {}): string[] {
  try {
    translate(text, options);
  } catch (err) {
    if (err instanceof CrontabError) return err.problems;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

afterAll(cleanUp);

describe('the fixture: every construct, as catalog jobs', () => {
  it('becomes these jobs, in crontab order, with these schedules and zones', () => {
    // Assess: [name, crontab line, AWS schedule, zone]. */15 -> 0/15; a-b/n is written from its values (1-26/5); names
    // and day-of-week numbers (0 and 7 are Sunday) become AWS names; @nicknames their five fields; year always *.
    expect(imported().jobs.map((j) => [j.name, j.line, j.spec.schedule, j.spec.timezone])).toEqual([
      ['poll', 9, 'cron(0/15 * * * ? *)', 'Europe/Berlin'],
      ['sample', 10, 'cron(1-26/5 9-17 ? * MON-FRI *)', 'Europe/Berlin'],
      ['run-parts-cron-quarterly', 11, 'cron(0 0,12 * 1/3 ? *)', 'Europe/Berlin'],
      ['payroll-run-dom', 13, 'cron(0 6 1,15 * ? *)', 'Europe/Berlin'],
      ['payroll-run-dow', 13, 'cron(0 6 ? * FRI *)', 'Europe/Berlin'],
      ['date-f', 14, 'cron(5 4 ? 1-3,12 SUN *)', 'Europe/Berlin'],
      ['weekly-sunday', 15, 'cron(0 22 ? * SUN *)', 'Europe/Berlin'],
      ['alternate', 16, 'cron(0 3 ? * MON,WED,FRI *)', 'Europe/Berlin'],
      ['every-other-day', 17, 'cron(0 0 ? * SUN,TUE,THU,SAT *)', 'Europe/Berlin'],
      ['every-day', 18, 'cron(0 8 * * ? *)', 'Europe/Berlin'],
      ['tick', 19, 'cron(0 * * * ? *)', 'Europe/Berlin'],
      ['rotate', 20, 'cron(0 0 * * ? *)', 'Europe/Berlin'],
      ['rotate-2', 21, 'cron(0 0 * * ? *)', 'Europe/Berlin'],
      ['compact', 22, 'cron(0 0 ? * SUN *)', 'Europe/Berlin'],
      ['invoice', 23, 'cron(0 0 1 * ? *)', 'Europe/Berlin'],
      ['archive', 24, 'cron(0 0 1 1 ? *)', 'Europe/Berlin'],
      ['archive-2', 25, 'cron(0 0 1 1 ? *)', 'Europe/Berlin'],
      // TZ= sets the zone of the jobs below it; CRON_TZ= too, and wins over a later TZ=.
      ['sync', 30, 'cron(30 2 * * ? *)', 'America/New_York'],
      ['night-shift', 31, 'cron(0,30 1 * * ? *)', 'America/New_York'],
      ['backup', 36, 'cron(30 2 * * ? *)', 'Europe/Berlin'],
      ['hourly-berlin', 37, 'cron(15 * * * ? *)', 'Europe/Berlin'],
      // CRON_TZ=Europe/Berln is no zone: UTC, with a warning.
      ['curl-abc', 40, 'cron(0 12 * * ? *)', 'UTC'],
    ]);
  });

  it('takes the description from the comment above, else the command; runs the command with SHELL -c as cron does', () => {
    expect(job('poll').spec).toEqual({
      description: 'Poll the work queue',
      schedule: 'cron(0/15 * * * ? *)',
      timezone: 'Europe/Berlin',
      image: 'busybox:latest',
      command: ['/bin/bash', '-c', '/usr/local/bin/poll.sh --quiet'],
      environment: { SHELL: '/bin/bash', PATH: '/usr/local/bin:/usr/bin:/bin' },
    });
    // Debian's template comment ("# m h dom mon dow command") is not a description; a command is, when nothing else is.
    expect(job('sample').spec.description).toBe('/opt/app/bin/sample.py --fast');
    expect(job('backup').spec.description).toBe('Nightly database backup');
    // cron passes '\%' to the shell as '%'.
    expect(job('date-f').spec.command).toEqual(['/bin/bash', '-c', 'date +%F']);
    // TZ= is also the command's variable (cron passes it on); CRON_TZ, MAILTO and RANDOM_DELAY are not variables.
    expect(job('backup').spec.environment).toEqual({ SHELL: '/bin/bash', PATH: '/usr/local/bin:/usr/bin:/bin', TZ: 'America/New_York' });
    expect(job('payroll-run-dom').spec.description).toBe('Payroll: the 1st and the 15th, and every Friday (days of the month)');
    expect(job('payroll-run-dom').comments).toEqual([
      `${FILE} line 13: 0 6 1,15 * fri /opt/payroll/run.sh`,
      'cron ran it when day-of-month OR day-of-week matched: this job has the days of the month, payroll-run-dow the weekdays',
    ]);
  });

  it('carries MAILTO as a comment naming params.notifyEmails, and says which catalog defaults differ from cron', () => {
    const text = renderCatalog(imported());
    expect(text).toContain('# MAILTO=ops@example.com (line 5): cron mailed the output of the jobs below it there.');
    expect(text).toContain('# the stage\'s SNS topic: add ops@example.com to params.notifyEmails in serverless.yml.');
    expect(text).toContain('# MAILTO="" (line 34): cron mailed nothing for the jobs below it');
    expect(text).toContain('(the defaults retries: 2, timeoutSeconds: 3600, concurrency: forbid)');
    expect(text).not.toMatch(/MAILTO:|RANDOM_DELAY:|CRON_TZ:/);
  });

  it('warns, by line, about everything that is not carried over exactly', () => {
    expect(imported().warnings).toEqual([
      `${FILE}:6: RANDOM_DELAY=5 (cronie's random start delay) has no equivalent: the jobs below it start on time`,
      `${FILE}:9: '> /dev/null 2>&1' taken out of the command: a task's files vanish when it stops, so its output now goes to the job's log (CloudWatch Logs; stepcron logs <job>)`,
      `${FILE}:9: poll: 02:00-02:45 happens twice on 2026-10-25 in Europe/Berlin (clocks fall back): cron (in the machine's zone) ran it at both, as its minute or hour field starts with '*'; EventBridge Scheduler runs it once, at the first (README: Coming from crontab)`,
      `${FILE}:13: day-of-month '1,15' and day-of-week 'fri' are both restricted: cron runs the line when either matches, AWS cron needs '?' in one, so it became two jobs, payroll-run-dom and payroll-run-dow; on a day that matches both, both run (cron ran it once): next on 2026-05-01`, // a Friday, the 1st
      `${FILE}:14: '>> /var/log/winter.log' taken out of the command: a task's files vanish when it stops, so its output now goes to the job's log (CloudWatch Logs; stepcron logs <job>)`,
      `${FILE}:18: day-of-month '1-31' covers every day, and cron runs a line when either day field matches: it ran every day (imported so)`,
      `${FILE}:19: tick: 02:00 happens twice on 2026-10-25 in Europe/Berlin (clocks fall back): cron (in the machine's zone) ran it at both, as its minute or hour field starts with '*'; EventBridge Scheduler runs it once, at the first (README: Coming from crontab)`,
      `${FILE}:26: @reboot runs when the machine starts, which has no schedule: left out (run it from the image's entry point if it is still needed)`,
      `${FILE}:30: sync: 02:30 does not exist on 2026-03-08 in America/New_York (clocks spring forward): cron (in the machine's zone) ran it right after the change; EventBridge Scheduler skips it that day (README: Coming from crontab)`,
      `${FILE}:31: night-shift: 01:00-01:30 happens twice on 2026-11-01 in America/New_York (clocks fall back): cron (in the machine's zone) ran it at both, as its minute or hour field starts with '*'; EventBridge Scheduler runs it once, at the first (README: Coming from crontab)`,
      `${FILE}:36: backup: 02:30 happens twice on 2026-10-25 in Europe/Berlin (clocks fall back): cronie (CRON_TZ) ran it at both; EventBridge Scheduler runs it once, at the first (README: Coming from crontab)`,
      `${FILE}:37: hourly-berlin: 02:15 happens twice on 2026-10-25 in Europe/Berlin (clocks fall back): cronie (CRON_TZ) ran it at both; EventBridge Scheduler runs it once, at the first (README: Coming from crontab)`,
      `${FILE}:39: CRON_TZ='Europe/Berln' is not an IANA time zone (such as Europe/Berlin): the jobs below it are read in UTC; fix the name and import again`,
    ]);
  });

  it('is a catalog parseCatalog accepts, job for job', () => {
    const jobs = parseCatalog(renderCatalog(imported()), { stage: 'prod', file: 'imported.yml' });
    expect(jobs.map((j) => [j.name, j.schedule, j.timezone, j.image, j.command])).toEqual(
      imported().jobs.map((j) => [j.name, j.spec.schedule, j.spec.timezone, 'busybox:latest', j.spec.command]));
    // The catalog's defaults fill in the rest.
    expect(jobs[0]).toMatchObject({ retries: 2, concurrency: 'forbid', enabled: true });
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// The oracle: croner (domAndDow: false, the Vixie OR; legacyMode is its deprecated name) reads the crontab line itself.

/** Just before each zone's spring-forward and fall-back of 2026 (and any day for UTC). */
const STARTS: Record<string, string[]> = {
  'Europe/Berlin': ['2026-03-28T12:00:00Z', '2026-10-24T12:00:00Z'],
  'America/New_York': ['2026-03-07T12:00:00Z', '2026-10-31T12:00:00Z'],
  UTC: ['2026-02-27T12:00:00Z'],
};
/** The spring-forward days, where croner and Scheduler legitimately differ (below). */
const SPRING_FORWARD: Record<string, string> = { 'Europe/Berlin': '2026-03-29', 'America/New_York': '2026-03-08' };

const cronPattern = (entry: string) => (entry.startsWith('@') ? entry.split(/\s+/)[0]! : entry.split(/\s+/).slice(0, 5).join(' '));

/** The next `count` times of the jobs made from one line: the union of their AWS times (each instant once). */
function awsTimes(jobs: ImportedJob[], from: Date, count: number): number[] {
  const times = new Set<number>();
  for (const j of jobs) {
    for (const t of nextFireTimes(j.spec.schedule, { timezone: j.spec.timezone, from, count })) times.add(t.getTime());
  }
  return [...times].sort((a, b) => a - b).slice(0, count);
}

/**
 * croner's next times for the line. In a spring-forward gap croner runs a skipped time as many minutes later as the
 * gap is long (02:30 -> 03:30), where Scheduler skips it: such a time is one whose local time does not match the line
 * (croner's own `match`); they are returned apart, as `shifted`, and each instant is kept once.
 */
function oracleTimes(pattern: string, timezone: string, from: Date, count: number): { times: number[]; shifted: number[] } {
  const cron = new Cron(pattern, { timezone, domAndDow: false, paused: true });
  const raw = cron.nextRuns(count + 60, from);
  const times = [...new Set(raw.filter((t) => cron.match(t)).map((t) => t.getTime()))].sort((a, b) => a - b).slice(0, count);
  const shifted = raw.filter((t) => !cron.match(t) && t.getTime() <= times.at(-1)!).map((t) => t.getTime());
  return { times, shifted };
}

describe('oracle: each job fires when croner says cron runs its line (next 100 times, across DST changes)', () => {
  // The fixture's entry lines (the first test checks the jobs made from them).
  const lines = [9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 30, 31, 36, 37, 40];
  const shifted: string[] = [];

  it('has a job for each of these lines, and for no other', () => {
    expect([...new Set(imported().jobs.map((j) => j.line))]).toEqual(lines);
  });

  it.each(lines)('line %i', (line) => {
    const jobs = imported().jobs.filter((j) => j.line === line);
    const { timezone } = jobs[0]!.spec;
    const pattern = cronPattern(jobs[0]!.entry);
    for (const start of STARTS[timezone]!) {
      const from = new Date(start);
      const oracle = oracleTimes(pattern, timezone, from, 100);
      expect(oracle.times).toHaveLength(100);
      expect(awsTimes(jobs, from, 100).map((t) => new Date(t).toISOString())).toEqual(oracle.times.map((t) => new Date(t).toISOString()));
      shifted.push(...oracle.shifted.map((t) => `${jobs[0]!.name} ${new Date(t).toISOString()}`));
    }
  });

  it('differs from croner only at 02:30 on spring-forward days: croner runs it at 03:30, Scheduler skips it', () => {
    // Both are 02:30 jobs, the one time of the fixture that a spring-forward skips and that croner moves.
    expect([...new Set(shifted)].sort()).toEqual([
      'backup 2026-03-29T01:30:00.000Z', // 03:30 CEST
      'sync 2026-03-08T07:30:00.000Z', // 03:30 EDT
    ]);
    for (const [name, zone] of [['backup', 'Europe/Berlin'], ['sync', 'America/New_York']] as const) {
      const day = SPRING_FORWARD[zone]!;
      const times = nextFireTimes(job(name).spec.schedule, { timezone: zone, from: new Date(`${day}T00:00:00Z`), count: 1 });
      expect(times[0]!.toISOString().slice(0, 10)).not.toBe(day);
    }
    // What cron did there is the warning's: sync (TZ=, the machine's zone) ran right after the change; backup (CRON_TZ)
    // was skipped by cronie as by Scheduler, so it has no spring-forward warning.
    expect(imported().warnings.filter((w) => w.includes('spring forward')).map((w) => w.split(': ')[1])).toEqual(['sync']);
  });

  it('at fall-back, runs a repeated time once, at the first (as croner does), where cronie under CRON_TZ ran it twice', () => {
    const from = new Date('2026-10-24T23:00:00Z');
    const times = nextFireTimes(job('backup').spec.schedule, { timezone: 'Europe/Berlin', from, count: 2 }).map((t) => t.toISOString());
    expect(times).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']); // 02:30 CEST, then 02:30 CET next day
    expect(oracleTimes('30 2 * * *', 'Europe/Berlin', from, 2).times.map((t) => new Date(t).toISOString())).toEqual(times);
  });

  it('split entries: on a day matching both fields both jobs fire, where cron ran the line once', () => {
    // 2026-05-01 is a Friday and the 1st: 06:00 CEST.
    const from = new Date('2026-04-30T00:00:00Z');
    const at = (name: string) => nextFireTimes(job(name).spec.schedule, { timezone: 'Europe/Berlin', from, count: 1 })[0]!.toISOString();
    expect([at('payroll-run-dom'), at('payroll-run-dow')]).toEqual(['2026-05-01T04:00:00.000Z', '2026-05-01T04:00:00.000Z']);
    expect(oracleTimes('0 6 1,15 * fri', 'Europe/Berlin', from, 2).times.map((t) => new Date(t).toISOString()))
      .toEqual(['2026-05-01T04:00:00.000Z', '2026-05-08T04:00:00.000Z']);
  });
});

describe('AWS cron syntax from cron syntax', () => {
  it.each([
    ['*/15 * * * *', 'cron(0/15 * * * ? *)'],
    ['*/7 * * * *', 'cron(0/7 * * * ? *)'], // 0,7,...,56: the step need not divide 60
    ['5,20,35,50 * * * *', 'cron(5/15 * * * ? *)'],
    ['1-30/5 * * * *', 'cron(1-26/5 * * * ? *)'],
    ['0,30 8-10,14 * * *', 'cron(0,30 8-10,14 * * ? *)'],
    ['0 */6 * * *', 'cron(0 0/6 * * ? *)'],
    ['0 0 1 JAN,jul *', 'cron(0 0 1 1,7 ? *)'],
    ['0 0 * * 0', 'cron(0 0 ? * SUN *)'],
    ['0 0 * * 7', 'cron(0 0 ? * SUN *)'],
    ['0 0 * * 5-7', 'cron(0 0 ? * SUN,FRI,SAT *)'],
    ['0 0 * * 1-5', 'cron(0 0 ? * MON-FRI *)'],
    ['0 0 * * Sat,SUN', 'cron(0 0 ? * SUN,SAT *)'],
    ['0 0 * * mon-fri/2', 'cron(0 0 ? * MON,WED,FRI *)'], // AWS takes no step in day-of-week
    ['0 0 * * */3', 'cron(0 0 ? * SUN,WED,SAT *)'],
    ['0 0 * * 0-7', 'cron(0 0 * * ? *)'],
    ['0 0 */2 * *', 'cron(0 0 1/2 * ? *)'],
    ['59 23 31 12 *', 'cron(59 23 31 12 ? *)'],
  ])('%s -> %s, and fires when croner says', (fields, schedule) => {
    const { jobs } = translate(`${fields} /bin/true`);
    expect(jobs.map((j) => j.spec.schedule)).toEqual([schedule]);
    const from = new Date('2026-04-02T12:00:00Z');
    expect(awsTimes(jobs, from, 100)).toEqual(oracleTimes(fields, 'UTC', from, 100).times);
  });

  it('the one place the oracle is wrong: croner 10.0.1 skips early March days after a day February lacks', () => {
    // From 2026-02-27, */10 (days 1, 11, 21, 31): cron tests each day against the set, so it runs on March 1, as
    // Scheduler does. croner rolls "February 31" over to March 3 and searches on from there (the same for 1,31).
    const from = new Date('2026-02-27T12:00:00Z');
    const [{ spec }] = translate('0 0 */10 * * /bin/true').jobs as [ImportedJob];
    expect(spec.schedule).toBe('cron(0 0 1/10 * ? *)');
    expect(nextFireTimes(spec.schedule, { from, count: 2 }).map((t) => t.toISOString().slice(0, 10))).toEqual(['2026-03-01', '2026-03-11']);
    expect(oracleTimes('0 0 */10 * *', 'UTC', from, 2).times.map((t) => new Date(t).toISOString().slice(0, 10))).toEqual(['2026-03-11', '2026-03-21']);
  });

  it('never writes L, W, # or a year, which cron does not have', () => {
    for (const j of imported().jobs) expect(j.spec.schedule).toMatch(/^cron\(([0-9,/*?A-Z-]+ ){5}\*\)$/);
    for (const j of imported().jobs) expect(j.spec.schedule).not.toMatch(/#|\bL\b|\dL\b|\bLW\b|\dW\b/);
  });
});

describe('refused, one line each naming file:line and the fix', () => {
  it.each([
    ['0 0 * * ? /x', "c:1: day-of-week: '?' is not crontab syntax (numbers, names, a-b, */n, a-b/n, lists): ?, L, W and # are AWS/Quartz syntax that cron refuses; write the values out"],
    ['0 0 L * * /x', "c:1: day-of-month: 'L' is not crontab syntax"],
    ['0 0 15W * * /x', "c:1: day-of-month: '15W' is not crontab syntax"],
    ['0 0 * * 5#2 /x', "c:1: day-of-week: '5#2' is not crontab syntax"],
    ['0 0 * * 6L /x', "c:1: day-of-week: '6L' is not crontab syntax"],
    ['0 0 * * * * /x', "c:1: the command starts with '*', which looks like a sixth time field: cron takes five (AWS's year field is not crontab syntax); remove it"],
    ['0 0 * * * 2027 /x', "c:1: the command starts with '2027', which looks like a sixth time field"],
    ['5/10 * * * * /x', "c:1: minute: '5/10': cron takes a step only after '*' or a range: write 5-59/10"],
    ['0 0 * * fri-sun /x', "c:1: day-of-week: the range 'fri-sun' runs backwards, which cron refuses (SUN is 0): write it as two parts, e.g. fri-sat,sun"],
    ['60 * * * * /x', 'c:1: minute: 60 is out of range (0-59)'],
    ['0 24 * * * /x', 'c:1: hour: 24 is out of range (0-23)'],
    ['0 0 0 * * /x', 'c:1: day-of-month: 0 is out of range (1-31)'],
    ['0 0 * * 8 /x', 'c:1: day-of-week: 8 is out of range (0-7)'],
    ['*/0 * * * * /x', "c:1: minute: the step in '*/0' must be at least 1"],
    ['0 0 * foo * /x', "c:1: month: 'foo' is not a month value (1-12 or JAN-DEC)"],
    ['0 0 * * monday /x', "c:1: day-of-week: 'monday' is not a day-of-week value (0-7 or SUN-SAT)"],
    ['0 0 * * * echo 50% done', "c:1: the command has an unescaped '%', which cron turns into a newline and the text after it into the command's standard input: write \\% for a literal % (e.g. date +\\%F), or move the input into a script the command runs"],
    ['@fortnightly /x', "c:1: '@fortnightly' is not a cron nickname: use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually, or five fields"],
    ['0 0 */2 * 1 /x', "c:1: day-of-month '*/2' and day-of-week '1': cron runs it only on days matching both (a field that starts with '*' makes it AND), which AWS cron cannot express (one of them must be '?')"],
    ['0 0 1 * */2 /x', "c:1: day-of-month '1' and day-of-week '*/2': cron runs it only on days matching both"],
    ['0 0 * * *', 'c:1: the entry has no command'],
    ['run the backup at night', 'c:1: not a cron entry, a comment or a NAME=value line: an entry is five time fields then the command'],
    ['MY-VAR=1\n0 0 * * * /x', "c:1: 'MY-VAR' cannot be a job's environment variable"],
    ['STEPCRON_STAGE=prod\n0 0 * * * /x', "c:1: 'STEPCRON_STAGE' cannot be a job's environment variable"],
    ['# only this\nFOO=1\n@reboot /x', 'c: no cron entries to import (only comments, variables or @reboot)'],
  ])('%j', (text, problem) => {
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(problem)).toBe(true);
  });

  it('--system wants a user before the command; every problem is reported, in line order', () => {
    expect(problemsOf('0 0 * * * /x', { system: true })).toEqual([
      'c:1: expected a user name and then the command after the schedule (the /etc/crontab format, --system)',
    ]);
    expect(problemsOf('0 0 1 * */2 /x\n# ok\n0 0 * * * /y\n61 * * * * /z\n0 0 * * * echo %').map((p) => p.split(': ')[0]))
      .toEqual(['c:1', 'c:4', 'c:5']);
  });

  it('a bad --tz or --prefix is refused before any line', () => {
    expect(problemsOf('0 0 * * * /x', { timezone: 'Berlin' })).toEqual(["--tz: 'Berlin' is not an IANA time zone such as Europe/Berlin or UTC"]);
    expect(problemsOf('0 0 * * * /x', { prefix: 'Legacy_' })[0]).toMatch(/^--prefix: 'Legacy_' must be lowercase/);
  });
});

describe('warned, and imported', () => {
  it('no --tz and no CRON_TZ: read in UTC, with a warning; --tz names the machine\'s zone', () => {
    const plain = importCrontab('0 3 * * * /x\n', { file: 'c', image: 'i', from: FROM });
    expect(plain.jobs[0]!.spec.timezone).toBe('UTC');
    expect(plain.warnings).toEqual([expect.stringMatching(/^c: no --tz given and no CRON_TZ= or TZ= line above the entries: they are read in UTC, while cron read them in the machine's time zone: pass --tz <zone>/)]);
    expect(translate('0 3 * * * /x\n', { timezone: 'Asia/Tokyo' }).jobs[0]!.spec.timezone).toBe('Asia/Tokyo');
  });

  it('no --image: no image written, so the catalog\'s defaults.image applies, and validation says so until there is one', () => {
    const noImage = importCrontab('0 3 * * * /opt/x.sh\n', { file: 'c', timezone: 'UTC', from: FROM });
    expect(noImage.jobs[0]!.spec).not.toHaveProperty('image');
    expect(noImage.warnings).toEqual([expect.stringMatching(/^c: no --image given: the jobs have no image, so they take the catalog's defaults.image/)]);
    expect(() => parseCatalog(renderCatalog(noImage), { stage: 'dev' })).toThrow(/jobs\.x\.image: is required: the container image to run/);
    const withDefaults = `defaults:\n  image: busybox:latest\njobs:\n${renderJobs(noImage, 2)}`;
    expect(parseCatalog(withDefaults, { stage: 'dev' })[0]).toMatchObject({ name: 'x', image: 'busybox:latest' });
  });

  it('/etc/crontab format (--system): the user is left out of the command, and a user other than root is warned about', () => {
    const etc = [
      'SHELL=/bin/sh',
      'PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin',
      '17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly',
      '25 6\t* * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }',
      '*/5 * * * * www-data php /var/www/artisan schedule:run',
    ].join('\n');
    const result = translate(etc, { system: true });
    expect(result.jobs.map((j) => [j.name, j.spec.schedule, j.spec.command[2]])).toEqual([
      ['run-parts-cron-hourly', 'cron(17 * * * ? *)', 'cd / && run-parts --report /etc/cron.hourly'],
      ['run-parts-cron-daily', 'cron(25 6 * * ? *)', 'test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }'],
      ['artisan-schedule-run', 'cron(0/5 * * * ? *)', 'php /var/www/artisan schedule:run'],
    ]);
    expect(result.warnings).toEqual(["c:5: cron ran it as user 'www-data': artisan-schedule-run run as the image's user"]);
    expect(result.jobs[2]!.comments).toContain("cron ran it as user www-data; the task runs as the image's user");
    // The same file without --system: 'root' would be run as a command.
    expect(translate(etc).warnings).toContain("c:3: the command starts with 'root': is this /etc/crontab or /etc/cron.d format? Then import with --system");
  });

  it('DST in the machine\'s zone (--tz): a skipped fixed time ran right after the change; a repeated * hour ran twice', () => {
    const result = translate('30 2 * * * /opt/nightly.sh\n15 * * * * /opt/hourly.sh\n0 12 * * * /opt/noon.sh\n', { timezone: 'Europe/Berlin' });
    expect(result.warnings).toEqual([
      "c:1: nightly: 02:30 does not exist on 2026-03-29 in Europe/Berlin (clocks spring forward): cron (in the machine's zone) ran it right after the change; EventBridge Scheduler skips it that day (README: Coming from crontab)",
      "c:2: hourly: 02:15 happens twice on 2026-10-25 in Europe/Berlin (clocks fall back): cron (in the machine's zone) ran it at both, as its minute or hour field starts with '*'; EventBridge Scheduler runs it once, at the first (README: Coming from crontab)",
    ]);
    // Southern hemisphere, midnight changes: Santiago springs forward from 00:00 to 01:00 (2026-09-06).
    expect(translate('0 0 * * * /opt/midnight.sh\n', { timezone: 'America/Santiago' }).warnings)
      .toEqual([expect.stringContaining('midnight: 00:00 does not exist on 2026-09-06 in America/Santiago (clocks spring forward)')]);
  });
});

describe('output redirections', () => {
  // Rule: output sent to a file is taken out (a task's files vanish; the job's log has the output), one warning per
  // line; what feeds another command (a pipe, a file read again) and 2>&1 alone stay as written.
  it.each([
    ['/usr/sbin/logrotate /etc/logrotate.conf >> /var/log/x.log 2>&1', '/usr/sbin/logrotate /etc/logrotate.conf', '>> /var/log/x.log 2>&1'],
    ['/opt/a.sh > /dev/null 2>&1', '/opt/a.sh', '> /dev/null 2>&1'],
    ['/opt/a.sh &>/tmp/a.out; /opt/b.sh 2>>/var/log/b.err', '/opt/a.sh; /opt/b.sh', '&>/tmp/a.out 2>>/var/log/b.err'],
    ["echo 'x > y' >> \"/var/log/my log\"", "echo 'x > y'", '>> "/var/log/my log"'],
    ['/opt/a.sh 2>&1 | logger -t a', '/opt/a.sh 2>&1 | logger -t a', undefined],
    ['/opt/a.sh 2>/dev/null | grep -v noise', '/opt/a.sh 2>/dev/null | grep -v noise', undefined],
    ['/opt/a.sh > /tmp/out.csv && aws s3 cp /tmp/out.csv s3://b/k', '/opt/a.sh > /tmp/out.csv && aws s3 cp /tmp/out.csv s3://b/k', undefined],
    ['/opt/a.sh 2>&1', '/opt/a.sh 2>&1', undefined],
  ])('%s -> %s', (line, command, removed) => {
    const result = translate(`0 3 * * * ${line}\n`);
    expect(result.jobs[0]!.spec.command[2]).toBe(command);
    const said = result.warnings.filter((w) => w.includes('taken out of the command'));
    expect(said).toEqual(removed === undefined ? [] : [`c:1: '${removed}' taken out of the command: a task's files vanish when it stops, ` +
      "so its output now goes to the job's log (CloudWatch Logs; stepcron logs <job>)"]);
  });
});

describe('job names', () => {
  it.each([
    // An argument that repeats the program's name adds nothing.
    ['/usr/sbin/logrotate /etc/logrotate.conf >> /var/log/x.log 2>&1', 'logrotate'],
    ['/usr/local/bin/backup.sh --full /var/db > /var/log/b.log 2>&1', 'backup-db'],
    ['cd /srv/app && php artisan queue:work --once', 'artisan-queue-work'],
    ['flock -n /tmp/sync.lock /opt/app/sync.sh', 'sync'],
    ['timeout 300 nice -n 10 /opt/app/reindex', 'reindex'],
    ['sudo -u postgres vacuumdb --all', 'vacuumdb'],
    ['FOO=1 python3 -u /opt/app/manage.py clearsessions', 'manage-clearsessions'],
    ['/opt/payroll/run.sh', 'payroll-run'],
    ['[ -f /etc/maintenance ] || /opt/app/send-digest', 'send-digest'],
    ['2fa-rotate', 'job-2fa-rotate'],
    ['/opt/app/a-very-long-program-name-that-goes-on-and-on-and-on --with-args', 'a-very-long-program-name-that-goes-on'],
  ])('%s -> %s', (command, name) => {
    expect(translate(`0 0 * * * ${command}\n`).jobs[0]!.name).toBe(name);
  });

  it('are unique as CloudFormation ids, at most 40 characters, prefixed with --prefix, and valid for the catalog', () => {
    const text = ['/opt/backup2', '/opt/backup-2', '/opt/backup-2', '/opt/x'.padEnd(60, 'y')].map((c) => `0 0 * * * ${c}`).join('\n');
    const { jobs } = translate(text, { prefix: 'legacy-' });
    expect(jobs.map((j) => j.name)).toEqual(['legacy-backup2', 'legacy-backup-2-2', 'legacy-backup-2-3', `legacy-x${'y'.repeat(32)}`]);
    expect(new Set(jobs.map((j) => logicalId(j.name))).size).toBe(jobs.length);
    for (const j of jobs) expect(j.name.length).toBeLessThanOrEqual(MAX_IMPORTED_NAME);
    // The longest name fits a 30-character stage: stepcron-<stage>-<name> is at most 80.
    expect(parseCatalog(renderCatalog(translate(text, { prefix: 'legacy-' })), { stage: 'x'.repeat(30) })).toHaveLength(4);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// -o: the jobs added to a catalog, the rest of it left as it was.

const EXISTING = `# Our jobs. Field reference: README.md#catalog-reference.
defaults:
  image: registry.example.com/jobs:7   # pinned
  retries: 1

jobs:
  nightly-report:
    description: "Builds the report"
    schedule: cron(30 2 * * ? *)
    command: [sh, jobs/report.sh]
    # kept with the job above
`;

describe('mergeJobs (-o into an existing catalog)', () => {
  // No --image: the catalog's defaults.image applies. Imported by each test, not while jest loads the file (npm run mutate).
  const importTwo = () => importCrontab('# Poll\n*/5 * * * * /opt/poll.sh\n0 1 * * * /opt/app/cleanup\n', { file: 'c', timezone: 'UTC', from: FROM });

  it('inserts the jobs after the last one; every other byte stays as it was', () => {
    const two = importTwo();
    const merged = mergeJobs(EXISTING, two, 'jobs.yml');
    const block = renderJobs(two, 2, two.header);
    expect(merged.replace(block, '')).toBe(EXISTING);
    const jobs = parseCatalog(merged, { stage: 'dev' });
    expect(jobs.map((j) => [j.name, j.image, j.retries])).toEqual([
      ['nightly-report', 'registry.example.com/jobs:7', 1],
      ['poll', 'registry.example.com/jobs:7', 1],
      ['cleanup', 'registry.example.com/jobs:7', 1],
    ]);
  });

  it('matches the catalog\'s indentation, and copes with no final newline, an empty jobs: and no jobs: at all', () => {
    const two = importTwo();
    const four = 'defaults:\n    image: i\njobs:\n    old:\n        description: x\n        schedule: rate(1 hour)\n        image: i\n        command: [a]';
    const merged = mergeJobs(four, two, 'four.yml');
    expect(merged.startsWith(`${four}\n    # Imported from c`)).toBe(true);
    expect(merged).toContain('\n    poll:\n      description: Poll\n');
    expect(parseCatalog(merged, { stage: 'dev' }).map((j) => j.name)).toEqual(['old', 'poll', 'cleanup']);

    const empty = mergeJobs('defaults:\n  image: i\njobs:\n', two, 'e.yml');
    expect(parseCatalog(empty, { stage: 'dev' }).map((j) => j.name)).toEqual(['poll', 'cleanup']);
    const emptyBeforeDefaults = mergeJobs('jobs:\n# later\ndefaults:\n  image: i\n', two, 'e.yml');
    expect(emptyBeforeDefaults.startsWith('jobs:\n  # Imported')).toBe(true);
    expect(emptyBeforeDefaults.endsWith('# later\ndefaults:\n  image: i\n')).toBe(true);
    const none = mergeJobs('defaults:\n  image: i', two, 'n.yml');
    expect(none.startsWith('defaults:\n  image: i\njobs:\n')).toBe(true);
    expect(parseCatalog(none, { stage: 'dev' })).toHaveLength(2);
  });

  it('refuses a name the catalog has (or one that is the same resource), writing nothing, and says how to avoid it', () => {
    const two = importTwo();
    expect(() => mergeJobs(EXISTING.replace('nightly-report:', 'poll:'), two, 'jobs.yml')).toThrow(new MergeError(
      "-o jobs.yml: 'poll' (line 2) clashes with job 'poll' already in jobs.yml: nothing was written; rename or remove it there, or import with --prefix <text>- (e.g. --prefix legacy-)"));
    // backup2 and backup-2 are both Backup2... in CloudFormation.
    const twin = translate('0 0 * * * /opt/backup2\n');
    expect(() => mergeJobs('jobs:\n  backup-2: {description: x}\n', twin, 'j.yml')).toThrow(/'backup2' \(line 1\) clashes with job 'backup-2'/);
  });

  it('refuses what it cannot merge into without rewriting: invalid YAML, a flow-style jobs map, a list', () => {
    const two = importTwo();
    expect(() => mergeJobs('jobs: [\n', two, 'j.yml')).toThrow(/^-o j.yml: is not valid YAML/);
    expect(() => mergeJobs('jobs: {a: {description: x}}\n', two, 'j.yml')).toThrow(/jobs is written as a flow map/);
    expect(() => mergeJobs('- a\n', two, 'j.yml')).toThrow(/is not a catalog/);
  });
});

describe('importCrontabFile (the command, in process)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stepcron-crontab-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (file: string, options: Parameters<typeof importCrontabFile>[1]) => {
    let out = '';
    let err = '';
    const code = await importCrontabFile(file, options, { out: (t) => { out += t; }, err: (t) => { err += t; }, from: FROM });
    return { code, out, err };
  };

  it('prints the catalog on stdout and the warnings on stderr', async () => {
    const result = await run(FIXTURE, { image: 'busybox:latest', tz: 'Europe/Berlin' });
    expect(result.code).toBe(0);
    expect(result.out).toBe(renderCatalog(importCrontab(fixture, { file: FIXTURE, image: 'busybox:latest', timezone: 'Europe/Berlin', from: FROM })));
    expect(result.err.trimEnd().split('\n')).toHaveLength(imported().warnings.length);
    expect(result.err).toMatch(/^stepcron: warning: .*every-construct.crontab:6: RANDOM_DELAY=5/);
  });

  it('without --image: stderr says which jobs validation flags until an image is set', async () => {
    const file = join(dir, 'one.crontab');
    writeFileSync(file, '0 1 * * * /opt/x.sh\n');
    const result = await run(file, { tz: 'UTC' });
    expect(result.code).toBe(0);
    expect(result.err).toContain('stepcron: warning: the imported catalog does not validate yet: jobs.x.image: is required: the container image to run\n');
  });

  it('a file with lines that cannot be imported: exit 2, one stderr line per line, nothing on stdout or in -o', async () => {
    const file = join(dir, 'bad.crontab');
    writeFileSync(file, '0 0 * * ? /x\n0 0 * * * ok\n0 0 L * * /y\n');
    const target = join(dir, 'untouched.yml');
    writeFileSync(target, EXISTING);
    const result = await run(file, { image: 'i', tz: 'UTC', output: target });
    expect(result).toMatchObject({ code: 2, out: '' });
    expect(result.err.trimEnd().split('\n').map((l) => l.slice(0, l.indexOf(': ', 10)))).toEqual([`stepcron: ${file}:1`, `stepcron: ${file}:3`]);
    expect(readFileSync(target, 'utf8')).toBe(EXISTING);
  });
});

describe('the CLI, spawned', () => {
  it('merges into a catalog with -o, refuses a bad crontab, an unreadable file and a clash with exit 2, and has --help', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-crontab-cli-'));
    try {
      writeFileSync(join(dir, 'jobs.yml'), EXISTING);
      writeFileSync(join(dir, 'bad.crontab'), '# fine\n0 0 * * * /x\n0 0 * * * * /y\n');
      const cli = (args: string[]) => startCli(args, { cwd: dir }).done;
      const [merge, bad, missing, help] = await Promise.all([
        cli(['import', 'crontab', FIXTURE, '--image', 'busybox:latest', '--tz', 'Europe/Berlin', '-o', 'jobs.yml']),
        cli(['import', 'crontab', 'bad.crontab']),
        cli(['import', 'crontab', 'nope.crontab']),
        cli(['import', 'crontab', '--help']),
      ]);
      expect(merge.code).toBe(0);
      expect(merge.stdout).toBe(`jobs.yml: added 22 jobs (${imported().jobs.map((j) => j.name).join(', ')}); check them with: npx stepcron validate --catalog jobs.yml\n`);
      const warnings = merge.stderr.trimEnd().split('\n');
      expect(warnings.length).toBeGreaterThanOrEqual(5);
      for (const line of warnings) expect(line).toMatch(/^stepcron: warning: \S+every-construct\.crontab(:\d+)?: /);
      const catalog = readFileSync(join(dir, 'jobs.yml'), 'utf8');
      expect(catalog.startsWith(EXISTING.replace('    # kept with the job above\n', ''))).toBe(true);
      expect(parseCatalog(catalog, { stage: 'dev' })).toHaveLength(23);

      expect(bad).toMatchObject({ code: 2, stdout: '' });
      expect(bad.stderr).toBe("stepcron: bad.crontab:3: the command starts with '*', which looks like a sixth time field: cron takes five (AWS's year field is not crontab syntax); remove it\n");
      expect(missing).toMatchObject({ code: 2, stdout: '' });
      expect(missing.stderr).toBe('stepcron: nope.crontab: cannot read the crontab (ENOENT): give a readable file, e.g. one saved with crontab -l > my.crontab\n');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('$ npx stepcron import crontab my.crontab --image');

      // The same import again: every name is taken now.
      const again = await cli(['import', 'crontab', FIXTURE, '--image', 'busybox:latest', '--tz', 'Europe/Berlin', '-o', 'jobs.yml']);
      expect(again.code).toBe(2);
      expect(again.stderr.split('\n').filter((l) => !l.startsWith('stepcron: warning:'))).toEqual([
        expect.stringMatching(/^stepcron: -o jobs.yml: 'poll' \(line 9\) clashes with job 'poll', .* nothing was written; rename or remove them there, or import with --prefix <text>-/),
        '',
      ]);
      expect(readFileSync(join(dir, 'jobs.yml'), 'utf8')).toBe(catalog);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Gaps mutation testing found (npm run mutate -- crontab): each rule below was broken by some mutant no test noticed.
describe('crontab: line endings, comments, nicknames, --prefix and the error message', () => {
  const unix = '# nightly backup\n0 3 * * * /usr/bin/backup.sh --all\nFOO=bar\n# poll the queue\n*/5 * * * * /opt/poll\n';

  it('reads a crontab saved on Windows (CRLF) exactly as the same file with LF: no \\r reaches a command, value or description', () => {
    // Act
    const crlf = translate(unix.replace(/\n/g, '\r\n'));
    // Assess
    expect(crlf).toEqual(translate(unix));
    expect(JSON.stringify(crlf.jobs)).not.toContain('\\r');
    expect(crlf.jobs.map((j) => j.spec.description)).toEqual(['nightly backup', 'poll the queue']);
    expect(crlf.jobs[1]!.spec.environment).toEqual({ FOO: 'bar' });
  });

  it('writes each job with a `# file line N: entry` comment right above its key', () => {
    // Act
    const text = renderCatalog(translate(unix, { file: 'legacy.cron' }));
    // Assess
    expect(text).toContain('\n  # legacy.cron line 2: 0 3 * * * /usr/bin/backup.sh --all\n  backup:\n');
    expect(text).toContain('\n  # legacy.cron line 5: */5 * * * * /opt/poll\n  poll:\n');
  });

  it('does not take a commented-out entry, or the column header of Debian\'s template, as the next job\'s description', () => {
    // Act
    const jobs = translate('# 0 0 * * * /old.sh\n0 1 * * * /new.sh\n# m h  dom mon dow   command\n0 2 * * * /other.sh\n# 0 0 * * * /old.sh\n# really this\n0 3 * * * /third.sh').jobs;
    // Assess
    expect(jobs.map((j) => j.spec.description)).toEqual(['/new.sh', '/other.sh', 'really this']);
  });

  it('joins a description of several comment lines, and forgets it at a blank line', () => {
    // Act
    const jobs = translate('# first part\n## second part\n0 1 * * * /a.sh\n# orphan\n\n0 2 * * * /b.sh').jobs;
    // Assess
    expect(jobs.map((j) => j.spec.description)).toEqual(['first part second part', '/b.sh']);
  });

  it.each([
    ['@hourly', 'cron(0 * * * ? *)'], ['@daily', 'cron(0 0 * * ? *)'], ['@midnight', 'cron(0 0 * * ? *)'], ['@weekly', 'cron(0 0 ? * SUN *)'],
    ['@monthly', 'cron(0 0 1 * ? *)'], ['@yearly', 'cron(0 0 1 1 ? *)'], ['@annually', 'cron(0 0 1 1 ? *)'],
  ])('reads the nickname %s as cron does: %s', (nickname, schedule) => {
    // Act
    const [only, ...rest] = translate(`${nickname} /opt/report.sh`).jobs;
    // Assess
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ name: 'report', entry: `${nickname} /opt/report.sh`, spec: { schedule } });
  });

  it('puts --prefix in front of every name, split jobs included', () => {
    // Act
    const jobs = translate('0 1 * * * /new.sh\n0 0 1 * 1 /both.sh', { prefix: 'legacy-' }).jobs;
    // Assess
    expect(jobs.map((j) => j.name)).toEqual(['legacy-new', 'legacy-both-dom', 'legacy-both-dow']);
  });

  it('says how many problems there are, one per line, or just the one', () => {
    // Act
    const many = () => translate('61 * * * * /x\n0 0 * * 8 /y');
    const one = () => translate('61 * * * * /x');
    // Assess
    expect(many).toThrow(new CrontabError(['c:1: minute: 61 is out of range (0-59)', 'c:2: day-of-week: 8 is out of range (0-7)']));
    expect(many).toThrow('2 problems:\n  - c:1: minute: 61 is out of range (0-59)\n  - c:2: day-of-week: 8 is out of range (0-7)');
    expect(one).toThrow(/^c:1: minute: 61 is out of range \(0-59\)$/);
  });
});

describe('crontab: split entries, mail settings and quoted values', () => {
  it('names the next day both halves of a split entry fire, as a date in the zone', () => {
    // Act
    const berlin = nextDayOfBoth('cron(0 6 1,15 * ? *)', 'cron(0 6 ? * FRI *)', 'Europe/Berlin', FROM);
    // 00:30 on Friday 1 May in Auckland is Thursday 30 April in UTC: the weekday is the zone's
    const auckland = nextDayOfBoth('cron(30 0 1 * ? *)', 'cron(30 0 ? * FRI *)', 'Pacific/Auckland', FROM);
    // Assess
    expect([berlin, auckland]).toEqual(['2026-05-01', '2026-05-01']);
    expect(nextDayOfBoth('cron(30 0 1 * ? *)', 'cron(30 0 ? * 6L *)', 'UTC', FROM)).toBeUndefined();
    expect(nextDayOfBoth('rate(1 day)', 'cron(30 0 ? * FRI *)', 'UTC', FROM)).toBeUndefined();
  });

  it('turns mail settings into header notes: MAILTO\'s addresses to params.notifyEmails, the others as having no equivalent', () => {
    // Act
    const { header } = translate('MAILFROM=cron@x\nMAILTO="a@x, b@y"\n0 0 * * * /opt/a.sh\n');
    // Assess
    expect(header.slice(3)).toEqual([
      'MAILFROM=cron@x (line 1): mail settings have no equivalent; stepcron notifies through SNS.',
      'MAILTO=a@x, b@y (line 2): cron mailed the output of the jobs below it there. stepcron notifies failures through',
      "the stage's SNS topic: add a@x, b@y to params.notifyEmails in serverless.yml.",
    ]);
  });

  it('unquotes a value in matching quotes only', () => {
    // Act
    const { environment } = translate('FOO="bar baz"\nBAR=\'q\'\nBAZ="x\'\nQ="\n0 0 * * * /opt/a.sh\n').jobs[0]!.spec;
    // Assess
    expect(environment).toEqual({ FOO: 'bar baz', BAR: 'q', BAZ: '"x\'', Q: '"' });
  });
});

describe('crontab: a schedule pasted into the catalog, and output redirections inside quotes and $(...)', () => {
  it.each<[string, string[] | string]>([
    ['@weekly', ['cron(0 0 ? * SUN *)']],
    [' 0 0 * * * ', ['cron(0 0 * * ? *)']],
    ['0 6 1 * 5', ['cron(0 6 1 * ? *)', 'cron(0 6 ? * FRI *)']],
    ['@nope', "'@nope' is not a crontab schedule (five fields, or @hourly, @daily, @weekly, ...)"],
    ['0 6 * *', "'0 6 * *' is not a crontab schedule (five fields, or @hourly, @daily, @weekly, ...)"],
    ['61 * * * *', 'minute: 61 is out of range (0-59)'],
  ])('awsSchedulesFor(%j): %j', (spec, expected) => {
    // Act
    const result = (() => {
      try {
        return awsSchedulesFor(spec);
      } catch (err) {
        expect(err).toBeInstanceOf(CrontabError);
        return (err as Error).message;
      }
    })();
    // Assess
    expect(result).toEqual(expected);
  });

  it.each<[string, string, string[]]>([
    ['echo $(date > /tmp/x) > /var/log/y', 'echo $(date > /tmp/x)', ['> /var/log/y']],
    ['echo $((1 > 0)) > /tmp/z', 'echo $((1 > 0))', ['> /tmp/z']],
    ['echo "a > b" > /tmp/log', 'echo "a > b"', ['> /tmp/log']],
    ["echo 'a > b' 2>&1 >> /tmp/log", "echo 'a > b'", ['2>&1', '>> /tmp/log']],
    ['echo a\\> b', 'echo a\\> b', []],
    ['run > /dev/null 2>&1; other >> /tmp/o.log', 'run; other', ['> /dev/null', '2>&1', '>> /tmp/o.log']],
    ['x < /etc/in > /tmp/out', 'x < /etc/in', ['> /tmp/out']],
    ['a &> /tmp/all', 'a', ['&> /tmp/all']],
  ])('withoutFileOutput(%j) keeps %j, takes out %j', (command, kept, removed) => {
    expect(withoutFileOutput(command)).toEqual({ command: kept, removed });
  });
});

describe('crontab: long descriptions, CRON_TZ over TZ, SHELL, and merging into an empty jobs:', () => {
  it('clips a description to 200 characters with an ellipsis, and keeps a split job\'s suffix whole', () => {
    // Prepare
    const long = 'x'.repeat(250);
    // Act
    const jobs = translate(`# ${long}\n0 0 * * * /opt/a.sh\n# ${long}\n0 6 1 * 5 /opt/b.sh\n`).jobs;
    // Assess
    expect(jobs.map((j) => j.spec.description)).toEqual([
      `${'x'.repeat(199)}…`, `${'x'.repeat(199)}… (days of the month)`, `${'x'.repeat(199)}… (weekdays)`,
    ]);
  });

  it('reads the jobs in CRON_TZ even below a later TZ=, which stays the commands\' variable; SHELL runs the commands below it', () => {
    // Act
    const jobs = importCrontab('CRON_TZ=Europe/Berlin\nTZ=America/New_York\n0 0 * * * /opt/a.sh\nSHELL=/bin/bash\n0 1 * * * /opt/b.sh',
      { file: 'c', image: 'i', from: FROM }).jobs;
    // Assess
    expect(jobs.map((j) => [j.spec.timezone, j.spec.command, j.spec.environment])).toEqual([
      ['Europe/Berlin', ['sh', '-c', '/opt/a.sh'], { TZ: 'America/New_York' }],
      ['Europe/Berlin', ['/bin/bash', '-c', '/opt/b.sh'], { TZ: 'America/New_York', SHELL: '/bin/bash' }],
    ]);
  });

  it('merges below a bare `jobs:` (with or without a newline, or into an empty file) and refuses `jobs: ~`', () => {
    // Prepare
    const one = translate('0 0 * * * /opt/a.sh');
    const rendered = renderJobs(one, 2, one.header);
    // Act + Assess
    expect(mergeJobs('jobs:\n', one, 'f')).toBe(`jobs:\n${rendered}`);
    expect(mergeJobs('jobs:', one, 'f')).toBe(`jobs:\n${rendered}`);
    expect(mergeJobs('', one, 'f')).toBe(`jobs:\n${rendered}`);
    expect(() => mergeJobs('jobs: ~\n', one, 'f')).toThrow(new MergeError('-o f: jobs is not a map of job name -> job: fix it, or write the jobs to a new file'));
  });
});
