// One catalog path for `sls` and the CLI (serverless.yml's `catalog` param, `--param catalog=`, `--catalog`), and
// stages that cannot surprise: a stage serverless.yml does not name is one warning, the sample's dev enabledJobs does
// not break a catalog of one's own, and pauses and history say which stage they are for.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { cleanUp, ROOT, type Result, startCli } from './support/cli';

const dirs: string[] = [];
afterAll(() => {
  cleanUp();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new user's own three jobs, none of them the sample's. */
const MINE = `defaults:
  image: busybox:latest
  retries: 0
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
`;

/** The sample's shape: dev schedules only the sample's hourly-cleanup; prod everything. */
const SERVERLESS = `service: stepcron
params:
  default:
    subnets: subnet-0a1b2c3d4e5f60001
    securityGroups: sg-0a1b2c3d4e5f60001
    enabledJobs: '*'
  dev:
    enabledJobs: hourly-cleanup
  prod:
    notifyEmails: oncall@example.com
`;

/** A project: the sample catalog as workflows/jobs.yml, the user's as mine/jobs.yml, and serverless.yml. */
function project(serverless = SERVERLESS): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-stages-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'workflows'));
  mkdirSync(join(dir, 'mine'));
  writeFileSync(join(dir, 'workflows', 'jobs.yml'), readFileSync(join(ROOT, 'workflows', 'jobs.yml')));
  writeFileSync(join(dir, 'mine', 'jobs.yml'), MINE);
  writeFileSync(join(dir, 'serverless.yml'), serverless);
  return dir;
}

const stepcron = (dir: string, args: string[]) => startCli(args, { cwd: dir, timeoutMs: 20_000 }).done;
const lines = (text: string) => text.split('\n').filter((l) => l !== '');

describe('one catalog path: serverless.yml params, --catalog, --param catalog=', () => {
  it("the CLI's --catalog default is the stage's catalog param (relative to serverless.yml), else workflows/jobs.yml", async () => {
    // Prepare: default names mine/jobs.yml; prod its own file; a project without the param at all
    const dir = project(SERVERLESS.replace("    enabledJobs: '*'\n", "    enabledJobs: '*'\n    catalog: mine/jobs.yml\n")
      .replace('  dev:\n    enabledJobs: hourly-cleanup\n', '  dev:\n    enabledJobs: cleanup\n')
      .replace('  prod:\n', '  prod:\n    catalog: ./workflows/jobs.yml\n'));
    const plain = project();
    // Act
    const [dev, prod, given, none] = await Promise.all([
      stepcron(dir, ['validate']), stepcron(dir, ['validate', '--stage', 'prod']),
      stepcron(dir, ['validate', '--catalog', 'workflows/jobs.yml', '--stage', 'prod']), stepcron(plain, ['validate', '--stage', 'prod']),
    ]);
    // Assess
    expect(dev).toMatchObject({ code: 0, stderr: '' });
    expect(lines(dev.stdout)[0]).toBe('mine/jobs.yml: 3 jobs valid for stage dev; 1 scheduled: cleanup; off on dev: report (not in enabledJobs), archive (not in enabledJobs)');
    expect(lines(prod.stdout)[0]).toMatch(/^workflows\/jobs\.yml: 3 jobs valid for stage prod; 3 scheduled: nightly-report, hourly-cleanup, tenant-sync/);
    expect(lines(given.stdout)[0]).toBe(lines(prod.stdout)[0]);
    expect(lines(none.stdout)[0]).toBe(lines(prod.stdout)[0]);
  });

  it('a real `sls package --param catalog=mine/jobs.yml` packages those jobs, and names a stage serverless.yml lacks', () => {
    // Prepare: a copy of the project (node_modules linked) with a catalog of one's own beside the sample's
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-stages-sls-'));
    dirs.push(dir);
    for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'handlers', 'workflows', 'cli']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    mkdirSync(join(dir, 'mine'));
    // One job's per-stage enabled: map carries a typo (prdo for prod): said, not silently ignored.
    writeFileSync(join(dir, 'mine', 'jobs.yml'), MINE.replace('\n  report:\n', '\n  report:\n    enabled: { prodd: false }\n'));
    const out = join(dir, 'out');
    const env = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'stepcron-none' };
    // Act: prdo, a typo of prod (params.default applies: enabledJobs '*')
    const run = spawnSync(join(ROOT, 'node_modules/.bin/sls'), ['package', '--stage', 'prdo', '--param', 'catalog=mine/jobs.yml', '--package', out],
      { cwd: dir, env, encoding: 'utf8' });
    // Assess
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stdout + run.stderr }).toEqual({ status: 0, stderr: '' });
    const machines = readdirSync(out).filter((f) => /^stepcron-Jobs\d+-[0-9a-f]{64}\.json$/.test(f))
      .flatMap((f) => Object.values(JSON.parse(readFileSync(join(out, f), 'utf8')).Resources as Record<string, { Type: string; Properties: { StateMachineName?: string } }>))
      .filter((r) => r.Type === 'AWS::StepFunctions::StateMachine').map((r) => r.Properties.StateMachineName).sort();
    expect(machines).toEqual(['stepcron-prdo-archive', 'stepcron-prdo-cleanup', 'stepcron-prdo-report']);
    const said = `${run.stdout}${run.stderr}`;
    expect(said.match(/stage 'prdo' is not in serverless.yml's params.*/g)).toEqual([
      "stage 'prdo' is not in serverless.yml's params, which name dev, prod (did you mean prod?): going on with params.default " +
      '(a new stage on purpose: add params.prdo to serverless.yml)']);
    expect(said).toMatch(/jobs\.report\.enabled: 'prodd' is no stage in serverless.yml's params \(dev, prod\): did you mean prod\?/);
  }, 120_000);

  it('validate names an enabled: key that is no stage (a typo would leave the job on where it was meant to be off)', async () => {
    // Prepare
    const dir = project();
    writeFileSync(join(dir, 'mine', 'jobs.yml'), MINE.replace('\n  report:\n', '\n  report:\n    enabled: { prdo: false, staging: true, default: true }\n'));
    // Act
    const r = await stepcron(dir, ['validate', '--catalog', 'mine/jobs.yml', '--stage', 'prod']);
    // Assess: a warning, not an error (the job's schedule is what it says for every known stage)
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("mine/jobs.yml: jobs.report.enabled: 'prdo' is no stage in serverless.yml's params (dev, prod): did you mean prod?");
    // A stage far from every known one may be real (a stage with no params of its own runs on params.default): silent.
    expect(r.stderr).not.toContain("'staging'");
  });

  it("sls reads the same param: a dev enabledJobs naming a job the catalog lacks stops it, naming the setting to change", async () => {
    // Prepare: serverless.cjs as osls calls it, its variables resolved as serverless.yml's params resolve them
    const { stateMachines } = require('../workflows/serverless.cjs') as { stateMachines: (c: unknown) => Promise<unknown> };
    const params: Record<string, Record<string, string>> = { default: { subnets: 'subnet-0a1', enabledJobs: '*' }, dev: { enabledJobs: 'hourly-cleanup' } };
    const context = (stage: string, cli: Record<string, string>) => ({
      options: { stage, param: Object.entries(cli).map(([k, v]) => `${k}=${v}`) },
      resolveConfigurationProperty: async (path: string[]) => path.reduce<unknown>((at, k) => (at as Record<string, unknown> | undefined)?.[k], { params }),
      resolveVariable: async (v: string) => {
        if (v === 'sls:stage') return stage;
        const [, name, fallback] = /^param:(\w+)(?:, '(.*)')?$/.exec(v)!;
        return cli[name!] ?? params[stage]?.[name!] ?? params.default![name!] ?? fallback ?? null;
      },
    });
    const catalog = join(project(), 'mine', 'jobs.yml');
    // Act
    const dev = stateMachines(context('dev', { catalog }));
    const given = stateMachines(context('qa', { catalog, enabledJobs: 'report,cleanp' }));
    const fine = stateMachines(context('test', { catalog }));
    // Assess
    await expect(dev).rejects.toThrow(`stage dev: params.dev.enabledJobs in serverless.yml names a job ${catalog} does not have: ` +
      "no job named 'hourly-cleanup': the catalog has report, cleanup, archive; change that setting to the catalog's job names (comma-separated) or '*'; " +
      'or, with no edit, add --param="enabledJobs=<names or *>" to this sls command');
    await expect(given).rejects.toThrow(/^stage qa: --param enabledJobs names a job .* does not have: no job named 'cleanp': did you mean cleanup\?;/);
    expect(Object.keys(await fine as object).sort()).toEqual(['Archive', 'Cleanup', 'Report']);
  });
});

describe('the sample dev settings and a catalog of your own', () => {
  it("--catalog mine/jobs.yml on dev: a warning naming serverless.yml's params.dev.enabledJobs, not exit 2; status says the same", async () => {
    // Prepare
    const dir = project();
    // Act
    const [validate, status, text, schedule] = await Promise.all([
      stepcron(dir, ['validate', '--catalog', 'mine/jobs.yml']),
      stepcron(dir, ['status', '--catalog', 'mine/jobs.yml', '--json']),
      stepcron(dir, ['status', '--catalog', 'mine/jobs.yml']),
      stepcron(dir, ['schedule', '--catalog', 'mine/jobs.yml', '--for', '1s']),
    ]);
    // Assess
    expect(validate.code).toBe(0);
    expect(lines(validate.stderr)).toEqual([
      "stepcron: warning: stage dev: serverless.yml params.dev.enabledJobs names a job mine/jobs.yml does not have: no job named 'hourly-cleanup': " +
      "the catalog has report, cleanup, archive; change that setting to the catalog's job names (comma-separated) or '*' (a warning, not an error: " +
      'stage dev deploys workflows/jobs.yml, which the setting was written for; until it is changed, the jobs it does not name are off on the stage)',
    ]);
    const rows = JSON.parse(status.stdout) as Array<{ job: string; state: string; off?: string }>;
    expect(rows.map((r) => [r.job, r.state, r.off])).toEqual(['report', 'cleanup', 'archive']
      .map((job) => [job, 'disabled', 'off on dev: not in enabledJobs (serverless.yml params.dev.enabledJobs)']));
    expect(text.stdout).toContain('report: off on dev: not in enabledJobs (serverless.yml params.dev.enabledJobs)\n');
    // schedule refuses (nothing would fire), naming the same line.
    expect({ code: schedule.code, stderr: lines(schedule.stderr) }).toEqual({ code: 2, stderr: ['stepcron: schedule: no job is scheduled on dev: ' +
      'report (not in enabledJobs), cleanup (not in enabledJobs), archive (not in enabledJobs); --jobs <name> schedules one anyway, ' +
      'or name them in serverless.yml params.dev.enabledJobs'] });
  });

  it("the catalog the stage deploys: enabledJobs naming a job it lacks is exit 2, naming the file and key", async () => {
    // Prepare: serverless.yml's catalog param is the user's file; default's enabledJobs names a sample job
    const dir = project(SERVERLESS.replace("    enabledJobs: '*'\n", "    enabledJobs: report,hourly-cleanup\n    catalog: mine/jobs.yml\n")
      .replace('  dev:\n    enabledJobs: hourly-cleanup\n', ''));
    // Act
    const result = await stepcron(dir, ['validate', '--stage', 'prod']);
    // Assess
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual(["stepcron: stage prod: serverless.yml params.default.enabledJobs names a job mine/jobs.yml does not have: " +
      "no job named 'hourly-cleanup': the catalog has report, cleanup, archive; change that setting to the catalog's job names (comma-separated) or '*'"]);
  });
});

/** The walk's catalog: a cron in a zone, a rate, and a fan-out with a secret (none of the sample's jobs). */
const WALK = `defaults:
  image: busybox:1.36
jobs:
  morning-digest:
    description: Sends the morning digest at 07:15 Berlin time
    schedule: cron(15 7 * * ? *)
    timezone: Europe/Berlin
    command: [sh, -c, 'echo digest']
  queue-drain:
    description: Drains the retry queue every 10 minutes
    schedule: rate(10 minutes)
    command: [sh, -c, 'echo drained']
    concurrency: forbid
  shop-sync:
    description: Syncs each shop, one task per shop
    schedule: cron(0 3 * * ? *)
    command: [sh, -c, 'echo "syncing $STEPCRON_ITEM"; test -n "$API_TOKEN"']
    retries: 0
    secrets:
      API_TOKEN: /mine/shop-sync/api-token
    input:
      shops: [north, south, east]
    fanOut:
      itemsPath: $.shops
      maxConcurrency: 2
`;

describe("issue 14's first Done-when, walked as a new user: a catalog of one's own, no edit to serverless.yml", () => {
  // validate, run, sls package (--param catalog=) and plan on the default stage, dev, whose sample enabledJobs names
  // hourly-cleanup: each goes through, or says the one line to change (file and key) and the flag that needs no edit.
  it('validates, runs each job, packages with --param and plans, on dev, each answer naming what to change', async () => {
    // Prepare: a copy of the project, committed (plan compares with HEAD), with mine/jobs.yml added after
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-walk-'));
    dirs.push(dir);
    for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'handlers', 'workflows', 'cli', 'jobs']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
    const git = (...args: string[]) => spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    git('init', '-q');
    git('add', '.');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'the sample');
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    mkdirSync(join(dir, 'mine'));
    writeFileSync(join(dir, 'mine', 'jobs.yml'), WALK);
    const mine = ['--catalog', 'mine/jobs.yml'];
    const env = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'stepcron-none' };
    // Act
    // sls runs beside the CLI commands (spawned, not spawnSync): the walk takes the time of the package alone.
    const sls = new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(join(ROOT, 'node_modules/.bin/sls'), ['package', '--stage', 'dev', '--param', 'catalog=mine/jobs.yml', '--param', 'enabledJobs=*',
        '--package', join(dir, 'out')], { cwd: dir, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('close', (status) => done({ status, stdout, stderr }));
    });
    const [validate, digest, drain, plan] = await Promise.all([
      stepcron(dir, ['validate', ...mine]), stepcron(dir, ['run', 'morning-digest', ...mine]), stepcron(dir, ['run', 'queue-drain', ...mine]),
      stepcron(dir, ['plan', '--stage', 'dev', ...mine]),
    ]);
    process.env.API_TOKEN = 'local-token';
    const sync = await stepcron(dir, ['run', 'shop-sync', ...mine]).finally(() => { delete process.env.API_TOKEN; });
    const packaged = await sls;
    // Assess: validate goes through, with one warning naming the file and key
    expect(validate.code).toBe(0);
    expect(lines(validate.stdout)[0]).toBe('mine/jobs.yml: 3 jobs valid for stage dev; 0 scheduled; off on dev: morning-digest (not in enabledJobs), ' +
      'queue-drain (not in enabledJobs), shop-sync (not in enabledJobs)');
    expect(lines(validate.stderr)).toEqual([expect.stringMatching(/^stepcron: warning: stage dev: serverless\.yml params\.dev\.enabledJobs names a job mine\/jobs\.yml does not have/)]);
    // run: each job, the fan-out with its secret exported as the run says to
    for (const r of [digest, drain, sync]) expect(r.code).toBe(0);
    expect(digest.stdout + digest.stderr).toContain('SUCCEEDED  morning-digest');
    expect(sync.stdout + sync.stderr).toMatch(/items {8}3 succeeded, 0 failed of 3/);
    // sls package of the same file on dev, with no edit: --param enabledJobs (the flag its refusal names)
    expect({ status: packaged.status, out: packaged.status === 0 ? '' : `${packaged.stdout}${packaged.stderr}` }).toEqual({ status: 0, out: '' });
    const machines = readdirSync(join(dir, 'out')).filter((f) => /^stepcron-Jobs\d+-[0-9a-f]{64}\.json$/.test(f))
      .flatMap((f) => Object.values(JSON.parse(readFileSync(join(dir, 'out', f), 'utf8')).Resources as Record<string, { Type: string; Properties: { StateMachineName?: string } }>))
      .filter((r) => r.Type === 'AWS::StepFunctions::StateMachine').map((r) => r.Properties.StateMachineName).sort();
    expect(machines).toEqual(['stepcron-dev-morning-digest', 'stepcron-dev-queue-drain', 'stepcron-dev-shop-sync']);
    // plan: HEAD has no mine/jobs.yml, and says so; every job is added; and, as sls package without --param
    // enabledJobs would, it says the deploy is refused, naming the line to change and the flag that needs no edit
    expect(plan.code).toBe(0);
    expect(lines(plan.stdout).slice(0, 4)).toEqual([
      'stepcron plan: stage dev, the working tree against HEAD (no mine/jobs.yml at HEAD)',
      'note: HEAD has no mine/jobs.yml: nothing to compare with, so every job shows as added',
      expect.stringMatching(/^refused: sls package\|deploy --stage dev stops: stage dev: serverless\.yml params\.dev\.enabledJobs names a job mine\/jobs\.yml does not have: .*--param="enabledJobs=<names or \*>"/),
      '+ morning-digest (added)',
    ]);
    expect(lines(plan.stdout).filter((l) => l.startsWith('+ '))).toEqual(['+ morning-digest (added)', '+ queue-drain (added)', '+ shop-sync (added)']);
    expect(plan.stderr).toBe('');
  }, 120_000);
});

describe('a stage serverless.yml does not name', () => {
  it('is accepted with one warning naming the known stages (did-you-mean when close) on validate, run, status and schedule', async () => {
    // Prepare
    const dir = project(SERVERLESS.replace('hourly-cleanup', "'*'"));
    const commands = [['validate'], ['run', 'report'], ['status'], ['schedule', '--for', '1s']];
    const catalog = ['--catalog', 'mine/jobs.yml'];
    // Act
    const typo = await Promise.all(commands.map((c) => stepcron(dir, [...c, ...catalog, '--stage', 'prdo'])));
    const fresh = await Promise.all(commands.map((c) => stepcron(dir, [...c, ...catalog, '--stage', 'staging'])));
    const known = await Promise.all([stepcron(dir, ['validate', ...catalog, '--stage', 'prod']), stepcron(dir, ['validate', ...catalog])]);
    // Assess
    const warnings = (r: Result) => lines(r.stderr).filter((l) => l.startsWith('stepcron: warning: stage '));
    for (const result of typo) {
      expect(result.code).toBe(0);
      expect(warnings(result)).toEqual(["stepcron: warning: stage 'prdo' is not in serverless.yml's params, which name dev, prod (did you mean prod?): " +
        'going on with params.default (a new stage on purpose: add params.prdo to serverless.yml)']);
    }
    for (const result of fresh) {
      expect(result.code).toBe(0);
      expect(warnings(result)).toEqual(["stepcron: warning: stage 'staging' is not in serverless.yml's params, which name dev, prod: " +
        'going on with params.default (a new stage on purpose: add params.staging to serverless.yml)']);
    }
    for (const result of known) expect(result).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('run from a folder below the project', () => {
  // As git finds .git: every command takes the project from the nearest serverless.yml at or above the current folder
  // (the stage's params, its catalog, the run store), so a subfolder gives the same answer as the root, or one line.
  it('validate, a catalog deeper down, run and history read the project above, not the current folder', async () => {
    const dir = project();
    const deep = join(dir, 'mine', 'deep');
    mkdirSync(deep);
    mkdirSync(join(dir, 'team', 'cron'), { recursive: true });
    writeFileSync(join(dir, 'team', 'cron', 'jobs.yml'), MINE);
    const [root, below, team] = await Promise.all([
      stepcron(dir, ['validate']), stepcron(deep, ['validate']), stepcron(join(dir, 'team'), ['validate', '--catalog', 'cron/jobs.yml']),
    ]);
    expect(below).toMatchObject({ code: 0, stderr: '' });
    expect(lines(below.stdout)[0]).toBe(lines(root.stdout)[0]!.replace('workflows/jobs.yml', '../../workflows/jobs.yml'));
    // The project's dev enabledJobs applies to a catalog the project's serverless.yml is not beside, as from the root.
    expect(team.stderr).toMatch(/^stepcron: warning: stage dev: \.\.\/serverless\.yml params\.dev\.enabledJobs names a job cron\/jobs\.yml does not have/);
    const run = await stepcron(deep, ['run', 'cleanup', '--catalog', '../jobs.yml', '--stage', 'prod']);
    expect(run.code).toBe(0);
    const history = await stepcron(dir, ['history', '--catalog', 'mine/jobs.yml']);
    expect(lines(history.stdout)[1]).toMatch(/^SUCCEEDED\s+cleanup\s+.*prod$/);
    expect(readdirSync(deep)).toEqual([]);
    // A job's relative command runs from the project's folder (an image's WORKDIR), wherever stepcron was started.
    mkdirSync(join(dir, 'tools'));
    writeFileSync(join(dir, 'tools', 'hi.sh'), 'echo "hi from $(basename "$PWD")"\n');
    writeFileSync(join(dir, 'mine', 'rel.yml'), 'jobs:\n  rel:\n    description: rel\n    schedule: rate(1 hour)\n    image: busybox\n    command: [sh, tools/hi.sh]\n');
    const rel = await stepcron(deep, ['run', 'rel', '--catalog', '../rel.yml', '--stage', 'prod']);
    expect(rel.code).toBe(0);
    expect(rel.stdout + rel.stderr).toContain(`hi from ${basename(dir)}`);
  });

  it('outside any project and with no workflows/jobs.yml: one line naming where it looked and what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-noproject-'));
    dirs.push(dir);
    const r = await stepcron(dir, ['validate']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe(`stepcron: no serverless.yml in ${dir} or any folder above it, and no workflows/jobs.yml here: ` +
      "run stepcron in the project's folder (or below it), or give --catalog <file>\n");
  });
});

describe('local pauses are per stage, and say so', () => {
  it('pause, status and history name the stage; a pause on dev leaves prod enabled', async () => {
    // Prepare
    const dir = project(SERVERLESS.replace('hourly-cleanup', "'*'"));
    const catalog = ['--catalog', 'mine/jobs.yml'];
    await stepcron(dir, ['run', 'report', ...catalog, '--stage', 'prod']);
    // Act
    const pause = await stepcron(dir, ['pause', 'report', ...catalog, '--note', 'INC-7']);
    const [dev, prod, history] = await Promise.all([
      stepcron(dir, ['status', 'report', ...catalog]), stepcron(dir, ['status', 'report', ...catalog, '--stage', 'prod']), stepcron(dir, ['history', ...catalog]),
    ]);
    const resume = await stepcron(dir, ['resume', 'report', ...catalog, '--stage', 'prod']);
    // Assess
    expect(pause.stdout).toMatch(/^paused report on dev \(local store \.stepcron\/store\.db\) by \S+ at \d{4}-\d\d-\d\d \d\d:\d\d UTC: INC-7\n$/);
    expect(dev.stdout).toMatch(/\nreport\tpaused\t/);
    // Since when, on the job's clock (UTC here), labelled, and how long ago.
    expect(dev.stdout).toMatch(/\nreport: paused on dev by \S+ since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ s ago\): INC-7\n$/);
    expect(prod.stdout).toMatch(/\nreport\tenabled\t/);
    expect(resume.stdout).toBe('report was not paused on prod (local store .stepcron/store.db)\n');
    expect(lines(history.stdout)[0]).toMatch(/^STATUS\s+JOB\s+EXECUTION\s+STARTED\s+DURATION\s+STAGE$/);
    expect(lines(history.stdout)[1]).toMatch(/^SUCCEEDED\s+report\s+\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ s ago\)\s+\S+\s+prod$/);
  });
});
