// What the local runner asks of an ECS backend: run one task to completion and describe it the way ECS does, so the
// state machine sees the same Task object (and the same failures) as it would from `ecs:runTask.sync`.
import type { Job } from '../../workflows/catalog';

export interface TaskRequest {
  job: Job;
  /** The cluster from the RunTask parameters (a local stand-in unless the backend is `aws`). */
  cluster: string;
  taskDefinition: string;
  /** RunTask's StartedBy: how a timed-out task is found again and stopped. */
  startedBy: string;
  /** From the state's CapacityProviderStrategy: the on-demand fallback of a Spot job asks for FARGATE. */
  capacityProvider?: 'FARGATE' | 'FARGATE_SPOT';
  /** The job's environment merged with the container overrides (STEPCRON_* variables) from the state. */
  environment: Record<string, string>;
  command: string[];
  /**
   * Where the job's output lines go (the runner prefixes them with the fan-out item), one call per line; a line over
   * MAX_LINE_BYTES (backends/task.ts) arrives cut, with its length. Returning a promise is back-pressure: the backend
   * reads no more of the job's output until it settles (the job then blocks on its writes), and loses no line.
   */
  onOutput(stream: 'stdout' | 'stderr', line: string): void | Promise<void>;
  /** The task's process group started (process backend): the run store's lease records it, to kill it if the runner dies. */
  onSpawn?(pgid: number): void;
  /** That process group is gone. */
  onExit?(pgid: number): void;
}

/** The parts of an ECS Task object the state machine and the summary read (PascalCase, as .sync returns it). */
export interface EcsTask {
  TaskArn: string;
  ClusterArn: string;
  TaskDefinitionArn: string;
  StartedBy: string;
  LastStatus: 'STOPPED';
  DesiredStatus: 'STOPPED';
  StopCode: 'EssentialContainerExited' | 'TaskFailedToStart' | 'UserInitiated' | 'SpotInterruption';
  StoppedReason: string;
  CreatedAt: string;
  StartedAt?: string;
  StoppedAt: string;
  Containers: Array<{ Name: string; ExitCode?: number; Reason?: string; LastStatus: 'STOPPED' }>;
}

export interface EcsBackend {
  readonly name: 'process' | 'container' | 'aws';
  /** Runs the task until it stops, whatever its exit code; rejects only when it could not be started at all. */
  run(request: TaskRequest): Promise<EcsTask>;
  /** ECS ListTasks(startedBy), startedBy its only filter: the ARNs of tasks whose desired status is RUNNING (its default). */
  list(startedBy: string): Promise<string[]>;
  /** ECS StopTask: SIGTERM, then SIGKILL after a grace period. Resolves once the request is made. */
  stop(taskArn: string, reason: string): Promise<void>;
  /** Stops everything still running (Ctrl-C, end of a run). */
  stopAll(reason: string): Promise<void>;
}

/** A backend failed before the task started: the state machine sees it as an ECS start failure. */
export class TaskStartError extends Error {
  override name = 'ECS.AmazonECSException';
}
