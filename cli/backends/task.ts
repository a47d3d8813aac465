// What the local backends share: task ids and ARNs, the stopped ECS Task object they report, exit codes as Docker and
// ECS give them, and line-by-line output (bounded lines, with back-pressure).
import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import type { Readable } from 'node:stream';
import { JOB_CONTAINER } from '../../workflows/compile';
import { localArn } from '../engine';
import type { EcsTask, TaskRequest } from './types';

/** 32 hex characters, like an ECS task id. */
export function newTaskId(): string {
  return randomBytes(16).toString('hex');
}

/** A task ARN in the local account and region, in the cluster RunTask named (by name or by ARN). */
export function localTaskArn(cluster: string, id: string): string {
  return localArn('ecs', `task/${cluster.slice(cluster.lastIndexOf('/') + 1)}/${id}`);
}

/** The id (last path segment) of a task ARN; a bare id passes through. */
export function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

/** Builds the Task object for a task that has stopped, the way DescribeTasks/.sync reports it. */
export function stoppedTask(fields: {
  request: TaskRequest;
  taskArn: string;
  createdAt: Date;
  startedAt?: Date | undefined;
  stopCode: EcsTask['StopCode'];
  stoppedReason: string;
  exitCode?: number | undefined;
  containerReason?: string | undefined;
}): EcsTask {
  const { request } = fields;
  const container: EcsTask['Containers'][number] = { Name: JOB_CONTAINER, LastStatus: 'STOPPED' };
  if (fields.exitCode !== undefined) container.ExitCode = fields.exitCode;
  if (fields.containerReason !== undefined) container.Reason = fields.containerReason;
  const task: EcsTask = {
    TaskArn: fields.taskArn,
    ClusterArn: request.cluster.startsWith('arn:') ? request.cluster : localArn('ecs', `cluster/${request.cluster}`),
    TaskDefinitionArn: request.taskDefinition.startsWith('arn:')
      ? request.taskDefinition
      : localArn('ecs', `task-definition/${request.taskDefinition}`),
    StartedBy: request.startedBy,
    LastStatus: 'STOPPED',
    DesiredStatus: 'STOPPED',
    StopCode: fields.stopCode,
    StoppedReason: fields.stoppedReason,
    CreatedAt: fields.createdAt.toISOString(),
    StoppedAt: new Date().toISOString(),
    Containers: [container],
  };
  if (fields.startedAt) task.StartedAt = fields.startedAt.toISOString();
  return task;
}

/** ECS's wording for a task whose essential container exited by itself. */
export const ESSENTIAL_EXITED = 'Essential container in task exited';

/** Exit code as Docker/ECS report it: the code, or 128 + signal number for a killed process (143 TERM, 137 KILL). */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? osConstants.signals[signal] : undefined;
  return number === undefined ? 255 : 128 + number;
}

/**
 * The longest output line passed on whole, in bytes. A longer line keeps its first MAX_LINE_BYTES (cut at a character
 * boundary) and says how long it was; the rest is dropped as it streams, so one huge line costs no more memory than this.
 */
export const MAX_LINE_BYTES = 64 * 1024;

/** What a cut line ends with: its whole length, so the reader knows how much was dropped. */
export const cutMarker = (bytes: number) => `… [line cut: ${bytes} bytes]`;

/** What forEachLine returns: flush() emits the unterminated rest early (an abandoned stream). */
export interface LineReader {
  flush(): void;
  /** True while the stream is paused because onLine asked to wait (back-pressure). */
  readonly waiting: boolean;
}

/**
 * Calls onLine for every complete line of a stream, and for the unterminated rest when the stream ends. Each byte is
 * looked at once and a line is decoded once, so time is linear in the output; a line over MAX_LINE_BYTES is cut (see
 * there). When onLine returns a promise, the stream is paused until it settles: a consumer that cannot keep up (a
 * slow reader of the CLI's stdout) makes the job block on its writes, as a pipe would, instead of piling output up here.
 * The lines already read are all delivered; only reading stops.
 */
export function forEachLine(stream: Readable, onLine: (line: string) => void | Promise<void>): LineReader {
  /** The current line's bytes, up to MAX_LINE_BYTES; `length` counts all of them, kept or not. */
  let parts: Buffer[] = [];
  let kept = 0;
  let length = 0;
  let lastByte = -1;
  let flushed = false;
  let waits: Array<Promise<void>> = [];
  let waiting = false;

  const take = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    length += bytes.length;
    lastByte = bytes[bytes.length - 1]!;
    if (kept >= MAX_LINE_BYTES) return;
    const part = bytes.length > MAX_LINE_BYTES - kept ? bytes.subarray(0, MAX_LINE_BYTES - kept) : bytes;
    parts.push(part);
    kept += part.length;
  };
  const emit = () => {
    const line = parts.length === 1 ? parts[0]! : Buffer.concat(parts, kept);
    // A CRLF line ends like an LF one: the \r is not part of the line, nor of its length.
    const size = lastByte === 0x0d ? length - 1 : length;
    parts = [];
    kept = 0;
    length = 0;
    lastByte = -1;
    const text = size > MAX_LINE_BYTES ? `${utf8Prefix(line)}${cutMarker(size)}` : line.toString('utf8', 0, size);
    const wait = onLine(text);
    if (wait) waits.push(wait);
  };
  const flush = () => {
    if (flushed) return;
    flushed = true;
    if (length > 0) emit();
  };

  stream.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      take(chunk.subarray(start, end));
      emit();
      start = end + 1;
    }
    if (start < chunk.length) take(chunk.subarray(start));
    if (waits.length === 0) return;
    // Resume once every line of this chunk has been taken; a consumer that failed is not waited for twice.
    const pending = waits;
    waits = [];
    waiting = true;
    stream.pause();
    void Promise.allSettled(pending).then(() => {
      waiting = false;
      stream.resume();
    });
  });
  stream.on('end', flush);
  stream.on('close', flush);
  return { flush, get waiting() { return waiting; } };
}

/** The bytes as text, without a last character cut in half (its lead byte and continuation bytes are left out). */
function utf8Prefix(bytes: Buffer): string {
  let end = bytes.length;
  // Step back over continuation bytes (10xxxxxx) to the last lead byte, then keep it only if its sequence is whole.
  let lead = end - 1;
  while (lead >= 0 && lead > end - 4 && (bytes[lead]! & 0xc0) === 0x80) lead--;
  if (lead >= 0) {
    const byte = bytes[lead]!;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    if (lead + needed > end) end = lead;
  }
  return bytes.toString('utf8', 0, end);
}
