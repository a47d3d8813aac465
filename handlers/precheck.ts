// Lambda entry for the Precheck state: parse the event, decide with handlers/lib/precheck.ts. EventBridge also calls
// it when a run of a buffer job ends ("Step Functions Execution Status Change"), to start the run that waited, and a
// schedule every few minutes calls it to reconcile: a waiting run whose status event was lost is started then.
import middy from '@middy/core';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { PrecheckEventSchema, type PrecheckResult, ReconcileEventSchema, RunEndedEventSchema } from './lib/contracts';
import { ConfigError, parseOrThrow } from './lib/errors';
import {
  type BufferedStart, type ClaimsPort, dynamoClaims, type ExecutionsPort, memoryClaims, precheck, reconcileBuffered, type ReconcileResult,
  type RestartPort, sfnExecutions, sfnRestart, startBuffered,
} from './lib/precheck';

const local = Boolean(process.env.IS_LOCAL) && process.env.STEPCRON_PRECHECK !== 'aws';
// `sls invoke local` has no deployed state machine to list and no table: behave as if no other run were in progress
// and nothing had been claimed.
const noExecutions: ExecutionsPort = { listRunning: async () => [], stop: async () => {} };
const noRestart: RestartPort = { input: async () => ({}), start: async () => {} };
const sfn = local ? undefined : new SFNClient({});
const executions = sfn ? sfnExecutions(sfn) : noExecutions;
const restart = sfn ? sfnRestart(sfn) : noRestart;
const claims: ClaimsPort = local ? memoryClaims() : dynamoClaims(new DynamoDBClient({}), claimsTable());

function claimsTable(): string {
  const table = process.env.CLAIMS_TABLE;
  if (!table) throw new ConfigError('CLAIMS_TABLE');
  return table;
}

export const handler = middy().handler(async (event: unknown): Promise<PrecheckResult | BufferedStart | ReconcileResult> => {
  if (typeof event === 'object' && event !== null && 'detail-type' in event) {
    return startBuffered(parseOrThrow(RunEndedEventSchema, event, 'event'), { executions, claims, restart });
  }
  if (typeof event === 'object' && event !== null && 'reconcile' in event) {
    return reconcileBuffered(parseOrThrow(ReconcileEventSchema, event, 'event'), { executions, claims, restart });
  }
  return precheck(parseOrThrow(PrecheckEventSchema, event, 'event'), { executions, claims });
});
