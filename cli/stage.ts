// The stage's `params:` from serverless.yml (default merged under the stage), for commands that need the deploy's
// settings locally: `synth` (network ids in the definition), `run --ecs aws` (the real cluster and subnets) and doctor.
// A param may be a Serverless variable: those osls resolves from this machine alone are resolved here as it would;
// the rest (`${ssm:...}`, `${cf:...}`, `${file(...)}`, ...) only `sls deploy` can know, and are said to be so.
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_CATALOG } from '../workflows/catalog';
import { type RawParams, STAGE_PARAM_NAMES, type StageParams, toStageParams } from '../workflows/resources';
import { UsageError } from './errors';

// CloudFormation's short forms (`!Sub`, `!Ref`, `!GetAtt A.Arn`, ...), read as the long forms `sls` turns them into: an
// unknown tag would otherwise print a YAMLWarning, and params may sit beside resources that use them.
const CFN_FUNCTIONS = ['Base64', 'Cidr', 'FindInMap', 'GetAtt', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub', 'Transform', 'And', 'Equals', 'If', 'Not', 'Or', 'Condition', 'Ref'];
const cfnKey = (name: string) => (name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`);
const CFN_TAGS = CFN_FUNCTIONS.flatMap((name) => [
  { tag: `!${name}`, resolve: (text: string) => ({ [cfnKey(name)]: name === 'GetAtt' ? text.split('.') : text }) },
  { tag: `!${name}`, collection: 'seq' as const, resolve: (seq: { toJSON(): unknown }) => ({ [cfnKey(name)]: seq.toJSON() }) },
  { tag: `!${name}`, collection: 'map' as const, resolve: (map: { toJSON(): unknown }) => ({ [cfnKey(name)]: map.toJSON() }) },
]);

type Doc = { params?: Record<string, Record<string, unknown> | null>; provider?: { region?: unknown } };

/** serverless.yml as last parsed, per path, while its size and mtime stay the same: one command asks several times. */
const parsed = new Map<string, { stamp: string; doc: Doc }>();

function readServerless(file: string): Doc {
  try {
    const { size, mtimeMs } = statSync(file);
    const stamp = `${size}:${mtimeMs}`;
    const known = parsed.get(file);
    if (known?.stamp === stamp) return known.doc;
    const doc = (parse(readFileSync(file, 'utf8'), { customTags: CFN_TAGS }) ?? {}) as Doc;
    parsed.set(file, { stamp, doc });
    return doc;
  } catch (err) {
    throw new UsageError(`cannot read stage params from ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** A param only `sls deploy` can resolve: its name, the variable, and why it is not resolved here. */
export interface DeployTimeParam {
  name: string;
  variable: string;
  why: string;
}

/**
 * What stands in for a param resolved at deploy, so that synth and run go on (a value's own `, 'default'` is not used:
 * the deploy takes the source's value whenever there is one). Each is valid where it goes and is nobody's real value:
 * synth and run say so on stderr, doctor says the param is not checked.
 */
export const DEPLOY_TIME_PLACEHOLDERS: Readonly<Record<string, string>> = {
  cluster: 'resolved-at-deploy', subnets: 'subnet-00000000000000000', securityGroups: 'sg-00000000000000000', assignPublicIp: 'DISABLED',
  notifyEmails: '', slackWebhookSecret: 'resolved-at-deploy', enabledJobs: '*',
};

/** Outcome of one variable: its value, a source only the deploy reads, or why `sls deploy` itself would stop. */
type Resolved = { value: unknown } | { deployTime: string; why: string } | { error: string };

// osls's own parser of `${source(params):address, fallback}` (its syntax and its errors); loaded when a value has one.
type Source = { type?: string; value?: unknown; address?: Meta; params?: Meta[] };
type Meta = { value: unknown; variables?: Array<{ start?: number; end?: number; sources: Source[] }> };
const parseVariables = (text: string): Meta['variables'] | null => require('osls/lib/configuration/variables/parse')(text);

/**
 * serverless.yml's params for the stage with their variables resolved as osls resolves them offline: `env`, `opt`
 * (`stage`, `region`), `sls:stage`, `self` and `param` (within the file), each with its fallback. `errors`: what
 * `sls deploy` would stop at (a `self`/`param` value that is not there, a malformed variable), one per param.
 */
export function resolveStageParams(stage: string, file = 'serverless.yml', options: ResolveOptions = {}):
  { raw: RawParams; deployTime: DeployTimeParam[]; errors: string[] } {
  const { merged, resolve } = paramResolver(stage, file, options);
  const raw: Record<string, unknown> = {};
  const deployTime: DeployTimeParam[] = [];
  const errors: string[] = [];
  for (const name of STAGE_PARAM_NAMES) {
    if (!(name in merged)) continue;
    const got = resolve(name);
    if ('value' in got) raw[name] = got.value;
    else {
      if ('error' in got) errors.push(`${name}: ${got.error}: sls deploy stops at it`);
      else deployTime.push({ name, variable: got.deployTime, why: got.why });
      // The placeholder: the checks that follow look at the other params, not at this one again.
      raw[name] = DEPLOY_TIME_PLACEHOLDERS[name];
    }
  }
  return { raw: raw as RawParams, deployTime, errors };
}

/** `region`: sls's --region; `params`: sls's `--param key=value`, which osls takes before serverless.yml's params. */
type ResolveOptions = { region?: string | undefined; params?: Record<string, string> };

/** Resolves one param of the stage as osls would offline (see resolveStageParams); `merged`: default under the stage. */
function paramResolver(stage: string, file: string, options: ResolveOptions = {}) {
  const doc = readServerless(file);
  const params = doc.params ?? {};
  // As osls's param source: the stage's value unless it is null, else default's.
  const merged: Record<string, unknown> = {};
  for (const scope of [params.default, params[stage]]) {
    for (const [name, value] of Object.entries(scope ?? {})) if (value != null) merged[name] = value;
  }
  Object.assign(merged, options.params);
  const opts: Record<string, string | undefined> = { stage, region: options.region };

  function text(value: unknown, depth: number): Resolved {
    if (Array.isArray(value)) {
      const items = value.map((v) => text(v, depth));
      return items.find((r) => !('value' in r)) ?? { value: items.map((r) => (r as { value: unknown }).value) };
    }
    if (typeof value !== 'string' || !value.includes('${')) return { value };
    if (depth > 10) return { error: `variables refer to each other in a loop at '${value}'` };
    let variables: Meta['variables'] | null;
    try {
      variables = parseVariables(value);
    } catch (err) {
      return { error: (err as Error).message };
    }
    if (!variables) return { value };
    const parts: unknown[] = [];
    let last = 0;
    for (const v of variables) {
      const got = variable(v.sources, value.slice(v.start ?? 0, v.end ?? value.length), depth);
      if (!('value' in got)) return got;
      // A whole-value variable keeps its type (a list from self:); within text, osls coerces to a string.
      if (v.end === undefined) return got;
      parts.push(value.slice(last, v.start), typeof got.value === 'object' ? JSON.stringify(got.value) : String(got.value));
      last = v.end;
    }
    return { value: [...parts, value.slice(last)].join('') };
  }

  function variable(sources: Source[], written: string, depth: number): Resolved {
    for (const source of sources) {
      if (!source.type) return { value: source.value };
      let address: unknown = source.address?.value;
      if (source.address?.variables) {
        const inner = text(address, depth + 1);
        if (!('value' in inner)) return inner;
        address = inner.value;
      }
      const key = address === undefined ? '' : String(address);
      let found: unknown;
      if (source.type === 'env') found = process.env[key];
      else if (source.type === 'opt') found = opts[key];
      else if (source.type === 'sls' && key === 'stage') found = stage;
      else if (source.type === 'self') found = key.split('.').reduce<unknown>((at, k) => (at as Record<string, unknown> | undefined)?.[k], doc);
      else if (source.type === 'param') found = merged[key];
      else return { deployTime: written, why: `${source.type}: is read by sls deploy` };
      if (found != null) return source.type === 'self' || source.type === 'param' ? text(found, depth + 1) : { value: found };
      if (source === sources.at(-1)) {
        // Said as osls would; an environment variable or option may well be set where the deploy runs.
        if (source.type === 'env') return { deployTime: written, why: `${key} is not set here` };
        if (source.type === 'opt') return { deployTime: written, why: `an option of sls deploy (--${key})` };
        return { error: `${written}: value not found at "${source.type}" source` };
      }
    }
    return { value: null };
  }

  return { doc, merged, resolve: (name: string): Resolved => text(merged[name], 0) };
}

/**
 * The stage's params as synth and run use them: a param only the deploy can resolve takes its placeholder, said on
 * stderr; one `sls deploy` would stop at stops here too. `params`: `--param key=value` given as to sls (plan), first.
 */
export function readStageParams(stage: string, file = 'serverless.yml',
  warn = (line: string, _param: string) => void process.stderr.write(`${line}\n`), params?: Record<string, string>): StageParams {
  const { raw, deployTime, errors } = resolveStageParams(stage, file, { ...(params && { params }) });
  if (errors.length) throw new UsageError(`stage ${stage} params in ${file}: ${errors.join('; ')}`);
  for (const p of deployTime) warn(`stepcron: params ${p.name} is ${p.variable} (${p.why}): using the placeholder '${DEPLOY_TIME_PLACEHOLDERS[p.name]}' here`, p.name);
  return toStageParams(stage, raw);
}

/**
 * The catalog the stage deploys, as `sls package|deploy` reads it (workflows/serverless.cjs): the stage's `catalog`
 * param, else default's, else workflows/jobs.yml; relative to serverless.yml's folder. The CLI's --catalog default.
 */
export function stageCatalog(stage: string, file = 'serverless.yml'): string {
  const { merged, resolve } = paramResolver(stage, file);
  if (merged.catalog == null || merged.catalog === '') return resolvePath(dirname(file), DEFAULT_CATALOG);
  const got = resolve('catalog');
  if (!('value' in got)) {
    const why = 'error' in got ? got.error : `${got.deployTime}: ${got.why}`;
    throw new UsageError(`stage ${stage} params in ${file}: catalog: ${why}: give the catalog with --catalog <file>`);
  }
  return resolvePath(dirname(file), String(got.value));
}

/** The stages serverless.yml's params name, `default` aside (none: every stage takes default's values alone). */
export function knownStages(file = 'serverless.yml'): string[] {
  return Object.keys(readServerless(file).params ?? {}).filter((stage) => stage !== 'default');
}

/** Where the stage's enabledJobs is set, for messages: `params.dev.enabledJobs` or `params.default.enabledJobs`. */
export function enabledJobsKey(stage: string, file = 'serverless.yml'): string {
  return `params.${readServerless(file).params?.[stage]?.enabledJobs != null ? stage : 'default'}.enabledJobs`;
}

/** serverless.yml's provider.region as written (`${opt:region, 'eu-west-1'}`, a region, or undefined when unset). */
export function readProviderRegion(file = 'serverless.yml'): unknown {
  return readServerless(file).provider?.region;
}
