import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { NotifyEventSchema, type NotifyEvent } from '../handlers/lib/contracts';
import { DELIVERY_RESERVE_MS, failedTask, formatNotification, historyCost, logTail, notify, slackPoster } from '../handlers/lib/notify';
import { loadEvent } from './events';

const event = (name: string) => loadEvent<NotifyEvent>(name);
/** 4m 12s after the sample runs started. */
const at = (e: NotifyEvent) => new Date(Date.parse(e.startTime) + 252_000);
const lines = (message: string) => message.split('\n');

const NIGHTLY_EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:stepcron-dev-nightly-report:5e0c8a34-1f7b-4d2e-9a61-3c8f0b7d2e94';
const NIGHTLY_TASK_ID = '3b9f2c1e8d7a4f6095b3e2c1d0a9f8e7';

describe('sample events', () => {
  const files = readdirSync(join(__dirname, '..', 'events')).filter((f) => f.startsWith('notify-'));

  it.each(files)('%s parses with NotifyEventSchema', (file) => {
    // Act
    const parsed = NotifyEventSchema.safeParse(loadEvent(file.replace(/\.json$/, '')));
    // Assess
    expect(parsed.error?.issues).toBeUndefined();
  });
});

describe('formatNotification', () => {
  it('success: the job, duration, exit code and links to the execution and the task log stream', () => {
    // Prepare
    const success = event('notify-success');
    // Act
    const { subject, message } = formatNotification(success, at(success));
    // Assess
    expect(subject).toBe('[stepcron dev] nightly-report SUCCEEDED');
    expect(lines(message)).toEqual([
      'Job: nightly-report',
      'Stage: dev',
      'Status: SUCCEEDED',
      // The sample's 01:30 UTC start on the job's (Europe/Berlin) clock.
      'Started: 2026-11-24 02:30 CET',
      'Duration: 4m 12s',
      'Attempts: 1',
      `Execution: https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${NIGHTLY_EXECUTION}`,
      'Logs: https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/' +
        `$252Fstepcron$252Fdev$252Fjobs/log-events/nightly-report$252Fjob$252F${NIGHTLY_TASK_ID}`,
    ]);
  });

  it('the start on the job\'s own clock, labelled with its zone (DST included); UTC without a zone or with one Intl does not know', () => {
    // Prepare: the same run of a job in several zones (the definition sends the catalog's timezone as a literal)
    const success = event('notify-success');
    const started = (extra: Partial<typeof success>) =>
      lines(formatNotification({ ...success, ...extra }, at(success)).message).find((l) => l.startsWith('Started: '));
    const { timezone: _zone, ...noZone } = success;
    // Act / Assess
    expect(started({ timezone: 'Australia/Sydney' })).toBe('Started: 2026-11-24 12:30 AEDT');
    expect(started({ timezone: 'Asia/Kolkata' })).toBe('Started: 2026-11-24 07:00 UTC+05:30');
    expect(started({ timezone: 'Europe/Berlin', startTime: '2026-07-24T00:30:00.000Z' })).toBe('Started: 2026-07-24 02:30 CEST');
    expect(lines(formatNotification(noZone, at(success)).message)).toContain('Started: 2026-11-24 01:30 UTC');
    expect(started({ timezone: 'Mars/Olympus_Mons' })).toBe('Started: 2026-11-24 01:30 UTC');
  });

  it('success after a sidecar failed the task: shows the exit code of the job container', () => {
    // Prepare
    const success = event('notify-success');
    success.task = { ...success.task!, exitCode: 0 };
    // Act
    const { subject, message } = formatNotification(success, at(success));
    // Assess
    expect(subject).toBe('[stepcron dev] nightly-report SUCCEEDED');
    expect(lines(message)).toContain('Exit code: 0');
  });

  it('failure: reads the exit code of the job container from the ECS Task JSON, not the raw JSON', () => {
    // Prepare
    const failure = event('notify-failure');
    // Act
    const { subject, message } = formatNotification(failure, at(failure));
    // Assess
    expect(subject).toBe('[stepcron dev] nightly-report FAILED (exit 2)');
    expect(lines(message)).toEqual(expect.arrayContaining([
      'Status: FAILED',
      'Attempts: 1',
      'Exit code: 2',
      'Stop code: EssentialContainerExited',
      'Stopped reason: Essential container in task exited',
      'Error: JobFailed',
    ]));
    expect(message).toContain(`log-events/nightly-report$252Fjob$252F${NIGHTLY_TASK_ID}`);
    expect(message).not.toContain('Containers');
    expect(message).not.toMatch(/^Cause:/m);
  });

  it('failure: judges the job container even when a sidecar is listed first', () => {
    // Prepare
    const failure = event('notify-failure');
    const task = JSON.parse(failure.outcome!.cause!) as { Containers: Array<{ Name: string; ExitCode?: number; Reason?: string }> };
    task.Containers = [
      { Name: 'log-router', ExitCode: 0 },
      { Name: 'job', ExitCode: 137, Reason: 'OutOfMemoryError: Container killed due to memory usage' },
    ];
    failure.outcome!.cause = JSON.stringify(task);
    // Act
    const { message } = formatNotification(failure, at(failure));
    // Assess
    expect(lines(message)).toEqual(expect.arrayContaining([
      'Exit code: 137',
      'Container reason: OutOfMemoryError: Container killed due to memory usage',
    ]));
  });

  it('failure: a task that never started has no exit code, only its stop code and reason', () => {
    // Prepare
    const failure = event('notify-failure');
    const task = JSON.parse(failure.outcome!.cause!) as Record<string, unknown>;
    Object.assign(task, {
      StopCode: 'TaskFailedToStart',
      StoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
      Containers: [{ Name: 'job' }, { Name: 'log-router' }],
    });
    failure.outcome!.cause = JSON.stringify(task);
    // Act
    const { subject, message } = formatNotification(failure, at(failure));
    // Assess
    expect(subject).toBe('[stepcron dev] nightly-report FAILED');
    expect(message).not.toContain('Exit code');
    expect(message).toContain('Stopped reason: CannotPullContainerError: pull image manifest has been retried 5 time(s)');
  });

  it('precheck failure: shows the Lambda error type and message from the cause', () => {
    // Prepare
    const failure = event('notify-failure');
    failure.outcome = {
      status: 'FAILED', error: 'PrecheckFailed', attempts: 0,
      cause: JSON.stringify({ errorType: 'InvalidInputError', errorMessage: 'input.items: must be a JSON array', trace: ['at x'] }),
    };
    // Act
    const { message } = formatNotification(failure, at(failure));
    // Assess
    expect(lines(message)).toEqual(expect.arrayContaining([
      'Error: PrecheckFailed',
      'Cause: InvalidInputError: input.items: must be a JSON array',
    ]));
    expect(message).not.toContain('Attempts');
    expect(message).not.toContain('Logs:');
  });

  it('failure: shortens a long plain-text cause to about 500 characters', () => {
    // Prepare
    const failure = event('notify-failure');
    failure.outcome!.error = 'JobStartFailed';
    failure.outcome!.cause = `RESOURCE:ENI ${'x'.repeat(2000)}`;
    // Act
    const { message } = formatNotification(failure, at(failure));
    // Assess
    const cause = lines(message).find((l) => l.startsWith('Cause: '))!;
    expect(cause.length).toBeLessThanOrEqual('Cause: '.length + 500);
    expect(cause).toMatch(/^Cause: RESOURCE:ENI x+\.\.\.$/);
  });

  it('timeout: says so, with the cause and a link to the log group', () => {
    // Prepare
    const timeout = event('notify-timeout');
    // Act
    const { subject, message } = formatNotification(timeout, at(timeout));
    // Assess
    expect(subject).toBe('[stepcron dev] hourly-cleanup TIMED_OUT');
    expect(lines(message)).toEqual(expect.arrayContaining([
      'Status: TIMED_OUT',
      'Error: JobTimedOut',
      'Cause: the task ran longer than timeoutSeconds (900) and was stopped',
      'Logs: https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fstepcron$252Fdev$252Fjobs',
    ]));
  });

  it('fan-out partial: a successful run still lists the items that failed', () => {
    // Prepare
    const partial = event('notify-fanout-partial');
    // Act
    const { subject, message } = formatNotification(partial, at(partial));
    // Assess
    expect(subject).toBe('[stepcron dev] tenant-sync SUCCEEDED, 2 of 40 items failed');
    expect(lines(message)).toEqual(expect.arrayContaining([
      'Status: SUCCEEDED',
      'Failed items: 2 of 40',
      '- #3 "umbrella": JobFailed, exit code 1, task 03c4e1f7a9b2d8460e93f5a7c1b3d5e7',
      '- #17 "tenant-18": JobTimedOut, the task ran longer than timeoutSeconds (600) and was stopped',
    ]));
    expect(message).not.toContain('... and');
  });

  it('fan-out failed: shows the first 20 failed items and counts the rest', () => {
    // Prepare
    const failed = event('notify-fanout-failed');
    // Act
    const { subject, message } = formatNotification(failed, at(failed));
    // Assess
    expect(subject).toBe('[stepcron dev] tenant-sync FAILED, 25 of 40 items failed');
    expect(lines(message)).toEqual(expect.arrayContaining([
      'Error: FanOutToleranceExceeded',
      'Cause: more than 10 of 40 items failed (25% tolerated)',
      'Failed items: 25 of 40',
      '... and 5 more',
    ]));
    expect(lines(message).filter((l) => l.startsWith('- #'))).toHaveLength(20);
  });

  it('fan-out: an item whose job never exited has no exit code', () => {
    // Prepare
    const partial = event('notify-fanout-partial');
    const failed = partial.results!.find((r) => r !== 'ok')!;
    failed.outcome.exitCode = null;
    // Act
    const { message } = formatNotification(partial, at(partial));
    // Assess
    expect(lines(message)).toContain('- #3 "umbrella": JobFailed, task 03c4e1f7a9b2d8460e93f5a7c1b3d5e7');
  });

  it('fan-out: shortens a long item', () => {
    // Prepare
    const partial = event('notify-fanout-partial');
    const failed = partial.results!.find((r) => r !== 'ok')!;
    failed.item = { tenant: 'acme', notes: 'n'.repeat(1000) };
    // Act
    const { message } = formatNotification(partial, at(partial));
    // Assess
    const line = lines(message).find((l) => l.startsWith('- #3 '))!;
    expect(line.length).toBeLessThan(300);
  });

  it('keeps the subject within what SNS accepts: 100 ASCII characters on one line', () => {
    // Prepare
    const success = event('notify-success');
    success.stage = 'prod\nzürich';
    success.job = `nightly-report-${'x'.repeat(120)}`;
    // Act
    const { subject } = formatNotification(success, at(success));
    // Assess
    expect(subject.length).toBe(100);
    expect(subject).toMatch(/^\[stepcron prod z\?rich\] nightly-report-x+\.\.\.$/);
  });

  it.each([
    [42_000, '42s'],
    [252_000, '4m 12s'],
    [3_723_000, '1h 2m'],
    [93_600_000, '1d 2h'],
  ])('after %i ms the duration reads %s (a payload without endTime counts to now)', (ms, text) => {
    // Prepare
    const success = event('notify-success');
    delete success.endTime;
    // Act
    const { message } = formatNotification(success, new Date(Date.parse(success.startTime) + ms));
    // Assess
    expect(lines(message)).toContain(`Duration: ${text}`);
  });
});

describe('notify', () => {
  let errors: jest.SpyInstance;
  beforeEach(() => {
    errors = jest.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => errors.mockRestore());

  it('sends the same message to SNS and Slack, the subject in bold on Slack', async () => {
    // Prepare
    const failure = event('notify-failure');
    const publish = jest.fn(async (_subject: string, _message: string) => {});
    const slack = jest.fn(async (_text: string) => {});
    // Act
    const result = await notify(failure, { publish, slack, now: () => at(failure) });
    // Assess
    expect(result.delivered).toEqual(['sns', 'slack']);
    expect(publish).toHaveBeenCalledWith(result.subject, result.message);
    expect(slack).toHaveBeenCalledWith(`*${result.subject}*\n${result.message}`);
  });

  it('escapes the characters Slack treats as markup', async () => {
    // Prepare
    const failure = event('notify-failure');
    failure.outcome!.cause = 'expected <id> & got nothing';
    const slack = jest.fn(async (_text: string) => {});
    // Act
    await notify(failure, { slack });
    // Assess
    expect(slack.mock.calls[0]![0]).toContain('Cause: expected &lt;id&gt; &amp; got nothing');
  });

  it('resolves with the channels that worked when one fails, and logs why the other failed', async () => {
    // Prepare
    const failure = event('notify-failure');
    const publish = jest.fn(async () => {
      throw new Error('AuthorizationError: not allowed to publish');
    });
    const slack = jest.fn(async () => {});
    // Act
    const result = await notify(failure, { publish, slack });
    // Assess
    expect(result.delivered).toEqual(['slack']);
    expect(errors).toHaveBeenCalledWith('stepcron notify: sns delivery failed: AuthorizationError: not allowed to publish');
  });

  it('rejects when every channel failed, naming each reason', async () => {
    // Prepare
    const failure = event('notify-failure');
    const publish = async () => {
      throw new Error('throttled');
    };
    const slack = async () => {
      throw new Error('Slack webhook answered HTTP 404');
    };
    // Act
    const outcome = notify(failure, { publish, slack });
    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'NotificationDeliveryError',
      message: 'sns: throttled; slack: Slack webhook answered HTTP 404',
    });
    expect(errors).toHaveBeenCalledTimes(2);
  });

  it('prints subject and message when only stdout is configured', async () => {
    // Prepare
    const success = event('notify-success');
    const print = jest.fn();
    // Act
    const result = await notify(success, { print });
    // Assess
    expect(result.delivered).toEqual(['stdout']);
    expect(print).toHaveBeenCalledWith(`${result.subject}\n\n${result.message}`);
  });
});

describe('notify: a run whose history cannot be read in time', () => {
  // The notify function has 30 s; reading up to 25 pages of a large run's history could take all of them, and a
  // timed-out notify loses the message (the definition's Catch goes on). The message goes out, the cost marked partial.
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());
  const priced = () => ({ ...event('notify-failure'), taskSize: { cpu: 256, memoryMiB: 512 } });
  const entered = { type: 'TaskStateEntered' as const, id: 1, timestamp: new Date('2026-11-24T01:30:00Z') };
  /** The Lambda's getRemainingTimeInMillis when `ms` are left beyond what delivery needs. */
  const remaining = (ms: number) => {
    const start = Date.now();
    return () => DELIVERY_RESERVE_MS + ms - (Date.now() - start);
  };

  it('stops reading a slow history when only the time to deliver is left, and publishes the cost marked partial', async () => {
    // Prepare: every page takes 50 ms and there is always another
    sfn.on(GetExecutionHistoryCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { events: [entered], nextToken: 'more' };
    });
    const publish = jest.fn(async (_subject: string, _message: string) => {});
    // Act
    const result = await notify(priced(), { publish, cost: historyCost(new SFNClient({ region: 'eu-west-1' }), remaining(300)) });
    // Assess
    const pages = sfn.commandCalls(GetExecutionHistoryCommand).length;
    expect(pages).toBeGreaterThan(1);
    expect(pages).toBeLessThan(25);
    expect(result.delivered).toEqual(['sns']);
    expect(publish.mock.calls[0]![1]).toMatch(/^Cost \(partial, at least\): \$\d+\.\d+ = \d+ transitions .*; priced from the first \d+ events of the run's history \(all that could be read in the time the notification had\)$/m);
  });

  it('gives up on a page that does not come in time, and publishes', async () => {
    // Prepare: the first page never comes
    sfn.on(GetExecutionHistoryCommand).callsFake(() => new Promise(() => {}));
    const publish = jest.fn(async (_subject: string, _message: string) => {});
    // Act
    await notify(priced(), { publish, cost: historyCost(new SFNClient({ region: 'eu-west-1' }), remaining(100)) });
    // Assess
    expect(publish).toHaveBeenCalledTimes(1);
    expect(publish.mock.calls[0]![1]).toMatch(/^Cost \(partial, at least\): .*priced from the first 0 events/m);
  });

  it('without a deadline (no Lambda context) waits for every page, however slow', async () => {
    // Prepare: pages that take longer than a timer of "forever" would wait, if it were clamped to 1 ms as Node does
    sfn.on(GetExecutionHistoryCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { events: [entered] };
    });
    // Act
    const cost = await historyCost(new SFNClient({ region: 'eu-west-1' }))(priced());
    // Assess: the one state entered, and the run's last state, which the notification counts ahead (FINAL_STATE)
    expect(cost).toMatchObject({ transitions: 2 });
    expect(cost).not.toHaveProperty('partial');
  });

  it('prices the whole history when there is time, without marking it partial', async () => {
    // Prepare
    sfn.on(GetExecutionHistoryCommand).resolvesOnce({ events: [entered], nextToken: 'p2' }).resolvesOnce({ events: [entered] });
    const publish = jest.fn(async (_subject: string, _message: string) => {});
    // Act
    await notify(priced(), { publish, cost: historyCost(new SFNClient({ region: 'eu-west-1' }), remaining(10_000)) });
    // Assess: two states entered, and the run's last state ahead, as the summary of a local run counts it
    expect(publish.mock.calls[0]![1]).toMatch(/^Cost: \$\d+\.\d+ = 3 transitions /m);
  });
});

describe('slackPoster', () => {
  const secrets = mockClient(SecretsManagerClient);
  afterEach(() => secrets.reset());
  const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/XXXX';
  const okFetch = () => jest.fn(async (_url: string | URL | Request, _init?: RequestInit) => new Response('ok', { status: 200 }));

  it('reads the webhook secret once across calls and posts {text} as JSON', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: WEBHOOK });
    const fetchImpl = okFetch();
    const post = slackPoster('stepcron/slack', new SecretsManagerClient({ region: 'eu-west-1' }), fetchImpl as typeof fetch);
    // Act
    await post('first');
    await post('second');
    // Assess
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'stepcron/slack' }]);
    expect(fetchImpl).toHaveBeenCalledTimes(2);
    const [url, init] = fetchImpl.mock.calls[1]!;
    expect(url).toBe(WEBHOOK);
    expect(init).toEqual(expect.objectContaining({ method: 'POST', body: JSON.stringify({ text: 'second' }) }));
    expect(init?.headers).toEqual({ 'content-type': 'application/json' });
  });

  it('accepts a JSON secret {"url": ...}', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ url: WEBHOOK }) });
    const fetchImpl = okFetch();
    // Act
    await slackPoster('stepcron/slack', new SecretsManagerClient({ region: 'eu-west-1' }), fetchImpl as typeof fetch)('hi');
    // Assess
    expect(fetchImpl.mock.calls[0]![0]).toBe(WEBHOOK);
  });

  it('rejects a secret that holds no URL without echoing its value', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"webhook":"s3cr3t"}' });
    const post = slackPoster('stepcron/slack', new SecretsManagerClient({ region: 'eu-west-1' }), okFetch() as typeof fetch);
    // Act
    const error = await post('hi').catch((err: Error) => err);
    // Assess
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^secret stepcron\/slack holds no Slack webhook URL/);
    expect((error as Error).message).not.toContain('s3cr3t');
  });

  it('throws on a non-2xx answer with the status', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: WEBHOOK });
    const fetchImpl = jest.fn(async () => new Response('no_service', { status: 404, statusText: 'Not Found' }));
    const post = slackPoster('stepcron/slack', new SecretsManagerClient({ region: 'eu-west-1' }), fetchImpl as typeof fetch);
    // Act
    const outcome = post('hi');
    // Assess
    await expect(outcome).rejects.toThrow('Slack webhook answered HTTP 404 Not Found');
  });

  it('reads the secret again after a failed read', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: WEBHOOK });
    const post = slackPoster('stepcron/slack', new SecretsManagerClient({ region: 'eu-west-1' }), okFetch() as typeof fetch);
    // Act
    const first = await post('hi').catch((err: Error) => err.message);
    await post('hi again');
    // Assess
    expect(first).toBe('throttled');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});

describe('notify handler', () => {
  type Handler = typeof import('../handlers/notify')['handler'];
  type Sns = typeof import('@aws-sdk/client-sns');
  type Secrets = typeof import('@aws-sdk/client-secrets-manager');
  type Sfn = typeof import('@aws-sdk/client-sfn');
  type Logs = typeof import('@aws-sdk/client-cloudwatch-logs');
  const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:stepcron-dev-notifications';
  const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/XXXX';
  const savedEnv = { ...process.env };
  const savedFetch = globalThis.fetch;
  let errors: jest.SpyInstance;
  beforeEach(() => {
    errors = jest.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => {
    process.env = { ...savedEnv };
    globalThis.fetch = savedFetch;
    errors.mockRestore();
  });

  /** The handler reads its env at load: load it afresh, with the SDKs it will use, so the mocks are the ones it calls. */
  function loadHandler(env: Record<string, string>) {
    for (const name of ['IS_LOCAL', 'STEPCRON_NOTIFY', 'NOTIFY_TOPIC_ARN', 'SLACK_WEBHOOK_SECRET']) delete process.env[name];
    Object.assign(process.env, { AWS_REGION: 'eu-west-1' }, env);
    let loaded!: {
      handler: Handler; sns: Sns; secrets: Secrets; sfn: Sfn; logs: Logs;
      snsMock: ReturnType<typeof mockClient>; secretsMock: ReturnType<typeof mockClient>; sfnMock: ReturnType<typeof mockClient>;
      logsMock: ReturnType<typeof mockClient>;
    };
    jest.isolateModules(() => {
      const sns = require('@aws-sdk/client-sns') as Sns;
      const secrets = require('@aws-sdk/client-secrets-manager') as Secrets;
      const sfn = require('@aws-sdk/client-sfn') as Sfn;
      const snsMock = mockClient(sns.SNSClient);
      const secretsMock = mockClient(secrets.SecretsManagerClient);
      const sfnMock = mockClient(sfn.SFNClient);
      const logs = require('@aws-sdk/client-cloudwatch-logs') as Logs;
      // Unanswered (undefined) unless a test says otherwise: no request ever leaves the machine.
      const logsMock = mockClient(logs.CloudWatchLogsClient);
      const { handler } = require('../handlers/notify') as typeof import('../handlers/notify');
      loaded = { handler, sns, secrets, sfn, logs, snsMock, secretsMock, sfnMock, logsMock };
    });
    return loaded;
  }

  it('publishes to the SNS topic with the subject and message', async () => {
    // Prepare
    const { handler, sns, snsMock } = loadHandler({ NOTIFY_TOPIC_ARN: TOPIC, SLACK_WEBHOOK_SECRET: '' });
    snsMock.on(sns.PublishCommand).resolves({ MessageId: 'm-1' });
    // Act
    const result = await handler(event('notify-failure'), {} as never);
    // Assess
    expect(result.delivered).toEqual(['sns']);
    expect(snsMock.commandCalls(sns.PublishCommand).map((c) => c.args[0].input)).toEqual([
      { TopicArn: TOPIC, Subject: '[stepcron dev] nightly-report FAILED (exit 2)', Message: result.message },
    ]);
  });

  it('bounds the history it reads by the invocation\'s remaining time (middy passes the Lambda context), and publishes', async () => {
    // Prepare: the history never answers; 200 ms are left beyond what delivery needs
    const { handler, sns, snsMock, sfn, sfnMock } = loadHandler({ NOTIFY_TOPIC_ARN: TOPIC, SLACK_WEBHOOK_SECRET: '' });
    snsMock.on(sns.PublishCommand).resolves({ MessageId: 'm-3' });
    sfnMock.on(sfn.GetExecutionHistoryCommand).callsFake(() => new Promise(() => {}));
    const start = Date.now();
    const context = { getRemainingTimeInMillis: () => DELIVERY_RESERVE_MS + 200 - (Date.now() - start) };
    // Act
    const result = await handler({ ...event('notify-failure'), taskSize: { cpu: 256, memoryMiB: 512 } }, context as never);
    // Assess
    expect(result.delivered).toEqual(['sns']);
    expect(snsMock.commandCalls(sns.PublishCommand)[0]!.args[0].input.Message).toMatch(/^Cost \(partial, at least\): /m);
  });

  it('reads the failed task\'s last 20 lines from its stream in the jobs log group, and publishes them', async () => {
    // Prepare
    const { handler, sns, snsMock, logs, logsMock } = loadHandler({ NOTIFY_TOPIC_ARN: TOPIC, SLACK_WEBHOOK_SECRET: '' });
    snsMock.on(sns.PublishCommand).resolves({ MessageId: 'm-4' });
    logsMock.on(logs.GetLogEventsCommand).resolves({ events: [{ message: 'nightly-report: query...\n' }, { message: 'REPORT_BUCKET is not set' }] });
    const start = Date.now();
    const context = { getRemainingTimeInMillis: () => DELIVERY_RESERVE_MS + 10_000 - (Date.now() - start) };
    // Act
    const result = await handler(event('notify-failure'), context as never);
    // Assess
    expect(logsMock.commandCalls(logs.GetLogEventsCommand).map((c) => c.args[0].input)).toEqual([{
      logGroupName: '/stepcron/dev/jobs', logStreamName: `nightly-report/job/${NIGHTLY_TASK_ID}`, startFromHead: false, limit: 20,
    }]);
    expect(snsMock.commandCalls(sns.PublishCommand)[0]!.args[0].input.Message)
      .toMatch(/\nOutput \(last 20 lines\):\n {2}nightly-report: query\.\.\.\n {2}REPORT_BUCKET is not set$/);
    expect(result.delivered).toEqual(['sns']);
  });

  it('completes a topic name with the function\'s own account and region (what serverless.yml passes)', async () => {
    // Prepare
    const { handler, sns, snsMock } = loadHandler({ NOTIFY_TOPIC_ARN: 'stepcron-dev-notifications' });
    snsMock.on(sns.PublishCommand).resolves({ MessageId: 'm-2' });
    // Act
    await handler(event('notify-failure'), { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:stepcron-dev-notify' } as never);
    // Assess
    expect(snsMock.commandCalls(sns.PublishCommand)[0]?.args[0].input.TopicArn).toBe('arn:aws:sns:eu-west-1:123456789012:stepcron-dev-notifications');
  });

  it('delivers to Slack when SNS fails', async () => {
    // Prepare
    globalThis.fetch = jest.fn(async () => new Response('ok', { status: 200 })) as typeof fetch;
    const { handler, sns, snsMock, secrets, secretsMock } = loadHandler({ NOTIFY_TOPIC_ARN: TOPIC, SLACK_WEBHOOK_SECRET: 'stepcron/slack' });
    snsMock.on(sns.PublishCommand).rejects(new Error('KMS key disabled'));
    secretsMock.on(secrets.GetSecretValueCommand).resolves({ SecretString: WEBHOOK });
    // Act
    const result = await handler(event('notify-timeout'), {} as never);
    // Assess
    expect(result.delivered).toEqual(['slack']);
    expect(globalThis.fetch).toHaveBeenCalledWith(WEBHOOK, expect.objectContaining({ method: 'POST' }));
    expect(errors).toHaveBeenCalledWith('stepcron notify: sns delivery failed: KMS key disabled');
  });

  it('rejects when SNS and Slack both fail, so the state machine records it', async () => {
    // Prepare
    globalThis.fetch = jest.fn(async () => new Response('', { status: 500 })) as typeof fetch;
    const { handler, sns, snsMock, secrets, secretsMock } = loadHandler({ NOTIFY_TOPIC_ARN: TOPIC, SLACK_WEBHOOK_SECRET: 'stepcron/slack' });
    snsMock.on(sns.PublishCommand).rejects(new Error('KMS key disabled'));
    secretsMock.on(secrets.GetSecretValueCommand).resolves({ SecretString: WEBHOOK });
    // Act
    const outcome = Promise.resolve(handler(event('notify-failure'), {} as never));
    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'NotificationDeliveryError' });
  });

  it('refuses a malformed event with InvalidInputError naming the field', async () => {
    // Prepare
    const { handler } = loadHandler({ NOTIFY_TOPIC_ARN: TOPIC });
    // Act
    const outcome = Promise.resolve(handler({ ...event('notify-failure'), status: 'ABORTED' }, {} as never));
    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/^event\.status: /) });
  });

  it('under sls invoke local, prints instead of publishing', async () => {
    // Prepare
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    const { handler, snsMock } = loadHandler({ IS_LOCAL: 'true', NOTIFY_TOPIC_ARN: TOPIC });
    // Act
    const result = await handler(event('notify-success'), {} as never);
    // Assess
    expect(result.delivered).toEqual(['stdout']);
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/^\[stepcron dev\] nightly-report SUCCEEDED\n\nJob: nightly-report/));
    expect(snsMock.calls()).toHaveLength(0);
    log.mockRestore();
  });

  it.each([
    [{}, /^environment variable NOTIFY_TOPIC_ARN is not set and neither is SLACK_WEBHOOK_SECRET/],
    [{ NOTIFY_TOPIC_ARN: '[object Object]' }, /^environment variable NOTIFY_TOPIC_ARN must be an SNS topic ARN or name/],
  ])('fails at load with ConfigError when misconfigured (%o)', (env, message) => {
    // Act
    const load = () => loadHandler(env);
    // Assess
    expect(load).toThrow(expect.objectContaining({ name: 'ConfigError', message: expect.stringMatching(message) }));
  });
});

describe('notify: Distributed Map fan-outs', () => {
  const base = { job: 'tenant-sync', stage: 'prod', execution: 'arn:aws:states:eu-west-1:123456789012:execution:stepcron-prod-tenant-sync:e1', startTime: '2026-11-24T02:00:00Z', logGroup: '/stepcron/prod/jobs' };
  const resultsAt = { bucket: 'stepcron-prod-fanoutbucket-1', prefix: 'results/tenant-sync/e1' };

  it('reports the counts and where the per-item results are when the run succeeded with failures', () => {
    // Act
    const { subject, message } = formatNotification({ ...base, status: 'SUCCEEDED', counts: { known: true, total: 100000, succeeded: 99988, failed: 12, timedOut: 0, aborted: 0 }, resultsAt }, new Date('2026-11-24T02:30:00Z'));
    // Assess
    expect(subject).toBe('[stepcron prod] tenant-sync SUCCEEDED, 12 of 100000 items failed');
    expect(message).toContain('Items: 100000 (99988 succeeded, 12 failed)');
    expect(message).toContain('Results: s3://stepcron-prod-fanoutbucket-1/results/tenant-sync/e1/ (FAILED_*.json lists each failed item)');
  });

  it('says so when the counts could not be read, and still names the failure', () => {
    // Act
    const { subject, message } = formatNotification({ ...base, status: 'FAILED', outcome: { status: 'FAILED', error: 'FanOutToleranceExceeded', cause: 'more than 10% of the items failed', attempts: 0, counts: { known: false }, resultsAt } });
    // Assess
    expect(subject).toBe('[stepcron prod] tenant-sync FAILED');
    expect(message).toContain('Error: FanOutToleranceExceeded');
    expect(message).toContain('Items: counts unavailable (the map run could not be described); see the results');
  });

  it('says nothing ran when the item list could not be read, and points at no results (none were written)', () => {
    // Act: the S3 object is missing, so there is no map run: no counts, no results
    const { message } = formatNotification({ ...base, status: 'FAILED', outcome: {
      status: 'FAILED', error: 'FanOutFailed', cause: 'States.ItemReaderFailed: s3://acme-items/tenants.json: The specified key does not exist.',
      attempts: 0, counts: { known: false }, resultsAt,
    } });
    // Assess
    expect(message).toContain('Items: none ran: the item list could not be read (see the cause)');
    expect(message).toContain('Cause: States.ItemReaderFailed: s3://acme-items/tenants.json: The specified key does not exist.');
    expect(message).not.toContain('counts unavailable');
    expect(message).not.toContain('Results:');
    // Rule: every line of a message is text meant for people: no stray `false`/`undefined` from a skipped line
    expect(message.split('\n').filter((line) => /^\s*(false|true|undefined|null|0)?\s*$/.test(line))).toEqual([]);
  });
});

describe('notify: the failed task\'s output (what cron\'s MAILTO mailed)', () => {
  const logs = mockClient(CloudWatchLogsClient);
  afterEach(() => logs.reset());
  const client = () => new CloudWatchLogsClient({ region: 'eu-west-1' });
  const remaining = (ms: number) => {
    const start = Date.now();
    return () => DELIVERY_RESERVE_MS + ms - (Date.now() - start);
  };
  const publishTo = () => jest.fn(async (_subject: string, _message: string) => {});
  const outputOf = (message: string) => message.slice(message.indexOf('Output (last 20 lines):'));

  it('ends a failure with the last lines of the task\'s stream, each cut to 500 characters', async () => {
    // Prepare
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: 'connecting to db' }, { message: 'x'.repeat(2000) }, { message: 'exit 2' }] });
    const publish = publishTo();
    // Act
    await notify(event('notify-failure'), { publish, tail: logTail(client(), remaining(10_000)) });
    // Assess
    expect(lines(outputOf(publish.mock.calls[0]![1]))).toEqual([
      'Output (last 20 lines):', '  connecting to db', `  ${'x'.repeat(497)}...`, '  exit 2',
    ]);
  });

  it('keeps only the last 20 lines when an event holds several (a multiline pattern)', async () => {
    // Prepare
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: 'start' }, { message: Array.from({ length: 25 }, (_, i) => `trace ${i}`).join('\n') }] });
    const publish = publishTo();
    // Act
    await notify(event('notify-failure'), { publish, tail: logTail(client(), remaining(10_000)) });
    // Assess
    expect(lines(outputOf(publish.mock.calls[0]![1]))).toEqual(['Output (last 20 lines):', ...Array.from({ length: 20 }, (_, i) => `  trace ${i + 5}`)]);
  });

  it('says in one line that a log that cannot be read was not, and publishes the rest', async () => {
    // Prepare: the stream is gone (30 days of retention) or was never written
    logs.on(GetLogEventsCommand).rejects(new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: {} }));
    const publish = publishTo();
    // Act
    const result = await notify(event('notify-failure'), { publish, tail: logTail(client(), remaining(10_000)) });
    // Assess
    expect(result.delivered).toEqual(['sns']);
    expect(lines(outputOf(publish.mock.calls[0]![1]))).toEqual([
      'Output (last 20 lines):', '  (the output cannot be read: The specified log stream does not exist.)',
    ]);
    expect(publish.mock.calls[0]![1]).toContain('Error: JobFailed');
  });

  it('gives up on a log that does not come before only the time to deliver is left, and publishes', async () => {
    // Prepare: the read never answers; 100 ms are left beyond what delivery needs
    logs.on(GetLogEventsCommand).callsFake(() => new Promise(() => {}));
    const publish = publishTo();
    // Act
    await notify(event('notify-failure'), { publish, tail: logTail(client(), remaining(100)) });
    // Assess
    expect(publish).toHaveBeenCalledTimes(1);
    expect(publish.mock.calls[0]![1]).toMatch(/^ {2}\(the output cannot be read: not read in the time the notification had\)$/m);
  });

  it('does not start a read when the deadline has already passed', async () => {
    // Prepare
    const publish = publishTo();
    // Act
    await notify(event('notify-failure'), { publish, tail: logTail(client(), () => DELIVERY_RESERVE_MS - 1) });
    // Assess
    expect(logs.commandCalls(GetLogEventsCommand)).toHaveLength(0);
    expect(publish.mock.calls[0]![1]).toContain('(the output cannot be read: not read in the time the notification had)');
  });

  it('reads the first failed fan-out item that ran a task; no task, no read', async () => {
    // Prepare
    const fanOut = event('notify-fanout-failed');
    const timeout = event('notify-timeout');
    // Act
    const task = failedTask(fanOut);
    // Assess: the first failed item with a task, as its outcome names it; a timeout's outcome names none
    expect(task).toBe('arn:aws:ecs:eu-west-1:123456789012:task/stepcron-dev/02c4e1f7a9b2d8460e93f5a7c1b3d5e7');
    expect(failedTask(timeout)).toBeUndefined();
    expect(failedTask(event('notify-success'))).toBeUndefined();
  });

  // A fan-out's tail comes from one of many items: the rule is that the notification says which, by its index and its
  // id as the run names it ([initech]), so nobody reads one tenant's output as another's.
  it('names the fan-out item whose task the tail comes from, beside the tail', async () => {
    // Prepare
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: 'syncing initech' }, { message: 'HTTP 503' }] });
    const publish = publishTo();
    // Act
    await notify(event('notify-fanout-failed'), { publish, tail: logTail(client(), remaining(10_000)) });
    // Assess: the first failed item that ran a task, #2 initech; its stream is the one read
    const message = publish.mock.calls[0]![1];
    expect(lines(message.slice(message.indexOf('Output')))).toEqual(['Output of item #2 [initech] (last 20 lines):', '  syncing initech', '  HTTP 503']);
    expect(logs.commandCalls(GetLogEventsCommand)[0]!.args[0].input.logStreamName).toBe('tenant-sync/job/02c4e1f7a9b2d8460e93f5a7c1b3d5e7');
    // The job's own task (no fan-out): no item named.
    await notify(event('notify-failure'), { publish, tail: async () => ['boom'] });
    expect(publish.mock.calls[1]![1]).toContain('\nOutput (last 20 lines):\n  boom');
  });

  it('reads nothing for a run that is only reported, not failed', async () => {
    // Prepare
    const publish = publishTo();
    const tail = jest.fn(async () => ['never']);
    // Act
    await notify(event('notify-success'), { publish, tail });
    // Assess
    expect(tail).not.toHaveBeenCalled();
    expect(publish.mock.calls[0]![1]).not.toContain('Output');
  });

  it('locally, names the run and the command that prints its whole output instead of console URLs', async () => {
    // Prepare
    const publish = publishTo();
    const local = { execution: '20261207T201102Z-1963', logs: 'npx stepcron logs nightly-report 20261207T201102Z-1963' };
    // Act
    await notify(event('notify-failure'), { publish, local, tail: async () => ['boom'] });
    // Assess
    const message = publish.mock.calls[0]![1];
    expect(message).toContain('Execution: 20261207T201102Z-1963\nLogs: npx stepcron logs nightly-report 20261207T201102Z-1963\nOutput (last 20 lines):\n  boom');
    expect(message).not.toContain('console.aws.amazon.com');
  });
});

describe('the output tail as a reader sees it', () => {
  it('shows terminal control characters escaped (a screen clear, a title, a CR that hides a line, BEL), keeping tabs', () => {
    // Act
    const { message } = formatNotification(event('notify-failure'), new Date('2026-12-07T10:00:00Z'),
      { tail: ['\u001b[31mred\u001b[0m \u001b]0;owned\u0007', 'progress 10%\rprogress 100%', 'a\tb'] });
    // Assess
    expect(message).toContain('  \\u001b[31mred\\u001b[0m \\u001b]0;owned\\u0007\n');
    expect(message).toContain('  progress 10%\\u000dprogress 100%\n');
    expect(message).toContain('  a\tb');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no raw control character may remain
    expect(message).not.toMatch(/[\u001b\u0007\r]/);
  });
});
