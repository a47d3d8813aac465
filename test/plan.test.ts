// `stepcron plan`: what a deploy of the working tree would change, per job, against a git ref (a real temporary git
// repository of a small project) or against the deployed stage (Step Functions and Scheduler mocked with
// aws-sdk-client-mock). The human lines, --json and --exit-code through the real CLI.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetScheduleCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { awsClients } from '../cli/ops/aws';
import { readDeployed } from '../cli/plan-aws';
import { diffDeployed, diffSides, EXIT_CHANGES, formatPlan, type Plan, refSide, workingSide, zonesOf } from '../cli/plan';
import { startCli } from './support/cli';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'secret';
process.env.AWS_REGION = 'eu-west-1';

const NOW = new Date('2026-12-07T20:00:00Z');
const SERVERLESS = [
  'service: stepcron',
  'params:',
  '  default:',
  '    catalog: workflows/jobs.yml',
  "    subnets: subnet-0123456789abcdef0",
  '    securityGroups: sg-0123456789abcdef0',
  "    enabledJobs: '*'",
  '  prod:',
  "    notifyEmails: ''",
  '',
].join('\n');
const CATALOG = [
  'defaults:',
  '  image: busybox:1.36',
  'jobs:',
  '  nightly-report:',
  '    description: the report',
  '    schedule: cron(30 2 * * ? *)',
  '    timezone: Europe/Berlin',
  '    command: [sh, -c, "true"]',
  '  cleanup:',
  '    description: cleans up',
  '    schedule: rate(1 hour)',
  '    command: [sh, -c, "true"]',
  '  old-export:',
  '    description: to be removed',
  '    schedule: cron(0 5 * * ? *)',
  '    command: [sh, -c, "true"]',
  '',
].join('\n');

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** A small project committed in a fresh git repository: serverless.yml and workflows/jobs.yml. */
function project(serverless = SERVERLESS, catalog = CATALOG): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-plan-test-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'workflows'));
  writeFileSync(join(dir, 'serverless.yml'), serverless);
  writeFileSync(join(dir, 'workflows/jobs.yml'), catalog);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'init');
  return dir;
}

const edit = (dir: string, file: string, fn: (text: string) => string) => writeFileSync(join(dir, file), fn(readFileSync(join(dir, file), 'utf8')));

/** The edits every test below starts from: one job added, one removed, one rescheduled and given a secret. */
function edited(): string {
  const dir = project();
  edit(dir, 'workflows/jobs.yml', (t) => t
    .replace('cron(30 2 * * ? *)', 'cron(45 3 * * ? *)')
    .replace(/ {2}old-export:\n(.*\n){3}/, '')
    .replace('  cleanup:\n', [
      '  tenant-sync:', '    description: syncs tenants', '    schedule: cron(0/30 * * * ? *)', '    command: [sh, -c, "true"]',
      '  cleanup:', '',
    ].join('\n'))
    .replace('    timezone: Europe/Berlin\n', "    timezone: Europe/Berlin\n    secrets:\n      DB_PASSWORD: /prod/db/password\n"));
  return dir;
}

/** The plan of the working tree in `dir` against HEAD, in process, at NOW. */
function planIn(dir: string, stage = 'prod', now = NOW): { plan: Plan; text: string } {
  const catalog = join(dir, 'workflows/jobs.yml');
  const serverless = join(dir, 'serverless.yml');
  const after = workingSide(stage, catalog, serverless, readFileSync(catalog, 'utf8'));
  const before = refSide(stage, 'HEAD', serverless, undefined, dir);
  // Labelled as the CLI labels it (cli/plan.ts planCommand).
  const plan = diffSides(before, after, `HEAD (${before.catalog})`, now);
  return { plan, text: formatPlan(plan, zonesOf(before, after), now) };
}

describe('plan against a git ref', () => {
  it('shows a changed description with terminal control characters escaped (no screen clear or title from a catalog)', () => {
    const dir = project();
    edit(dir, 'workflows/jobs.yml', (t) => t.replace(/description: [^\n]*/, 'description: "fails \\u001b[2J\\u001b]0;owned\\u0007 loudly"'));
    const { text } = planIn(dir);
    expect(text).toContain('fails \\u001b[2J\\u001b]0;owned\\u0007 loudly');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no raw control character may remain
    expect(text).not.toMatch(/[\u001b\u0007]/);
  });

  it('says a job added, one removed, and one changed with the schedule before and after in its own zone', () => {
    const { plan, text } = planIn(edited());
    expect(plan.jobs.map((j) => `${j.change} ${j.job}`)).toEqual(['changed nightly-report', 'removed old-export', 'added tenant-sync']);
    expect(text).toContain('+ tenant-sync (added)');
    expect(text).toContain('- old-export (removed)');
    expect(text).toContain('~ nightly-report\n    schedule: cron(30 2 * * ? *) -> cron(45 3 * * ? *)');
    // 02:30 and 03:45 Berlin (CET, UTC+1) after NOW (20:00 UTC on Dec 7).
    expect(text).toContain('next before: 2026-12-08 02:30 CET (in 6 h), 2026-12-09 02:30 CET (in 30 h), 2026-12-10 02:30 CET (in 2 d)');
    expect(text).toContain('next after:  2026-12-08 03:45 CET (in 7 h), 2026-12-09 03:45 CET (in 31 h), 2026-12-10 03:45 CET (in 2 d)');
    const schedule = plan.jobs.find((j) => j.job === 'nightly-report')!.details.find((d) => d.setting === 'schedule')!;
    expect(schedule.nextAfter?.[0]).toBe('2026-12-08T02:45:00.000Z');
  });

  // An added job is as much a change as a changed one: what it brings (schedule in its zone with the next times, image,
  // whether it fires on the stage, IAM, alarms); a removed job, what goes away. The same fields in --json.
  it('an added job shows its schedule in its zone with the next 3 times, image, enablement and alarms; a removed one what goes away', () => {
    const dir = edited();
    edit(dir, 'workflows/jobs.yml', (t) => t.replace("    schedule: cron(0/30 * * * ? *)\n", "    schedule: cron(0 7 * * ? *)\n    timezone: Asia/Tokyo\n    taskPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n"));
    const { plan, text } = planIn(dir);
    expect(text).toContain('+ tenant-sync (added)\n    schedule: cron(0 7 * * ? *) in Asia/Tokyo\n'
      + '      next after:  2026-12-08 07:00 UTC+09:00 (in 2 h), 2026-12-09 07:00 UTC+09:00 (in 26 h), 2026-12-10 07:00 UTC+09:00 (in 2 d)\n'
      + '    image: busybox:1.36\n    enabled: true\n    IAM: policy arn:aws:iam::aws:policy/ReadOnlyAccess added\n    alarm added: TenantSyncAlarm\n');
    expect(text).toContain('- old-export (removed)\n    schedule: cron(0 5 * * ? *) in UTC\n'
      + '      next before: 2026-12-08 05:00 UTC (in 9 h), 2026-12-09 05:00 UTC (in 33 h), 2026-12-10 05:00 UTC (in 2 d)\n'
      + '    image: busybox:1.36\n    enabled: true\n    alarm removed: OldExportAlarm\n');
    const added = plan.jobs.find((j) => j.job === 'tenant-sync')!.details;
    expect(added.find((d) => d.setting === 'schedule')).toEqual({ setting: 'schedule', after: 'cron(0 7 * * ? *)',
      nextAfter: ['2026-12-07T22:00:00.000Z', '2026-12-08T22:00:00.000Z', '2026-12-09T22:00:00.000Z'] });
    expect(added.map((d) => d.setting)).toEqual(['schedule', 'time zone', 'image', 'enabled', 'IAM', 'alarm added']);
    expect(plan.jobs.find((j) => j.job === 'old-export')!.details.find((d) => d.setting === 'alarm removed')).toEqual({ setting: 'alarm removed', before: 'OldExportAlarm' });
  });

  it('an added job off on the stage says so and why (enabledJobs, naming where it is set), with no fire times', () => {
    const dir = edited();
    edit(dir, 'serverless.yml', (t) => t.replace('  prod:\n', '  prod:\n    enabledJobs: cleanup,nightly-report\n'));
    const { plan, text } = planIn(dir);
    expect(text).toContain('+ tenant-sync (added)\n    schedule: cron(0/30 * * * ? *) in UTC\n      next after:  none: off on prod\n'
      + '    image: busybox:1.36\n    enabled: false\n      (off on prod: not in serverless.yml params.prod.enabledJobs)\n');
    expect(plan.jobs.find((j) => j.job === 'tenant-sync')!.details.find((d) => d.setting === 'schedule')).toMatchObject({ nextAfter: [], offAfter: true });
    // A removed job that was off at the ref: why, naming the ref's setting.
    const committed = project(SERVERLESS.replace('  prod:\n', '  prod:\n    enabledJobs: cleanup\n'));
    edit(committed, 'workflows/jobs.yml', (t) => t.replace(/ {2}old-export:\n(.*\n){3}/, ''));
    expect(planIn(committed).text).toContain('- old-export (removed)\n    schedule: cron(0 5 * * ? *) in UTC\n      next before: none: off on prod\n'
      + '    image: busybox:1.36\n    enabled: false\n      (off on prod: not in serverless.yml params.prod.enabledJobs)\n');
  });

  it('names an IAM change from a new secret (its own execution role), and calls nothing else "other"', () => {
    const job = planIn(edited()).plan.jobs.find((j) => j.job === 'nightly-report')!;
    expect(planIn(edited()).text).toContain('    IAM: secret DB_PASSWORD added (/prod/db/password)\n');
    expect(job.details.find((d) => d.setting === 'IAM')).toEqual({
      setting: 'IAM', before: { secrets: {}, taskPolicyArns: [] }, after: { secrets: { DB_PASSWORD: '/prod/db/password' }, taskPolicyArns: [] },
    });
    expect(job.other).toBeUndefined();
  });

  it('says the stage-level change: a buffer job brings the buffered-runs resources and widens the precheck role', () => {
    const dir = project();
    edit(dir, 'workflows/jobs.yml', (t) => t.replace('    schedule: rate(1 hour)\n', '    schedule: rate(1 hour)\n    concurrency: buffer\n'));
    const { plan, text } = planIn(dir);
    expect(plan.jobs).toEqual([expect.objectContaining({ job: 'cleanup', change: 'changed', details: [{ setting: 'concurrency', before: 'forbid', after: 'buffer' }] })]);
    expect(plan.shared.added).toEqual(expect.arrayContaining(['BufferedRunsReconcile']));
    expect(plan.shared.changed).toContain('PrecheckRole');
    expect(text).toMatch(/stage \(shared resources\):\n(.*\n)* {2}\+ BufferedRunsReconcile\n/);
  });

  it('says an alarm added with the alert that makes it, and a stage param that changes', () => {
    const dir = project();
    edit(dir, 'workflows/jobs.yml', (t) => t.replace('    schedule: rate(1 hour)\n', '    schedule: rate(1 hour)\n    successDeadlineMinutes: 180\n'));
    edit(dir, 'serverless.yml', (t) => t.replace('subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'));
    const { plan, text } = planIn(dir);
    expect(text).toContain('~ cleanup\n    successDeadlineMinutes: (unset) -> 180\n    alarm added: CleanupDeadlineAlarm');
    expect(plan.params).toEqual([{ setting: 'subnets', before: ['subnet-0123456789abcdef0'], after: ['subnet-0123456789abcdef1'] }]);
    expect(text).toContain('stage params: subnets: ["subnet-0123456789abcdef0"] -> ["subnet-0123456789abcdef1"]');
  });

  it('prints a grouped setting (timeout/retries, alerts, notify) one setting a line, not as two JSON objects', () => {
    const dir = project();
    edit(dir, 'workflows/jobs.yml', (t) => t.replace('    schedule: rate(1 hour)\n',
      '    schedule: rate(1 hour)\n    retries: 5\n    timeoutSeconds: 600\n    notify:\n      onSuccess: true\n'));
    const { text } = planIn(dir);
    expect(text).toContain('~ cleanup\n    timeoutSeconds: 3600 -> 600\n    retries: 2 -> 5\n    onSuccess: false -> true\n');
    expect(text).not.toMatch(/[{}]/);
  });

  it('a job that does not fire on the stage gets no fire times: "off on <stage>" instead', () => {
    const dir = project();
    edit(dir, 'workflows/jobs.yml', (t) => t.replace('    schedule: rate(1 hour)\n', '    schedule: cron(5 * * * ? *)\n    enabled: false\n'));
    const { plan, text } = planIn(dir);
    const schedule = plan.jobs.find((j) => j.job === 'cleanup')!.details.find((d) => d.setting === 'schedule')!;
    expect(schedule).toMatchObject({ nextAfter: [], offAfter: true });
    expect(text).toContain('      next before: 2026-12-07 21:00 UTC (in 1 h)');
    expect(text).toContain('      next after:  none: off on prod\n');
  });

  // Each ordinary edit is named by its setting; none leaves a resource of the job unexplained ("other").
  it.each([
    ['schedule', (t: string) => t.replace('schedule: rate(1 hour)', 'schedule: cron(5 * * * ? *)')],
    ['time zone', (t: string) => t.replace('    schedule: rate(1 hour)\n', '    schedule: cron(5 1 * * ? *)\n    timezone: Asia/Tokyo\n')],
    ['enabled', (t: string) => t.replace('    schedule: rate(1 hour)\n', '    schedule: rate(1 hour)\n    enabled: false\n')],
    ['cpu/memory', (t: string) => t.replace('    schedule: rate(1 hour)\n', '    schedule: rate(1 hour)\n    cpu: 512\n    memory: 1024\n')],
    ['capacity', (t: string) => t.replace('    schedule: rate(1 hour)\n', '    schedule: rate(1 hour)\n    capacity: spot\n')],
    ['timeout/retries', (t: string) => t.replace('    schedule: rate(1 hour)\n', '    schedule: rate(1 hour)\n    retries: 5\n')],
    ['notify', (t: string) => t.replace('    schedule: rate(1 hour)\n', '    schedule: rate(1 hour)\n    notify:\n      onSuccess: true\n')],
    ['IAM', (t: string) => t.replace('    schedule: rate(1 hour)\n', '    schedule: rate(1 hour)\n    taskPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n')],
    ['fan-out', (t: string) => t.replace('    schedule: rate(1 hour)\n', '    schedule: rate(1 hour)\n    input:\n      items: [a, b]\n    fanOut:\n      itemsPath: $.items\n')],
    ['command', (t: string) => t.replace('    schedule: rate(1 hour)\n    command: [sh, -c, "true"]', '    schedule: rate(1 hour)\n    command: [sh, -c, "exit 0"]')],
  ])('names a %s change, with no "other changes"', (setting, change) => {
    const dir = project();
    edit(dir, 'workflows/jobs.yml', change);
    const cleanup = planIn(dir).plan.jobs.find((j) => j.job === 'cleanup')!;
    expect(cleanup.details.map((d) => d.setting)).toContain(setting);
    expect(cleanup.other).toBeUndefined();
  });

  it('lists a template difference no named setting explains as "other changes", so nothing that deploys is missed', () => {
    const dir = project();
    const catalog = join(dir, 'workflows/jobs.yml');
    const serverless = join(dir, 'serverless.yml');
    const after = workingSide('prod', catalog, serverless, readFileSync(catalog, 'utf8'));
    const before = refSide('prod', 'HEAD', serverless, undefined, dir);
    // A difference in the deployed resource that the catalog does not show (as a change to how stepcron compiles it).
    (after.template.Resources.CleanupTaskDefinition!.Properties as Record<string, unknown>).NetworkMode = 'bridge';
    const plan = diffSides(before, after, 'HEAD', NOW);
    expect(plan.jobs).toEqual([{ job: 'cleanup', change: 'changed', details: [], other: ['CleanupTaskDefinition'] }]);
    expect(formatPlan(plan, zonesOf(before, after), NOW)).toContain('~ cleanup\n    other changes: CleanupTaskDefinition');
  });

  it('reads the ref side from the stage catalog param at the ref: a job the stage disables shows as enabled changed', () => {
    const dir = project();
    edit(dir, 'serverless.yml', (t) => t.replace("  prod:\n", "  prod:\n    enabledJobs: cleanup,nightly-report\n"));
    const job = planIn(dir).plan.jobs;
    expect(job).toEqual([expect.objectContaining({ job: 'old-export', details: [{ setting: 'enabled', before: true, after: false }] })]);
  });
});

describe('plan in docs/deploy.md', () => {
  it("prints docs/deploy.md's example as it is printed: the sample project with the edits the page names", () => {
    const root = join(__dirname, '..');
    const dir = project(readFileSync(join(root, 'serverless.yml'), 'utf8'), readFileSync(join(root, 'workflows/jobs.yml'), 'utf8'));
    edit(dir, 'workflows/jobs.yml', (t) => `${t
      .replace('    schedule: cron(30 2 * * ? *)', '    schedule: cron(0 4 * * ? *)')
      .replace('    concurrency: forbid\n    input:\n      tenants', '    concurrency: buffer\n    secrets:\n      CRM_TOKEN: /stepcron/crm/token\n    input:\n      tenants')
      .replace('    successDeadlineMinutes: 180\n', '')}
  invoice-export:
    description: Exports yesterday's invoices to the accounting SFTP
    schedule: cron(15 6 * * ? *)
    timezone: Europe/Berlin
    command: [sh, jobs/invoice-export.sh]
`);
    const readme = readFileSync(join(root, 'docs', 'deploy.md'), 'utf8');
    const shown = /\$ npx stepcron plan --stage prod --exit-code\n([\s\S]*?)\$ echo \$\?\n4\n```/.exec(readme)?.[1];
    // The time the example was run: its "in 5 h" are relative to it.
    expect(planIn(dir, 'prod', new Date('2026-12-07T20:15:00Z')).text).toBe(shown);
  });
});

describe('plan through the CLI', () => {
  const cli = async (dir: string, args: string[]) => startCli(['plan', '--stage', 'prod', ...args], { cwd: dir }).done;

  it('exits 0 with "no changes" on a clean tree, with or without --exit-code', async () => {
    const dir = project();
    for (const args of [[], ['--exit-code']]) {
      const r = await cli(dir, args);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toContain('no changes: a deploy would change nothing');
    }
  });

  it(`--exit-code exits ${EXIT_CHANGES} when something would change (0 without it); --json prints one object`, async () => {
    const dir = edited();
    expect((await cli(dir, [])).code).toBe(0);
    const r = await cli(dir, ['--exit-code', '--json']);
    expect(r.code).toBe(EXIT_CHANGES);
    const plan = JSON.parse(r.stdout) as Plan;
    expect(plan).toMatchObject({ stage: 'prod', changes: true });
    expect(plan.jobs.map((j) => [j.job, j.change])).toEqual([['nightly-report', 'changed'], ['old-export', 'removed'], ['tenant-sync', 'added']]);
  });

  /** A project whose dev stage enables the sample's jobs, and a catalog of one's own in mine/ (committed, then edited). */
  function mine(): string {
    const dir = project(SERVERLESS.replace('  prod:\n', '  dev:\n    enabledJobs: [cleanup, a]\n  prod:\n'));
    mkdirSync(join(dir, 'mine'));
    writeFileSync(join(dir, 'mine/jobs.yml'), 'jobs:\n  a:\n    description: a\n    schedule: rate(1 hour)\n    image: busybox\n    command: [sh]\n');
    execFileSync('git', ['add', 'mine'], { cwd: dir });
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'mine'], { cwd: dir });
    edit(dir, 'mine/jobs.yml', (t) => t.replace('rate(1 hour)', 'rate(2 hours)'));
    return dir;
  }

  // `sls package --param catalog=mine/jobs.yml` refuses when enabledJobs names a job the catalog lacks
  // (workflows/serverless.cjs): plan says what the deploy would do, so it says the refusal, the line to change and the
  // no-edit flag; with --exit-code that is the mistake code 2, not "changes" (4). The jobs still show as they would deploy.
  it("--catalog of one's own on a stage whose enabledJobs names the sample's jobs: the refusal sls would give, exit 2 with --exit-code", async () => {
    const dir = mine();
    const r = await startCli(['plan', '--catalog', 'mine/jobs.yml', '--exit-code'], { cwd: dir }).done;
    expect(r).toMatchObject({ code: 2, stderr: '' });
    expect(r.stdout).toContain('against HEAD (HEAD:mine/jobs.yml)\nrefused: sls package|deploy --stage dev stops: stage dev: serverless.yml params.dev.enabledJobs '
      + "names a job mine/jobs.yml does not have: no job named 'cleanup': the catalog has a; change that setting");
    expect(r.stdout).toContain('; or, with no edit, add --param="enabledJobs=<names or *>" to the sls command (and to plan, to see that deploy)\n~ a\n    schedule: rate(1 hour) -> rate(2 hours)\n');
    // As deployed: an aligned rate fires on the clock (its cron), not an hour from now.
    expect(r.stdout).toMatch(/next before: \d{4}-\d\d-\d\d \d\d:00 UTC .*\n {6}next after: {2}\d{4}-\d\d-\d\d (00|02|04|06|08|10|12|14|16|18|20|22):00 UTC/);
    expect(JSON.parse((await startCli(['plan', '--catalog', 'mine/jobs.yml', '--json'], { cwd: dir }).done).stdout).refused).toMatch(/params\.dev\.enabledJobs names a job/);
  });

  // --param as sls reads it: taken before serverless.yml's params, so the plan is that of the deploy run with it.
  it("--param enabledJobs='*' plans the deploy sls would make with it (no refusal, exit 4); a list still lacking names is refused as --param's", async () => {
    const dir = mine();
    const ok = await startCli(['plan', '--catalog', 'mine/jobs.yml', '--param', 'enabledJobs=*', '--exit-code'], { cwd: dir }).done;
    expect(ok).toMatchObject({ code: EXIT_CHANGES, stderr: '' });
    expect(ok.stdout).not.toContain('refused');
    const still = await startCli(['plan', '--catalog', 'mine/jobs.yml', '--param', 'enabledJobs=a,nope', '--exit-code'], { cwd: dir }).done;
    expect(still.code).toBe(2);
    expect(still.stdout).toMatch(/\nrefused: sls package\|deploy --stage dev stops: stage dev: --param enabledJobs names a job mine\/jobs\.yml does not have: no job named 'nope'.*or '\*'\n/);
    // --param catalog= as sls takes it (relative to serverless.yml's folder), from anywhere below it.
    const viaParam = await startCli(['plan', '--param', 'catalog=mine/jobs.yml', '--param', 'enabledJobs=*', '--json'], { cwd: join(dir, 'workflows') }).done;
    expect((JSON.parse(viaParam.stdout) as Plan).against).toBe('HEAD (HEAD:mine/jobs.yml)');
    const bad = await startCli(['plan', '--param', 'enabledjobs=*'], { cwd: dir }).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^stepcron: plan: --param enabledjobs=\*: give key=value with one of .*enabledJobs/);
  });

  // git names paths from the repository's root (HEAD:mine/jobs.yml), whichever folder plan runs in.
  it('labels the ref side as git does, from the repository root, when run from a subfolder', async () => {
    const dir = mine();
    const own = await startCli(['plan', '--catalog', 'jobs.yml', '--param', 'enabledJobs=*'], { cwd: join(dir, 'mine') }).done;
    expect(own.stdout).toMatch(/^stepcron plan: stage dev, the working tree against HEAD \(HEAD:mine\/jobs\.yml\)\n/);
    const stages = await startCli(['plan', '--stage', 'prod'], { cwd: join(dir, 'mine') }).done;
    expect(stages.stdout).toMatch(/^stepcron plan: stage prod, the working tree against HEAD \(HEAD:workflows\/jobs\.yml\)\n/);
  });

  it('outside a git repository: one line naming --aws as the other way, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-plan-nogit-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'workflows'));
    writeFileSync(join(dir, 'serverless.yml'), SERVERLESS);
    writeFileSync(join(dir, 'workflows/jobs.yml'), CATALOG);
    const r = await cli(dir, []);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^stepcron: plan: .* is not in a git repository: .*or use --aws\n$/);
  });

  it('a ref without the catalog (a first commit of serverless.yml alone) is nothing deployed: every job and shared resource added', async () => {
    const dir = project();
    execFileSync('git', ['rm', '-q', '--cached', 'workflows/jobs.yml'], { cwd: dir });
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'no catalog yet'], { cwd: dir });
    const plan = JSON.parse((await cli(dir, ['--json'])).stdout) as Plan;
    expect(plan.jobs.map((j) => `${j.change} ${j.job}`)).toEqual(['added cleanup', 'added nightly-report', 'added old-export']);
    expect(plan.shared.added).toEqual(expect.arrayContaining(['SchedulerRole', 'ClaimsTable', 'NotificationTopic']));
  });

  // A ref from before the project had serverless.yml (or a catalog-only repository) has no stage params: the default
  // params there would make every job's definition differ (subnets, cluster) with no word why. The rule: the ref's
  // side takes this tree's params, one note line says so, and only the catalog's own changes show.
  it('a ref without serverless.yml: one note naming the ref and the file, and only the catalog changes show', async () => {
    const dir = project();
    execFileSync('git', ['rm', '-q', '--cached', 'serverless.yml'], { cwd: dir });
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'catalog only'], { cwd: dir });
    const clean = await cli(dir, ['--exit-code']);
    expect(clean).toMatchObject({ code: 0, stderr: '' });
    expect(clean.stdout).toBe('stepcron plan: stage prod, the working tree against HEAD (HEAD:workflows/jobs.yml)\n' +
      'note: HEAD has no serverless.yml: its side takes this tree\'s stage prod params, so only catalog changes show\n' +
      'no changes: a deploy would change nothing\n');
    edit(dir, 'workflows/jobs.yml', (t) => t.replace('rate(1 hour)', 'rate(2 hours)'));
    const plan = JSON.parse((await cli(dir, ['--json'])).stdout) as Plan;
    expect(plan.jobs.map((j) => `${j.change} ${j.job}`)).toEqual(['changed cleanup']);
    expect(plan.notes).toEqual([expect.stringMatching(/^HEAD has no serverless.yml/)]);
  });

  it('a catalog-only repository (no serverless.yml anywhere): one note, default params on both sides, only catalog changes', async () => {
    const dir = project();
    rmSync(join(dir, 'serverless.yml'));
    execFileSync('git', ['rm', '-q', '--cached', 'serverless.yml'], { cwd: dir });
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'catalog only'], { cwd: dir });
    edit(dir, 'workflows/jobs.yml', (t) => t.replace('rate(1 hour)', 'rate(2 hours)'));
    const r = await cli(dir, []);
    expect(r).toMatchObject({ code: 0, stderr: expect.not.stringContaining('Error') });
    expect(r.stdout.split('\n').slice(0, 4)).toEqual(['stepcron plan: stage prod, the working tree against HEAD (HEAD:workflows/jobs.yml)',
      'note: no serverless.yml here or at HEAD: both sides take the default stage params', '~ cleanup', '    schedule: rate(1 hour) -> rate(2 hours)']);
  });

  it('a ref without the catalog says why every job shows as added, naming the ref and the file', async () => {
    const dir = project();
    execFileSync('git', ['rm', '-q', '--cached', 'workflows/jobs.yml'], { cwd: dir });
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'no catalog yet'], { cwd: dir });
    const r = await cli(dir, []);
    expect(r.stdout).toMatch(/^stepcron plan: stage prod, the working tree against HEAD \(no workflows\/jobs\.yml at HEAD\)\n/);
    expect(r.stdout).toContain('\nnote: HEAD has no workflows/jobs.yml: nothing to compare with, so every job shows as added\n+ cleanup (added)\n');
  });

  it('--aws when AWS cannot be reached: one line, exit 1, at once (loopback, nothing listening)', async () => {
    const saved = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
    try {
      const r = await cli(project(), ['--aws', '--region', 'eu-west-1']);
      expect(r).toMatchObject({ code: 1, stdout: '' });
      expect(r.stderr).toBe('stepcron: cannot reach AWS for states:ListStateMachines (ECONNREFUSED): check the network and --region\n');
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = saved;
    }
  });

  it('a ref git does not know is a usage mistake (exit 2, one line)', async () => {
    const r = await cli(project(), ['--against', 'no-such-ref']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^stepcron: plan: --against no-such-ref: git cannot read it/);
  });
});

describe('plan --aws', () => {
  const sfn = mockClient(SFNClient);
  const scheduler = mockClient(SchedulerClient);
  const ARN = (name: string) => `arn:aws:states:eu-west-1:123456789012:stateMachine:stepcron-prod-${name}`;
  beforeEach(() => {
    sfn.reset();
    scheduler.reset();
    sfn.on(ListStateMachinesCommand).resolves({
      stateMachines: ['nightly-report', 'cleanup', 'gone-job', 'eu-sync'].map((n) => ({ name: `stepcron-prod-${n}`, stateMachineArn: ARN(n), type: 'STANDARD' as const, creationDate: NOW }))
        .concat([{ name: 'other-app', stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:other-app', type: 'STANDARD' as const, creationDate: NOW }]),
    });
    scheduler.on(ListSchedulesCommand).resolves({
      Schedules: [
        { Name: 'stepcron-prod-NightlyReportSchedule-1', GroupName: 'default', State: 'ENABLED', Target: { Arn: ARN('nightly-report') } },
        { Name: 'stepcron-prod-CleanupSchedule-1', GroupName: 'default', State: 'DISABLED', Target: { Arn: ARN('cleanup') } },
        { Name: 'stepcron-prod-GoneJobSchedule-1', GroupName: 'default', State: 'ENABLED', Target: { Arn: ARN('gone-job') } },
      ],
    });
    const deployed = (Name: string, ScheduleExpression: string, ScheduleExpressionTimezone: string, State: 'ENABLED' | 'DISABLED') => ({
      Name, GroupName: 'default', ScheduleExpression, ScheduleExpressionTimezone, State, FlexibleTimeWindow: { Mode: 'OFF' as const },
      Target: { Arn: ARN('x'), RoleArn: 'arn:aws:iam::123456789012:role/r' },
    });
    scheduler.on(GetScheduleCommand, { Name: 'stepcron-prod-GoneJobSchedule-1' }).resolves(deployed('stepcron-prod-GoneJobSchedule-1', 'cron(0 6 * * ? *)', 'Asia/Tokyo', 'ENABLED'));
    scheduler.on(GetScheduleCommand, { Name: 'stepcron-prod-NightlyReportSchedule-1' }).resolves(deployed('stepcron-prod-NightlyReportSchedule-1', 'cron(0 2 * * ? *)', 'Europe/Berlin', 'ENABLED'));
    // Paused on the stage (stepcron pause): drift from the catalog's ENABLED, said with who paused it.
    scheduler.on(GetScheduleCommand, { Name: 'stepcron-prod-CleanupSchedule-1' }).resolves({
      ...deployed('stepcron-prod-CleanupSchedule-1', 'cron(0 * * * ? *)', 'UTC', 'DISABLED'),
      Description: 'stepcron-pause:{"by":"arn:aws:sts::123456789012:assumed-role/ops/bob","at":"2026-12-01T09:00:00.000Z","note":"upstream down"}\ncleanup: cleans up',
    });
  });

  it('says jobs not deployed (added), deployed but not in the catalog (removed), and schedule and state drift', async () => {
    const dir = project();
    const catalog = join(dir, 'workflows/jobs.yml');
    const after = workingSide('prod', catalog, join(dir, 'serverless.yml'), readFileSync(catalog, 'utf8'));
    // prod-eu's machines share prod's prefix: they are not prod's jobs.
    const deployed = await readDeployed('prod', awsClients({ stage: 'prod', region: 'eu-west-1' }), ['prod', 'prod-eu']);
    const plan = diffDeployed(after, deployed, 'the deployed stage prod', NOW);
    expect(plan.jobs.map((j) => `${j.change} ${j.job}`)).toEqual(['changed cleanup', 'removed gone-job', 'changed nightly-report', 'added old-export']);
    const zones = new Map([['nightly-report', { before: 'Europe/Berlin', after: 'Europe/Berlin' }], ['gone-job', { before: 'Asia/Tokyo', after: 'Asia/Tokyo' }],
      ['old-export', { before: 'UTC', after: 'UTC' }]]);
    const text = formatPlan(plan, zones, NOW);
    // rate(1 hour) deploys as its aligned cron: no drift there, only the state.
    expect(text).toContain('~ cleanup\n    state: DISABLED (paused by arn:aws:sts::123456789012:assumed-role/ops/bob at 2026-12-01T09:00:00.000Z: upstream down) -> ENABLED\n'
      + '      (set outside the deploy: a deploy restores it only when it updates this schedule)\n');
    expect(text).toContain('~ nightly-report\n    schedule: cron(0 2 * * ? *) -> cron(30 2 * * ? *)\n      next before: 2026-12-08 02:00 CET');
    // What goes away as deployed (its schedule, zone, next times, state); what an added job brings, as offline.
    expect(text).toContain('- gone-job (removed)\n    schedule: cron(0 6 * * ? *) in Asia/Tokyo\n'
      + '      next before: 2026-12-08 06:00 UTC+09:00 (in 1 h), 2026-12-09 06:00 UTC+09:00 (in 25 h), 2026-12-10 06:00 UTC+09:00 (in 2 d)\n    state: ENABLED\n');
    expect(text).toContain('+ old-export (added)\n    schedule: cron(0 5 * * ? *) in UTC\n'
      + '      next after:  2026-12-08 05:00 UTC (in 9 h), 2026-12-09 05:00 UTC (in 33 h), 2026-12-10 05:00 UTC (in 2 d)\n'
      + '    image: busybox:1.36\n    enabled: true\n    alarm added: OldExportAlarm\n');
    expect(sfn.commandCalls(ListStateMachinesCommand)).toHaveLength(1);
    expect(scheduler.commandCalls(GetScheduleCommand)).toHaveLength(3);
  });
});
