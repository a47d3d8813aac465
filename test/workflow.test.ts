// The generated definitions of every job shape, executed by the local ASL engine (aws-local-stepfunctions) with each
// Task answered by a fake, waits and retry intervals at 0.
import { defaultPrecheck, ecsTask, envOf, hangingTask, jobFrom, runJob } from './support/workflow';

const single = (extra = '', exitCodes = '{ fail: [2] }') => jobFrom(`
jobs:
  report:
    description: nightly report
    schedule: cron(30 2 * * ? *)
    image: reports:1
    command: [sh, report.sh]
    retries: 2
    timeoutSeconds: 1
    exitCodes: ${exitCodes}
${extra}`);

const fanOut = (tolerated: number, extra = '') => jobFrom(`
jobs:
  sync:
    description: per-tenant sync
    schedule: rate(1 hour)
    image: sync:1
    command: [sh, sync.sh]
    retries: 1
    fanOut: { items: [a, b, c, d, e, f, g, h, i, j], maxConcurrency: 4, toleratedFailurePercentage: ${tolerated} }
${extra}`);

const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];

describe('single task', () => {
  it('succeeds on the happy path without notifying by default', async () => {
    // Act
    const { outcome, calls } = await runJob(single());
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.runTask).toHaveLength(1);
    expect(calls.notify).toHaveLength(0);
    const env = envOf(calls.runTask[0]!);
    expect(env).toMatchObject({ STEPCRON_JOB: 'report', STEPCRON_ATTEMPT: '0', STEPCRON_INPUT: '{}' });
    expect(env.STEPCRON_EXECUTION).toMatch(/:execution:stepcron-test-report:run-1$/);
    expect(env.STEPCRON_SCHEDULED_TIME).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(calls.runTask[0]!.StartedBy).toBe('run-1');
  });

  it('notifies success when onSuccess is set', async () => {
    const { outcome, calls } = await runJob(single('    notify: { onSuccess: true }'));
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'SUCCEEDED', job: 'report', attempts: 1 })]);
  });

  it('retries a failed job and succeeds, counting attempts in STEPCRON_ATTEMPT', async () => {
    // Prepare
    const runTask = (_: unknown, call: number) => ecsTask(call === 0 ? 1 : 0);
    // Act
    const { outcome, calls } = await runJob(single(), { runTask });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.runTask.map((p) => envOf(p).STEPCRON_ATTEMPT)).toEqual(['0', '1']);
  });

  it('retries start failures with the start policy, not counting them as attempts', async () => {
    const runTask = (_: unknown, call: number) => {
      if (call < 2) throw Object.assign(new Error('Rate exceeded'), { name: 'ECS.AmazonECSException' });
      return ecsTask(0);
    };
    const { outcome, calls } = await runJob(single(), { runTask });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.runTask.map((p) => envOf(p).STEPCRON_ATTEMPT)).toEqual(['0', '0', '0']);
    expect(outcome.events.filter((e) => e.type === 'StateRetried')).toHaveLength(2);
  });

  it('reports a task ECS refused to start as JobStartFailed, and notifies', async () => {
    // Prepare: an error that is not a task failure (States.TaskFailed would match it in a Catch, too)
    const runTask = () => { throw Object.assign(new Error('TaskDefinition not found.'), { name: 'ECS.ClientException' }); };
    // Act
    const { outcome, calls } = await runJob(single(), { runTask });
    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'JobStartFailed', cause: 'TaskDefinition not found.' });
    expect(calls.runTask).toHaveLength(1);
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'FAILED', outcome: expect.objectContaining({ error: 'JobStartFailed' }) })]);
  });

  it('gives up on start failures after the start retries, as JobStartFailed', async () => {
    const runTask = () => { throw Object.assign(new Error('Rate exceeded'), { name: 'ECS.AmazonECSException' }); };
    const { outcome, calls } = await runJob(single(), { runTask });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'JobStartFailed', cause: 'Rate exceeded' });
    expect(calls.runTask).toHaveLength(6);
  });

  it('fails at once on an exit code the policy says must not be retried', async () => {
    const { outcome, calls } = await runJob(single(), { runTask: () => ecsTask(2) });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'JobFailed' });
    expect(calls.runTask).toHaveLength(1);
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'FAILED', outcome: expect.objectContaining({ attempts: 1 }) })]);
    expect(JSON.parse(outcome.cause!).Containers).toEqual([expect.objectContaining({ Name: 'job', ExitCode: 2 })]);
  });

  it('gives up after the configured retries', async () => {
    const { outcome, calls } = await runJob(single(), { runTask: () => ecsTask(1) });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'JobFailed' });
    expect(calls.runTask).toHaveLength(3);
    expect(calls.notify[0]?.outcome?.attempts).toBe(3);
  });

  it('only retries the listed exit codes when exitCodes.retry is given', async () => {
    const job = single('', '{ retry: [75] }');
    const retried = await runJob(job, { runTask: (_: unknown, call: number) => ecsTask(call === 0 ? 75 : 0) });
    const failed = await runJob(job, { runTask: () => ecsTask(1) });
    expect(retried.outcome.status).toBe('SUCCEEDED');
    expect(failed.outcome.status).toBe('FAILED');
    expect(failed.calls.runTask).toHaveLength(1);
  });

  it('judges the job container, not a failing sidecar', async () => {
    const { outcome } = await runJob(single(), { runTask: () => {
      throw Object.assign(new Error(JSON.stringify(ecsTask(0, {}, 137))), { name: 'States.TaskFailed' });
    } });
    expect(outcome.status).toBe('SUCCEEDED');
  });

  it('retries a task that failed to start (no exit code)', async () => {
    const { outcome, calls } = await runJob(single(), { runTask: (_: unknown, call: number) => ecsTask(call === 0 ? undefined : 0) });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.runTask).toHaveLength(2);
  });

  it('stops a task that ran past its timeout and reports TIMED_OUT', async () => {
    // Act: the task never ends by itself; the state times out after 1 s
    const { outcome, calls, running } = await runJob(single(), { runTask: hangingTask });
    // Assess
    expect(outcome).toMatchObject({ status: 'TIMED_OUT', error: 'JobTimedOut' });
    expect(calls.listTasks).toEqual(['run-1']);
    expect(calls.stopTask).toHaveLength(1);
    expect(running.size).toBe(0);
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'TIMED_OUT' })]);
    expect(calls.runTask).toHaveLength(1);
  });

  it('ends skipped, with the reason, when the precheck says another run is in progress', async () => {
    const precheck = (e: Parameters<ReturnType<typeof defaultPrecheck>>[0]) =>
      ({ ...defaultPrecheck()(e), run: false, reason: 'concurrency forbid: run-0 is still running' });
    const { outcome, calls } = await runJob(single(), { precheck });
    expect(outcome.status).toBe('SKIPPED');
    expect(outcome.output).toMatchObject({ run: false, reason: 'concurrency forbid: run-0 is still running' });
    expect(calls.runTask).toHaveLength(0);
    expect(calls.notify).toHaveLength(0);
  });

  it('starts no task on bad input, and reports the precheck error', async () => {
    const precheck = () => { throw Object.assign(new Error('input.items: must be a JSON array'), { name: 'InvalidInputError' }); };
    const { outcome, calls } = await runJob(single(), { precheck });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'PrecheckFailed' });
    expect(calls.runTask).toHaveLength(0);
    expect(calls.notify[0]?.outcome).toMatchObject({ error: 'PrecheckFailed', cause: expect.stringContaining('input.items') });
  });

  it('keeps the job outcome when the notification itself fails', async () => {
    const { outcome, calls } = await runJob(single(), {
      runTask: () => ecsTask(2),
      notify: () => { throw new Error('SNS is down'); },
    });
    expect(calls.notify).toHaveLength(1);
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'JobFailed' });
  });

  it('falls back to on-demand Fargate when Spot has no capacity', async () => {
    const job = single('    capacity: spot');
    const { outcome, calls } = await runJob(job, { runTask: (p) => {
      if (p.CapacityProviderStrategy?.[0]?.CapacityProvider === 'FARGATE_SPOT') {
        throw Object.assign(new Error('Capacity is unavailable at this time'), { name: 'AmazonECS.Unknown' });
      }
      return ecsTask(0);
    } });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.runTask.map((p) => p.CapacityProviderStrategy?.[0]?.CapacityProvider)).toEqual(['FARGATE_SPOT', 'FARGATE']);
  });
});

describe('fan-out', () => {
  const failing = (bad: string[]) => (p: Parameters<typeof envOf>[0]) =>
    ecsTask(bad.includes(JSON.parse(envOf(p).STEPCRON_ITEM!)) ? 1 : 0);

  it('runs every item with STEPCRON_ITEM and its own StartedBy', async () => {
    const { outcome, calls } = await runJob(fanOut(0), { precheck: defaultPrecheck(items) });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.runTask.map((p) => JSON.parse(envOf(p).STEPCRON_ITEM!)).sort()).toEqual(items);
    expect(new Set(calls.runTask.map((p) => p.StartedBy))).toEqual(new Set(items.map((_, i) => `run-1-${i}`)));
    expect(calls.notify).toHaveLength(0);
  });

  it('succeeds with failures under the tolerance, and reports each failed item', async () => {
    // Prepare: 20% tolerated of 10 items -> 2 may fail
    const { outcome, calls } = await runJob(fanOut(20), { precheck: defaultPrecheck(items, 2), runTask: failing(['c', 'h']) });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.notify).toHaveLength(1);
    const results = calls.notify[0]!.results!;
    expect(results).toHaveLength(10);
    expect(results.filter((r) => r !== 'ok')).toEqual([
      expect.objectContaining({ index: 2, item: 'c', outcome: expect.objectContaining({ error: 'JobFailed', exitCode: 1, attempts: 2 }) }),
      expect.objectContaining({ index: 7, item: 'h' }),
    ]);
  });

  it('fails the run when failures exceed the tolerance', async () => {
    const { outcome, calls } = await runJob(fanOut(20), { precheck: defaultPrecheck(items, 2), runTask: failing(['a', 'c', 'h']) });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'FanOutToleranceExceeded' });
    expect(outcome.cause).toContain('more than 2 of 10 items failed');
    expect(calls.notify[0]).toMatchObject({ status: 'FAILED' });
    expect(calls.notify[0]!.outcome!.results!.filter((r) => r !== 'ok')).toHaveLength(3);
  });

  it('fails when every item fails, even with a high tolerance', async () => {
    const { outcome } = await runJob(fanOut(50), { precheck: defaultPrecheck(items, 5), runTask: failing(items) });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'FanOutToleranceExceeded' });
  });

  it('counts an item whose task could not start as a failed item, not a failed run', async () => {
    const { outcome, calls } = await runJob(fanOut(20), { precheck: defaultPrecheck(items, 2), runTask: (p) => {
      if (envOf(p).STEPCRON_ITEM === '"b"') throw Object.assign(new Error('no such image'), { name: 'ECS.ClientException' });
      return ecsTask(0);
    } });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.notify[0]!.results!.filter((r) => r !== 'ok')).toEqual([
      expect.objectContaining({ item: 'b', outcome: expect.objectContaining({ error: 'JobStartFailed', cause: 'no such image' }) }),
    ]);
  });

  it('retries a failed item on its own and counts it as succeeded', async () => {
    const seen = new Set<string>();
    const { outcome } = await runJob(fanOut(0), { precheck: defaultPrecheck(items), runTask: (p) => {
      const item = envOf(p).STEPCRON_ITEM!;
      const first = !seen.has(item);
      seen.add(item);
      return ecsTask(item === '"e"' && first ? 1 : 0);
    } });
    expect(outcome.status).toBe('SUCCEEDED');
  });

  it('times out a hanging item without losing the others', async () => {
    const job = fanOut(20, '    timeoutSeconds: 1');
    const { outcome, calls } = await runJob(job, { precheck: defaultPrecheck(items, 2), runTask: (p, call, running) =>
      (envOf(p).STEPCRON_ITEM === '"d"' ? hangingTask(p, call, running) : ecsTask(0)) });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.stopTask).toHaveLength(1);
    const failed = calls.notify[0]!.results!.filter((r) => r !== 'ok');
    expect(failed).toEqual([expect.objectContaining({ item: 'd', outcome: expect.objectContaining({ status: 'TIMED_OUT' }) })]);
  });
});
