// The stage's `params:` from serverless.yml (default merged under the stage), for commands that need the deploy's
// settings locally: `synth` (network ids in the definition) and `run --ecs aws` (the real cluster and subnets).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { type RawParams, type StageParams, toStageParams } from '../workflows/resources';
import { UsageError } from './errors';

export function readStageParams(stage: string, file = 'serverless.yml'): StageParams {
  let doc: { params?: Record<string, RawParams> };
  try {
    doc = parse(readFileSync(file, 'utf8')) ?? {};
  } catch (err) {
    throw new UsageError(`cannot read stage params from ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const params = doc.params ?? {};
  return toStageParams(stage, { ...params.default, ...params[stage] });
}

/** serverless.yml's provider.region as written (`${opt:region, 'eu-west-1'}`, a region, or undefined when unset). */
export function readProviderRegion(file = 'serverless.yml'): unknown {
  const doc = (parse(readFileSync(file, 'utf8')) ?? {}) as { provider?: { region?: unknown } };
  return doc.provider?.region;
}
