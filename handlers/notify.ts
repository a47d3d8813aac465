// Lambda entry for the Notify* states: parse the event, format and deliver with handlers/lib/notify.ts.
import middy from '@middy/core';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NotifyEventSchema, type NotifyResult } from './lib/contracts';
import { ConfigError, parseOrThrow } from './lib/errors';
import { notify, slackPoster, type NotifyDeps } from './lib/notify';

const local = Boolean(process.env.IS_LOCAL) && process.env.STEPCRON_NOTIFY !== 'aws';
const deps = local ? { print: (text: string) => console.log(text) } : deliveryFromEnv();

export const handler = middy().handler(async (event: unknown): Promise<NotifyResult> =>
  notify(parseOrThrow(NotifyEventSchema, event, 'event'), deps));

/** The SNS and Slack channels the environment configures (also what `stepcron run --notify aws` delivers to). */
export function deliveryFromEnv(): NotifyDeps {
  const topicArn = optionalEnv('NOTIFY_TOPIC_ARN');
  const slackSecret = optionalEnv('SLACK_WEBHOOK_SECRET');
  if (!topicArn && !slackSecret) {
    throw new ConfigError('NOTIFY_TOPIC_ARN', 'is not set and neither is SLACK_WEBHOOK_SECRET: notifications have nowhere to go');
  }
  if (topicArn && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/.test(topicArn)) {
    throw new ConfigError('NOTIFY_TOPIC_ARN', `must be an SNS topic ARN, not '${topicArn}'`);
  }
  const deps: NotifyDeps = {};
  if (topicArn) {
    const sns = new SNSClient({});
    deps.publish = async (subject, message) => {
      await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }));
    };
  }
  if (slackSecret) deps.slack = slackPoster(slackSecret, new SecretsManagerClient({}));
  return deps;
}

/** An unset or empty variable means "not configured". */
function optionalEnv(name: string): string | undefined {
  return process.env[name]?.trim() || undefined;
}
