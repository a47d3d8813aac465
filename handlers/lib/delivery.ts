// Where notifications go, from the environment: SNS (NOTIFY_TOPIC_ARN) and Slack (SLACK_WEBHOOK_SECRET). Used by the
// notify Lambda and by `stepcron run --notify aws`.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from './errors';
import { slackPoster, type NotifyDeps } from './notify';

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/;

/**
 * The SNS and Slack channels the environment configures (also what `stepcron run --notify aws` delivers to).
 * NOTIFY_TOPIC_ARN is a topic ARN, or a topic name in the account and region of `arnOfCaller` (serverless.yml passes
 * the name: `sls invoke local` cannot resolve a CloudFormation Ref in an environment variable).
 */
export function deliveryFromEnv(arnOfCaller: () => string = () => ''): NotifyDeps {
  const topic = optionalEnv('NOTIFY_TOPIC_ARN');
  const slackSecret = optionalEnv('SLACK_WEBHOOK_SECRET');
  if (!topic && !slackSecret) {
    throw new ConfigError('NOTIFY_TOPIC_ARN', 'is not set and neither is SLACK_WEBHOOK_SECRET: notifications have nowhere to go');
  }
  if (topic && !TOPIC_ARN.test(topic) && !TOPIC_NAME.test(topic)) {
    throw new ConfigError('NOTIFY_TOPIC_ARN', `must be an SNS topic ARN or name, not '${topic}'`);
  }
  const deps: NotifyDeps = {};
  if (topic) {
    const sns = new SNSClient({});
    deps.publish = async (subject, message) => {
      await sns.send(new PublishCommand({ TopicArn: topicArn(topic, arnOfCaller()), Subject: subject, Message: message }));
    };
  }
  if (slackSecret) deps.slack = slackPoster(slackSecret, new SecretsManagerClient({}));
  return deps;
}

function topicArn(topic: string, caller: string): string {
  if (TOPIC_ARN.test(topic)) return topic;
  const [, partition, , region, account] = caller.split(':');
  if (!region || !account) throw new ConfigError('NOTIFY_TOPIC_ARN', `is a topic name ('${topic}'): give the full ARN outside Lambda`);
  return `arn:${partition}:sns:${region}:${account}:${topic}`;
}

/** An unset or empty variable means "not configured". */
function optionalEnv(name: string): string | undefined {
  return process.env[name]?.trim() || undefined;
}
