// The `aws` backend: a real ECS RunTask on the stage's cluster with the deployed task definition, waited on like
// `.sync` does, using the developer's own credentials. Lets a local workflow drive real tasks.
import {
  type Container,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  type RunTaskCommandOutput,
  StopTaskCommand,
  type Task,
  waitUntilTasksStopped,
} from '@aws-sdk/client-ecs';
import { JOB_CONTAINER } from '../../workflows/compile';
import type { StageParams } from '../../workflows/resources';
import { clusterName as stackCluster, taskFamily } from '../../workflows/resources';
import type { EcsBackend, EcsTask } from './types';

export function awsBackend(params: StageParams, client = new ECSClient({})): EcsBackend {
  const cluster = stackCluster(params);
  const started = new Set<string>();

  const describe = async (taskArn: string): Promise<Task> => {
    const { tasks } = await client.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
    const task = tasks?.[0];
    if (!task) throw Object.assign(new Error(`task ${taskArn} not found`), { name: 'ECS.ClientException' });
    return task;
  };

  return {
    name: 'aws',
    async run(request) {
      let result: RunTaskCommandOutput;
      try {
        result = await client.send(new RunTaskCommand({
          cluster,
          taskDefinition: taskFamily(request.job, params.stage),
          startedBy: request.startedBy,
          capacityProviderStrategy: [{
            capacityProvider: request.capacityProvider ?? (request.job.capacity === 'spot' ? 'FARGATE_SPOT' : 'FARGATE'),
            weight: 1,
          }],
          networkConfiguration: {
            awsvpcConfiguration: { subnets: params.subnets, securityGroups: params.securityGroups, assignPublicIp: params.assignPublicIp },
          },
          overrides: {
            containerOverrides: [{ name: JOB_CONTAINER, environment: Object.entries(request.environment).map(([name, value]) => ({ name, value })) }],
          },
        }));
      } catch (err) {
        // As the runTask integration names ECS API errors: ECS.<Exception>, throttling as ECS.AmazonECSException.
        const name = (err as Error).name === 'ThrottlingException' ? 'AmazonECSException' : (err as Error).name;
        throw Object.assign(new Error((err as Error).message), { name: `ECS.${name}` });
      }
      const taskArn = result.tasks?.[0]?.taskArn;
      if (!taskArn) {
        const reasons = (result.failures ?? []).map((f) => `${f.arn ?? ''} ${f.reason ?? ''} ${f.detail ?? ''}`.trim());
        throw Object.assign(new Error(reasons.join('; ') || 'RunTask started no task'), { name: 'AmazonECS.Unknown' });
      }
      started.add(taskArn);
      request.onOutput('stderr', `started ${taskArn} (logs: /stepcron/${params.stage}/${request.job.name})`);
      try {
        await waitUntilTasksStopped({ client, maxWaitTime: request.job.timeoutSeconds + 600, minDelay: 6, maxDelay: 30 },
          { cluster, tasks: [taskArn] });
      } catch {
        // The waiter gives up after maxWaitTime; the state's own timeout has fired by then and stops the task.
      }
      started.delete(taskArn);
      return toEcsTask(await describe(taskArn));
    },
    async list(startedBy) {
      // startedBy must be the only filter (ECS answers InvalidParameterException otherwise); ListTasks then lists the
      // tasks whose desired status is RUNNING, its default: one being stopped already is not listed.
      const { taskArns } = await client.send(new ListTasksCommand({ cluster, startedBy }));
      return taskArns ?? [];
    },
    async stop(taskArn, reason) {
      await client.send(new StopTaskCommand({ cluster, task: taskArn, reason: reason.slice(0, 255) }));
    },
    async stopAll(reason) {
      await Promise.all([...started].map((arn) => this.stop(arn, reason).catch(() => undefined)));
    },
  };
}

/** DescribeTasks (camelCase) -> the Task object `.sync` returns (PascalCase). */
export function toEcsTask(task: Task): EcsTask {
  const iso = (d: Date | undefined) => (d ? d.toISOString() : new Date().toISOString());
  return {
    TaskArn: task.taskArn ?? '',
    ClusterArn: task.clusterArn ?? '',
    TaskDefinitionArn: task.taskDefinitionArn ?? '',
    StartedBy: task.startedBy ?? '',
    LastStatus: 'STOPPED',
    DesiredStatus: 'STOPPED',
    StopCode: (task.stopCode as EcsTask['StopCode']) ?? 'EssentialContainerExited',
    StoppedReason: task.stoppedReason ?? '',
    CreatedAt: iso(task.createdAt),
    ...(task.startedAt && { StartedAt: iso(task.startedAt) }),
    StoppedAt: iso(task.stoppedAt),
    Containers: (task.containers ?? []).map((c: Container) => ({
      Name: c.name ?? '',
      ...(c.exitCode !== undefined && { ExitCode: c.exitCode }),
      ...(c.reason !== undefined && { Reason: c.reason }),
      LastStatus: 'STOPPED' as const,
    })),
  };
}
