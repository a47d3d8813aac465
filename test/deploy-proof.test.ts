// What an outside review of the deploy found that the other checks let through: each rule below is one a catalog
// could break while validate, sls package and the cross-stack check all said nothing.
import { parseCatalog } from '../workflows/catalog';
import { cutText, SCHEDULE_DESCRIPTION_MAX, secretGrant, stageTemplate, toStageParams } from '../workflows/resources';
import { RUN_INPUT_OVERRIDE_CHARS } from '../workflows/limits';
import { checkStartExecution } from '../cli/engine';

const params = (stage: string) => toStageParams(stage, { subnets: 'subnet-0123456789abcdef0', securityGroups: 'sg-0123456789abcdef0' });
const job = (name: string, lines: string[] = []) =>
  [`  ${name}:`, '    description: a job', '    schedule: cron(0 3 * * ? *)', "    command: ['true']", ...lines.map((l) => `    ${l}`)].join('\n');
const catalog = (...jobs: string[]) => ['defaults:', '  image: busybox:1', 'jobs:', ...jobs, ''].join('\n');

describe('a job never takes a logical id the stage already uses', () => {
  it('refuses job names whose resources would replace the stage\'s own (SchedulerDeadLetterAlarm, BufferedRunsDeadLetterAlarm)', () => {
    // Prepare
    const jobs = parseCatalog(catalog(job('scheduler-dead-letter'), job('buffered-runs-dead-letter', ['concurrency: buffer'])), { stage: 'qa' });
    // Act + Assess: one line per job, naming the id and the fix
    expect(() => stageTemplate(jobs, params('qa'))).toThrow(
      "stage qa: jobs.scheduler-dead-letter: its resource SchedulerDeadLetterAlarm would replace the stage's own resource of that logical id: rename the job; " +
      "jobs.buffered-runs-dead-letter: its resource BufferedRunsDeadLetterAlarm would replace the stage's own resource of that logical id: rename the job");
  });

  it('keeps every shared resource when no job name clashes', () => {
    const t = stageTemplate(parseCatalog(catalog(job('dead-letter')), { stage: 'qa' }), params('qa'));
    expect(t.Resources.SchedulerDeadLetterAlarm).toMatchObject({ Type: 'AWS::CloudWatch::Alarm' });
    expect(t.Resources.DeadLetterAlarm).toMatchObject({ Type: 'AWS::CloudWatch::Alarm' });
  });
});

describe("the buffered-runs rule's event pattern stays within EventBridge's 2,048 characters", () => {
  const machines = (n: number, name: (i: number) => string, stage = 'prod') => {
    const jobs = parseCatalog(catalog(...Array.from({ length: n }, (_, i) => job(name(i), ['concurrency: buffer']))), { stage });
    const rule = stageTemplate(jobs, params(stage)).Resources.BufferedRunsRule as { Properties: { EventPattern: { detail: { stateMachineArn: unknown[] } } } };
    return rule.Properties.EventPattern;
  };
  /** The pattern as EventBridge sees it, each ARN at its longest partition, region and account. */
  const resolvedLength = (pattern: unknown) => JSON.stringify(pattern).replace(/\$\{AWS::Partition\}/g, 'aws-iso-b')
    .replace(/\$\{AWS::Region\}/g, 'ap-southeast-7').replace(/\$\{AWS::AccountId\}/g, '123456789012').replace(/"Fn::Sub":/g, '').length;

  it('lists short names one by one', () => {
    const pattern = machines(3, (i) => `b${i}`);
    expect(pattern.detail.stateMachineArn).toHaveLength(3);
    expect(JSON.stringify(pattern)).not.toContain('prefix');
  });

  it('falls back to the stage prefix when 20 ordinary names would pass the limit (they did: ~2,090 characters)', () => {
    const pattern = machines(20, (i) => `nightly-warehouse-export-${String(i).padStart(3, '0')}`);
    expect(pattern.detail.stateMachineArn).toEqual([{ prefix: expect.anything() }]);
    expect(resolvedLength(pattern)).toBeLessThanOrEqual(2048);
  });

  it('at the longest stage and job names too', () => {
    const stage = 's'.repeat(41);
    const pattern = machines(12, (i) => `j${String(i).padStart(2, '0')}${'x'.repeat(26)}`, stage);
    expect(resolvedLength(pattern)).toBeLessThanOrEqual(2048);
  });
});

describe("a catalog's input must fit ECS's container overrides, or every run fails its precheck", () => {
  it('refuses a default input (plus the largest item) over the limit, at validate', () => {
    const big = 'x'.repeat(RUN_INPUT_OVERRIDE_CHARS);
    expect(() => parseCatalog(catalog(job('big', [`input: { blob: ${big} }`])), { stage: 'dev' }))
      .toThrow(/jobs\.big\.input: is \d+ characters as ECS container overrides .* keep it under 7168/);
    expect(() => parseCatalog(catalog(job('items', [`fanOut: { items: [${big}] }`])), { stage: 'dev' }))
      .toThrow(/jobs\.items\.fanOut\.items: is \d+ characters as ECS container overrides/);
  });

  it('takes one just under it', () => {
    const fits = 'x'.repeat(RUN_INPUT_OVERRIDE_CHARS - 40);
    expect(parseCatalog(catalog(job('fits', [`input: { b: ${fits} }`])), { stage: 'dev' })).toHaveLength(1);
  });
});

describe('secret references', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:';

  it('grants a name that ends like a random suffix both ways: as the full ARN and as a partial one', () => {
    // `prod/db-secret` may be the secret's name (real ARN prod/db-secret-AbCdEf) or a full ARN: Secrets Manager reads both.
    expect(secretGrant(`${ARN}prod/db-secret`).resource).toEqual([`${ARN}prod/db-secret`, `${ARN}prod/db-secret-??????`]);
    expect(secretGrant(`${ARN}api-tokens:key::`).resource).toEqual([`${ARN}api-tokens`, `${ARN}api-tokens-??????`]);
    expect(secretGrant(`${ARN}db`).resource).toEqual([`${ARN}db-??????`]);
  });

  it('refuses a JSON key with both a version stage and a version id (ECS takes one)', () => {
    const both = `${ARN}db-AbCdEf:password:AWSCURRENT:0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7`;
    expect(() => parseCatalog(catalog(job('s', ['secrets:', `  P: '${both}'`])), { stage: 'dev' }))
      .toThrow(/jobs\.s\.secrets\.P: gives both a version stage \(AWSCURRENT\) and a version id: keep one/);
    for (const one of [`${ARN}db-AbCdEf:password:AWSCURRENT:`, `${ARN}db-AbCdEf:password::0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7`]) {
      expect(parseCatalog(catalog(job('s', ['secrets:', `  P: '${one}'`])), { stage: 'dev' })).toHaveLength(1);
    }
  });
});

describe("a schedule's description is cut at whole characters", () => {
  it('never leaves half of a surrogate pair at the cut (it would reach AWS as U+FFFD)', () => {
    const prefix = 'x'.repeat(SCHEDULE_DESCRIPTION_MAX - 1);
    expect(cutText(`${prefix}\u{1F600}tail`, SCHEDULE_DESCRIPTION_MAX)).toBe(prefix);
    expect(cutText(`${prefix}ab`, SCHEDULE_DESCRIPTION_MAX)).toBe(`${prefix}a`);
    const name = 'emoji';
    const description = `${'d'.repeat(SCHEDULE_DESCRIPTION_MAX - `${name} (schedule: cron(0 3 * * ? *)): `.length - 1)}\u{1F600}`;
    const t = stageTemplate(parseCatalog(catalog(job(name).replace('description: a job', `description: "${description}"`)), { stage: 'dev' }), params('dev'));
    const text = (t.Resources.EmojiSchedule as { Properties: { Description: string } }).Properties.Description;
    expect(text).not.toMatch(/[\uD800-\uDBFF]$/);
    expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
  });
});

describe('catalog keys JavaScript tooling cannot carry', () => {
  it.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'])('refuses %s in input and items, in one line (AWS takes it; asl-validator and object copies do not)', (key) => {
    expect(() => parseCatalog(catalog(job('k', [`input: { build: { ${key}: acme } }`])), { stage: 'dev' }))
      .toThrow(new RegExp(`jobs\\.k\\.input\\.build\\.${key}: a key named ${key} is refused by asl-validator`));
    expect(() => parseCatalog(catalog(job('k', [`fanOut: { items: [{ ${key}: 1 }] }`])), { stage: 'dev' })).toThrow(/fanOut\.items\.0\./);
  });

  it('takes ordinary keys that merely look alike (name, build, proto)', () => {
    expect(parseCatalog(catalog(job('k', ['input: { name: a, proto: b, Constructor: c }'])), { stage: 'dev' })).toHaveLength(1);
  });
});

describe('a local run starts only what StartExecution would start', () => {
  it('refuses an input over 262,144 bytes (UTF-8 of its JSON) as AWS does, and takes one at the limit', () => {
    const sized = (bytes: number) => ({ a: 'x'.repeat(bytes - '{"a":""}'.length) });
    expect(() => checkStartExecution('20261207T000000Z-abcd', sized(262_145))).toThrow(/ValidationException|less than or equal to 262144/);
    expect(() => checkStartExecution('20261207T000000Z-abcd', sized(262_144))).not.toThrow();
    // Multi-byte characters count as their UTF-8 bytes.
    expect(() => checkStartExecution('20261207T000000Z-abcd', { a: '\u00e9'.repeat(131_070) })).toThrow(/262144/);
  });
});
