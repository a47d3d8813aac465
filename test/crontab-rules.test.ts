// The crontab importer's rules, one at a time, with exact outputs (whole messages, whole jobs, whole YAML): what
// mutation testing (npm run mutate -- crontab) showed no test of test/crontab.test.ts would notice if it broke.
// In-process calls only; every input is built inside the test that uses it (see MUTATION.md for why).
import {
  awsSchedulesFor, CrontabError, type CrontabImport, type ImportedSpec, importCrontab, MergeError, mergeJobs, nextDayOfBoth,
  renderCatalog, renderJobs, transitions, uniqueName, withoutFileOutput,
} from '../workflows/crontab';
import { logicalId } from '../workflows/catalog';

/** The DST warnings look one year ahead: from here they name the 2026 changes. */
const FROM = new Date('2026-01-01T00:00:00Z');
const LOG_NOTE = "a task's files vanish when it stops, so its output now goes to the job's log (CloudWatch Logs; stepcron logs <job>)";

/** A crontab into jobs (file 'c', UTC, an image), as the tests of crontab.test.ts do. */
function translate(text: string, options: Parameters<typeof importCrontab>[1] = {}): CrontabImport {
  return importCrontab(text, { file: 'c', image: 'i', timezone: 'UTC', from: FROM, ...options });
}

/** The problems a refused crontab is refused with (fails if it is imported). */
function problemsOf(text: string, options: Parameters<typeof importCrontab>[1] = {}): string[] {
  try {
    translate(text, options);
  } catch (err) {
    if (err instanceof CrontabError) return err.problems;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

const nameOf = (command: string) => translate(`0 0 * * * ${command}`).jobs[0]!.name;

describe('errors', () => {
  it('are named CrontabError and MergeError, so a caller can tell an import problem from a bug', () => {
    // Act
    const refused = (() => {
      try {
        return translate('61 * * * * /x');
      } catch (err) {
        return err as Error;
      }
    })();
    // Assess
    expect(refused).toBeInstanceOf(CrontabError);
    expect((refused as Error).name).toBe('CrontabError');
    expect(new MergeError('m').name).toBe('MergeError');
  });
});

describe('fields: refused with the exact reason and fix', () => {
  it.each([
    // Not list/range/step syntax at all; fields without names do not offer names.
    ['1.5 * * * * /x', "c:1: minute: '1.5' is not crontab syntax (numbers, a-b, */n, a-b/n, lists)"],
    // A step after a single value: the fix runs to the field's end (6 for day-of-week, whose 7 is Sunday again).
    ['0 0 * * 1/2 /x', "c:1: day-of-week: '1/2': cron takes a step only after '*' or a range: write 1-6/2"],
    ['0 0 3/2 * * /x', "c:1: day-of-month: '3/2': cron takes a step only after '*' or a range: write 3-31/2"],
    // A backwards range; only day-of-week gets the SUN-is-0 hint.
    ['0 5-3 * * * /x', "c:1: hour: the range '5-3' runs backwards, which cron refuses"],
    // A name where the field has none, or text with a number in it, is no value.
    ['0 ab * * * /x', "c:1: hour: 'ab' is not an hour value (0-23)"],
    ['0 5x * * * /x', "c:1: hour: '5x' is not an hour value (0-23)"],
    ['x5 * * * * /x', "c:1: minute: 'x5' is not a minute value (0-59)"],
    ['0 0 1x * * /x', "c:1: day-of-month: '1x' is not a day-of-month value (1-31)"],
    // A French day name is an unknown name, not Quartz's L; Quartz's L-n is Quartz syntax.
    ['0 0 * * Lun /x', "c:1: day-of-week: 'Lun' is not a day-of-week value (0-7 or SUN-SAT)"],
    ['0 0 L-15 * * /x', "c:1: day-of-month: 'L-15' is not crontab syntax (numbers, a-b, */n, a-b/n, lists): ?, L, W and # are AWS/Quartz syntax that cron refuses; write the values out"],
  ])('%j: %s', (text, problem) => {
    expect(problemsOf(text)).toEqual([problem]);
  });

  it('refuses the AND of two day restrictions with the whole fix: test the other day in the command', () => {
    expect(problemsOf('0 0 */2 * 1 /x')).toEqual([
      "c:1: day-of-month '*/2' and day-of-week '1': cron runs it only on days matching both (a field that starts with '*' makes it AND), " +
      "which AWS cron cannot express (one of them must be '?'): restrict one of the two, and test the other in the command, e.g. " +
      '[ "$(date +\\%u)" = 1 ] && ...',
    ]);
  });
});

describe('entry lines: as cron splits them', () => {
  it.each([
    // Fewer than five fields, or prose: no entry (with --system, the user is part of the format).
    ['hello world', {}, 'c:1: not a cron entry, a comment or a NAME=value line: an entry is five time fields then the command'],
    ['hello world', { system: true }, 'c:1: not a cron entry, a comment or a NAME=value line: an entry is five time fields then a user and the command'],
    ['run the backup at night', { system: true }, 'c:1: not a cron entry, a comment or a NAME=value line: an entry is five time fields then a user and the command'],
    // --system and nothing after the schedule.
    ['0 0 * * *', { system: true }, 'c:1: expected a user name and then the command after the schedule (the /etc/crontab format, --system)'],
    // A nickname alone has no command; a nickname needs '@' first.
    ['@daily', {}, 'c:1: the entry has no command'],
    ['x@daily /opt/a.sh', {}, 'c:1: not a cron entry, a comment or a NAME=value line: an entry is five time fields then the command'],
    // A carriage return inside a line (a file mangled between Windows and Unix): refused, never cut short at the \r.
    ['0 0 * * * /opt/a.sh\r/opt/b.sh', {}, 'c:1: not a cron entry, a comment or a NAME=value line: an entry is five time fields then the command'],
    ['@daily /opt/a.sh\r/opt/b.sh', {}, 'c:1: not a cron entry, a comment or a NAME=value line: an entry is five time fields then the command'],
  ])('%j %j: %s', (text, options, problem) => {
    expect(problemsOf(text, options)).toEqual([problem]);
  });

  it.each([
    ['L /x', 'L'], ['5L /x', '5L'], ['15W /x', '15W'], ['5#3 /x', '5#3'], ['2027', '2027'],
  ])('refuses a sixth field in AWS/Quartz syntax (%j), also as the whole rest of the line', (rest, field) => {
    expect(problemsOf(`0 0 * * * ${rest}`)).toEqual([
      `c:1: the command starts with '${field}', which looks like a sixth time field: cron takes five (AWS's year field is not crontab syntax); remove it`,
    ]);
  });

  it('reads fields apart by any run of blanks, past leading blanks and cronie\'s "-" (no logging), and trims the command\'s end', () => {
    // Act
    const jobs = translate('0  0 \t*  *  *   /opt/a.sh   \n  \t0 1 * * * /opt/b.sh\n-0 2 * * * /opt/quiet.sh\n@daily   /opt/d.sh').jobs;
    // Assess
    expect(jobs.map((j) => [j.name, j.entry, j.spec.schedule, j.spec.command[2]])).toEqual([
      ['a', '0  0 \t*  *  *   /opt/a.sh', 'cron(0 0 * * ? *)', '/opt/a.sh'],
      ['b', '0 1 * * * /opt/b.sh', 'cron(0 1 * * ? *)', '/opt/b.sh'],
      ['quiet', '-0 2 * * * /opt/quiet.sh', 'cron(0 2 * * ? *)', '/opt/quiet.sh'],
      ['d', '@daily   /opt/d.sh', 'cron(0 0 * * ? *)', '/opt/d.sh'],
    ]);
  });

  it('turns \\% into % and leaves every other backslash to the shell', () => {
    expect(translate('0 0 * * * printf a\\\\b \\% c\\n').jobs[0]!.spec.command).toEqual(['sh', '-c', 'printf a\\\\b % c\\n']);
  });
});

describe('AWS syntax written back from the sets of values', () => {
  it.each<[string, string]>([
    ['30,10 * * * *', 'cron(10,30 * * * ? *)'], // sorted, whatever the order given
    ['45,0,30,15 * * * *', 'cron(0/15 * * * ? *)'],
    ['0,20,40 * * * *', 'cron(0/20 * * * ? *)'], // three values evenly spaced are a step
    ['0,10,25 * * * *', 'cron(0,10,25 * * * ? *)'], // not evenly spaced: a list
    ['2,21,40 * * * *', 'cron(2-40/19 * * * ? *)'], // 59 would be next: a/n would add it
    ['0 8,9 * * *', 'cron(0 8,9 * * ? *)'], // two neighbours are a list, not a range
    ['0 8-10 * * *', 'cron(0 8-10 * * ? *)'],
  ])('%s -> %s', (fields, schedule) => {
    expect(awsSchedulesFor(fields)).toEqual([schedule]);
  });

  it('reads a pasted schedule only if it is all of it: blanks between fields, no text around a nickname', () => {
    // Act + Assess
    expect(awsSchedulesFor('0  0\t* * *')).toEqual(['cron(0 0 * * ? *)']);
    for (const spec of ['x@daily', '@daily extra']) {
      expect(() => awsSchedulesFor(spec)).toThrow(new CrontabError([`'${spec}' is not a crontab schedule (five fields, or @hourly, @daily, @weekly, ...)`]));
    }
  });
});

describe('comments, variables and zones', () => {
  it('takes an indented comment, one without a space after #, but no bare # or column header, as the description', () => {
    // Act
    const jobs = translate([
      '  # indented note', '0 1 * * * /opt/a.sh',
      '#no space', '0 2 * * * /opt/b.sh',
      '#', '0 3 * * * /opt/c.sh',
      '# m  h  dom  mon  dow  command', '0 4 * * * /opt/d.sh',
      '#  spaced   out\twords', '0 5 * * * /opt/e.sh',
      '# columns: m h dom mon dow', '0 6 * * * /opt/f.sh',
    ].join('\n')).jobs;
    // Assess: only a comment that is the column header is dropped.
    expect(jobs.map((j) => j.spec.description)).toEqual(['indented note', 'no space', '/opt/c.sh', '/opt/d.sh', 'spaced out words', 'columns: m h dom mon dow']);
  });

  it('--system: a commented-out line is an entry only with a user in it; else it describes the next job', () => {
    // Act
    const jobs = translate('# 0 0 * * * root /old.sh\n0 1 * * * root /opt/a.sh\n# 5 4 * * * cleanup\n0 2 * * * root /opt/b.sh', { system: true }).jobs;
    // Assess
    expect(jobs.map((j) => j.spec.description)).toEqual(['/opt/a.sh', '5 4 * * * cleanup']);
  });

  it('reads each TZ= line for the jobs below it (only CRON_TZ= pins the zone)', () => {
    // Act
    const jobs = importCrontab('TZ=Europe/Berlin\n0 1 * * * /opt/a.sh\nTZ=Asia/Tokyo\n0 2 * * * /opt/b.sh', { file: 'c', image: 'i', from: FROM }).jobs;
    // Assess
    expect(jobs.map((j) => j.spec.timezone)).toEqual(['Europe/Berlin', 'Asia/Tokyo']);
  });

  it('reads an empty quoted value as empty, and says MAILTO="" mailed nothing', () => {
    // Act
    const result = translate('FOO=""\nMAILTO=""\n0 1 * * * /opt/a.sh');
    // Assess
    expect(result.jobs[0]!.spec.environment).toEqual({ FOO: '' });
    expect(result.header.slice(3)).toEqual([
      'MAILTO="" (line 2): cron mailed nothing for the jobs below it; stepcron still notifies failures (notify.onFailure).',
    ]);
  });

  it('without --tz: warns about "some entries" when a TZ= line covers only the later ones', () => {
    // Act
    const { warnings } = importCrontab('0 1 * * * /opt/a.sh\nTZ=Asia/Tokyo\n0 2 * * * /opt/b.sh', { file: 'c', image: 'i', from: FROM });
    // Assess
    expect(warnings).toEqual([
      "c: no --tz given and no CRON_TZ= or TZ= line above some entries: they are read in UTC, while cron read them in the machine's time zone: pass --tz <zone> (e.g. --tz Europe/Berlin) unless it ran on UTC",
    ]);
  });

  it('names the file "crontab" in messages when no file name is given', () => {
    expect(importCrontab('0 1 * * * /opt/a.sh > /tmp/a.log', { image: 'i', timezone: 'UTC', from: FROM }).warnings).toEqual([
      `crontab:1: '> /tmp/a.log' taken out of the command: ${LOG_NOTE}`,
    ]);
  });

  it('writes this header: where the jobs come from, and which catalog defaults differ from cron', () => {
    expect(translate('0 1 * * * /opt/a.sh').header).toEqual([
      'Imported from c by `stepcron import crontab` (README: Coming from crontab).',
      'Unlike cron, a job is retried on failure, stopped after timeoutSeconds and skipped while its previous run is still',
      'going (the defaults retries: 2, timeoutSeconds: 3600, concurrency: forbid): set them per job to keep what cron did.',
    ]);
  });
});

describe('jobs: whole, with their comments and warnings', () => {
  it('writes a plain entry as exactly this job: no environment key when there are no variables', () => {
    // Act
    const { jobs } = translate('0 1 * * * /opt/a.sh');
    // Assess
    expect(jobs).toStrictEqual([{
      name: 'a',
      line: 1,
      entry: '0 1 * * * /opt/a.sh',
      spec: { description: '/opt/a.sh', schedule: 'cron(0 1 * * ? *)', timezone: 'UTC', image: 'i', command: ['sh', '-c', '/opt/a.sh'] },
      comments: ['c line 1: 0 1 * * * /opt/a.sh'],
    }]);
  });

  it('splits an OR of the day fields into two jobs that point at each other, and warns with the next day both fire', () => {
    // Act
    const result = translate('0 1 * * * /opt/first.sh\n# Pay day\n0 6 1 * 5 /opt/pay.sh');
    // Assess
    expect(result.jobs.slice(1)).toStrictEqual([
      {
        name: 'pay-dom', line: 3, entry: '0 6 1 * 5 /opt/pay.sh',
        spec: { description: 'Pay day (days of the month)', schedule: 'cron(0 6 1 * ? *)', timezone: 'UTC', image: 'i', command: ['sh', '-c', '/opt/pay.sh'] },
        comments: ['c line 3: 0 6 1 * 5 /opt/pay.sh', 'cron ran it when day-of-month OR day-of-week matched: this job has the days of the month, pay-dow the weekdays'],
      },
      {
        name: 'pay-dow', line: 3, entry: '0 6 1 * 5 /opt/pay.sh',
        spec: { description: 'Pay day (weekdays)', schedule: 'cron(0 6 ? * FRI *)', timezone: 'UTC', image: 'i', command: ['sh', '-c', '/opt/pay.sh'] },
        comments: ['c line 3: 0 6 1 * 5 /opt/pay.sh', 'the weekdays of c line 3; pay-dom has the days of the month'],
      },
    ]);
    expect(result.warnings).toEqual([
      "c:3: day-of-month '1' and day-of-week '5' are both restricted: cron runs the line when either matches, AWS cron needs '?' in one, " +
      'so it became two jobs, pay-dom and pay-dow; on a day that matches both, both run (cron ran it once): next on 2026-05-01',
    ]);
  });

  it('names no next day when the two halves of a split never fire on one day within 10 years', () => {
    // 29 February is a Monday in 2044 only.
    expect(translate('0 0 29 2 1 /opt/leap.sh').warnings).toEqual([
      "c:1: day-of-month '29' and day-of-week '1' are both restricted: cron runs the line when either matches, AWS cron needs '?' in one, " +
      'so it became two jobs, leap-dom and leap-dow; on a day that matches both, both run (cron ran it once)',
    ]);
  });

  it('warns that a day field covering every day makes the line run every day (cron\'s OR)', () => {
    expect(translate('0 8 1-31 * 1-5 /opt/a.sh\n0 8 1 * 0-7 /opt/b.sh').warnings).toEqual([
      "c:1: day-of-month '1-31' covers every day, and cron runs a line when either day field matches: it ran every day (imported so)",
      "c:2: day-of-week '0-7' covers every day, and cron runs a line when either day field matches: it ran every day (imported so)",
    ]);
  });

  it('--system: root needs no note; another user gets one on each job and one warning naming both halves of a split', () => {
    // Act
    const result = translate('0 1 * * * root /opt/a.sh\n0 6 1 * 5 alice /opt/pay.sh', { system: true });
    // Assess
    expect(result.jobs.map((j) => [j.name, j.comments.slice(1)])).toEqual([
      ['a', []],
      ['pay-dom', ['cron ran it when day-of-month OR day-of-week matched: this job has the days of the month, pay-dow the weekdays', "cron ran it as user alice; the task runs as the image's user"]],
      ['pay-dow', ['the weekdays of c line 2; pay-dom has the days of the month', "cron ran it as user alice; the task runs as the image's user"]],
    ]);
    expect(result.warnings.filter((w) => w.includes('as user'))).toEqual(["c:2: cron ran it as user 'alice': pay-dom and pay-dow run as the image's user"]);
  });

  it('asks about --system only when the command itself starts with the word root', () => {
    // Act + Assess: a 'root' later in the command, or after the user in --system format (CERN's ROOT), is no user name.
    expect(translate('0 1 * * * /opt/x.sh --user root --all').warnings).toEqual([]);
    expect(translate('0 1 * * * alice root -b -q /opt/fit.C', { system: true }).warnings).toEqual([
      "c:1: cron ran it as user 'alice': root-fit-c run as the image's user",
    ]);
  });

  it('lists warnings in line order, also past line 9, whichever pass found them', () => {
    // Prepare: line 10's note comes from the day pass, line 11's from the line pass before it.
    const text = `${'# note\n'.repeat(9)}0 8 1-31 * 1-5 /opt/a.sh\n0 9 * * * /opt/b.sh > /tmp/b.log\n0 9 1-31 * 1-5 /opt/c.sh`;
    // Act
    const { warnings } = translate(text);
    // Assess
    expect(warnings.map((w) => w.slice(0, w.indexOf(': ')))).toEqual(['c:10', 'c:11', 'c:12']);
  });

  it('refuses a --prefix that does not start with a letter or has other characters than a-z, 0-9 and -', () => {
    for (const prefix of ['1legacy-', 'legacy_', 'legacy.']) {
      expect(problemsOf('0 0 * * * /x', { prefix })).toEqual([
        `--prefix: '${prefix}' must be lowercase letters, digits and '-', starting with a letter (e.g. legacy-)`,
      ]);
    }
  });
});

describe('job names', () => {
  it.each([
    // At most the program and one argument.
    ['/opt/backup.sh db1 db2', 'backup-db1'],
    // Quotes around a word are no part of it; quotes inside it are.
    ['/usr/bin/greet "world"', 'greet-world'],
    ['/usr/bin/greet "o\'brien"', 'greet-o-brien'],
    // Redirections that stay (a pipe, an input, a file read again) and their targets are no names.
    ['/opt/a.sh 2>&1 | logger -t a', 'a'],
    ['/opt/load < /data/in.csv', 'load'],
    ['/opt/load 0< /data/in.csv nightly', 'load-nightly'],
    ['/opt/load </data/in.csv nightly', 'load-nightly'],
    ['/opt/dump > /tmp/out.csv && aws s3 cp /tmp/out.csv s3://b/k', 'dump'],
    // A URL's query is part of its last path segment; a variable, a number or a duration is no name.
    ['curl -fsS "https://hc-ping.com/abc?create=1"', 'curl-abc-create-1'],
    ['/opt/sync.sh $TARGET', 'sync'],
    ['/opt/report 2026q1', 'report-2026q1'],
    ['timeout 30s /opt/x', 'x'],
    // sudo's -u takes the next word; -upostgres does not.
    ['sudo -upostgres vacuumdb --all', 'vacuumdb'],
    // Directories by their last name, '/' by none; // in a path is one /.
    ['/usr/bin/rsync -a /data/ /backup/', 'rsync-data'],
    ['/usr/bin/du -sh / /var', 'du-var'],
    ['/opt/payroll//run.sh', 'payroll-run'],
    // Skipped commands, wrappers and generic names count only as the program, not as its argument.
    ['/usr/bin/backup.sh test', 'backup-test'],
    ['/usr/bin/make /srv/app/main', 'make-main'],
    // Only a known script extension, at the end, is dropped; runs of other characters are one '-'.
    ['python /opt/app/tasks.pyc', 'tasks-pyc'],
    ['/opt/sync__db.sh', 'sync-db'],
    // Nothing to name it by.
    [':', 'job'],
  ])('%s -> %s', (command, name) => {
    expect(nameOf(command)).toBe(name);
  });

  it('keeps a split entry\'s -dom and -dow free: a later job with such a name, or the same line again, gets -2', () => {
    // Act
    const jobs = translate('0 6 1 * 5 /opt/x\n0 0 * * * /opt/x-dom\n0 0 * * * /opt/x-dow\n0 6 1 * 5 /opt/x').jobs;
    // Assess
    expect(jobs.map((j) => j.name)).toEqual(['x-dom', 'x-dow', 'x-dom-2', 'x-dow-2', 'x-2-dom', 'x-2-dow']);
  });

  it('uniqueName: at most 40 characters with the longest suffix, cut at a "-" in the second half of the room', () => {
    const none = () => new Set<string>();
    const [a, b] = ['a', 'b'];
    // Exactly the room: kept whole.
    expect(uniqueName(`${a.repeat(25)}-${b.repeat(14)}`, none(), [''])).toBe(`${a.repeat(25)}-${b.repeat(14)}`);
    // A '-' right after the room is a clean cut that keeps all of it.
    expect(uniqueName(`${a.repeat(30)}-${b.repeat(9)}-ccc`, none(), [''])).toBe(`${a.repeat(30)}-${b.repeat(9)}`);
    // A '-' at exactly half the room still counts.
    expect(uniqueName(`${a.repeat(20)}-${b.repeat(30)}`, none(), [''])).toBe(a.repeat(20));
    // -dom/-dow take 4 of the 40.
    expect(uniqueName(a.repeat(50), none(), ['-dom', '-dow'])).toBe(a.repeat(36));
    // No trailing '-', even when a cut leaves one.
    expect(uniqueName('abc--', none(), [''])).toBe('abc');
  });

  it('uniqueName: a name is free only when every suffix is, and -n fits in the room', () => {
    // Act + Assess
    expect(uniqueName('x', new Set([logicalId('x-dow')]), ['-dom', '-dow'])).toBe('x-2');
    const full = 'a'.repeat(40);
    expect(uniqueName(full, new Set([logicalId(full)]), [''])).toBe(`${'a'.repeat(38)}-2`);
    const dashed = `${'a'.repeat(37)}-bb`;
    expect(uniqueName(dashed, new Set([logicalId(dashed)]), [''])).toBe(`${'a'.repeat(37)}-2`);
  });
});

describe('output redirections taken out, and what stays', () => {
  it.each<[string, string, string[]]>([
    // Quotes: \" inside "..." does not end them; \ inside '...' is literal; `...` is a word.
    ['echo "say \\"hi\\" > there" > /tmp/x', 'echo "say \\"hi\\" > there"', ['> /tmp/x']],
    ["echo 'a\\' > /tmp/x", "echo 'a\\'", ['> /tmp/x']],
    ['echo `date > /tmp/x` > /tmp/y', 'echo `date > /tmp/x`', ['> /tmp/y']],
    // $ opens a substitution only before '('.
    ['echo $HOME > /tmp/x', 'echo $HOME', ['> /tmp/x']],
    // A redirection right after a word, and fd closing (2>&-) beside it.
    ['/opt/a.sh>/tmp/a.log', '/opt/a.sh', ['>/tmp/a.log']],
    ['/opt/a.sh > /tmp/x 2>&-', '/opt/a.sh', ['> /tmp/x', '2>&-']],
    // /dev/null is never read again, however often it is named.
    ['/opt/a > /dev/null; /opt/b > /dev/null', '/opt/a; /opt/b', ['> /dev/null', '> /dev/null']],
    // One output of a command kept (its file is read again): all of that command's stay.
    ['/opt/a > /tmp/o 2>/dev/null && cat /tmp/o', '/opt/a > /tmp/o 2>/dev/null && cat /tmp/o', []],
    // Output feeding a pipe stays, even with an input redirection further on.
    ['pg_dump db 2>/tmp/dump.err | psql other < /dev/null', 'pg_dump db 2>/tmp/dump.err | psql other < /dev/null', []],
    // The blanks left behind go, before '&' and ';' too; the result is trimmed.
    ['/opt/a.sh  >/tmp/a.log & /opt/b.sh', '/opt/a.sh & /opt/b.sh', ['>/tmp/a.log']],
    ['/opt/a.sh > /tmp/x  ; /opt/b.sh', '/opt/a.sh; /opt/b.sh', ['> /tmp/x']],
    ['  /opt/a.sh > /tmp/x', '/opt/a.sh', ['> /tmp/x']],
    // >&2 without a number in front is one redirection, taken out with the file one beside it.
    ['/opt/a.sh 2>/tmp/err >&2', '/opt/a.sh', ['2>/tmp/err', '>&2']],
    // A '>' or '<' without a file is left for the shell to refuse.
    ['/opt/a.sh >', '/opt/a.sh >', []],
    ['/opt/a.sh <', '/opt/a.sh <', []],
  ])('withoutFileOutput(%j) keeps %j, takes out %j', (command, kept, removed) => {
    expect(withoutFileOutput(command)).toEqual({ command: kept, removed });
  });
});

describe('DST: warned only for times the line really runs at, where cron and Scheduler differ', () => {
  const FALL_BACK = "happens twice on 2026-10-25 in Europe/Berlin (clocks fall back): cronie (CRON_TZ) ran it at both; EventBridge Scheduler runs it once, at the first (README: Coming from crontab)";

  it('uses cron\'s day rule: AND when a day field starts with *, else OR (2026-10-25 is a Sunday, the 25th)', () => {
    // Act
    const { warnings } = translate([
      'CRON_TZ=Europe/Berlin',
      '30 2 * * 1 /opt/monday.sh', // not on a Sunday
      '30 2 * * 0 /opt/sunday.sh',
      '30 2 25 * 1 /opt/on-25th.sh', // the 25th, or Monday
      '30 2 1 * 0 /opt/first-or-sunday.sh',
      '30 2 1 * 1 /opt/neither.sh', // the 1st, or Monday
    ].join('\n'));
    // Assess
    expect(warnings.filter((w) => w.includes('twice'))).toEqual([
      `c:3: sunday: 02:30 ${FALL_BACK}`,
      `c:4: on-25th-dom and on-25th-dow: 02:30 ${FALL_BACK}`,
      `c:5: first-or-sunday-dom and first-or-sunday-dow: 02:30 ${FALL_BACK}`,
    ]);
  });

  it('checks the month (March\'s change only for a March line) and leaves out the first minute after the change', () => {
    // Act
    const machine = translate('30 2 * 3 * /opt/march.sh\n30 2 * 4 * /opt/april.sh\n0 3 * * * /opt/three.sh', { timezone: 'Europe/Berlin' });
    const cronTz = translate('CRON_TZ=Europe/Berlin\n0 3 * * * /opt/three.sh');
    // Assess
    expect(machine.warnings).toEqual([
      "c:1: march: 02:30 does not exist on 2026-03-29 in Europe/Berlin (clocks spring forward): cron (in the machine's zone) ran it right after the change; EventBridge Scheduler skips it that day (README: Coming from crontab)",
    ]);
    expect(cronTz.warnings).toEqual([]);
  });

  it('in the machine\'s zone: a repeated time ran twice if the minute or the hour field starts with *', () => {
    // Act
    const { warnings } = translate('*/20 2 * * * /opt/a.sh\n30 */2 * * * /opt/b.sh\n30 2 * * * /opt/c.sh', { timezone: 'Europe/Berlin' });
    // Assess: c is a fixed time, which cron ran once (and right after the spring-forward).
    const machine = "(clocks fall back): cron (in the machine's zone) ran it at both, as its minute or hour field starts with '*'; EventBridge Scheduler runs it once, at the first (README: Coming from crontab)";
    expect(warnings).toEqual([
      `c:1: a: 02:00-02:40 happens twice on 2026-10-25 in Europe/Berlin ${machine}`,
      `c:2: b: 02:30 happens twice on 2026-10-25 in Europe/Berlin ${machine}`,
      expect.stringMatching(/^c:3: c: 02:30 does not exist on 2026-03-29 in Europe\/Berlin \(clocks spring forward\)/),
    ]);
  });

  it('under CRON_TZ: no spring-forward warning (cronie skips too), a fall-back one; several times as a span', () => {
    // Act
    const { warnings } = translate('CRON_TZ=Europe/Berlin\n30 2 * * * /opt/a.sh\n*/20 2 * * * /opt/b.sh');
    // Assess
    expect(warnings).toEqual([`c:2: a: 02:30 ${FALL_BACK}`, `c:3: b: 02:00-02:40 ${FALL_BACK}`]);
  });

  it('warns once per kind of change, though a year from late March holds two spring-forwards', () => {
    // Act
    const { warnings } = translate('30 2 * * * /opt/a.sh', { timezone: 'Europe/Berlin', from: new Date('2026-03-29T00:00:00Z') });
    // Assess
    expect(warnings).toEqual([expect.stringMatching(/^c:1: a: 02:30 does not exist on 2026-03-29 in Europe\/Berlin/)]);
  });

  it('transitions: the zone\'s changes in the 366 days after `from`, as wall-clock spans; none in UTC', () => {
    // A from of its own: the results are cached by zone and minute.
    expect(transitions('Europe/Berlin', Date.parse('2026-01-01T00:07:00Z'))).toEqual([
      { date: '2026-03-29', kind: 'gap', start: Date.parse('2026-03-29T02:00:00Z'), end: Date.parse('2026-03-29T03:00:00Z') },
      { date: '2026-10-25', kind: 'overlap', start: Date.parse('2026-10-25T02:00:00Z'), end: Date.parse('2026-10-25T03:00:00Z') },
    ]);
    expect(transitions('UTC', Date.parse('2026-01-01T00:07:00Z'))).toEqual([]);
    // Berlin springs forward at 01:00Z on 2027-03-28: 366 days and 30 minutes after this from, so out of the year.
    expect(transitions('Europe/Berlin', Date.parse('2026-03-27T00:30:00Z')).map((t) => t.date)).toEqual(['2026-03-29', '2026-10-25']);
  });
});

describe('nextDayOfBoth', () => {
  it.each([
    ['SUN', '2026-02-01'], ['MON', '2026-06-01'], ['TUE', '2026-09-01'], ['WED', '2026-04-01'],
    ['THU', '2026-10-01'], ['FRI', '2026-05-01'], ['SAT', '2026-08-01'],
  ])('the 1st of a month that is a %s: %s', (weekday, day) => {
    expect(nextDayOfBoth('cron(0 0 1 * ? *)', `cron(0 0 ? * ${weekday} *)`, 'UTC', FROM)).toBe(day);
  });

  it('looks 10 years (3660 days) ahead and no further; a weekdays half that is no weekday list has no answer', () => {
    // 29 February is a Monday in 2044 only: beyond the 10 years.
    expect(nextDayOfBoth('cron(0 0 29 2 ? *)', 'cron(0 0 ? * MON *)', 'UTC', FROM)).toBeUndefined();
    // 2036-01-09 00:00 UTC, a Wednesday, is the very end of the 10 years: the Thursday after it is out.
    expect(nextDayOfBoth('cron(0 0 9,10 1 ? 2036)', 'cron(0 0 ? * THU *)', 'UTC', FROM)).toBeUndefined();
    expect(nextDayOfBoth('cron(0 0 9,10 1 ? 2036)', 'cron(0 0 ? * WED *)', 'UTC', FROM)).toBe('2036-01-09');
    expect(nextDayOfBoth('cron(0 0 1 * ? *)', 'rate(1 day)', 'UTC', FROM)).toBeUndefined();
  });
});

describe('YAML written', () => {
  it('renders the catalog exactly: header, jobs:, the comment above each job, the command as a flow list', () => {
    expect(renderCatalog(translate('0 1 * * * /opt/a.sh'))).toBe([
      '# Imported from c by `stepcron import crontab` (README: Coming from crontab).',
      '# Unlike cron, a job is retried on failure, stopped after timeoutSeconds and skipped while its previous run is still',
      '# going (the defaults retries: 2, timeoutSeconds: 3600, concurrency: forbid): set them per job to keep what cron did.',
      'jobs:',
      '  # c line 1: 0 1 * * * /opt/a.sh',
      '  a:',
      '    description: /opt/a.sh',
      '    schedule: cron(0 1 * * ? *)',
      '    timezone: UTC',
      '    image: i',
      '    command: [sh, -c, /opt/a.sh]',
      '',
    ].join('\n'));
  });

  it('renderJobs: no header unless given, long values on one line, jobs one after the other', () => {
    // Prepare
    const long = `/opt/${'x'.repeat(100)}.sh --with-a-long-argument`;
    // Act
    const text = renderJobs(translate(`0 1 * * * /opt/a.sh\n0 2 * * * ${long}`, { file: 'f' }), 4);
    // Assess
    expect(text).toBe([
      '    # f line 1: 0 1 * * * /opt/a.sh',
      '    a:',
      '      description: /opt/a.sh',
      '      schedule: cron(0 1 * * ? *)',
      '      timezone: UTC',
      '      image: i',
      '      command: [sh, -c, /opt/a.sh]',
      `    # f line 2: 0 2 * * * ${long}`,
      `    ${'x'.repeat(40)}:`,
      `      description: ${long}`,
      '      schedule: cron(0 2 * * ? *)',
      '      timezone: UTC',
      '      image: i',
      `      command: [sh, -c, ${long}]`,
      '',
    ].join('\n'));
  });

  it('renderJobs: a job without a command is written without one; a blank line in a block scalar stays empty', () => {
    // Prepare: the shape other importers hand it (the image's own command).
    const spec = { description: 'a\n\nb', schedule: 'rate(1 hour)', timezone: 'UTC' } as ImportedSpec;
    // Act
    const text = renderJobs({ jobs: [{ name: 'k', line: 1, entry: '', comments: [], spec }] }, 2);
    // Assess
    expect(text).toBe('  k:\n    description: |-\n      a\n\n      b\n    schedule: rate(1 hour)\n    timezone: UTC\n');
  });
});

describe('mergeJobs', () => {
  const one = () => translate('0 1 * * * /opt/a.sh');
  const block = (indent: number) => renderJobs(one(), indent, one().header);

  it('inserts before what follows the jobs map (a blank line, defaults:), and after a trailing comment on the last job', () => {
    // Act + Assess
    expect(mergeJobs('jobs:\n  old:\n    description: x\n\ndefaults:\n  image: i\n', one(), 'j.yml'))
      .toBe(`jobs:\n  old:\n    description: x\n${block(2)}\ndefaults:\n  image: i\n`);
    expect(mergeJobs('jobs:\n  old: {description: x}   # c\ndefaults:\n  image: i\n', one(), 'j.yml'))
      .toBe(`jobs:\n  old: {description: x}   # c\n${block(2)}defaults:\n  image: i\n`);
  });

  it('names every clash, line by line, and says "them"', () => {
    // Prepare
    const two = translate('0 1 * * * /opt/a.sh\n0 2 * * * /opt/b.sh');
    // Act + Assess
    expect(() => mergeJobs('jobs:\n  a: {}\n  b: {}\n', two, 'j.yml')).toThrow(new MergeError(
      "-o j.yml: 'a' (line 1) clashes with job 'a', 'b' (line 2) clashes with job 'b' already in j.yml: nothing was written; " +
      'rename or remove them there, or import with --prefix <text>- (e.g. --prefix legacy-)'));
  });

  it('refuses a jobs: that holds a string, even an empty one', () => {
    for (const catalog of ['jobs: ""\n', "jobs: ''\n", 'jobs: none\n']) {
      expect(() => mergeJobs(catalog, one(), 'j.yml')).toThrow(new MergeError('-o j.yml: jobs is not a map of job name -> job: fix it, or write the jobs to a new file'));
    }
  });

  it('refuses invalid YAML with the parser\'s first line', () => {
    expect(() => mergeJobs('jobs: [\n', one(), 'j.yml')).toThrow(new MergeError(
      '-o j.yml: is not valid YAML (Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:): ' +
      'fix it, or write the jobs to a new file'));
  });
});

describe('the word lists: every name in them counts', () => {
  it('reads every month and weekday name, in any case', () => {
    // Act + Assess: all twelve months are every month; each weekday is written back by its AWS name.
    expect(awsSchedulesFor('0 0 1 jan,FEB,Mar,apr,may,jun,jul,aug,sep,oct,nov,dec *')).toEqual(['cron(0 0 1 * ? *)']);
    expect(['sun', 'MON', 'Tue', 'wed', 'thu', 'fri', 'sat'].map((d) => awsSchedulesFor(`0 0 * * ${d}`)[0])).toEqual(
      ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'].map((d) => `cron(0 0 ? * ${d} *)`));
  });

  it.each(['sudo', 'nice', 'ionice', 'nohup', 'exec', 'env', 'time', 'setsid', 'chronic', 'cronic', 'stdbuf'])(
    'names a job after the program %s runs, not after the wrapper', (wrapper) => {
      expect(nameOf(`${wrapper} /opt/reindex`)).toBe('reindex');
    });

  it('names a job past timeout\'s duration and flock\'s lock file', () => {
    expect([nameOf('timeout 60 /opt/reindex'), nameOf('flock /tmp/r.lock /opt/reindex')]).toEqual(['reindex', 'reindex']);
  });

  it.each(['cd', 'test', '[', '[[', 'true', ':', 'set', 'export', 'source', '.', 'sleep', 'echo', 'umask'])(
    'passes over a command led by %s, to the next one', (skipped) => {
      expect(nameOf(`${skipped} /etc/flag && /opt/reindex`)).toBe('reindex');
    });

  it.each(['run', 'main', 'start', 'index', 'job', 'task', 'script', 'cron', 'app', 'do', 'go', 'exec', 'cli'])(
    'names a generic script %s after its directory too', (generic) => {
      expect(nameOf(`/opt/payroll/${generic}.sh`)).toBe(`payroll-${generic}`);
    });

  it.each(['sh', 'bash', 'dash', 'zsh', 'ksh', 'python', 'python3', 'python3.11', 'perl', 'ruby', 'php', 'php8', 'node', 'nodejs', 'Rscript'])(
    'names a job after the script the interpreter %s runs', (interpreter) => {
      expect(nameOf(`${interpreter} /opt/reindex.py`)).toBe('reindex');
    });

  it('takes only whole interpreter names as interpreters', () => {
    expect(['mysh /opt/a', 'shred /opt/a', 'python3.x /opt/a', 'pythonista /opt/a'].map(nameOf))
      .toEqual(['mysh-a', 'shred-a', 'python3-x-a', 'pythonista-a']);
  });

  it.each(['MAILFROM', 'CONTENT_TYPE', 'CONTENT_TRANSFER_ENCODING'])('makes %s a header note, not a variable', (name) => {
    // Act
    const result = translate(`${name}=x\n0 1 * * * /opt/a.sh`);
    // Assess
    expect(result.header.slice(3)).toEqual([`${name}=x (line 1): mail settings have no equivalent; stepcron notifies through SNS.`]);
    expect(result.jobs[0]!.spec).not.toHaveProperty('environment');
  });

  it('reads NAME=value with blanks around, a quoted name, and names of letters, digits and _', () => {
    // Act
    const { environment } = translate(' FOO = bar baz \n"QUOTED"=1\n\'SINGLE\'=2\n_x1=3\n0 1 * * * /opt/a.sh').jobs[0]!.spec;
    // Assess
    expect(environment).toEqual({ FOO: 'bar baz', QUOTED: '1', SINGLE: '2', _x1: '3' });
    expect(problemsOf('1X=1\n0 1 * * * /opt/a.sh')).toEqual([
      "c:1: '1X' cannot be a job's environment variable (letters, digits and _, not starting with a digit or STEPCRON_): rename it in the crontab and in the commands that read it",
    ]);
  });
});
