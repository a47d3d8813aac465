// What the local backends share: task ids and ARNs, the stopped ECS Task object they report, exit codes as Docker and
// ECS give them, and line-by-line output.
import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
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
 * Calls onLine for every complete line of a stream, and for the unterminated rest when the stream ends.
 * Returns a function that flushes that rest early (used when a stream is abandoned).
 */
export function forEachLine(stream: Readable, onLine: (line: string) => void): () => void {
  // A decoder keeps a multi-byte character split across chunks in one piece.
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let flushed = false;
  const emit = (text: string) => {
    const lines = (rest + text).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  };
  const flush = () => {
    if (flushed) return;
    flushed = true;
    emit(decoder.end());
    if (rest !== '') onLine(rest);
    rest = '';
  };
  stream.on('data', (chunk: Buffer) => emit(decoder.write(chunk)));
  stream.on('end', flush);
  stream.on('close', flush);
  return flush;
}
