// Every physical name stepcron builds from the stage and job names is in one table (workflows/names.ts) with AWS's
// limit, and the longest stage and job names follow from it. Checked against the stage's whole template (the model
// `stepcron validate` uses, and a real `sls package`) for the longest stage and job names the table allows: every
// name in it that holds the stage or a job's name is one the table knows, and within its limit.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferedRunName as precheckBufferedRunName } from '../handlers/lib/precheck';
import { warningScheduleName as handlerScheduleName } from '../handlers/lib/warnings';
import { executionName } from '../cli/run';
import { type CatalogError, parseCatalog } from '../workflows/catalog';
import {
  claimsTable, functionName, jobNameProblem, MAX_STAGE_LENGTH, maxJobNameLength, overLongNames, PHYSICAL_NAMES,
  stageProblem, topicName, warningGroup, warningRolePath,
} from '../workflows/names';
import { stageTemplate, toStageParams } from '../workflows/resources';
import { shapesCatalog } from './support/shapes-catalog';
import { ROOT } from './support/cli';

/** The longest stage the table allows, recognisable in any text. */
const STAGE = `z${'q'.repeat(MAX_STAGE_LENGTH - 1)}`;
const JOB_MAX = maxJobNameLength(STAGE);

/** The shapes catalog (one job of every shape) with each job renamed to the longest name the stage allows. */
function longestNamesCatalog(): { text: string; jobs: string[] } {
  const jobs: string[] = [];
  const text = shapesCatalog().replace(/^ {2}([a-z0-9-]+):$/gm, (_line, name: string) => {
    const long = `${name}-${'k'.repeat(JOB_MAX)}`.slice(0, JOB_MAX);
    jobs.push(long);
    return `  ${long}:`;
  });
  return { text, jobs };
}

/** Where a string holds a stage or job name without being a name: text, tags, references (ARNs, logical ids). */
const NOT_A_NAME = new Set(['Description', 'AlarmDescription', 'Tags', 'DefinitionString', 'EventPattern', 'Input', 'Policies',
  'AssumeRolePolicyDocument', 'Environment', 'Fn::Sub', 'Ref', 'Fn::GetAtt', 'DependsOn', 'Value', 'Parameters']);

/** Every string in the templates' resources and outputs that holds the stage or a job's name, with its path. */
function namesIn(templates: Array<{ Resources: Record<string, unknown>; Outputs?: Record<string, unknown> }>, jobs: string[]) {
  const found: Array<{ path: string; value: string }> = [];
  const walk = (node: unknown, path: string[]): void => {
    if (typeof node === 'string') {
      if ((!node.includes(STAGE) && !jobs.some((j) => node.includes(j))) || node.startsWith('arn:')) return;
      // awslogs names each stream <prefix>/<container>/<task id>: the stream's name is what has a limit.
      const value = path.at(-1) === 'awslogs-stream-prefix' ? `${node}/job/${'0'.repeat(32)}` : node;
      found.push({ path: path.join('.'), value });
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => {
        walk(item, [...path, String(i)]);
      });
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) if (!NOT_A_NAME.has(key)) walk(value, [...path, key]);
    }
  };
  for (const t of templates) {
    walk(t.Resources, []);
    // Outputs' values are references; their export names are names.
    for (const [id, output] of Object.entries(t.Outputs ?? {})) walk((output as { Export?: unknown }).Export, ['Outputs', id, 'Export']);
  }
  return found;
}

/**
 * The table entry a name found in a template is, or undefined. The parts `sls` varies per deploy are put in the
 * form the table writes them: the upload's time, a nested stack's id and its template's hash.
 */
function entryFor(value: string, jobs: string[]) {
  const normal = value
    .replace(/\/\d{13}-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\//, '/1796668963829-2026-12-07T18:42:43.829Z/')
    .replace(/-Jobs\d\d-[0-9a-f]{64}\.json$/, `-Jobs63-${'0'.repeat(64)}.json`)
    .replace(/-(PrecheckLambdaFunctionQualifiedArn|NotifyLambdaFunctionQualifiedArn|ServerlessDeploymentBucketName)$/, '-PrecheckLambdaFunctionQualifiedArn')
    .replace(/\/(notify|precheck)\.zip$/, '/precheck.zip');
  return PHYSICAL_NAMES.find((n) => (n.scope === 'job' ? jobs.some((j) => n.name(STAGE, j) === normal) : n.name(STAGE, '') === normal));
}

/** Each name is one the table knows, and within the table's limit for it. */
function expectCovered(found: Array<{ path: string; value: string }>, jobs: string[]): void {
  const uncovered = found.filter((f) => !entryFor(f.value, jobs)).map((f) => `${f.path} = ${f.value}`);
  expect(uncovered).toEqual([]);
  const over = found.filter((f) => f.value.length > entryFor(f.value, jobs)!.limit).map((f) => `${f.path} = ${f.value}`);
  expect(over).toEqual([]);
}

describe('the table of physical names', () => {
  it('derives the longest stage: the 46 characters once accepted made the buffer jobs\' rule 69 of EventBridge\'s 64', () => {
    // Act
    const at46 = stageProblem('s'.repeat(46));
    const atMax = stageProblem('s'.repeat(MAX_STAGE_LENGTH));
    const overMax = stageProblem('s'.repeat(MAX_STAGE_LENGTH + 1));
    // Assess: the limit is the tightest name (the rule), and the refusal names it, its length and the limit
    expect(MAX_STAGE_LENGTH).toBe(64 - 'stepcron--buffered-runs'.length);
    expect(atMax).toBeUndefined();
    expect(overMax).toMatch(new RegExp(`is ${MAX_STAGE_LENGTH + 1} characters: .*at most ${MAX_STAGE_LENGTH} for the stage`));
    expect(at46).toContain(`EventBridge rule name 'stepcron-${'s'.repeat(46)}-buffered-runs' is 69 characters; the limit is 64`);
    expect(overLongNames('s'.repeat(MAX_STAGE_LENGTH))).toEqual([]);
  });

  it('derives the longest job name for a stage from every name built with it, and the catalog refuses longer ones', () => {
    // Prepare
    const catalog = (name: string) => `jobs:\n  ${name}:\n    description: d\n    schedule: rate(1 hour)\n    image: i:1\n    command: [x]\n`;
    const longest = `j${'x'.repeat(JOB_MAX - 1)}`;
    const tooLong = `${longest}x`;
    // Act
    const accepted = parseCatalog(catalog(longest), { stage: STAGE });
    let refused: string[] = [];
    try {
      parseCatalog(catalog(tooLong), { stage: STAGE });
    } catch (err) {
      refused = (err as CatalogError).problems;
    }
    // Assess: the state machine (80) binds; the refusal names the resource, the name's length and the limit
    expect(JOB_MAX).toBe(80 - `stepcron-${STAGE}-`.length);
    expect(maxJobNameLength('dev')).toBe(80 - 'stepcron-dev-'.length);
    expect(accepted.map((j) => j.name)).toEqual([longest]);
    expect(refused).toEqual([`jobs.${tooLong}: state machine name 'stepcron-${STAGE}-${tooLong}' is 81 characters; the limit is 80: ` +
      `shorten the job name to at most ${JOB_MAX} characters on stage ${STAGE}`]);
    expect(jobNameProblem(STAGE, longest)).toBeUndefined();
  });

  it('keeps the names built at run time within their limits, and the handlers and CLI build them with the table\'s functions', () => {
    // Prepare: a buffered run named after an execution name as long as Step Functions allows
    const arn = `arn:aws:states:eu-west-1:111122223333:execution:stepcron-${STAGE}-job:${'x'.repeat(80)}`;
    // Act
    const runs = PHYSICAL_NAMES.filter((n) => n.scope === 'run').map((n) => ({ name: n.name('', ''), limit: n.limit }));
    // Assess
    for (const { name, limit } of runs) expect(name.length).toBeLessThanOrEqual(limit);
    expect(precheckBufferedRunName(arn).length).toBeLessThanOrEqual(80);
    expect(handlerScheduleName(arn)).toMatch(/^[0-9a-zA-Z_.-]{1,64}$/);
    expect(executionName(new Date('9999-12-31T23:59:59.999Z'))).toMatch(/^99991231T235959Z-[0-9a-f]{4}$/);
  });

  it('covers every name the stage template holds, on the longest stage with the longest job names of every shape', () => {
    // Prepare: no cluster param, so the stack creates (and names) its cluster too
    const { text, jobs } = longestNamesCatalog();
    const params = toStageParams(STAGE, { subnets: 'subnet-0a1b2c3d4e5f60001', securityGroups: 'sg-0a1b2c3d4e5f60001' });
    // Act
    const found = namesIn([stageTemplate(parseCatalog(text, { stage: STAGE }), params)], jobs);
    // Assess: every kind of name is there (so the scan sees them), and each is the table's and fits
    expect(found.map((f) => f.path.split('.').at(-1))).toEqual(expect.arrayContaining([
      'StateMachineName', 'Family', 'AlarmName', 'Name', 'RoleName', 'Path', 'TopicName', 'QueueName', 'TableName', 'ClusterName',
      'LogGroupName', 'awslogs-group', 'awslogs-stream-prefix',
    ]));
    expectCovered(found, jobs);
  });

  describe('a real `sls package` of the longest names', () => {
    let dir: string;
    let packaged: { templates: Array<{ Resources: Record<string, any>; Outputs?: Record<string, unknown> }>; jobs: string[] };
    beforeAll(() => {
      // A copy of the project (node_modules linked) with the catalog of longest names as its jobs.yml.
      dir = mkdtempSync(join(tmpdir(), 'stepcron-names-'));
      for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'handlers', 'workflows', 'cli']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      const { text, jobs } = longestNamesCatalog();
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
      const found = namesIn(packaged.templates, packaged.jobs);
      // Assess
      expect(found.map((f) => f.value)).toEqual(expect.arrayContaining([functionName(STAGE, 'precheck'), functionName(STAGE, 'notify')]));
      expectCovered(found, packaged.jobs);
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
});
