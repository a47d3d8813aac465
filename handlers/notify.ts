// Lambda entry for the Notify* states (format and deliver with handlers/lib/notify.ts) and for the runtime warning
// (arm it, and check it when its schedule calls back: handlers/lib/warnings.ts).
import middy from '@middy/core';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { NotifyEventSchema, type NotifyResult, WarningEventSchema } from './lib/notify-contracts';
import { deliveryFromEnv } from './lib/delivery';
import { parseOrThrow } from './lib/errors';
import { historyCost, logTail, type NotifyDeps, notify } from './lib/notify';
import { awsWarnings, runtimeWarning, type WarningResult } from './lib/warnings';

const local = Boolean(process.env.IS_LOCAL) && process.env.STEPCRON_NOTIFY !== 'aws';
const sfn = new SFNClient({});
const logs = new CloudWatchLogsClient({});
// A sample event names no execution or task that exists: `sls invoke local` prices nothing and reads no output.
const deps: NotifyDeps = local ? { print: (text: string) => console.log(text) }
  : { ...deliveryFromEnv(() => functionArn), cost: historyCost(sfn), tail: logTail(logs) };
/** This function's ARN, from the first invocation: a topic given by name lives in the same account and region. */
let functionArn = '';
// `sls invoke local` has no schedule to create and no execution to describe: print what would be scheduled.
const warnings = local
  ? { schedule: async (at: Date) => console.log(`runtime warning check scheduled for ${at.toISOString()}`), isRunning: async () => true }
  : awsWarnings(new SchedulerClient({}), sfn, () => functionArn);

type Context = { invokedFunctionArn?: string; getRemainingTimeInMillis?: () => number };

export const handler = middy().handler(async (event: unknown, context: Context): Promise<NotifyResult | WarningResult> => {
  functionArn ||= context?.invokedFunctionArn ?? '';
  if (typeof event === 'object' && event !== null && 'kind' in event) {
    return runtimeWarning(parseOrThrow(WarningEventSchema, event, 'event'), { ...deps, ...warnings });
  }
  // The history and the output are read only while the invocation has time left to deliver: a timed-out notify loses
  // the message.
  const remaining = context?.getRemainingTimeInMillis?.bind(context);
  return notify(parseOrThrow(NotifyEventSchema, event, 'event'),
    deps.cost && remaining ? { ...deps, cost: historyCost(sfn, remaining), tail: logTail(logs, remaining) } : deps);
});
