// Lambda entry for the Precheck state: parse the event, decide with handlers/lib/precheck.ts.
import middy from '@middy/core';
import { SFNClient } from '@aws-sdk/client-sfn';
import { PrecheckEventSchema, type PrecheckResult } from './lib/contracts';
import { parseOrThrow } from './lib/errors';
import { precheck, sfnExecutions, type ExecutionsPort } from './lib/precheck';

const local = Boolean(process.env.IS_LOCAL) && process.env.STEPCRON_PRECHECK !== 'aws';
// `sls invoke local` has no deployed state machine to list: behave as if no other run were in progress.
const noExecutions: ExecutionsPort = { listRunning: async () => [], stop: async () => {} };
const executions = local ? noExecutions : sfnExecutions(new SFNClient({}));

export const handler = middy().handler(async (event: unknown): Promise<PrecheckResult> =>
  precheck(parseOrThrow(PrecheckEventSchema, event, 'event'), { executions }));
