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
    [manifest('cpu: 32768\n'), 'm.yml:8: cpu 32768, memory 512: no Fargate size has that much'],
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

describe('each field of a manifest, in exact words (one small manifest per rule)', () => {
  const head = 'name: x\ntype: Scheduled Job\non:\n  schedule: "@daily"\nimage:\n  location: busybox:1.36\ncommand: ["true"]\ntimeout: 1h\n';
  const spec = (lines: string, options: CopilotOptions = {}) => importCopilot('m.yml', `${head}${lines}`, options).jobs[0]!.spec as unknown as Record<string, unknown>;
  const warnings = (lines: string, options: CopilotOptions = {}) => importCopilot('m.yml', `${head}${lines}`, options).warnings;
  const daily = { description: 'Copilot scheduled job x', schedule: 'cron(0 0 * * ? *)', timezone: 'UTC', image: 'busybox:1.36', command: ['true'], concurrency: 'allow', retries: 0, timeoutSeconds: 3600 };

  it('refuses what is no Scheduled Job manifest, saying what it is', () => {
    expect(problemsOf('')).toEqual(['m.yml: is empty: give a Copilot manifest (copilot/<job>/manifest.yml)']);
    expect(problemsOf('name: a\n---\nname: b\n')).toEqual(['m.yml: has more than one YAML document: a Copilot manifest is one']);
    expect(problemsOf('name: a\n')).toEqual(['m.yml:1: type is missing: only Scheduled Job manifests are cron jobs']);
    expect(problemsOf('name: a\ntype: Backend Service\n')).toEqual(["m.yml:2: type is 'Backend Service': only Scheduled Job manifests are cron jobs"]);
    expect(problemsOf('type: Scheduled Job\non:\n  schedule: "@daily"\n')).toEqual(['m.yml:1: name is missing: give the job its name']);
    expect(problemsOf('name: x\ntype: Scheduled Job\non:\n  foo: 1\n')).toEqual(['m.yml:3: on.schedule is missing: give the job its schedule']);
    expect(problemsOf('name: x\ntype: Scheduled Job\non:\n  schedule: "  "\n')).toEqual(['m.yml:4: on.schedule is missing: give the job its schedule']);
    expect(problemsOf(`${head}`, { prefix: 'Ops_' })).toEqual(["--prefix: 'Ops_' must be lowercase letters, digits and '-', starting with a letter (e.g. k8s-)"]);
  });

  it('a job started by hand only, turned on in some environments with one schedule: enabled there and off by default', () => {
    const manual = 'name: x\ntype: Scheduled Job\non:\n  schedule: none\nimage:\n  location: b\ncommand: [x]\ntimeout: 1h\n';
    const envs = (prod: string, staging: string) => `${manual}environments:\n  prod:\n    on:\n      schedule: "${prod}"\n  staging:\n    on:\n      schedule: "${staging}"\n  test:\n    on:\n      schedule: none\n`;
    const same = importCopilot('m.yml', envs('@hourly', '@hourly'));
    expect(same.jobs[0]!.spec).toMatchObject({ schedule: 'cron(0 * * * ? *)', enabled: { default: false, prod: true, staging: true } });
    expect(same.warnings).toEqual([]);
    // Two schedules: no one schedule to carry, so the job stays off, and each is listed.
    const differ = importCopilot('m.yml', envs('@hourly', '@daily'));
    expect(differ.jobs[0]!.spec).toMatchObject({ schedule: 'rate(1 day)', enabled: false });
    expect(differ.warnings).toEqual([
      'm.yml:4: x: schedule none: the job ran only when started by hand: imported disabled with a placeholder rate(1 day); start it with stepcron start <job>',
      "m.yml:12: x: environments.prod.on.schedule: not carried over: the catalog has one value per job (only enabled: is per stage); import prod's settings as a job of their own if prod must differ",
      "m.yml:15: x: environments.staging.on.schedule: not carried over: the catalog has one value per job (only enabled: is per stage); import staging's settings as a job of their own if staging must differ",
    ]);
    // An environment that repeats the job's own schedule changes nothing and is not listed.
    expect(importCopilot('m.yml', `${head}environments:\n  prod:\n    on:\n      schedule: "@daily"\n`).warnings).toEqual([]);
    expect(spec('environments:\n  prod:\n    on:\n      schedule: "@daily"\n  dev:\n    on:\n      schedule: none\n')).toMatchObject({ enabled: { dev: false } });
  });

  it('entrypoint and command become one command; entrypoint alone is noted; neither is noted at the name', () => {
    const noCommand = 'name: x\ntype: Scheduled Job\non:\n  schedule: "@daily"\nimage:\n  location: b\ntimeout: 1h\n';
    const entry = importCopilot('m.yml', `${noCommand}entrypoint: /bin/sh -c\n`);
    expect(entry.jobs[0]!.spec).toMatchObject({ command: ['/bin/sh', '-c'] });
    expect(entry.warnings).toEqual(["m.yml:8: x: entrypoint replaced the image's ENTRYPOINT; the catalog's command replaces its CMD only: as written it runs as meant when the image has no ENTRYPOINT"]);
    expect(importCopilot('m.yml', `${noCommand}entrypoint: [/bin/sh]\ncommand: "-c 'echo hi'"\n`).jobs[0]!.spec).toMatchObject({ command: ['/bin/sh', '-c', 'echo hi'] });
    expect(importCopilot('m.yml', `${noCommand}command: ""\n`).warnings)
      .toEqual(["m.yml:1: x: no command: the image's own CMD ran; the catalog needs a command: write it (e.g. the image's CMD)"]);
    expect(importCopilot('m.yml', `${noCommand}command: run "a b" 'c d'\n`).jobs[0]!.spec).toMatchObject({ command: ['run', 'a b', 'c d'] });
    expect(spec('')).toEqual(daily);
  });

  it('cpu and memory: the smallest Fargate size that fits, noted; a size too large or not a number refused', () => {
    expect(spec('memory: 3000\n')).toMatchObject({ cpu: 512, memory: 3072 });
    expect(warnings('memory: 3000\n')).toEqual(['m.yml:9: x: cpu 256, memory 3000 is no Fargate size: the smallest that fits, cpu 512, memory 3072']);
    expect(warnings('cpu: 1024\nmemory: 2048\n')).toEqual([]);
    expect(spec('cpu: 1024\n')).toMatchObject({ cpu: 1024, memory: 2048 });
    expect(warnings('cpu: 1024\n')).toEqual(['m.yml:9: x: cpu 1024, memory 512 is no Fargate size: the smallest that fits, cpu 1024, memory 2048']);
    expect(problemsOf(`${head}memory: 999999\n`)).toEqual(['m.yml:9: cpu 256, memory 999999: no Fargate size has that much: use a Fargate size']);
    expect(problemsOf(`${head}cpu: "1 vCPU"\n`)).toEqual(["m.yml:9: cpu '1 vCPU' is not a number: Copilot takes CPU units, e.g. 1024"]);
    expect(problemsOf(`${head}cpu: 512\nmemory: 2GB\n`)).toEqual(["m.yml:10: memory '2GB' is not a number: Copilot takes MiB, e.g. 2048"]);
  });

  it('platform: Linux x86_64 (or amd64) passes; anything else is noted, as a string or an osfamily/architecture map', () => {
    expect(warnings('platform: linux/x86_64\n')).toEqual([]);
    expect(warnings('platform: LINUX/AMD64\n')).toEqual([]);
    expect(warnings('platform: linux/arm64\n')).toEqual(['m.yml:9: x: platform linux/arm64: stepcron runs Linux x86_64 tasks: build the image for linux/amd64']);
    expect(warnings('platform: xlinux/x86_64\n')).toHaveLength(1);
    expect(warnings('platform: linux/x86_64v2\n')).toHaveLength(1);
    expect(warnings('platform:\n  osfamily: windows_server_2019_core\n  architecture: x86_64\n'))
      .toEqual(['m.yml:9: x: platform windows_server_2019_core/x86_64: stepcron runs Linux x86_64 tasks: build the image for linux/amd64']);
  });

  it('variables: values as strings (empty for null); names the catalog refuses and CloudFormation imports are listed', () => {
    const lines = 'variables:\n  "1BAD": x\n  STEPCRON_X: y\n  NUL:\n  OBJ:\n    from_cfn: exp\n  EMPTYMAP: {}\n  N: 5\n';
    expect(spec(lines).environment).toEqual({ NUL: '', N: '5' });
    expect(warnings(lines)).toEqual([
      'm.yml:10: x: variables.1BAD: not a name the catalog takes (letters, digits and _, not STEPCRON_)',
      'm.yml:11: x: variables.STEPCRON_X: not a name the catalog takes (letters, digits and _, not STEPCRON_)',
      'm.yml:13: x: variables.OBJ comes from from_cfn (a CloudFormation export): write its value out',
      'm.yml:15: x: variables.EMPTYMAP comes from a map (a CloudFormation export): write its value out',
    ]);
    expect(spec('variables:\n  "1BAD": x\n')).not.toHaveProperty('environment');
  });

  it('secrets: Secrets Manager names become ARNs with --account and --region, and are refused without; from_cfn listed; the rest refused', () => {
    const lines = 'secrets:\n  "1BAD": /x\n  SMARN:\n    secretsmanager: arn:aws:secretsmanager:us-east-1:123456789012:secret:x\n  NAMED:\n    secretsmanager: named\n  CFN:\n    from_cfn: exp\n  WEIRD:\n    foo: 1\n';
    expect(problemsOf(`${head}${lines}`)).toEqual([
      "m.yml:13: secrets.NAMED: secretsmanager: 'named' is a secret name; the catalog needs its ARN: pass --account and --region (or write the ARN)",
      'm.yml:17: secrets.WEIRD: is neither an SSM parameter name nor secretsmanager: give /name or an ARN',
    ]);
    const ok = lines.replace(/ {2}WEIRD:\n {4}foo: 1\n/, '');
    expect(spec(ok, { account: '123456789012', region: 'eu-west-1' }).secrets).toEqual({
      SMARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x', NAMED: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:named',
    });
    expect(warnings(ok, { account: '123456789012', region: 'eu-west-1' })).toEqual([
      'm.yml:10: x: secrets.1BAD: not a name the catalog takes (letters, digits and _, not STEPCRON_)',
      "m.yml:15: x: secrets.CFN: from_cfn exp (a CloudFormation export): write the parameter's name or the secret's ARN",
    ]);
    // An account or region of the wrong shape is no ARN: refused as if none was given.
    expect(problemsOf(`${head}secrets:\n  NAMED:\n    secretsmanager: named\n`, { account: '1234', region: 'eu-west-1' })).toHaveLength(1);
    expect(problemsOf(`${head}secrets:\n  NAMED:\n    secretsmanager: named\n`, { account: '123456789012', region: 'Europe' })).toHaveLength(1);
    expect(spec('secrets:\n  "1BAD": /x\n')).not.toHaveProperty('secrets');
  });

  it('retries: at most 10 (noted), with Copilot\'s 10 s x1.5 back-off; not a whole number refused', () => {
    expect(spec('retries: 12\n')).toMatchObject({ retries: 10, retryIntervalSeconds: 10, backoffRate: 1.5 });
    expect(warnings('retries: 12\n')).toEqual([
      'm.yml:8: x: timeout bounded the whole execution, every retry included; timeoutSeconds bounds each attempt (10 retries)',
      'm.yml:9: x: retries 12: the catalog retries at most 10 times',
    ]);
    expect(spec('retries: 10\n')).toMatchObject({ retries: 10 });
    expect(warnings('retries: 10\n')).toHaveLength(1);
    // No retries: no back-off fields, and nothing said about the timeout.
    expect(spec('retries: 0\n')).toEqual(daily);
    expect(warnings('retries: 0\n')).toEqual([]);
    for (const bad of ['-1', '"3"', '1.5']) expect(problemsOf(`${head}retries: ${bad}\n`)).toEqual([`m.yml:9: retries '${bad.replace(/"/g, '')}' is not a whole number`]);
  });

  it('timeout: whole seconds from 1 s, at most 7 days (noted); none is noted; a bad one refused', () => {
    const noTimeout = head.replace('timeout: 1h\n', '');
    expect(importCopilot('m.yml', noTimeout).warnings).toEqual(['m.yml:1: x: no timeout: Copilot let it run until done; the catalog stops an attempt after timeoutSeconds (default 3600)']);
    expect(importCopilot('m.yml', noTimeout).jobs[0]!.spec).not.toHaveProperty('timeoutSeconds');
    const timed = (t: string) => importCopilot('m.yml', `${noTimeout}timeout: ${t}\n`);
    expect(timed('200h').jobs[0]!.spec).toMatchObject({ timeoutSeconds: 604800 });
    expect(timed('200h').warnings).toEqual(['m.yml:8: x: timeout 200h: the catalog stops a run after at most 7 days']);
    expect(timed('168h').warnings).toEqual([]);
    expect(timed('1s').jobs[0]!.spec).toMatchObject({ timeoutSeconds: 1 });
    for (const bad of ['0s', '1500ms']) expect(problemsOf(`${noTimeout}timeout: ${bad}\n`)).toEqual([`m.yml:8: timeout: '${bad}' is not a whole number of seconds (at least 1s)`]);
    expect(problemsOf(`${noTimeout}timeout: soon\n`)).toEqual(["m.yml:8: timeout: 'soon' is not a duration such as 1h30m, 45m or 90s"]);
  });

  it('env_file, unknown fields and image fields other than location/build are listed; a prefix goes before the name', () => {
    const text = 'name: x\ntype: Scheduled Job\non:\n  schedule: "@daily"\nimage:\n  location: b\n  labels: {a: "1"}\n  depends_on: {}\ncommand: [x]\ntimeout: 1h\nenv_file: .env\nfoo: 1\n';
    expect(importCopilot('m.yml', text).warnings).toEqual([
      'm.yml:5: x: image.labels, image.depends_on: no equivalent',
      'm.yml:11: x: env_file: list its variables under environment:',
      'm.yml:12: x: foo: not a field this import knows',
    ]);
    expect(importCopilot('m.yml', text, { prefix: 'ops-' }).jobs.map((j) => j.name)).toEqual(['ops-x']);
    expect(importCopilot('m.yml', text).header).toEqual([
      'Imported by `stepcron import copilot` (README: Coming from crontab, Kubernetes CronJob or Copilot).',
      'Copilot ran each firing even while the last was going (concurrency: allow), retried 10 s apart x1.5, in UTC; so do these.',
    ]);
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

describe('fields the catalog has no place for, account and region shapes, a prefixed split schedule', () => {
  const head = 'name: x\ntype: Scheduled Job\non:\n  schedule: "@daily"\nimage:\n  location: b\ncommand: [x]\ntimeout: 1h\n';

  it('names each Copilot field the catalog lacks, at its line, with what to do instead', () => {
    const fields = ['exec: true', 'network: {}', 'storage: {}', 'sidecars: {}', 'logging: {}', 'taskdef_overrides: []', 'publish: {}', 'observability: {}', 'count: 1'];
    expect(importCopilot('m.yml', `${head}${fields.join('\n')}\n`).warnings).toEqual([
      'm.yml:9: x: exec: ECS Exec into a running task: not enabled on stepcron tasks (stepcron logs <job> shows its output)',
      "m.yml:10: x: network: subnets, security groups and public IPs are the stage's params in serverless.yml (subnets, securityGroups, assignPublicIp)",
      "m.yml:11: x: storage: volumes (EFS, ephemeral): a task gets Fargate's default 20 GiB; EFS is not in the catalog",
      'm.yml:12: x: sidecars: a job runs one container',
      'm.yml:13: x: logging: FireLens log routing: logs go to CloudWatch Logs (/stepcron/<stage>/jobs)',
      'm.yml:14: x: taskdef_overrides: task definition overrides: no equivalent',
      'm.yml:15: x: publish: SNS topics to publish to: give the task role a policy (taskPolicyArns) and publish from the command',
      'm.yml:16: x: observability: X-Ray tracing: no equivalent',
      'm.yml:17: x: count: a scheduled job runs one task',
    ]);
  });

  it('--account is 12 digits and --region a region name (us-gov-west-1 too): anything else gives no ARN', () => {
    const named = `${head}secrets:\n  S:\n    secretsmanager: named\n`;
    const arn = (account: string, region: string) => (importCopilot('m.yml', named, { account, region }).jobs[0]!.spec as unknown as { secrets: Record<string, string> }).secrets.S;
    expect(arn('123456789012', 'us-gov-west-1')).toBe('arn:aws:secretsmanager:us-gov-west-1:123456789012:secret:named');
    for (const [account, region] of <Array<[string, string]>>[['x123456789012', 'eu-west-1'], ['1234567890123', 'eu-west-1'], ['123456789012', 'xeu-west-1'], ['123456789012', 'eu-west-1x'], ['', 'eu-west-1'], ['123456789012', '']]) {
      expect([account, region, problemsOf(named, { account, region })]).toEqual([account, region,
        ["m.yml:10: secrets.S: secretsmanager: 'named' is a secret name; the catalog needs its ARN: pass --account and --region (or write the ARN)"]]);
    }
  });

  it('a CRON_TZ-prefixed line with both day fields is read as robfig/cron reads it: two jobs, in UTC, the note above the first', () => {
    const got = importCopilot('m.yml', head.replace('"@daily"', '"CRON_TZ=Europe/Berlin 0 3 1 * 1"'));
    expect(got.jobs.map((j) => [j.name, j.spec.schedule, j.spec.description, j.spec.timezone])).toEqual([
      ['x-dom', 'cron(0 3 1 * ? *)', 'Copilot scheduled job x (days of the month)', 'UTC'],
      ['x-dow', 'cron(0 3 ? * MON *)', 'Copilot scheduled job x (weekdays)', 'UTC'],
    ]);
    expect(got.jobs.map((j) => (j as unknown as { comments: string[] }).comments)).toEqual([
      ["m.yml line 1: Copilot scheduled job x, on.schedule 'CRON_TZ=Europe/Berlin 0 3 1 * 1'",
        "line 4: Europe/Berlin: Copilot's EventBridge rules ran in UTC whatever the prefix said: imported in UTC"],
      ["m.yml line 1: Copilot scheduled job x, on.schedule 'CRON_TZ=Europe/Berlin 0 3 1 * 1'", "the weekdays of x-dom's schedule (day-of-month OR day-of-week)"],
    ]);
    expect(got.warnings).toEqual(["m.yml:4: x-dom and x-dow: Europe/Berlin: Copilot's EventBridge rules ran in UTC whatever the prefix said: imported in UTC"]);
  });

  it('an environment whose on.schedule is empty overrides nothing; one with spaces around it is read trimmed', () => {
    const manual = head.replace('"@daily"', 'none');
    expect(importCopilot('m.yml', `${manual}environments:\n  prod:\n    on:\n      schedule: ""\n`).jobs[0]!.spec).toMatchObject({ schedule: 'rate(1 day)', enabled: false });
    expect(importCopilot('m.yml', `${manual}environments:\n  prod:\n    on:\n      schedule: "  @hourly  "\n`).jobs[0]!.spec)
      .toMatchObject({ schedule: 'cron(0 * * * ? *)', enabled: { default: false, prod: true } });
  });
});
