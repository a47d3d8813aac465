// One concise message per run outcome, delivered to every configured channel independently.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { FAILURE, ITEM_OK, JOB_CONTAINER } from '../../workflows/compile';
import { itemId } from '../../workflows/items';
import type { ItemResult, NotifyEvent, NotifyResult } from './notify-contracts';
import { DeliveryError } from './errors';
import { GetExecutionHistoryCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { type CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { type Cost, formatCost, type HistoryEvent, priceRun, usageFromHistory } from '../../workflows/cost';
import { localTime } from '../../workflows/times';

/** What a run cost; `partial` says what was left out when its whole history could not be read in time. */
export type RunCost = Cost & { partial?: string };

export interface NotifyDeps {
  /** What the run cost so far (workflows/cost.ts); a failure to price it leaves the line out, never the message. */
  cost?: (event: NotifyEvent) => Promise<RunCost | undefined>;
  /**
   * The failed task's last lines of output (what cron's MAILTO mailed), at most TAIL_LINES; a failure to read them is
   * one line of the message, never the message.
   */
  tail?: (event: NotifyEvent, taskArn: string) => Promise<string[]>;
  /** The local runner: the run's name and the command that prints its whole output, instead of console URLs. */
  local?: { execution: string; logs: string };
  publish?: (subject: string, message: string) => Promise<void>;
  slack?: (text: string) => Promise<void>;
  print?: (text: string) => void;
  now?: () => Date;
}

/** SNS refuses longer subjects (and non-ASCII or line breaks in them). */
const MAX_SUBJECT = 100;
const MAX_CAUSE = 500;
const MAX_ITEM_JSON = 200;
const ITEMS_SHOWN = 20;
/** Lines of output a failure ends with, each cut to MAX_TAIL_LINE: 10 KB at most, within SNS's 256 KB and Slack's 40,000 characters. */
export const TAIL_LINES = 20;
const MAX_TAIL_LINE = 500;
const SLACK_TIMEOUT_MS = 10_000;

type FailedItem = Exclude<ItemResult, typeof ITEM_OK>;

/** What a run's ending says about its task: from the notify payload or from the ECS Task JSON in a cause. */
interface TaskReport {
  taskArn?: string;
  exitCode?: number;
  stopCode?: string;
  stoppedReason?: string;
  /** The job container's own reason, e.g. OutOfMemoryError. */
  containerReason?: string;
  /** Anything else the cause said, shortened. */
  text?: string;
}

/** What notify() read besides the event: the run's cost, the failed task's output, the local run's links. */
export interface Extras {
  cost?: RunCost | undefined;
  /** The output's last lines, or the one line saying why they could not be read. */
  tail?: string[] | undefined;
  local?: NotifyDeps['local'];
}

export function formatNotification(event: NotifyEvent, now: Date = new Date(), { cost, tail, local }: Extras = {}): { subject: string; message: string } {
  const outcome = event.outcome;
  const report: TaskReport = {
    ...(event.task && { taskArn: event.task.taskArn, ...defined('exitCode', event.task.exitCode) }),
    ...(outcome?.cause !== undefined && readCause(outcome.cause)),
  };
  const results = event.results ?? outcome?.results;
  const failed = results?.filter((r): r is FailedItem => r !== ITEM_OK) ?? [];
  const attempts = event.attempts ?? outcome?.attempts;
  // A Distributed Map fan-out reports counts and where its per-item results are, not the items themselves.
  const counts = event.counts ?? outcome?.counts;
  const resultsAt = event.resultsAt ?? outcome?.resultsAt;
  const started = Date.parse(event.startTime);
  const fast = tooFast(event, now);
  const ended = endOf(event, now);
  const execution = local ? local.execution : executionUrl(event.execution);
  // A known task links its own stream; fan-out items (which name their task) and timeouts link the log group.
  const logs = local ? local.logs : report.taskArn ? logsUrl(event, report.taskArn)
    : results || counts || event.status === 'TIMED_OUT' ? logsUrl(event) : undefined;
  // A fan-out item's output: which item wrote it, named as the local run names it on its lines ([acme]).
  const tailItem = tail && tailSource(event).item;
  // The item list could not be read (a missing S3 object): no map run, so no counts and no results, and nothing ran.
  const unread = outcome?.error === FAILURE.fanOut && outcome.cause?.startsWith('States.ItemReaderFailed');

  const headline = [
    event.status,
    report.exitCode !== undefined && event.status !== 'SUCCEEDED' ? ` (exit ${report.exitCode})` : '',
    results && failed.length > 0 ? `, ${failed.length} of ${results.length} items failed` : '',
    counts?.known && counts.failed ? `, ${counts.failed} of ${counts.total} items failed` : '',
    fast ? ', suspiciously fast' : '',
  ].join('');
  // Typed so that a `cond && text` yielding false cannot reach the message (as a line reading `false`).
  const lines: Array<string | undefined> = [
    `Job: ${event.job}`,
    `Stage: ${event.stage}`,
    `Status: ${event.status}`,
    // When it started, on the job's clock (a scheduled run starts at its scheduled time): 02:30 CET, not 01:30Z.
    Number.isNaN(started) ? undefined : `Started: ${startedText(started, event.timezone)}`,
    Number.isNaN(started) ? undefined : `Duration: ${formatDuration(ended - started)}`,
    fast ? `Warning: succeeded in less than minRuntimeSeconds (${event.minRuntimeSeconds} s): did it do its work?` : undefined,
    attempts ? `Attempts: ${attempts}` : undefined,
    ...describeTask(report),
    outcome && `Error: ${outcome.error}`,
    report.text && `Cause: ${report.text}`,
    ...(results ? describeFailedItems(failed, results.length) : []),
    unread ? 'Items: none ran: the item list could not be read (see the cause)' : counts && (counts.known
      ? `Items: ${counts.total} (${counts.succeeded} succeeded, ${counts.failed} failed${counts.timedOut ? `, ${counts.timedOut} timed out` : ''}${counts.aborted ? `, ${counts.aborted} aborted` : ''})`
      : 'Items: counts unavailable (the map run could not be described); see the results'),
    resultsAt && !unread ? `Results: s3://${resultsAt.bucket}/${resultsAt.prefix}/ (FAILED_*.json lists each failed item)` : undefined,
    cost && (cost.partial ? `Cost (partial, at least): ${formatCost(cost)}; ${cost.partial}` : `Cost: ${formatCost(cost)}`),
    execution && `Execution: ${execution}`,
    logs && `Logs: ${logs}`,
    ...(tail ? [`Output${tailItem ? ` of item #${tailItem.index} [${visible(itemId(tailItem.item))}]` : ''} (last ${TAIL_LINES} lines):`, ...tail.map((line) => `  ${shorten(visible(line), MAX_TAIL_LINE)}`)] : []),
  ];
  return {
    subject: toSubject(`[stepcron ${event.stage}] ${event.job} ${headline}`),
    message: lines.filter((line) => line !== undefined && line !== '').join('\n'),
  };
}

/**
 * Formats and delivers the run's outcome. A success is delivered when the job notifies on success, when some items
 * failed (within the tolerance), or when it was faster than minRuntimeSeconds; otherwise it is only returned.
 */
export async function notify(event: NotifyEvent, deps: NotifyDeps): Promise<NotifyResult> {
  const now = deps.now?.();
  const quiet = event.status === 'SUCCEEDED' && event.onSuccess === false && !tooFast(event, now ?? new Date())
    && !anyItemFailed(event);
  if (quiet) return { delivered: [], ...formatNotification(event, now, { local: deps.local }) };
  const task = failedTask(event);
  // Both within the same deadline (historyCost, logTail), read side by side.
  const [cost, tail] = await Promise.all([
    deps.cost?.(event).catch((err: Error) => {
      console.error(`stepcron notify: cannot price the run: ${err.message}`);
      return undefined;
    }),
    task && deps.tail?.(event, task).catch((err: Error) => [`(the output cannot be read: ${shorten(err.message, MAX_CAUSE)})`]),
  ]);
  const { subject, message } = formatNotification(event, now, { cost, tail: tail || undefined, local: deps.local });
  return deliver(subject, message, deps);
}

/** Sends to every configured channel; throws only when all of them failed, so one outage never hides a run. */
export async function deliver(subject: string, message: string, deps: NotifyDeps): Promise<NotifyResult> {
  const { publish, slack, print } = deps;
  const channels: Array<[string, () => Promise<void>]> = [];
  if (publish) channels.push(['sns', () => publish(subject, message)]);
  if (slack) channels.push(['slack', () => slack(`*${escapeSlack(subject)}*\n${escapeSlack(message)}`)]);
  if (print) channels.push(['stdout', async () => print(`${subject}\n\n${message}`)]);
  if (channels.length === 0) throw new Error('no notification channel is configured');

  const results = await Promise.allSettled(channels.map(([, send]) => send()));
  const delivered: string[] = [];
  const failures: Record<string, string> = {};
  results.forEach((result, i) => {
    const channel = channels[i]![0];
    if (result.status === 'fulfilled') {
      delivered.push(channel);
      return;
    }
    const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
    failures[channel] = reason;
    console.error(`stepcron notify: ${channel} delivery failed: ${reason}`);
  });
  if (delivered.length === 0) throw new DeliveryError(failures);
  return { delivered, subject, message };
}

/**
 * A run's transitions, in its notification as in the local run's summary: every state entered, the run's last
 * (Succeeded or Failed) included. Every notify state goes on to that one, so a notification counts it ahead.
 */
export const FINAL_STATE = 1;

/** Pages of history read to price a run: a run's history holds at most 25,000 events (AWS's limit). */
const MAX_HISTORY_PAGES = 25;
/**
 * Time the function keeps for delivering once it has priced the run: Slack's timeout and a margin for SNS. Reading
 * the history of the largest runs can take longer than the function has; the message must go out anyway.
 */
export const DELIVERY_RESERVE_MS = SLACK_TIMEOUT_MS + 5_000;

/**
 * Prices a run on AWS from its execution history (workflows/cost.ts usageFromHistory). With `remainingMs` (the
 * Lambda context's getRemainingTimeInMillis), reading stops when only DELIVERY_RESERVE_MS is left, a page that does
 * not come in time included, and what was read is priced, marked partial.
 */
export function historyCost(sfn: SFNClient, remainingMs: () => number = () => Number.POSITIVE_INFINITY): NonNullable<NotifyDeps['cost']> {
  return async (event) => {
    if (!event.taskSize) return undefined;
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    let partial: string | undefined;
    for (let page = 0; ; page++) {
      const left = remainingMs() - DELIVERY_RESERVE_MS;
      if (page === MAX_HISTORY_PAGES || left <= 0) {
        partial = `priced from the first ${events.length} events of the run's history (${page === MAX_HISTORY_PAGES ? `${MAX_HISTORY_PAGES} pages` : 'all that could be read in the time the notification had'})`;
        break;
      }
      const result = await within(left, (abortSignal) => sfn.send(
        new GetExecutionHistoryCommand({ executionArn: event.execution, maxResults: 1000, nextToken }), { abortSignal }));
      if (result === undefined) {
        partial = `priced from the first ${events.length} events of the run's history (all that could be read in the time the notification had)`;
        break;
      }
      events.push(...(result.events ?? []) as HistoryEvent[]);
      nextToken = result.nextToken;
      if (!nextToken) break;
    }
    const usage = usageFromHistory(events, event.taskSize);
    usage.transitions += FINAL_STATE;
    return { ...priceRun(usage), ...(partial !== undefined && { partial }) };
  };
}

/**
 * The failed task's last TAIL_LINES lines from its awslogs stream (`<job>/job/<task id>` in the event's log group),
 * within the same deadline as historyCost; what cannot be read in time says so.
 */
export function logTail(logs: CloudWatchLogsClient, remainingMs: () => number = () => Number.POSITIVE_INFINITY): NonNullable<NotifyDeps['tail']> {
  return async (event, taskArn) => {
    const left = remainingMs() - DELIVERY_RESERVE_MS;
    const result = left > 0 ? await within(left, (abortSignal) => logs.send(new GetLogEventsCommand({
      logGroupName: event.logGroup, logStreamName: `${event.job}/${JOB_CONTAINER}/${taskId(taskArn)}`, startFromHead: false, limit: TAIL_LINES,
    }), { abortSignal })) : undefined;
    if (!result) throw new Error('not read in the time the notification had');
    // An event is usually one line; one that holds several (a multiline pattern) still gives only the last lines.
    const lines = (result.events ?? []).flatMap((e) => (e.message ?? '').replace(/\r?\n$/, '').split(/\r?\n/)).slice(-TAIL_LINES);
    return lines.length ? lines : ['(none: the task wrote nothing)'];
  };
}

/**
 * The task whose output a notification shows: the one the failure's cause names, else the first failed fan-out item
 * that ran a task (a Distributed Map's items are in S3, not here), with that item.
 */
function tailSource(event: NotifyEvent): { taskArn?: string; item?: FailedItem } {
  const cause = event.status === 'SUCCEEDED' ? undefined : event.outcome?.cause;
  const own = cause === undefined ? undefined : readCause(cause).taskArn;
  if (own) return { taskArn: own };
  const item = (event.results ?? event.outcome?.results)?.find((r): r is FailedItem => r !== ITEM_OK && r.outcome.taskArn !== undefined);
  return item ? { taskArn: item.outcome.taskArn!, item } : {};
}

/** The task whose output a notification shows (tailSource). */
export function failedTask(event: NotifyEvent): string | undefined {
  return tailSource(event).taskArn;
}

/** The call's answer, or undefined (and the call aborted) when it takes longer than `ms`. */
async function within<T>(ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
  const abort = new AbortController();
  // setTimeout fires at once for a delay past 2^31-1 ms (about 24 days), and no deadline needs no timer.
  if (ms > 2 ** 31 - 1) return call(abort.signal);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve(undefined);
    }, ms);
  });
  try {
    return await Promise.race([call(abort.signal), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Posts to the Slack incoming webhook kept in Secrets Manager (the URL itself, or JSON {"url": ...}).
 * The URL is read once and cached; a failed read is retried on the next call.
 */
export function slackPoster(secretId: string, secrets: SecretsManagerClient, fetchImpl: typeof fetch = fetch) {
  let webhook: Promise<string> | undefined;
  return async (text: string): Promise<void> => {
    webhook ??= readWebhookUrl(secretId, secrets).catch((err: unknown) => {
      webhook = undefined;
      throw err;
    });
    const response = await fetchImpl(await webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(SLACK_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`Slack webhook answered HTTP ${response.status} ${response.statusText}`.trim());
  };
}

async function readWebhookUrl(secretId: string, secrets: SecretsManagerClient): Promise<string> {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  const raw = SecretString?.trim() ?? '';
  let url: unknown = raw;
  if (raw.startsWith('{')) {
    try {
      url = (JSON.parse(raw) as { url?: unknown }).url;
    } catch {
      url = undefined;
    }
  }
  // The URL is a credential: errors name the secret, never its value.
  if (typeof url !== 'string' || !URL.canParse(url) || !url.startsWith('https://')) {
    throw new Error(`secret ${secretId} holds no Slack webhook URL: store the https URL itself or {"url": "https://..."}`);
  }
  return url;
}

/** "4m 12s": the two largest units. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (days > 0) return `${days}d ${hours % 24}h`;
  if (hours > 0) return `${hours}h ${minutes % 60}m`;
  if (minutes > 0) return `${minutes}m ${seconds % 60}s`;
  return `${seconds}s`;
}

function describeTask(report: TaskReport): string[] {
  return [
    report.exitCode !== undefined ? `Exit code: ${report.exitCode}` : '',
    report.stopCode ? `Stop code: ${report.stopCode}` : '',
    report.stoppedReason ? `Stopped reason: ${report.stoppedReason}` : '',
    report.containerReason ? `Container reason: ${report.containerReason}` : '',
  ];
}

function describeFailedItems(failed: FailedItem[], total: number): string[] {
  const lines = [`Failed items: ${failed.length} of ${total}`];
  for (const { index, item, outcome } of failed.slice(0, ITEMS_SHOWN)) {
    const report: TaskReport = {
      ...(outcome.cause !== undefined && readCause(outcome.cause)),
      ...defined('taskArn', outcome.taskArn),
      ...defined('exitCode', outcome.exitCode ?? undefined),
    };
    const details = [
      outcome.error,
      report.exitCode !== undefined && `exit code ${report.exitCode}`,
      report.text,
      report.taskArn && `task ${taskId(report.taskArn)}`,
    ].filter(Boolean);
    lines.push(`- #${index} ${shorten(JSON.stringify(item) ?? 'null', MAX_ITEM_JSON)}: ${details.join(', ')}`);
  }
  if (failed.length > ITEMS_SHOWN) lines.push(`... and ${failed.length - ITEMS_SHOWN} more`);
  return lines;
}

/** A cause is the ECS Task JSON (job failures), a Lambda error JSON (precheck failures) or plain text. */
function readCause(cause: string): TaskReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    return { text: shorten(cause, MAX_CAUSE) };
  }
  if (isRecord(parsed) && (typeof parsed.TaskArn === 'string' || Array.isArray(parsed.Containers))) {
    const containers = Array.isArray(parsed.Containers) ? parsed.Containers.filter(isRecord) : [];
    // Judge the job's own container: a sidecar's exit code says nothing about the job.
    const job = containers.find((c) => c.Name === JOB_CONTAINER);
    return {
      ...defined('taskArn', stringOrUndefined(parsed.TaskArn)),
      ...defined('exitCode', typeof job?.ExitCode === 'number' ? job.ExitCode : undefined),
      ...defined('stopCode', stringOrUndefined(parsed.StopCode)),
      ...defined('stoppedReason', stringOrUndefined(parsed.StoppedReason)),
      ...defined('containerReason', stringOrUndefined(job?.Reason)),
    };
  }
  if (isRecord(parsed) && typeof parsed.errorMessage === 'string') {
    const type = stringOrUndefined(parsed.errorType);
    return { text: shorten(type ? `${type}: ${parsed.errorMessage}` : parsed.errorMessage, MAX_CAUSE) };
  }
  return { text: shorten(JSON.stringify(parsed), MAX_CAUSE) };
}

/** The start in the job's zone; one the payload names wrongly (not an IANA zone) in UTC rather than no notification. */
function startedText(started: number, zone = 'UTC'): string {
  try {
    return localTime(new Date(started), zone);
  } catch {
    return localTime(new Date(started), 'UTC');
  }
}

/** A success faster than the job's minRuntimeSeconds: the job that silently does nothing. */
function tooFast(event: NotifyEvent, now: Date): boolean {
  const started = Date.parse(event.startTime);
  return event.status === 'SUCCEEDED' && event.minRuntimeSeconds !== undefined && !Number.isNaN(started)
    && endOf(event, now) - started < event.minRuntimeSeconds * 1000;
}

/**
 * When the run ended: the event's own endTime (the notify state's entered time), so a sample event or a retried
 * notification reports the run's duration, not the time since it started; now only when the payload has none.
 */
function endOf(event: NotifyEvent, now: Date): number {
  const end = event.endTime === undefined ? Number.NaN : Date.parse(event.endTime);
  return Number.isNaN(end) ? now.getTime() : end;
}

function anyItemFailed(event: NotifyEvent): boolean {
  return Boolean(event.results?.some((r) => r !== ITEM_OK) || (event.counts?.known && event.counts.failed));
}

/** `arn:aws:states:<region>:<account>:execution:...` -> the Step Functions console page of the execution. */
export function executionUrl(executionArn: string): string | undefined {
  const region = /^arn:aws:states:([a-z0-9-]+):\d{12}:execution:/.exec(executionArn)?.[1];
  return region && `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/**
 * The CloudWatch console page of the job's log group or, given a task, of the task's awslogs stream
 * (prefix = job name, then the container name and the task id).
 */
export function logsUrl(event: Pick<NotifyEvent, 'execution' | 'logGroup' | 'job'>, taskArn?: string): string | undefined {
  const region = /^arn:aws:[a-z]+:([a-z0-9-]+):\d{12}:/.exec(taskArn ?? event.execution)?.[1];
  if (!region || !event.logGroup) return undefined;
  const group = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}` +
    `#logsV2:log-groups/log-group/${consoleEncode(event.logGroup)}`;
  return taskArn ? `${group}/log-events/${consoleEncode(`${event.job}/${JOB_CONTAINER}/${taskId(taskArn)}`)}` : group;
}

/** `arn:aws:ecs:<region>:<account>:task/<cluster>/<id>` (or the older `task/<id>`) -> `<id>`. */
function taskId(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

/** The CloudWatch console's fragment encoding: URL-encoded twice, '%' written as '$' ('/' -> '$252F'). */
function consoleEncode(value: string): string {
  return encodeURIComponent(encodeURIComponent(value)).replace(/%/g, '$');
}

export function toSubject(text: string): string {
  const ascii = text.replace(/\s+/g, ' ').replace(/[^\x20-\x7E]/g, '?').trim();
  return ascii.length <= MAX_SUBJECT ? ascii : `${ascii.slice(0, MAX_SUBJECT - 3)}...`;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/**
 * A job's output line as text a reader sees: terminal control characters (ESC sequences that clear a screen or set a
 * title, a CR that hides what came before it, BEL) are shown as \u001b etc., in e-mail, Slack and a local terminal.
 */
function visible(line: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return line.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Slack mrkdwn treats these three as control characters. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `{ key: value }`, or nothing when the value is undefined (exactOptionalPropertyTypes forbids explicit undefined). */
function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
