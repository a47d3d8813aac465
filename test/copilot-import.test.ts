// `stepcron import copilot`: Scheduled Job manifests in the shapes Copilot's documentation and `copilot job init` show
// (test/fixtures/copilot/*/manifest.yml: the generated one, a fuller one with every secret form and per-environment
// overrides, odd ones, a job started by hand only) become catalog jobs: the fields written, parseCatalog accepting
// them, the schedules' next fire times against croner (5-field cron) or the rate's interval, what is listed with its
// line, what is refused, and the real CLI end to end.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cron } from 'croner';
import { renderCatalog } from '../workflows/crontab';
import { type CopilotOptions, copilotDeployed, importCopilot } from '../workflows/copilot';
import { ManifestError } from '../workflows/kubernetes';
import { parseCatalog } from '../workflows/catalog';
import { nextFireTimes } from '../workflows/schedule';
import { cleanUp, startCli } from './support/cli';

const FIXTURES = join(__dirname, 'fixtures', 'copilot');
const ACCOUNT: CopilotOptions = { account: '123456789012', region: 'us-east-1' };
const load = (name: string, options: CopilotOptions = ACCOUNT) =>
  importCopilot(`copilot/${name}/manifest.yml`, readFileSync(join(FIXTURES, name, 'manifest.yml'), 'utf8'), options);
const specOf = (name: string) => load(name).jobs[0]!.spec as unknown as Record<string, unknown>;

function problemsOf(text: string, options: CopilotOptions = {}): string[] {
  try {
    importCopilot('m.yml', text, options);
  } catch (err) {
    if (err instanceof ManifestError) return err.problems;
    throw err;
  }
  throw new Error('expected the manifest to be refused');
}

const manifest = (lines: string) => `name: x\ntype: Scheduled Job\non:\n  schedule: "@daily"\nimage:\n  location: busybox:1.36\ncommand: ["true"]\n${lines}`;

afterAll(cleanUp);

describe('the fixtures: Copilot scheduled jobs as catalog jobs', () => {
  it('the manifest copilot job init writes: @daily in UTC, no retries or overlap protection as Copilot deployed it', () => {
    expect(specOf('report')).toEqual({
      description: 'Copilot scheduled job report-generator',
      schedule: 'cron(0 0 * * ? *)',
      timezone: 'UTC',
      cpu: 256,
      memory: 512,
      environment: { LOG_LEVEL: 'info' },
      secrets: { GITHUB_TOKEN: '/GITHUB_TOKEN' },
      concurrency: 'allow',
      retries: 0,
    });
    // image.build: no image to run until it is pushed; the catalog's defaults.image applies, and validation says so.
    expect(load('report').warnings).toEqual([
      'copilot/report/manifest.yml:6: report-generator: no command: the image\'s own CMD ran; the catalog needs a command: write it (e.g. the image\'s CMD)',
      'copilot/report/manifest.yml:20: report-generator: image.build: Copilot built and pushed the image at deploy; stepcron runs an image: push it (e.g. to ECR) and set image:',
      "copilot/report/manifest.yml:30: report-generator: secrets.GITHUB_TOKEN: SSM parameter 'GITHUB_TOKEN' has no leading '/': written as /GITHUB_TOKEN; if the parameter's name has none, give its ARN instead",
      'copilot/report/manifest.yml:1: report-generator: no timeout: Copilot let it run until done; the catalog stops an attempt after timeoutSeconds (default 3600)',
    ]);
    expect(() => parseCatalog(renderCatalog(load('report')), { stage: 'dev' })).toThrow(/image: is required[\s\S]*command: is required/);
    const fixed = renderCatalog(load('report')).replace('    cpu: 256', '    image: ghcr.io/acme/report:1\n    command: [report]\n    cpu: 256');
    expect(parseCatalog(fixed, { stage: 'dev' })[0]).toMatchObject({ name: 'report-generator', schedule: 'cron(0 0 * * ? *)', retries: 0 });
  });

  it('cron, image.location, entrypoint + command, every secret form, retries with Copilot\'s back-off, timeout', () => {
    expect(specOf('cleanup')).toEqual({
      description: 'Copilot scheduled job s3-cleanup',
      schedule: 'cron(0 9 ? * MON-FRI *)',
      timezone: 'UTC',
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/cleanup:1.4',
      command: ['/bin/cleanup', '--region', 'us-east-1', '--older-than', '30d', '--dry-run=false'],
      cpu: 512,
      memory: 2048,
      environment: { BUCKET: 'acme-uploads', MAX_KEYS: '1000', VERBOSE: 'true' },
      secrets: {
        API_KEY: '/copilot/shop/prod/secrets/api_key',
        DB_PASSWORD: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/prod/db:password::',
        WEBHOOK: 'arn:aws:ssm:us-east-1:123456789012:parameter/hooks/cleanup',
      },
      concurrency: 'allow',
      retries: 3,
      retryIntervalSeconds: 10,
      backoffRate: 1.5,
      timeoutSeconds: 5400,
    });
    expect(load('cleanup').warnings.map((w) => /^\S+ \S+ [^:]+/.exec(w)![0])).toEqual([
      'copilot/cleanup/manifest.yml:7: s3-cleanup: timeout bounded the whole execution, every retry included; timeoutSeconds bounds each attempt (3 retries)',
      'copilot/cleanup/manifest.yml:9: s3-cleanup: image.labels',
      "copilot/cleanup/manifest.yml:13: s3-cleanup: entrypoint replaced the image's ENTRYPOINT; the catalog's command replaces its CMD only",
      'copilot/cleanup/manifest.yml:18: s3-cleanup: platform linux/arm64',
      'copilot/cleanup/manifest.yml:19: s3-cleanup: exec',
      'copilot/cleanup/manifest.yml:21: s3-cleanup: network',
      'copilot/cleanup/manifest.yml:39: s3-cleanup: environments.test.on.schedule',
      'copilot/cleanup/manifest.yml:41: s3-cleanup: environments.prod.cpu 1024',
      'copilot/cleanup/manifest.yml:42: s3-cleanup: environments.prod.memory 4096',
    ]);
  });

  it('@every as a rate, a memory no Fargate size has rounded up, a quoted command string, from_cfn listed; none as disabled', () => {
    expect(specOf('odd')).toMatchObject({
      schedule: 'rate(90 minutes)', command: ['drain', '--batch', '500 items', '--quiet'], cpu: 1024, memory: 2048,
      environment: { MODE: 'fast' }, retries: 2, backoffRate: 1.5, timeoutSeconds: 2700,
    });
    expect(specOf('odd')).not.toHaveProperty('secrets');
    expect(load('odd').jobs[0]!.name).toBe('queue-drain');
    const odd = load('odd').warnings.join('\n');
    for (const listed of ['8: queue-drain: cpu 1024, memory 1000 is no Fargate size', '13: queue-drain: variables.REGION comes from from_cfn',
      '17: queue-drain: secrets.LEGACY_TOKEN: from_cfn', '19: queue-drain: sidecars', '22: queue-drain: storage']) expect(odd).toContain(listed);
    expect(specOf('manual')).toMatchObject({ schedule: 'rate(1 day)', enabled: false });
  });

  // Copilot's docs: "You can override any of the values defined above by environment", and `on.schedule: "none"`
  // stops a job from triggering. The catalog's one per-stage setting is enabled:, so the rule is: an environment's
  // schedule none is enabled: {<env>: false}; a schedule where the job's own is none is enabled there only; every
  // other override that differs (variables, image, cpu, memory, count, timeout, retries, ...) is listed with its line.
  it('environments.<env>.on.schedule none is enabled: {<env>: false}; the other overrides are listed, each with its line', () => {
    const text = manifest([
      'cpu: 256', 'retries: 1', 'timeout: 1h', 'variables:', '  LOG_LEVEL: info', 'environments:', '  test:', '    on:',
      '      schedule: "none"', '  prod:', '    on:', '      schedule: "@daily"', '    cpu: 256', '    memory: 2048', '    count: 2',
      '    retries: 3', '    timeout: 2h', '    image:', '      location: busybox:1.37', '    variables:', '      LOG_LEVEL: warn', '',
    ].join('\n'));
    const got = importCopilot('m.yml', text);
    const spec = got.jobs[0]!.spec as unknown as Record<string, unknown>;
    expect(spec).toMatchObject({ schedule: 'cron(0 0 * * ? *)', enabled: { test: false }, cpu: 256, retries: 1, timeoutSeconds: 3600 });
    expect(parseCatalog(renderCatalog(got), { stage: 'test' })[0]!.enabled).toBe(false);
    expect(parseCatalog(renderCatalog(got), { stage: 'prod' })[0]!.enabled).toBe(true);
    // prod's @daily and cpu 256 are the job's own: nothing to list. The rest, one line each, where it is written.
    expect(got.warnings.filter((w) => w.includes('environments.')).map((w) => w.replace(/: not carried over.*/, ''))).toEqual([
      'm.yml:21: x: environments.prod.memory 2048', 'm.yml:22: x: environments.prod.count 2', 'm.yml:23: x: environments.prod.retries 3',
      'm.yml:24: x: environments.prod.timeout "2h"', 'm.yml:26: x: environments.prod.image.location', 'm.yml:28: x: environments.prod.variables.LOG_LEVEL',
    ]);
  });

  it('a job whose own schedule is none but one environment schedules it: on there only, with that schedule', () => {
    const text = manifest('environments:\n  prod:\n    on:\n      schedule: "30 2 * * *"\n').replace('"@daily"', '"none"');
    const got = importCopilot('m.yml', text);
    expect(got.jobs[0]!.spec).toMatchObject({ schedule: 'cron(30 2 * * ? *)', enabled: { default: false, prod: true } });
    expect(got.warnings.join('\n')).not.toMatch(/environments\.prod/);
  });

  it('every fixture, once it has an image and a command, is a catalog parseCatalog accepts', () => {
    for (const name of ['cleanup', 'odd', 'manual']) {
      expect(parseCatalog(renderCatalog(load(name)), { stage: 'prod' })).toHaveLength(1);
    }
  });
});

describe('schedules: as robfig/cron reads them (Copilot validated with it), firing when croner says, or as Copilot deployed them', () => {
  const schedule = (on: string) => importCopilot('m.yml', manifest('').replace('"@daily"', JSON.stringify(on))).jobs.map((j) => j.spec.schedule);

  it.each([
    ['@hourly', 'cron(0 * * * ? *)', '0 * * * *'],
    ['@weekly', 'cron(0 0 ? * SUN *)', '0 0 * * 0'],
    ['@yearly', 'cron(0 0 1 1 ? *)', '0 0 1 1 *'],
    ['30 14 * * 1-5', 'cron(30 14 ? * MON-FRI *)', '30 14 * * 1-5'],
    ['0 */6 1 * *', 'cron(0 0/6 1 * ? *)', '0 */6 1 * *'],
    ['0 0 ? * SAT', 'cron(0 0 ? * SAT *)', '0 0 * * SAT'],
  ])('%s -> %s', (on, aws, croner) => {
    expect(schedule(on)).toEqual([aws]);
    const from = new Date('2026-03-01T00:00:00Z');
    const oracle = new Cron(croner, { timezone: 'UTC', domAndDow: false, paused: true }).nextRuns(100, from).map((t) => t.toISOString());
    expect(nextFireTimes(aws, { timezone: 'UTC', from, count: 100 }).map((t) => t.toISOString())).toEqual(oracle);
  });

  it.each([
    // Copilot's translation counts a day field holding '*' as every day: */2 was dropped, and that is what ran.
    ['0 0 */2 * *', 'cron(0 0 * * ? *)', 'cron(0 0 1/2 * ? *)'],
    ['0 12 * * */2', 'cron(0 12 * * ? *)', 'cron(0 12 ? * SUN,TUE,THU,SAT *)'],
    ['0 6 */2 * 1', 'cron(0 6 ? * 2 *)', 'cron(0 6 1/2 * ? *) and cron(0 6 ? * MON *)'],
  ])('%s: Copilot deployed %s, so that is imported, and the note says what the line means (%s)', (on, deployed, means) => {
    const result = importCopilot('m.yml', manifest('').replace('"@daily"', JSON.stringify(on)));
    expect(result.jobs.map((j) => j.spec.schedule)).toEqual([deployed]);
    expect(result.warnings).toContain(`m.yml:4: x: Copilot deployed '${on}' as ${deployed} (it reads a day field holding '*' as every day), which is what ran: ` +
      `imported so; the line itself means ${means}`);
    expect(copilotDeployed('0 9 * * 1-5')).toBe('cron(0 9 ? * 2-6 *)');
    expect(copilotDeployed('0 0 1 * 1')).toBeUndefined(); // Copilot refused both day fields: it never deployed
  });

  it('@every 1h30m fires every 90 minutes; AWS cron(...) and rate(...) are kept as written', () => {
    const [rate] = schedule('@every 1h30m');
    const times = nextFireTimes(rate!, { timezone: 'UTC', from: new Date('2026-03-01T00:00:00Z'), count: 5 }).map((t) => t.getTime());
    expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual([5400e3, 5400e3, 5400e3, 5400e3]);
    expect(schedule('cron(0 12 ? * MON-FRI *)')).toEqual(['cron(0 12 ? * MON-FRI *)']);
    expect(schedule('rate(5 minutes)')).toEqual(['rate(5 minutes)']);
  });
});

describe('refused, one line each naming file:line and the fix', () => {
  it.each([
    ['name: web\ntype: Load Balanced Web Service\n', "m.yml:2: type is 'Load Balanced Web Service': only Scheduled Job manifests are cron jobs"],
    [manifest('').replace('"@daily"', '"@every 30s"'), 'm.yml:4: on.schedule: @every 30s: EventBridge Scheduler rates are whole minutes'],
    [manifest('').replace('"@daily"', '"0 0 * * * *"'), "m.yml:4: on.schedule: '0 0 * * * *' has 6 fields"],
    [manifest('').replace('"@daily"', '"cron(0 0 * * * *)"'), "m.yml:4: on.schedule: day-of-month and day-of-week: exactly one must be '?'"],
    [manifest('timeout: 90 minutes\n'), "m.yml:8: timeout: '90 minutes' is not a duration such as 1h30m"],
    [manifest('retries: -1\n'), "m.yml:8: retries '-1' is not a whole number"],
    [manifest('cpu: 32768\n'), 'm.yml:8: cpu 32768, memory undefined: no Fargate size has that much'],
    [manifest('secrets:\n  DB:\n    secretsmanager: db/creds\n'), "m.yml:9: secrets.DB: secretsmanager: 'db/creds' is a secret name; the catalog needs its ARN: pass --account and --region"],
    [manifest('').replace('name: x', 'name: {{ .Name }}'), "m.yml:1: is a Helm template ('{{' here)"],
    // Rule: Copilot's toAWSCron refuses a schedule with both day fields restricted, so such a manifest never ran.
    [manifest('').replace('"@daily"', '"0 0 1,15 * 0"'), "m.yml:4: on.schedule: '0 0 1,15 * 0' restricts both day-of-month and day-of-week, which Copilot refuses " +
      "(\"cannot specify both DOW and DOM in cron expression\"), so this manifest never deployed: keep one ('0 0 1,15 * *' or '0 0 * * 0')"],
  ])('%#', (text, problem) => {
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(problem)).toBe(true);
  });
});

describe('the CLI, spawned', () => {
  it('imports a manifest into a catalog that validates; without --account a secretsmanager: name is refused with exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-copilot-cli-'));
    try {
      const cli = (args: string[]) => startCli(args, { cwd: dir }).done;
      const file = join(FIXTURES, 'cleanup', 'manifest.yml');
      writeFileSync(join(dir, 'out.yml'), 'defaults:\n  retries: 1\njobs:\n  old:\n    description: x\n    schedule: rate(1 day)\n    image: i\n    command: [a]\n');
      const [ok, refused, byDir] = await Promise.all([
        cli(['import', 'copilot', file, '--account', '123456789012', '--region', 'us-east-1', '-o', 'out.yml']),
        cli(['import', 'copilot', file]),
        cli(['import', 'copilot', join(FIXTURES, 'manual')]),
      ]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toBe('out.yml: added 1 job (s3-cleanup); check them with: npx stepcron validate --catalog out.yml\n');
      expect(ok.stderr.trimEnd().split('\n')).toHaveLength(9);
      const validate = await cli(['validate', '--catalog', 'out.yml']);
      expect(validate.code).toBe(0);
      // Added to the catalog there: the job before it, and the defaults, stay as they were.
      expect(validate.stdout).toMatch(/^out\.yml: 2 jobs valid for stage dev/);
      expect(readFileSync(join(dir, 'out.yml'), 'utf8')).toMatch(/^defaults:\n {2}retries: 1\njobs:\n {2}old:\n[\s\S]*\n {2}s3-cleanup:\n/);
      // copilot/<job>/ is read as its manifest.yml.
      expect(byDir.code).toBe(0);
      expect(byDir.stdout).toContain('  reindex:\n');
      expect(refused).toMatchObject({ code: 2, stdout: '' });
      expect(refused.stderr).toMatch(/^stepcron: \S+manifest\.yml:32: secrets\.DB_PASSWORD: secretsmanager: 'shop\/prod\/db:password::' is a secret name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the workspace folder copilot/: every Scheduled Job in copilot/<name>/manifest.yml, services skipped with why', async () => {
    // Rule: `import copilot copilot/` is what a Copilot user types; it imports each job and says what it left out,
    // and a folder with no manifests is refused in one line naming the paths it looks for.
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-copilot-cli-'));
    try {
      const cli = (args: string[]) => startCli(args, { cwd: dir }).done;
      for (const name of ['manual', 'odd']) cpSync(join(FIXTURES, name), join(dir, 'copilot', name), { recursive: true });
      mkdirSync(join(dir, 'copilot', 'api'));
      writeFileSync(join(dir, 'copilot', 'api', 'manifest.yml'), 'name: api\ntype: Load Balanced Web Service\nimage:\n  build: Dockerfile\n');
      mkdirSync(join(dir, 'empty'));
      const [workspace, empty] = await Promise.all([cli(['import', 'copilot', 'copilot']), cli(['import', 'copilot', 'empty'])]);
      expect(workspace.code).toBe(0);
      const names = [...workspace.stdout.matchAll(/^ {2}([a-z][a-z0-9-]*):$/gm)].map((m) => m[1]);
      expect(names).toEqual([...importCopilot('m', readFileSync(join(FIXTURES, 'manual', 'manifest.yml'), 'utf8')).jobs,
        ...importCopilot('m', readFileSync(join(FIXTURES, 'odd', 'manifest.yml'), 'utf8')).jobs].map((j) => j.name));
      expect(workspace.stderr).toContain(`stepcron: warning: ${join('copilot', 'api', 'manifest.yml')}: type 'Load Balanced Web Service' is no Scheduled Job (only those run on a schedule): skipped\n`);
      expect(workspace.stderr).not.toMatch(/EISDIR/);
      expect(empty).toMatchObject({ code: 2, stdout: '' });
      expect(empty.stderr).toBe('stepcron: empty: is a directory with no manifest.yml and no <name>/manifest.yml in it: give copilot/<job>/manifest.yml, ' +
        'its directory, or the copilot/ workspace folder\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('empty documents', () => {
  it('reads a manifest with a leading or trailing --- (an empty document beside it) as the one manifest it is', () => {
    // Rule: a Copilot manifest is one YAML document; an empty one beside it (as editors and generators leave) is none.
    // Act
    const got = importCopilot('m.yml', `---\n${manifest('')}---\n`);
    // Assess
    expect(got.jobs.map((j) => [j.name, j.spec.schedule])).toEqual([['x', 'cron(0 0 * * ? *)']]);
    expect(problemsOf(`${manifest('')}---\nname: y\n`)).toEqual(['m.yml: has more than one YAML document: a Copilot manifest is one']);
  });
});
