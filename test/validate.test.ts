// workflows/validate.ts: a stage's definitions validated once per shape (free text and numbers generalised), and a
// broken one reported by its own state machine name. The real asl-validator, as packaging runs it.
import { join, resolve } from 'node:path';
import { readStageParams } from '../cli/stage';
import { type Job, loadCatalog, parseCatalog } from '../workflows/catalog';
import { stateMachines, toStageParams } from '../workflows/resources';
import { type AslValidator, definitionShape, validateDefinitions } from '../workflows/validate';

const asl: AslValidator = require('asl-validator');
const root = resolve(__dirname, '..');

describe('validateDefinitions', () => {
  /** n jobs that differ only in free text and numbers: one definition shape. */
  const sameShape = (n: number) => parseCatalog([
    'jobs:',
    ...Array.from({ length: n }, (_, i) => [
      `  j-${String(i).padStart(3, '0')}:`,
      `    description: Job number ${i}, which does thing ${i * 7}`,
      `    image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:${i}`,
      `    schedule: cron(${i % 60} ${i % 24} * * ? *)`,
      `    timezone: ${['UTC', 'Europe/Berlin', 'Asia/Tokyo'][i % 3]}`,
      `    command: [sh, jobs/${i}.sh, --day, '${i}']`,
      `    timeoutSeconds: ${600 + i * 60}`,
      `    environment: { TARGET: target-${i} }`,
    ].join('\n')),
    '',
  ].join('\n'), { stage: 'prod' });
  const definitions = (jobs: Job[]): Record<string, any> => Object.fromEntries(Object.values(stateMachines(jobs,
    toStageParams('prod', { subnets: 'subnet-0a1b', securityGroups: 'sg-0a1b' })) as Record<string, any>)
    .map((m) => [m.name, m.definition]));
  const counting = () => {
    const calls: unknown[] = [];
    const validator: AslValidator = (definition) => {
      calls.push(definition);
      return asl(definition);
    };
    return { calls, validator };
  };

  it("finds the sample catalog's definitions valid", () => {
    // Prepare
    const jobs = loadCatalog(join(root, 'workflows/jobs.yml'), { stage: 'prod' });
    const params = readStageParams('prod', join(root, 'serverless.yml'));
    const defs = Object.fromEntries(Object.values(stateMachines(jobs, params) as Record<string, any>).map((m) => [m.name, m.definition]));
    // Act + Assess
    expect(Object.keys(defs)).toHaveLength(3);
    expect(validateDefinitions(defs, asl)).toEqual([]);
  });

  it('calls the validator once for 200 jobs of the same shape', () => {
    // Prepare
    const { calls, validator } = counting();
    const defs = definitions(sameShape(200));
    // Act
    const problems = validateDefinitions(defs, validator);
    // Assess
    expect(problems).toEqual([]);
    expect(Object.keys(defs)).toHaveLength(200);
    expect(calls).toHaveLength(1);
  });

  it('reports a broken definition by its state machine name, even beside a valid job of the same shape', () => {
    // Prepare: j-001 transitions to a missing state, j-002 has a misspelled state type; j-000 and j-003 are fine
    const defs = definitions(sameShape(4));
    const next = Object.values(defs['stepcron-prod-j-001'].States).find((s: any) => typeof s.Next === 'string') as any;
    next.Next = 'NoSuchState';
    const task = Object.values(defs['stepcron-prod-j-002'].States).find((s: any) => s.Type === 'Task') as any;
    task.Type = 'Taks';
    const { calls, validator } = counting();
    // Act
    const problems = validateDefinitions(defs, validator);
    // Assess
    expect(problems).toEqual([
      expect.stringMatching(/^state machine stepcron-prod-j-001: .*NoSuchState/),
      expect.stringMatching(/^state machine stepcron-prod-j-002: .*Type is invalid/),
    ]);
    // One call for the good shape, and for each broken job its shape, then its own definition for the message.
    expect(calls).toHaveLength(5);
  });

  it('does not let a shape hide a number the ASL schema bounds (a maximum, a negative fraction)', () => {
    // Prepare
    const map = (percentage: number) => ({
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map', ToleratedFailurePercentage: percentage, End: true,
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
        },
      },
    });
    const retry = (interval: number) => ({
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'f' }, End: true, Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: interval }] } },
    });
    // Act
    const problems = validateDefinitions({ ok: map(25), tooMany: map(150), okRetry: retry(0.5), negative: retry(-0.5) }, asl);
    // Assess
    expect(problems).toEqual([
      expect.stringMatching(/^state machine tooMany: .*ToleratedFailurePercentage.*<= 100/),
      expect.stringMatching(/^state machine negative: .*IntervalSeconds.*>= 0/),
    ]);
  });
});

describe('definitionShape', () => {
  it('keeps state types, transitions, resources, paths and intrinsic names; generalises free text and numbers', () => {
    // Prepare
    const definition = (text: string, n: number, values: string) => ({
      Comment: `job ${text}`,
      StartAt: 'Run',
      TimeoutSeconds: n * 100,
      States: {
        Run: {
          Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync', InputPath: '$.input', ResultPath: '$.task', Next: 'Done',
          Parameters: { Name: text, 'Delays.$': `States.Array(${values})`, 'Id.$': `States.Format('{}-${n}', $.runId)` },
        },
        Done: { Type: 'Succeed' },
      },
    });
    // Act
    const a = JSON.parse(definitionShape(definition('nightly report', 36, '30, 60, 120')));
    const b = definitionShape(definition('tenant sync', 9, '10'));
    // Assess
    expect(a).toEqual({
      Comment: 's',
      StartAt: 'Run',
      TimeoutSeconds: expect.any(Number),
      States: {
        Run: {
          Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync', InputPath: '$.input', ResultPath: '$.task', Next: 'Done',
          Parameters: { Name: 's', 'Delays.$': 'States.Array(1)', 'Id.$': "States.Format('{}-1', $.runId)" },
        },
        Done: { Type: 'Succeed' },
      },
    });
    expect(JSON.stringify(a)).toBe(b);
    // A different state type or transition is a different shape.
    const other = definition('x', 1, '1');
    other.States.Run.Next = 'Elsewhere';
    expect(definitionShape(other)).not.toBe(b);
  });
});

describe('definitionShape, value by value', () => {
  const shapeOf = (value: unknown) => JSON.parse(definitionShape(value));

  it('keeps the value of every key the ASL grammar constrains, and of any key ending in Path; other text becomes s', () => {
    const structural = ['Type', 'Next', 'Default', 'StartAt', 'Resource', 'Mode', 'ExecutionType', 'InputType', 'CSVHeaderLocation',
      'QueryLanguage', 'Variable', 'ItemsPath', 'ResultPath', 'InputPath', 'OutputPath', 'SecondsPath', 'TimestampPath',
      'ErrorPath', 'CausePath', 'JitterStrategy', 'ErrorEquals', 'Transformation', 'OutputType', 'MaxConcurrencyPath'];
    const given = Object.fromEntries(structural.map((k) => [k, `value of ${k}`]));
    expect(shapeOf({ ...given, Comment: 'free text', PathNot: 'x', Name: 'Path' })).toEqual({ ...given, Comment: 's', PathNot: 's', Name: 's' });
    // Inside lists too (ErrorEquals), and at the top.
    expect(shapeOf({ ErrorEquals: ['States.Timeout', 'JobFailed'], Tags: ['a', 'b'] })).toEqual({ ErrorEquals: ['States.Timeout', 'JobFailed'], Tags: ['s', 's'] });
    expect(shapeOf('text')).toBe('s');
  });

  it('in a path or intrinsic (a key ending in .$) numbers become 1 and a list of them one 1; elsewhere text keeps its digits out', () => {
    expect(shapeOf({ 'a.$': 'States.Array(30, 60, 120)', 'b.$': 'States.MathAdd($.n, 2.75)', 'c.$': '$.items[12]', d: 'a1' }))
      .toEqual({ 'a.$': 'States.Array(1)', 'b.$': 'States.MathAdd($.n, 1)', 'c.$': '$.items[1]', d: 's' });
  });

  it('numbers keep their sign, whether whole, and which of the schema\'s maxima (100, 262144) they pass', () => {
    const numbers = [0, 1, 100, 101, -100, -101, 262_144, 262_145, -262_145, 2.5, -0.5, 1e9];
    expect(numbers.map((n) => shapeOf({ n }).n)).toEqual([0, 1, 1, 101, -1, -101, 101, 262_145, -262_145, 1.5, -1.5, 262_145]);
    expect(shapeOf({ t: true, f: false, z: null })).toEqual({ t: true, f: false, z: null });
  });
});

describe('validateDefinitions with a validator that says what it was given', () => {
  it('a shape refused but the job\'s own definition accepted is no problem; a refusal lists the errors joined by "; "', () => {
    // The generalised shape can break what the values made valid: then the job's own definition decides.
    const seen: unknown[] = [];
    const validator: AslValidator = (definition) => {
      seen.push(definition);
      const own = JSON.stringify(definition).includes('"Comment":"mine"');
      return { isValid: own, errorsText: (separator = ', ') => ['first', 'second'].join(separator) };
    };
    expect(validateDefinitions({ ok: { Comment: 'mine' } }, validator)).toEqual([]);
    expect(seen).toEqual([{ Comment: 's' }, { Comment: 'mine' }]);
    expect(validateDefinitions({ bad: { Comment: 'theirs' } }, validator)).toEqual(['state machine bad: first; second']);
  });
});
