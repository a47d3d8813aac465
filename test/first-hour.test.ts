// The first hour with stepcron, spawned as a user runs it (node bin/stepcron.cjs ...): a crontab line pasted into
// `schedule`, a typo in a field, a zone or a job name, a stage name AWS would refuse, and which jobs a stage runs.
// Every mistake is one line on stderr naming where it is, the value and the fix, with exit 2.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../workflows/catalog';
import { stageTemplate, toStageParams } from '../workflows/resources';
import { cleanUp, ROOT, type Result, startCli } from './support/cli';

const dirs: string[] = [];
afterAll(() => {
  cleanUp();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Three jobs: `report` and `cleanup` enabled, `archive` off by default; one line changed by `edit`. */
const CATALOG = `defaults:
  image: busybox:latest
jobs:
  report:
    description: nightly report
    schedule: cron(0 2 * * ? *)
    command: [sh, -c, 'echo report']
  cleanup:
    description: hourly cleanup
    schedule: rate(1 hour)
    command: [sh, -c, 'echo cleanup']
  archive:
    description: monthly archive
    schedule: cron(0 4 1 * ? *)
    command: [sh, -c, 'echo archive']
    enabled: { prod: true, default: false }
`;

/** dev deploys only cleanup (enabledJobs), as the sample serverless.yml does; prod everything the catalog enables. */
const SERVERLESS = `service: stepcron
params:
  default:
    subnets: subnet-0a1b2c3d4e5f60001
    securityGroups: sg-0a1b2c3d4e5f60001
    enabledJobs: '*'
  dev:
    enabledJobs: cleanup
`;

/** A project as `npx stepcron` finds it: workflows/jobs.yml (optionally edited) and serverless.yml. */
function project(edit: (catalog: string) => string = (c) => c, serverless = SERVERLESS): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-first-hour-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'workflows'));
  writeFileSync(join(dir, 'workflows', 'jobs.yml'), edit(CATALOG));
  writeFileSync(join(dir, 'serverless.yml'), serverless);
  return dir;
}

const stepcron = (dir: string, args: string[]) => startCli(args, { cwd: dir, timeoutMs: 20_000 }).done;

/** A mistake: exit 2, nothing on stdout, exactly one line on stderr. */
function oneLineError(result: Result): string {
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  expect({ code: result.code, stdout: result.stdout, lines: lines.length }).toEqual({ code: 2, stdout: '', lines: 1 });
  return lines[0]!;
}

describe('a crontab line in schedule', () => {
  it('unquoted (a YAML alias error) or quoted: answered with its AWS form and quoting advice, which then validates', async () => {
    // Prepare
    const unquoted = project((c) => c.replace('schedule: rate(1 hour)', 'schedule: */15 * * * *'));
    const quoted = project((c) => c.replace('schedule: cron(0 2 * * ? *)', "schedule: '30 2 * * 1-5'"));
    const inCron = project((c) => c.replace('schedule: cron(0 2 * * ? *)', "schedule: 'cron(0 2 * * *)'"));
    const bothDays = project((c) => c.replace('schedule: cron(0 2 * * ? *)', "schedule: '0 2 1 * 1'"));
    // Act
    const results = await Promise.all([unquoted, quoted, inCron, bothDays].map((dir) => stepcron(dir, ['validate'])));
    const [alias, weekdays, fiveInCron, split] = results.map(oneLineError);
    const fixed = project((c) => c.replace('schedule: rate(1 hour)', /use schedule: ('[^']+')/.exec(alias!)![0].slice(4)));
    const valid = await stepcron(fixed, ['validate']);
    // Assess
    expect(alias).toBe("stepcron: workflows/jobs.yml: jobs.cleanup.schedule: '*/15 * * * *' is crontab syntax; EventBridge Scheduler " +
      "takes cron(minutes hours day-of-month month day-of-week year): use schedule: 'cron(0/15 * * * ? *)' (in quotes: YAML reads a value starting with * as an alias)");
    expect(weekdays).toMatch(/: jobs\.report\.schedule: '30 2 \* \* 1-5' is crontab syntax; .*: use schedule: 'cron\(30 2 \? \* MON-FRI \*\)'$/);
    expect(fiveInCron).toMatch(/: jobs\.report\.schedule: 'cron\(0 2 \* \* \*\)' is crontab syntax; .*: use schedule: 'cron\(0 2 \* \* \? \*\)'$/);
    // cron ORs two restricted day fields; AWS cannot: two jobs, each with one of them.
    expect(split).toMatch(/make it two jobs, with schedule: 'cron\(0 2 1 \* \? \*\)' and schedule: 'cron\(0 2 \? \* MON \*\)'/);
    expect(valid).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(fixed, 'workflows', 'jobs.yml'), 'utf8')).toContain("schedule: 'cron(0/15 * * * ? *)'");
  });

  it('other YAML syntax errors name the job and field they are in, with the line', async () => {
    // Prepare
    const unclosed = project((c) => c.replace("command: [sh, -c, 'echo archive']", "command: [sh, -c, 'echo archive'\n    memory: 512"));
    const twice = project((c) => c.replace('description: hourly cleanup', 'description: hourly cleanup\n    description: again'));
    // Act
    const [a, b] = (await Promise.all([unclosed, twice].map((dir) => stepcron(dir, ['validate'])))).map(oneLineError);
    // Assess
    expect(a).toMatch(/^stepcron: workflows\/jobs\.yml: jobs\.archive\.(command|memory): not valid YAML \(line 1[67]: .*\): /);
    expect(b).toBe("stepcron: workflows/jobs.yml: jobs.cleanup.description: 'description' is defined twice (line 10): each job and field may appear once");
  });
});

describe('every mistake names job, field, the value and the fix', () => {
  it('catalog fields: an unknown key names the closest field, a missing one what goes there, a bad zone the closest zone', async () => {
    // Prepare
    const cases: Array<[(c: string) => string, string]> = [
      [(c) => c.replace("    command: [sh, -c, 'echo report']", "    command: [sh, -c, 'echo report']\n    timeoutSecond: 60"),
        'jobs.report.timeoutSecond: unknown field: did you mean timeoutSeconds?'],
      [(c) => c.replace('  image: busybox:latest', '  image: busybox:latest\n  retrys: 1'), 'defaults.retrys: unknown field: did you mean retries?'],
      [(c) => c.replace('    description: hourly cleanup\n', ''), 'jobs.cleanup.description: is required: one line saying what the job does'],
      [(c) => c.replace("    command: [sh, -c, 'echo report']", '    command: ./report.sh'),
        "jobs.report.command: must be a list of strings, e.g. [sh, -c, './report.sh'] (got './report.sh')"],
      [(c) => c.replace('description: nightly report', 'description: nightly report\n    timezone: Europe/Berln'),
        "jobs.report.timezone: 'Europe/Berln' is not an IANA time zone such as Europe/Berlin or UTC: did you mean Europe/Berlin?"],
      [(c) => c.replace('description: nightly report', 'description: nightly report\n    cpu: 300'),
        'jobs.report.cpu: must be a Fargate cpu size: 256, 512, 1024, 2048, 4096, 8192, 16384 (got 300)'],
    ];
    // Act
    const results = await Promise.all(cases.map(([edit]) => stepcron(project(edit), ['validate'])));
    // Assess
    expect(results.map(oneLineError)).toEqual(cases.map(([, line]) => `stepcron: workflows/jobs.yml: ${line}`));
  });

  it('a job that does not exist: history, logs, run, next and synth name the closest job and exit 2', async () => {
    // Prepare
    const dir = project();
    const commands = ['history', 'logs', 'run', 'next', 'synth'];
    // Act
    const typo = await Promise.all(commands.map((c) => stepcron(dir, [c, 'cleanpu'])));
    const unknown = await Promise.all(commands.map((c) => stepcron(dir, [c, 'nope'])));
    // Assess
    for (const result of typo) expect(oneLineError(result)).toBe("stepcron: workflows/jobs.yml: no job named 'cleanpu': did you mean cleanup?");
    for (const result of unknown) {
      expect(oneLineError(result)).toBe("stepcron: workflows/jobs.yml: no job named 'nope': the catalog has report, cleanup, archive");
    }
  });

  it('a stage AWS resource names cannot hold is refused with the fix, on every command that takes --stage', async () => {
    // Prepare
    const dir = project();
    const commands = [['validate'], ['run', 'cleanup'], ['schedule', '--for', '1s'], ['status'], ['history'], ['synth']];
    // Act
    const results = await Promise.all(commands.map((args) => stepcron(dir, [...args, '--stage', 'Prod_X'])));
    const fine = await stepcron(dir, ['validate', '--stage', 'prod-x']);
    // Assess
    for (const result of results) {
      expect(oneLineError(result)).toBe("stepcron: --stage: 'Prod_X' is not a valid stage name: stage names are part of AWS resource names " +
        "(the stack stepcron-<stage>, its state machines, roles and table), so use lowercase letters, digits and '-', starting with a letter (e.g. prod-x)");
    }
    expect(fine.code).toBe(0);
  });

  it('--version prints the package version', async () => {
    // Prepare
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    // Act
    const result = await stepcron(project(), ['--version']);
    // Assess
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('local and deployed agree on what a stage runs', () => {
  it('validate says which jobs each stage schedules and why the others are off, as the template enables them', async () => {
    // Prepare
    const dir = project();
    // Act
    const [dev, prod] = await Promise.all([stepcron(dir, ['validate']), stepcron(dir, ['validate', '--stage', 'prod'])]);
    // Assess
    expect(dev.code).toBe(0);
    expect(dev.stdout.split('\n')[0]).toBe('workflows/jobs.yml: 3 jobs valid for stage dev; 1 scheduled: cleanup; ' +
      'off on dev: report (not in enabledJobs), archive (enabled: false)');
    expect(prod.stdout.split('\n')[0]).toBe('workflows/jobs.yml: 3 jobs valid for stage prod; 3 scheduled: report, cleanup, archive');
    // The deploy's own decision: the State of each job's schedule in the stage's template.
    for (const [stage, result] of [['dev', dev], ['prod', prod]] as const) {
      const jobs = loadCatalog(join(dir, 'workflows', 'jobs.yml'), { stage });
      const params = toStageParams(stage, stage === 'dev' ? { subnets: 'subnet-0a1', enabledJobs: 'cleanup' } : { subnets: 'subnet-0a1' });
      const { Resources } = stageTemplate(jobs, params);
      const enabled = Object.values(Resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule')
        .filter((r) => (r.Properties as { State: string }).State === 'ENABLED')
        .map((r) => /-([a-z]+)$/.exec((r.Properties as { Name: string }).Name)?.[1]);
      expect(result.stdout).toContain(`; ${enabled.length} scheduled: ${jobs.filter((j) => enabled.includes(j.name)).map((j) => j.name).join(', ')}`);
    }
  });

  it('status on the local store shows the same jobs off on dev, each with why', async () => {
    // Prepare
    const dir = project();
    // Act
    const [json, text] = await Promise.all([stepcron(dir, ['status', '--json']), stepcron(dir, ['status'])]);
    // Assess
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Array<{ job: string; state: string; off?: string }>;
    expect(rows.map((r) => [r.job, r.state, r.off])).toEqual([
      ['report', 'disabled', "off on dev: not in enabledJobs (serverless.yml params.dev.enabledJobs)"],
      ['cleanup', 'enabled', undefined],
      ['archive', 'disabled', 'off on dev: enabled: false in the catalog'],
    ]);
    expect(text.stdout).toContain("report: off on dev: not in enabledJobs (serverless.yml params.dev.enabledJobs)\n");
  });

  it('schedule on dev schedules only what dev deploys, says what it leaves off, and --jobs picks an off job on purpose', async () => {
    // Prepare
    const dir = project();
    // Act
    const nothing = project(undefined, SERVERLESS.replace('enabledJobs: cleanup', 'enabledJobs: archive'));
    const [dev, picked, none] = await Promise.all([
      stepcron(dir, ['schedule', '--for', '1s']),
      stepcron(dir, ['schedule', '--for', '1s', '--jobs', 'report']),
      stepcron(nothing, ['schedule', '--for', '1s']),
    ]);
    // Assess
    expect(dev.code).toBe(0);
    expect(dev.stdout).toContain('scheduling 1 job(s)');
    expect(dev.stdout).toMatch(/ cleanup: rate\(1 hour\) UTC, next /);
    expect(dev.stdout).not.toMatch(/ (report|archive): /);
    expect(dev.stderr).toContain('stepcron: off on dev, not scheduled: report (not in enabledJobs), archive (enabled: false) ' +
      '(as deployed; --jobs <name> schedules one anyway)\n');
    expect(picked.code).toBe(0);
    expect(picked.stdout).toMatch(/ report: cron\(0 2 \* \* \? \*\) UTC, next /);
    // What --jobs picks is all it says: the jobs left out were left out by choice.
    expect(picked.stderr).toBe('stepcron: report is off on dev (not in enabledJobs): scheduled anyway, as --jobs names it\n');
    // dev's enabledJobs names only a job the catalog turns off on dev: nothing to schedule, one line saying why.
    expect(oneLineError(none)).toBe('stepcron: schedule: no job is scheduled on dev: report (not in enabledJobs), cleanup (not in enabledJobs), ' +
      'archive (enabled: false); --jobs <name> schedules one anyway, or name them in serverless.yml params.dev.enabledJobs');
  });
});

describe('counts read as English', () => {
  it('validate says "1 job" and "1 nested stack" for a catalog of one job', async () => {
    const one = project((c) => c.slice(0, c.indexOf('  cleanup:')));
    const r = await stepcron(one, ['validate', '--stage', 'prod']);
    expect(r.stdout).toMatch(/^workflows\/jobs\.yml: 1 job valid for stage prod; 1 scheduled: report\n {2}deploys as 1 nested stack under the main stack/);
  });
});
