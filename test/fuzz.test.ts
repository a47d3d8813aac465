// Bad-input fuzzing (issue 7, item 7): property-based tests with fast-check that mutate valid catalogs and run inputs.
// Validation may only ever answer with field-level lines naming the job (or run input) and the field, never another
// exception; the precheck refuses malformed input before it looks at other runs; and every catalog the generator
// produces compiles to definitions asl-validator accepts and to a template with no "*" on the risky IAM actions.
// Seeded and bounded so the file runs in ~15 s: FUZZ_SEED, FUZZ_RUNS and FUZZ_ASL_SAMPLE override (fast-check prints the seed
// and the counterexample's path on failure; rerun with that seed to reproduce).
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { PrecheckEvent } from '../handlers/lib/contracts';
import { InvalidInputError } from '../handlers/lib/errors';
import { type ExecutionsPort, memoryClaims, precheck, type RunningExecution } from '../handlers/lib/precheck';
import { CatalogError, FARGATE_SIZES, type Job, logicalId, MAX_CATALOG_BYTES, MAX_YAML_ALIASES, oneLine, parseCatalog } from '../workflows/catalog';
import { stageTemplate, stateMachines, toStageParams } from '../workflows/resources';
import type { AslValidator } from '../workflows/validate';
import { loadEvent } from './events';

const asl: AslValidator = require('asl-validator');

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
/** FUZZ_PATH (with jest -t naming the one failing test) replays a printed counterexample directly. */
const settings = (numRuns = RUNS): fc.Parameters<unknown> => ({ seed: SEED, numRuns, ...(process.env.FUZZ_PATH && { path: process.env.FUZZ_PATH }) });

type Json = unknown;
type Obj = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------------
// Generators of valid catalogs
// ---------------------------------------------------------------------------------------------------------------

const jobName = fc.stringMatching(/^[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,5}){0,2}$/);
const envName = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/).filter((k) => !k.startsWith('STEPCRON_'));
const text = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim().length > 0);
const schedule = fc.oneof(
  fc.record({ m: fc.integer({ min: 0, max: 59 }), h: fc.integer({ min: 0, max: 23 }) }).map(({ m, h }) => `cron(${m} ${h} * * ? *)`),
  fc.constantFrom('cron(0/15 * * * ? *)', 'cron(0 8 ? * MON-FRI *)', 'cron(30 2 1 * ? *)', 'cron(0 0 L * ? *)'),
  fc.integer({ min: 2, max: 500 }).map((n) => `rate(${n} minutes)`),
  fc.constantFrom('rate(1 minute)', 'rate(1 hour)', 'rate(3 hours)', 'rate(1 day)', 'rate(7 days)'),
  fc.constantFrom('at(2027-01-01T00:00:00)', 'at(2030-06-15T12:30:00)'),
);
const timezone = fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Lord_Howe');
const smallJson = fc.jsonValue({ maxDepth: 2 });
/**
 * JSON the catalog writes into the definition as it is: no key ending in '.$' (a path to Step Functions) and, in
 * lists, none of what asl-validator refuses there (null, '', multi-line or '{% ' strings; the catalog says so).
 */
const writable = (v: Json): Json => {
  if (Array.isArray(v)) return v.filter((i) => i !== null && !(typeof i === 'string' && (i === '' || /[\n\r\u2028\u2029]/.test(i) || i.startsWith('{% ')))).map(writable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, i]) => [k.endsWith('.$') ? `${k}_` : k, writable(i)]));
  return v;
};
const payloadJson = smallJson.map(writable);
const secretRef = fc.oneof(
  fc.stringMatching(/^\/[a-z][a-z0-9_.-]{0,10}(\/[a-z0-9_.-]{1,8}){0,2}$/),
  fc.constantFrom('arn:aws:ssm:eu-west-1:123456789012:parameter/app/db', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf'),
);
const cpuMemory = fc.constantFrom(...Object.keys(FARGATE_SIZES).map(Number))
  .chain((cpu) => fc.constantFrom(...FARGATE_SIZES[cpu]!).map((memory) => ({ cpu, memory })));
const retryTiming = fc.record({ interval: fc.integer({ min: 1, max: 86400 }), extra: fc.integer({ min: 0, max: 86400 }) })
  .map(({ interval, extra }) => ({ retryIntervalSeconds: interval, maxDelaySeconds: Math.min(86400, interval + extra) }));
const exitCodes = fc.uniqueArray(fc.integer({ min: 1, max: 255 }), { maxLength: 6 }).chain((codes) =>
  fc.integer({ min: 0, max: codes.length }).map((cut) => {
    const out: Obj = {};
    if (cut > 0) out.retry = codes.slice(0, cut);
    if (cut < codes.length) out.fail = codes.slice(cut);
    return out;
  }));
const fanOut = fc.record({
  source: fc.oneof(
    fc.array(payloadJson, { minLength: 1, maxLength: 5 }).map(writable).filter((items) => (items as Json[]).length > 0).map((items) => ({ items })),
    fc.constant({ itemsPath: '$.tenants' }),
    fc.constantFrom('s3://acme-items/t.json', 's3://acme-items/in/t.jsonl', 's3://acme.items-eu/x/y.csv').map((itemsFrom) => ({ itemsFrom })),
  ),
  maxConcurrency: fc.option(fc.integer({ min: 1, max: 10000 }), { nil: undefined }),
  toleratedFailurePercentage: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
}).map(({ source, ...rest }) => dropUndefined({ ...source, ...rest }));

/** Every optional field of a job, each present or not. */
const optionalFields = fc.record({
  timezone,
  enabled: fc.oneof(fc.boolean(), fc.record({ prod: fc.boolean(), default: fc.boolean() }, { requiredKeys: [] })),
  size: cpuMemory,
  environment: fc.dictionary(envName, fc.string({ maxLength: 20 }), { maxKeys: 3 }),
  secrets: fc.dictionary(envName, secretRef, { maxKeys: 2 }),
  taskPolicyArns: fc.array(fc.constantFrom('arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::123456789012:policy/reports'), { maxLength: 2 }),
  capacity: fc.constantFrom('fargate', 'spot'),
  timeoutSeconds: fc.integer({ min: 1, max: 7 * 24 * 3600 }),
  retries: fc.integer({ min: 0, max: 10 }),
  retry: retryTiming,
  backoffRate: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.double({ min: 1, max: 10, noNaN: true })),
  exitCodes,
  concurrency: fc.constantFrom('allow', 'forbid', 'replace', 'buffer'),
  notify: fc.record({ onFailure: fc.boolean(), onSuccess: fc.boolean() }, { requiredKeys: [] }),
  input: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), payloadJson, { maxKeys: 3 }).map(writable),
  fanOut,
}, { requiredKeys: [] });

const jobSpec = fc.record({
  description: text,
  schedule,
  image: fc.constantFrom('img:1', 'public.ecr.aws/docker/library/busybox:1.36', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:2'),
  command: fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 4 }),
  optional: optionalFields,
}).map(({ optional: { size, retry, fanOut: fan, input, ...rest }, ...required }) => {
  const spec: Obj = { ...required, ...rest, ...size, ...retry };
  if (fan) {
    spec.fanOut = fan;
    spec.input = (fan as Obj).itemsPath ? { ...(input as Obj | undefined), tenants: ['a', 'b'] } : input;
  } else if (input) spec.input = input;
  return dropUndefined(spec);
});

/** A valid catalog: 1-4 jobs (names distinct as CloudFormation ids), some fields moved into `defaults`. */
const validCatalog = fc.record({
  jobs: fc.uniqueArray(fc.tuple(jobName, jobSpec), { minLength: 1, maxLength: 4, selector: ([name]) => logicalId(name) }),
  shared: fc.subarray(['image', 'timezone', 'retries', 'capacity', 'concurrency', 'environment']),
}).map(({ jobs, shared }) => {
  const defaults: Obj = {};
  const [, first] = jobs[0]!;
  // A field moves to defaults only when every job has the same value (or none: then it gets the default's).
  for (const key of shared) {
    if (first[key] !== undefined && jobs.every(([, spec]) => spec[key] === undefined || spec[key] === first[key])) {
      defaults[key] = first[key];
      for (const [, spec] of jobs) delete spec[key];
    }
  }
  const catalog: Obj = { jobs: Object.fromEntries(jobs) };
  return Object.keys(defaults).length ? { defaults, ...catalog } : catalog;
});

function dropUndefined(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

// ---------------------------------------------------------------------------------------------------------------
// Junk and mutations
// ---------------------------------------------------------------------------------------------------------------

/** Nested n deep, as an array or object chain. */
const deep = (n: number, leaf: Json, asObject: boolean): Json => {
  let v = leaf;
  for (let i = 0; i < n; i++) v = asObject ? { a: v } : [v];
  return v;
};
const nastyKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'a.b', 'a\nb', '$', '*'];
const junk: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom<Json>(null, true, false, 0, -1, -0, 0.5, 1e21, -1e21, Number.MAX_SAFE_INTEGER + 2, Infinity, -Infinity, Number.NaN,
    '', ' ', '~', 'null', 'true', '0x1F', '1e3', '[]', '{}', '*', 'yes', 'no', '\u0000', '\u202e', '😀', 'x'.repeat(5000)),
  fc.record({ n: fc.integer({ min: 1, max: 150 }), leaf: fc.jsonValue({ maxDepth: 1 }), asObject: fc.boolean() })
    .map(({ n, leaf, asObject }) => deep(n, leaf, asObject)),
  fc.dictionary(fc.constantFrom(...nastyKeys), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const JOB_FIELDS = [
  'description', 'schedule', 'timezone', 'enabled', 'image', 'command', 'cpu', 'memory', 'environment', 'secrets',
  'taskPolicyArns', 'capacity', 'timeoutSeconds', 'retries', 'retryIntervalSeconds', 'backoffRate', 'maxDelaySeconds',
  'exitCodes', 'concurrency', 'notify', 'input', 'fanOut',
];
const NUMERIC = ['cpu', 'memory', 'timeoutSeconds', 'retries', 'retryIntervalSeconds', 'backoffRate', 'maxDelaySeconds'];
const outOfRange = fc.oneof(
  fc.constantFrom(0, -1, 0.5, 1.5, 11, 255, 256, 300, 86401, 604801, 10001, 122881, 1e9, -1e9, 2 ** 53, Infinity, -Infinity, Number.NaN),
  fc.integer(), fc.double(),
);
const badSchedule = fc.oneof(
  fc.constantFrom('cron(0 2 * * * *)', 'cron(0 2 * * ?)', 'cron(61 2 * * ? *)', 'cron(0 25 * * ? *)', 'rate(1 hours)',
    'rate(0 minutes)', 'rate(-5 minutes)', 'rate(5 fortnights)', 'at(2026-13-40T99:99:99)', 'at()', 'cron()', 'rate()',
    'cron(0 2 * * ? * *)', 'cron(0 2 ? * MON#9 *)', 'cron(0 2 32 * ? *)', 'cron(0 2 L-40 * ? *)', 'cron(0 2 * * ? 1969)',
    'cron(* * * * ? *)', 'cron(0 2 * * ? *', '0 2 * * *', '@daily', 'every day', 'cron(0/0 * * * ? *)', 'cron(0 2 1W,15 * ? *)'),
  fc.string({ maxLength: 30 }).map((s) => `cron(${s})`),
  fc.string({ maxLength: 30 }).map((s) => `rate(${s})`),
  fc.string({ maxLength: 30 }).map((s) => `at(${s})`),
  fc.string({ maxLength: 30 }),
);
const NESTED = ['fanOut', 'notify', 'exitCodes', 'environment', 'secrets', 'enabled', 'input'];

type Mutation =
  | { kind: 'drop' | 'rename' | 'retype' | 'range' | 'schedule' | 'unknown' | 'nested'; job: number; field: number; value: Json; key: string }
  | { kind: 'job-value' | 'job-name'; job: number; value: Json; key: string }
  | { kind: 'top'; key: string; value: Json }
  | { kind: 'defaults'; field: number; value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('drop', 'rename', 'retype', 'range', 'schedule', 'unknown', 'nested'),
    job: fc.nat(), field: fc.nat(),
    value: fc.oneof(junk, outOfRange, badSchedule),
    key: fc.oneof(fc.constantFrom(...nastyKeys), fc.string({ maxLength: 12 })),
  }) as fc.Arbitrary<Mutation>,
  fc.record({
    kind: fc.constantFrom('job-value', 'job-name'), job: fc.nat(), value: junk,
    key: fc.oneof(fc.constantFrom(...nastyKeys, 'Nightly', 'a_b', 'a'.repeat(90), '1abc', 'a--b', '-', 'ü'), fc.string({ maxLength: 20 })),
  }) as fc.Arbitrary<Mutation>,
  fc.record({ kind: fc.constant('top'), key: fc.constantFrom('jobs', 'defaults', 'job', 'version', ...nastyKeys), value: junk }) as fc.Arbitrary<Mutation>,
  fc.record({ kind: fc.constant('defaults'), field: fc.nat(), value: fc.oneof(junk, outOfRange, badSchedule) }) as fc.Arbitrary<Mutation>,
);

const pick = <T>(list: T[], n: number): T => list[n % list.length]!;

/** The catalog with one mutation applied (a fresh copy). */
function mutate(catalog: Obj, m: Mutation): Json {
  const c = structuredClone(catalog) as Obj;
  const jobs = c.jobs as Record<string, Obj>;
  const names = Object.keys(jobs);
  if (m.kind === 'top') return m.key === '' ? m.value : { ...c, [m.key]: m.value };
  if (m.kind === 'defaults') {
    c.defaults = { ...(c.defaults as Obj | undefined), [pick(JOB_FIELDS, m.field)]: m.value };
    return c;
  }
  const name = pick(names, m.job);
  if (m.kind === 'job-value') {
    jobs[name] = m.value as Obj;
    return c;
  }
  if (m.kind === 'job-name') {
    c.jobs = Object.fromEntries(Object.entries(jobs).map(([n, spec]) => [n === name ? m.key : n, spec]));
    return c;
  }
  const job = jobs[name]!;
  if (!('field' in m)) return c;
  const field = pick(JOB_FIELDS, m.field);
  switch (m.kind) {
    case 'drop':
      delete job[field];
      if (c.defaults) delete (c.defaults as Obj)[field];
      break;
    case 'rename':
      if (field in job) job[m.key || `${field}s`] = job[field];
      delete job[field];
      break;
    case 'retype':
      job[field] = m.value;
      break;
    case 'range':
      job[pick(NUMERIC, m.field)] = m.value;
      break;
    case 'schedule':
      job.schedule = m.value;
      break;
    case 'unknown':
      job[m.key] = m.value;
      break;
    case 'nested': {
      const at = pick(NESTED, m.field);
      const inner = job[at];
      job[at] = { ...(inner && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Obj) : {}), [m.key]: m.value };
      break;
    }
  }
  return c;
}

/** Damage done to the text rather than the data: what a bad edit or a truncated upload looks like. */
const textDamage = fc.record({
  kind: fc.constantFrom('truncate', 'insert', 'duplicate-line', 'delete-line', 'indent'),
  at: fc.nat(),
  what: fc.constantFrom(':', '- ', '&a ', '*a', '*nope', '\t', '"', "'", '{', '[', '#', '|', '>', '!!binary ', '!!js/function ', '<<: *a', '? ', '%YAML 1.1\n', '---\n', '\u0000', '\ufeff'),
});

function damage(textIn: string, d: { kind: string; at: number; what: string }): string {
  const lines = textIn.split('\n');
  const i = d.at % Math.max(1, lines.length);
  switch (d.kind) {
    case 'truncate':
      return textIn.slice(0, d.at % (textIn.length + 1));
    case 'insert': {
      const at = d.at % (textIn.length + 1);
      return textIn.slice(0, at) + d.what + textIn.slice(at);
    }
    case 'duplicate-line':
      return [...lines.slice(0, i + 1), ...lines.slice(i)].join('\n');
    case 'delete-line':
      return [...lines.slice(0, i), ...lines.slice(i + 1)].join('\n');
    default:
      return [...lines.slice(0, i), ` ${lines[i] ?? ''}`, ...lines.slice(i + 1)].join('\n');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The catalog's answer
// ---------------------------------------------------------------------------------------------------------------

/** Lines not about one job: the catalog as a whole, the jobs map, defaults, and the YAML itself (named by the job it is in, read from the text). */
const GENERAL = /^(jobs: |defaults(\.|: )|\(catalog\): |(jobs\.[^:\n]+: )?(not valid YAML \(line (\d+|\?)(: [^\n]*)?\): |'[^'\n]*' is defined twice \(line \d+\): ))/;

/** The job names as the YAML holds them (what a problem line may name), or none when the text does not parse. */
function namesIn(textIn: string): string[] {
  try {
    const raw = parseYaml(textIn, { logLevel: 'error' }) as { jobs?: unknown } | null;
    return raw && typeof raw === 'object' && raw.jobs && typeof raw.jobs === 'object' ? Object.keys(raw.jobs).map(oneLine) : [];
  } catch {
    return [];
  }
}

/** parseCatalog's answer: jobs, or the problems of a CatalogError; anything else thrown fails the property. */
function answer(textIn: string): { jobs: Job[] } | { problems: string[] } {
  try {
    return { jobs: parseCatalog(textIn, { stage: 'prod', file: 'jobs.yml' }) };
  } catch (err) {
    if (!(err instanceof CatalogError)) throw new Error(`parseCatalog threw ${(err as Error)?.name}, not CatalogError: ${(err as Error)?.stack}`);
    return { problems: err.problems };
  }
}

function expectFieldLevel(textIn: string): void {
  const result = answer(textIn);
  if ('jobs' in result) return;
  const names = namesIn(textIn);
  expect(result.problems.length).toBeGreaterThan(0);
  for (const line of result.problems) {
    const named = names.some((n) => line.startsWith(`jobs.${n}.`) || line.startsWith(`jobs.${n}: `));
    if (!(named || GENERAL.test(line)) || line.includes('\n')) {
      throw new Error(`problem line names no job of ${JSON.stringify(names)} nor the catalog: ${JSON.stringify(line)}`);
    }
  }
}

const yaml = (value: Json) => stringifyYaml(value, { aliasDuplicateObjects: false, lineWidth: 0 });

describe('fuzz: catalog validation answers with field-level lines only', () => {
  it('accepts every generated valid catalog', () => {
    fc.assert(fc.property(validCatalog, (catalog) => {
      const result = answer(yaml(catalog));
      if ('problems' in result) throw new Error(`a valid catalog was refused: ${result.problems.join(' | ')}`);
      expect(result.jobs.map((j) => j.name)).toEqual(Object.keys(catalog.jobs as Obj));
    }), settings());
  });

  it('refuses a mutated catalog with lines naming the job and field, or the catalog', () => {
    fc.assert(fc.property(validCatalog, mutation, (catalog, m) => {
      expectFieldLevel(yaml(mutate(catalog, m)));
    }), settings(RUNS * 2));
  });

  it('refuses damaged YAML text with a line, never a crash', () => {
    fc.assert(fc.property(validCatalog, fc.array(textDamage, { minLength: 1, maxLength: 3 }), (catalog, damages) => {
      expectFieldLevel(damages.reduce(damage, yaml(catalog)));
    }), settings());
  });

  it('answers arbitrary YAML documents (any JSON type at the top) with a line', () => {
    fc.assert(fc.property(junk, (value) => expectFieldLevel(yaml(value))), settings());
  });
});

describe('fuzz: YAML bombs and oversized catalogs', () => {
  /** "Billion laughs": each anchor aliases the previous one 9 times; 9 levels expand to 9^9 strings. */
  const bomb = (levels: number) => {
    const lines = ['defaults:', '  input:', '    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < levels; i++) lines.push(`    l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]`);
    return [...lines, 'jobs:', '  a:', '    description: d', '    schedule: rate(1 hour)', '    image: i', '    command: [x]', ''].join('\n');
  };

  it('refuses alias expansion with one line naming the fix, in milliseconds', () => {
    // Act
    const started = Date.now();
    const result = answer(bomb(9));
    // Assess
    expect(result).toEqual({ problems: [`(catalog): uses YAML aliases more than ${MAX_YAML_ALIASES} times (counting the aliases inside what each one names): write the values out, or use fewer aliases`] });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a catalog over the size cap before parsing it', () => {
    // Prepare: a valid job followed by a comment that takes the text over the cap
    const text = `${bomb(1)}# ${'x'.repeat(MAX_CATALOG_BYTES)}\n`;
    // Act
    const started = Date.now();
    const result = answer(text);
    // Assess
    expect(result).toEqual({ problems: [expect.stringMatching(/^\(catalog\): is \d+ bytes; the limit is 1048576 bytes \(1\.0 MiB; a 1,000-job catalog is ~0\.2 MiB\)/)] });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('still accepts a few aliases, as YAML allows', () => {
    const text = ['defaults:', '  environment: &env { A: "1" }', 'jobs:', '  a:', '    description: d', '    schedule: rate(1 hour)',
      '    image: i', '    command: [x]', '    input: { e: *env, f: *env }', ''].join('\n');
    expect(answer(text)).toEqual({ jobs: [expect.objectContaining({ name: 'a', input: { e: { A: '1' }, f: { A: '1' } } })] });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Valid catalogs compile to valid definitions and least-privilege templates
// ---------------------------------------------------------------------------------------------------------------

const PARAMS = toStageParams('prod', { subnets: 'subnet-0a1b2c3d', securityGroups: 'sg-0a1b2c3d' });
/** asl-validator takes ~0.1-0.5 s a call: a few definitions per test run, the rest checked for IAM only. */
const ASL_SAMPLE = Number(process.env.FUZZ_ASL_SAMPLE ?? 4);

function riskyWildcards(template: { Resources: Record<string, any> }): { risky: number; wildcards: string[] } {
  const documents = Object.entries(template.Resources).flatMap(([id, r]: [string, any]) => {
    if (r.Type === 'AWS::IAM::Role') return (r.Properties.Policies ?? []).map((p: any) => [id, p.PolicyDocument]);
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') return [[id, r.Properties.PolicyDocument]];
    return [];
  }) as Array<[string, any]>;
  const statements = documents.flatMap(([id, doc]) => [doc.Statement].flat().map((s: any) => ({ id, ...s })));
  const risky = statements.filter((s) => s.Effect !== 'Deny' && [s.Action].flat().some((a: string) =>
    a === 'ecs:RunTask' || a === 'iam:PassRole' || a.startsWith('states:') || a === '*' || a.endsWith(':*')));
  return { risky: risky.length, wildcards: risky.filter((s) => [s.Resource].flat().includes('*')).map((s) => `${s.id}: ${JSON.stringify(s.Action)}`) };
}

describe('fuzz: every valid catalog compiles', () => {
  it('to a template with no "*" resource on ecs:RunTask, iam:PassRole or states:*, and definitions asl-validator accepts', () => {
    let validated = 0;
    fc.assert(fc.property(validCatalog, fc.nat(), (catalog, which) => {
      const jobs = parseCatalog(yaml(catalog), { stage: 'prod' });
      const template = stageTemplate(jobs, PARAMS);
      const { risky, wildcards } = riskyWildcards(template);
      expect(risky).toBeGreaterThan(0);
      expect(wildcards).toEqual([]);
      if (validated >= ASL_SAMPLE) return;
      validated++;
      const machine = pick(Object.values(stateMachines(jobs, PARAMS) as Record<string, { name: string; definition: unknown }>), which);
      // structuredClone: asl-validator writes QueryLanguage into the states it checks.
      const verdict = asl(structuredClone(machine.definition));
      if (!verdict.isValid) throw new Error(`${machine.name}: ${verdict.errorsText('; ')}`);
    }), settings(Math.max(ASL_SAMPLE, Math.round(RUNS / 2))));
    expect(validated).toBe(ASL_SAMPLE);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The precheck
// ---------------------------------------------------------------------------------------------------------------

/** A Step Functions stand-in that records every call: a refused input must make none. */
class RecordingExecutions implements ExecutionsPort {
  calls = 0;
  async listRunning(): Promise<RunningExecution[]> {
    this.calls++;
    return [];
  }
  async stop(): Promise<void> {
    this.calls++;
  }
}

const events = {
  single: () => loadEvent<PrecheckEvent>('precheck-nightly-report'),
  fanOut: () => loadEvent<PrecheckEvent>('precheck-tenant-sync'),
};
const isoTime = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const validRunInput = (fanOutJob: boolean) => fc.record({
  scheduledTime: isoTime,
  input: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), smallJson, { maxKeys: 3 }),
  scheduleArn: fc.constant('arn:aws:scheduler:eu-west-1:123456789012:schedule/default/x'),
  schedulerExecutionId: fc.uuid(),
  attemptNumber: fc.oneof(fc.nat(185), fc.nat(185).map(String)),
  ...(fanOutJob ? { items: fc.array(smallJson, { minLength: 1, maxLength: 5 }) } : {}),
}, { requiredKeys: [] });
const RUN_FIELDS = ['scheduledTime', 'input', 'items', 'itemsFrom', 'scheduleArn', 'schedulerExecutionId', 'attemptNumber'];

type RunMutation = { kind: 'retype' | 'unknown' | 'nested' | 'deep' | 'whole'; field: number; key: string; value: Json; depth: number };
const runMutation: fc.Arbitrary<RunMutation> = fc.record({
  kind: fc.constantFrom('retype', 'unknown', 'nested', 'deep', 'whole'),
  field: fc.nat(),
  key: fc.oneof(fc.constantFrom(...nastyKeys, 'inputs', 'Input', 'item'), fc.string({ maxLength: 10 })),
  value: fc.oneof(junk, isoTime.map((t) => t.replace('T', ' ')), fc.constantFrom('s3://other/x.json', 's3://stepcron-dev-local/items/../x.json', 's3://stepcron-dev-local/items/a.xml')),
  depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constantFrom(5_000, 20_000)),
}) as fc.Arbitrary<RunMutation>;

/** The mutated input, and whether it is certainly malformed (so it must be refused). */
function mutateRun(input: Obj, m: RunMutation): { value: Json; malformed: boolean } {
  const field = pick(RUN_FIELDS, m.field);
  switch (m.kind) {
    case 'retype':
      return { value: { ...input, [field]: m.value }, malformed: m.value === null || (field === 'input' && !isPlainObject(m.value)) || (field === 'items' && !Array.isArray(m.value)) };
    case 'unknown':
      return { value: { ...input, [m.key]: m.value }, malformed: !RUN_FIELDS.includes(m.key) && m.value !== undefined };
    case 'nested':
      return { value: { ...input, input: { ...(input.input as Obj | undefined), [m.key]: m.value } }, malformed: false };
    case 'deep':
      return { value: { ...input, input: { deep: deep(m.depth, 1, m.field % 2 === 0) } }, malformed: false };
    default:
      return { value: m.value, malformed: m.value !== null && !isPlainObject(m.value) };
  }
}

function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function expectRefusedOrRun(event: PrecheckEvent, malformed: boolean): Promise<void> {
  const executions = new RecordingExecutions();
  const outcome = await precheck(event, { executions, claims: memoryClaims(), now: () => new Date('2026-11-24T01:30:05Z') })
    .then((result) => ({ result }), (error: unknown) => ({ error }));
  if ('result' in outcome) {
    if (malformed) throw new Error(`malformed input was accepted: ${JSON.stringify(event.input)?.slice(0, 300)}`);
    return;
  }
  const error = outcome.error as InvalidInputError;
  if (!(error instanceof InvalidInputError)) throw new Error(`precheck threw ${(error as Error)?.name}, not InvalidInputError: ${(error as Error)?.stack}`);
  expect(error.name).toBe('InvalidInputError');
  expect(error.problems.length).toBeGreaterThan(0);
  for (const line of error.problems) expect(line).toMatch(/^input[.:]/);
  expect(error.message).toBe(error.problems.join('; '));
  // Refused before the concurrency policy: no execution listed or stopped, so no task starts.
  expect(executions.calls).toBe(0);
}

describe('fuzz: the precheck refuses malformed run input with InvalidInputError before any task starts', () => {
  it('refuses input nested too deeply to measure with one line (it used to throw RangeError)', async () => {
    await expectRefusedOrRun({ ...events.single(), input: { input: { deep: deep(20_000, 1, true) } } }, true);
  });

  it.each([['a single-task job', 'single'], ['a fan-out job', 'fanOut']] as const)('accepts valid run inputs of %s', async (_what, kind) => {
    await fc.assert(fc.asyncProperty(validRunInput(kind === 'fanOut'), async (input) => {
      const executions = new RecordingExecutions();
      const result = await precheck({ ...events[kind](), input }, { executions, claims: memoryClaims() });
      expect(result.run).toBe(true);
    }), settings());
  });

  it.each([['a single-task job', 'single'], ['a fan-out job', 'fanOut']] as const)('refuses mutated run inputs of %s', async (_what, kind) => {
    await fc.assert(fc.asyncProperty(validRunInput(kind === 'fanOut'), runMutation, async (input, m) => {
      const { value, malformed } = mutateRun(input, m);
      await expectRefusedOrRun({ ...events[kind](), input: value }, malformed);
    }), settings());
  });

  it('refuses run inputs of any JSON type but an object (null stands for no input)', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(junk, fc.anything({ maxDepth: 3 })), fc.boolean(), async (value, fanOutJob) => {
      await expectRefusedOrRun({ ...events[fanOutJob ? 'fanOut' : 'single'](), input: value }, value !== null && value !== undefined && !isPlainObject(value));
    }), settings());
  });
});
