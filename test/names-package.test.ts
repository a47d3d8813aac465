// A real `sls package` of the longest stage and job names the table of physical names (workflows/names.ts) allows:
// every name in its templates that holds the stage or a job's name (serverless.yml's and osls's included) is one the
// table knows, and within its limit. Its own file, apart from names.test.ts's unit tests: the package takes ~6 s, and
// mutation testing (npm run mutate -- names) reloads names.test.ts for most of names.ts's mutants.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimsTable, functionName, topicName, warningGroup, warningRolePath } from '../workflows/names';
import { ROOT } from './support/cli';
import { expectCovered, longestNamesCatalog, longestStage, namesIn, type Templates } from './support/physical-names';

describe('a real `sls package` of the longest names', () => {
  const STAGE = longestStage();
  let dir: string;
  let packaged: { templates: Array<{ Resources: Record<string, any>; Outputs?: Record<string, unknown> }>; jobs: string[] };
  beforeAll(() => {
    // A copy of the project (node_modules linked) with the catalog of longest names as its jobs.yml.
    dir = mkdtempSync(join(tmpdir(), 'stepcron-names-'));
    for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'handlers', 'workflows', 'cli']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const { text, jobs } = longestNamesCatalog(STAGE);
    writeFileSync(join(dir, 'workflows/jobs.yml'), text);
    const out = join(dir, 'out');
    const env = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'stepcron-none' };
    const run = spawnSync(join(ROOT, 'node_modules/.bin/sls'), ['package', '--stage', STAGE, '--package', out], { cwd: dir, env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`sls package exited ${run.status}: ${run.stdout}${run.stderr}`);
    const files = readdirSync(out).filter((f) => f === 'cloudformation-template-update-stack.json' || /^stepcron-Jobs\d+-[0-9a-f]{64}\.json$/.test(f));
    packaged = { templates: files.map((f) => JSON.parse(readFileSync(join(out, f), 'utf8'))), jobs };
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds only names the table knows, each within its limit (serverless.yml\'s and osls\'s included)', () => {
    // Act
    const found = namesIn(packaged.templates as Templates, STAGE, packaged.jobs);
    // Assess
    expect(found.map((f) => f.value)).toEqual(expect.arrayContaining([functionName(STAGE, 'precheck'), functionName(STAGE, 'notify')]));
    expectCovered(found, STAGE, packaged.jobs);
  });

  it('gives the Lambdas the names of the table in their environment (serverless.yml spells them)', () => {
    // Act
    const [main] = packaged.templates;
    const env = (id: string) => main!.Resources[id].Properties.Environment.Variables;
    // Assess
    expect(env('PrecheckLambdaFunction').CLAIMS_TABLE).toBe(claimsTable(STAGE));
    expect(env('NotifyLambdaFunction')).toMatchObject({
      NOTIFY_TOPIC_ARN: topicName(STAGE),
      WARNING_SCHEDULE_GROUP: warningGroup(STAGE),
      WARNING_SCHEDULER_ROLE: `${warningRolePath(STAGE).slice(1)}${warningGroup(STAGE)}`,
    });
  });
});
