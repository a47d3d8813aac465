// Lambda entry for the Notify* states: parse the event, format and deliver with handlers/lib/notify.ts.
import middy from '@middy/core';
import { NotifyEventSchema, type NotifyResult } from './lib/contracts';
import { deliveryFromEnv } from './lib/delivery';
import { parseOrThrow } from './lib/errors';
import { notify } from './lib/notify';

const local = Boolean(process.env.IS_LOCAL) && process.env.STEPCRON_NOTIFY !== 'aws';
const deps = local ? { print: (text: string) => console.log(text) } : deliveryFromEnv(() => functionArn);
/** This function's ARN, from the first invocation: a topic given by name lives in the same account and region. */
let functionArn = '';

export const handler = middy().handler(async (event: unknown, context: { invokedFunctionArn?: string }): Promise<NotifyResult> => {
  functionArn ||= context?.invokedFunctionArn ?? '';
  return notify(parseOrThrow(NotifyEventSchema, event, 'event'), deps);
});
