// `--fault`: injected failures answer like the real services (error names, cause shapes) and go through each sample
// job's real definition, so these runs show the catalog's failure policy. Engine runs skip waits; no timing asserts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EcsTask } from '../cli/backends/types';
import { stoppedTask } from '../cli/backends/task';
import { type EventLog, execute, localInfra, newExecution, type RunTaskParams, type Services, syncResult } from '../cli/engine';
import { UsageError } from '../cli/errors';
import { CAPACITY_REASON, type Fault, parseFaults, SPOT_REASON, withFaults } from '../cli/faults';
import type { Summary } from '../cli/run';
import { type NotifyEvent, NotifyEventSchema, PrecheckEventSchema } from '../handlers/lib/contracts';
import { parseOrThrow } from '../handlers/lib/errors';
import { precheck } from '../handlers/lib/precheck';
import { type Job, loadCatalog } from '../workflows/catalog';
import { compile, retryDelays } from '../workflows/compile';
import { jobFrom } from './support/workflow';

const root = join(__dirname, '..');
const catalog = loadCatalog(join(root, 'workflows', 'jobs.yml'), { stage: 'test' });
const sample = (name: string): Job => catalog.find((j) => j.name === name)!;
const definitionOf = (job: Job) => compile(job, localInfra(job, 'test'));

/** A RunTask call's parameters, as the definition sends them (only what the faults read). */
const params = (startedBy = 'run-1', provider = 'FARGATE'): RunTaskParams => ({
  Cluster: 'arn:aws:ecs:local:000000000000:cluster/stepcron-test',
  TaskDefinition: 'arn:aws:ecs:local:000000000000:task-definition/stepcron-test-job:1',
  StartedBy: startedBy,
  CapacityProviderStrategy: [{ CapacityProvider: provider }],
  Overrides: { ContainerOverrides: [{ Name: 'job', Environment: [] }] },
});

/** Services whose task always succeeds and whose Lambdas are the real handlers' logic; every call recorded. */
function fakeServices() {
  const calls = { runTask: [] as Array<{ state?: string; params: RunTaskParams }>, notify: [] as NotifyEvent[], stopTask: [] as string[] };
  const services: Services = {
    precheck: (event) => precheck(parseOrThrow(PrecheckEventSchema, event, 'event'), {
      executions: { listRunning: async () => [], stop: async () => undefined },
    }),
    notify: async (payload) => {
      calls.notify.push(parseOrThrow(NotifyEventSchema, payload, 'event'));
      return { delivered: ['test'], subject: '', message: '' };
    },
    runTask: async (p, state) => {
      calls.runTask.push({ ...(state !== undefined && { state }), params: p });
      return stoppedTask({
        request: { cluster: p.Cluster, taskDefinition: p.TaskDefinition, startedBy: p.StartedBy } as never,
        taskArn: `arn:aws:ecs:local:000000000000:task/stepcron-test/${calls.runTask.length}`,
        createdAt: new Date(), stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', exitCode: 0,
      });
    },
    listTasks: async () => [],
    stopTask: async (arn) => { calls.stopTask.push(arn); },
  };
  return { services, calls };
}

/** Runs a job's real definition with `--fault` specs, waits skipped unless `skipWaits: false`. */
async function runWithFaults(job: Job, specs: string[], { skipWaits = true } = {}) {
  const definition = definitionOf(job);
  const { services, calls } = fakeServices();
  const faulty = withFaults(services, parseFaults(specs, definition), { job, skipWaits });
  const outcome = await execute(definition, {}, newExecution(job, 'test', 'run-1'), { services: faulty.services, skipWaits, keepEvents: true });
  faulty.close();
  return { outcome, calls, faulty };
}

const entered = (events: EventLog[], state: string) =>
  events.filter((e): e is EventLog & { type: 'StateEntered' } => e.type === 'StateEntered' && e.state.name === state);
/** The back-off PrepareRetry chose before each retry, from the event log (WaitToRetry's input). */
const retryDelaysOf = (events: EventLog[]) => entered(events, 'WaitToRetry').map((e) => (e.state.input as { retry: { delay: number } }).retry.delay);
const retried = (events: EventLog[], state: string) =>
  events.filter((e) => e.type === 'StateRetried' && 'state' in e && e.state.name === state).length;

describe('parseFaults', () => {
  const nightly = definitionOf(sample('nightly-report'));
  const tenants = definitionOf(sample('tenant-sync'));

  it.each([
    ['RunTask=start-failure', { state: 'RunTask', kind: 'start-failure', times: 1 }],
    ['RunTask=throttle:3', { state: 'RunTask', kind: 'throttle', times: 3 }],
    ['RunTask=exit:1', { state: 'RunTask', kind: 'exit', exitCode: 1, times: 1 }],
    ['RunTask=exit:2:4', { state: 'RunTask', kind: 'exit', exitCode: 2, times: 4 }],
    ['RunTask=timeout', { state: 'RunTask', kind: 'timeout', times: 1 }],
    ['RunTask=spot-interruption:2', { state: 'RunTask', kind: 'spot-interruption', times: 2 }],
    ['Precheck=lambda-error:4', { state: 'Precheck', kind: 'lambda-error', times: 4 }],
    ['NotifyFailure=lambda-error', { state: 'NotifyFailure', kind: 'lambda-error', times: 1 }],
  ])('reads %s', (spec, expected) => {
    // Act
    const [fault] = parseFaults([spec], nightly);
    // Assess
    expect(fault).toEqual({ ...expected, spec });
  });

  it('takes a Distributed Map copy by its own name or by the base name', () => {
    // Act
    const faults = parseFaults(['RunTask-json=exit:1', 'RunTask=exit:3', 'RunTaskOnDemand-csv=start-failure'], tenants);
    // Assess
    expect(faults.map((f) => f.state)).toEqual(['RunTask-json', 'RunTask', 'RunTaskOnDemand-csv']);
  });

  it.each([
    ['RunTask', /is not <State>=<fault>\[:<times>\]/],
    ['Nope=exit:1', /no Task state 'Nope' in this job \(valid states: RunTask, Precheck, NotifySuccess, NotifyFailure\)/],
    ['RunTask=boom', /unknown fault 'boom' \(faults: start-failure, throttle, exit:<code>, timeout, spot-interruption, lambda-error\)/],
    ['RunTask=exit', /exit needs a code from 0 to 255/],
    ['RunTask=exit:256', /exit needs a code from 0 to 255/],
    ['RunTask=exit:-1', /exit needs a code from 0 to 255/],
    ['RunTask=throttle:0', /<times> must be a whole number of at least 1/],
    ['RunTask=timeout:x', /<times> must be a whole number of at least 1/],
    ['Precheck=exit:1', /exit applies to ECS RunTask states only \(RunTask\)/],
    ['RunTask=lambda-error', /lambda-error applies to Lambda states only \(Precheck, NotifySuccess, NotifyFailure\)/],
    ['FindTimedOutTasks=throttle', /throttle applies to ECS RunTask states only/],
  ])('refuses %s with one line naming what is valid', (spec, message) => {
    // Act
    const parse = () => parseFaults([spec], nightly);
    // Assess
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
  });

  it('names the Spot fallback and the Distributed Map copies among the valid states', () => {
    expect(() => parseFaults(['X=timeout'], tenants)).toThrow(/valid states: .*RunTask, RunTaskOnDemand.*RunTask-json/);
  });
});

describe('what each fault answers', () => {
  const job = sample('hourly-cleanup');
  const faultsFor = (...specs: string[]): Fault[] => parseFaults(specs, definitionOf(job));
  /** The error a state sees for one call of the faulted RunTask (after the .sync rule, as the engine applies it). */
  async function errorOf(spec: string): Promise<{ name: string; message: string }> {
    const { services } = fakeServices();
    const faulty = withFaults(services, faultsFor(spec), { job, skipWaits: true });
    try {
      syncResult(await faulty.services.runTask(params('run-1', 'FARGATE_SPOT'), 'RunTask'));
    } catch (err) {
      return err as Error;
    } finally {
      faulty.close();
    }
    throw new Error('no error');
  }

  it('start-failure: AmazonECS.Unknown with the placement failure in the cause', async () => {
    const error = await errorOf('RunTask=start-failure');
    expect(error.name).toBe('AmazonECS.Unknown');
    expect(error.message).toContain(CAPACITY_REASON);
  });

  it('throttle: ECS.AmazonECSException, Rate exceeded', async () => {
    const error = await errorOf('RunTask=throttle');
    expect(error.name).toBe('ECS.AmazonECSException');
    expect(error.message).toMatch(/^Rate exceeded \(Service: AmazonECS; Status Code: 400; Error Code: ThrottlingException/);
  });

  it('exit:<code>: States.TaskFailed with the stopped Task object as the cause', async () => {
    const error = await errorOf('RunTask=exit:3');
    expect(error.name).toBe('States.TaskFailed');
    expect(JSON.parse(error.message)).toMatchObject({
      LastStatus: 'STOPPED', StopCode: 'EssentialContainerExited', StartedBy: 'run-1',
      Containers: [{ Name: 'job', ExitCode: 3, LastStatus: 'STOPPED' }],
    });
  });

  it('spot-interruption: States.TaskFailed, StopCode SpotInterruption, no exit code for the job', async () => {
    const error = await errorOf('RunTask=spot-interruption');
    expect(error.name).toBe('States.TaskFailed');
    const task = JSON.parse(error.message) as EcsTask;
    expect(task).toMatchObject({ StopCode: 'SpotInterruption', StoppedReason: SPOT_REASON, Containers: [{ Name: 'job' }] });
    expect(task.Containers[0]).not.toHaveProperty('ExitCode');
  });

  it('timeout: States.Timeout, and the task stays listed as running until StopTask', async () => {
    // Prepare
    const { services, calls } = fakeServices();
    const faulty = withFaults(services, faultsFor('RunTask=timeout'), { job, skipWaits: true });
    // Act
    const error = await faulty.services.runTask(params('run-7'), 'RunTask').catch((err: Error) => err);
    const listed = await faulty.services.listTasks('run-7');
    await faulty.services.stopTask(listed[0]!, 'timed out');
    // Assess
    expect(error).toMatchObject({ name: 'States.Timeout', message: 'States.Timeout' });
    expect(listed).toHaveLength(1);
    expect(faulty.stopped).toEqual(listed);
    expect(await faulty.services.listTasks('run-7')).toEqual([]);
    expect(calls.runTask).toHaveLength(0);
  });

  it('lambda-error: Lambda.ServiceException, which the definitions retry before they catch it', async () => {
    const { services } = fakeServices();
    const faulty = withFaults(services, faultsFor('Precheck=lambda-error'), { job });
    const error = await faulty.services.precheck({} as never, 'Precheck').catch((err: Error) => err);
    expect(error).toMatchObject({ name: 'Lambda.ServiceException', message: expect.stringMatching(/^Service error\. \(Service: Lambda, Status Code: 500/) });
  });

  it('counts attempts per state and per item, and applies several faults on one state in order', async () => {
    // Prepare
    const { services, calls } = fakeServices();
    const faulty = withFaults(services, faultsFor('RunTask=throttle:2', 'RunTask=exit:1'), { job });
    const attempt = (startedBy: string) => faulty.services.runTask(params(startedBy), 'RunTask')
      .then((t) => `exit ${t.Containers[0]!.ExitCode}`, (err: Error) => err.name);
    // Act: item a four times, then item b once (a Distributed Map copy under the base name)
    const a = [await attempt('a'), await attempt('a'), await attempt('a'), await attempt('a')];
    const b = await faulty.services.runTask(params('b'), 'RunTask-json').catch((err: Error) => err.name);
    // Assess
    expect(a).toEqual(['ECS.AmazonECSException', 'ECS.AmazonECSException', 'exit 1', 'exit 0']);
    expect(b).toBe('ECS.AmazonECSException');
    expect(calls.runTask.map((c) => c.params.StartedBy)).toEqual(['a']);
    expect(faulty.injected.map((i) => [i.startedBy, i.attempt])).toEqual([['a', 1], ['a', 2], ['a', 1], ['b', 1]]);
  });
});

describe('the sample jobs under faults (their real definitions)', () => {
  it('nightly-report: a start failure is retried by the native Retry and the run succeeds', async () => {
    // Act
    const { outcome, calls } = await runWithFaults(sample('nightly-report'), ['RunTask=start-failure:2']);
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(retried(outcome.events, 'RunTask')).toBe(2);
    expect(calls.runTask).toHaveLength(1);
  });

  it('nightly-report: start failures past the start retries end JobStartFailed, notified', async () => {
    // Act: 1 attempt + 5 retries (START_FAILURES, MaxAttempts 5)
    const { outcome, calls, faulty } = await runWithFaults(sample('nightly-report'), ['RunTask=start-failure:6']);
    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'JobStartFailed', cause: expect.stringContaining(CAPACITY_REASON) });
    expect(retried(outcome.events, 'RunTask')).toBe(5);
    expect(faulty.injected).toHaveLength(6);
    expect(entered(outcome.events, 'MarkStartFailed')).toHaveLength(1);
    expect(calls.runTask).toHaveLength(0);
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'FAILED', outcome: expect.objectContaining({ error: 'JobStartFailed' }) })]);
  });

  it('nightly-report: throttling is retried like a start failure', async () => {
    const { outcome } = await runWithFaults(sample('nightly-report'), ['RunTask=throttle:3']);
    expect(outcome.status).toBe('SUCCEEDED');
    expect(retried(outcome.events, 'RunTask')).toBe(3);
  });

  it('hourly-cleanup (Spot): a start failure falls back to RunTaskOnDemand at once', async () => {
    // Act
    const { outcome, calls } = await runWithFaults(sample('hourly-cleanup'), ['RunTask=start-failure']);
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(retried(outcome.events, 'RunTask')).toBe(0);
    expect(calls.runTask.map((c) => [c.state, c.params.CapacityProviderStrategy?.[0]?.CapacityProvider])).toEqual([['RunTaskOnDemand', 'FARGATE']]);
  });

  it('hourly-cleanup (Spot): no on-demand capacity either ends JobStartFailed, notified', async () => {
    const { outcome, calls } = await runWithFaults(sample('hourly-cleanup'), ['RunTask=start-failure', 'RunTaskOnDemand=start-failure:6']);
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'JobStartFailed' });
    expect(retried(outcome.events, 'RunTaskOnDemand')).toBe(5);
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'FAILED' })]);
  });

  it('nightly-report: exit 2 (exitCodes.fail) fails at once, without a retry, notified', async () => {
    // Act
    const { outcome, calls } = await runWithFaults(sample('nightly-report'), ['RunTask=exit:2']);
    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'JobFailed' });
    expect(JSON.parse(outcome.cause!).Containers).toEqual([expect.objectContaining({ Name: 'job', ExitCode: 2 })]);
    expect(entered(outcome.events, 'RunTask')).toHaveLength(1);
    expect(entered(outcome.events, 'PrepareRetry')).toHaveLength(0);
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'FAILED', outcome: expect.objectContaining({ attempts: 1 }) })]);
  });

  it('nightly-report: exit 1 is retried `retries` times with the PrepareRetry back-off, then JobFailed', async () => {
    // Prepare
    const job = sample('nightly-report');
    // Act
    const { outcome, calls } = await runWithFaults(job, ['RunTask=exit:1:3']);
    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'JobFailed' });
    expect(entered(outcome.events, 'RunTask')).toHaveLength(job.retries + 1);
    expect(retryDelaysOf(outcome.events)).toEqual(retryDelays(job));
    expect(retryDelaysOf(outcome.events)).toEqual([30, 60]);
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'FAILED', outcome: expect.objectContaining({ attempts: 3 }) })]);
  });

  it('nightly-report: exit 1 once is retried after the first delay and the run succeeds', async () => {
    const { outcome, calls } = await runWithFaults(sample('nightly-report'), ['RunTask=exit:1']);
    expect(outcome.status).toBe('SUCCEEDED');
    expect(retryDelaysOf(outcome.events)).toEqual([30]);
    expect(calls.runTask).toHaveLength(1);
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'SUCCEEDED', attempts: 2 })]);
  });

  it('nightly-report: a timeout stops the task through FindTimedOutTasks and ends JobTimedOut, notified', async () => {
    // Act
    const { outcome, calls, faulty } = await runWithFaults(sample('nightly-report'), ['RunTask=timeout']);
    // Assess
    expect(outcome).toMatchObject({ status: 'TIMED_OUT', error: 'JobTimedOut' });
    expect(entered(outcome.events, 'FindTimedOutTasks')).toHaveLength(1);
    expect(entered(outcome.events, 'StopTimedOutTask')).toHaveLength(1);
    expect(faulty.stopped).toHaveLength(1);
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'TIMED_OUT' })]);
  });

  it('a timeout without --skip-waits waits for the state TimeoutSeconds (the engine\'s timer), then stops the task', async () => {
    // Prepare: a 1 s task timeout, so the real timer is short
    const job = jobFrom(`
jobs:
  quick:
    description: quick
    schedule: rate(1 hour)
    image: quick:1
    command: [sh, quick.sh]
    timeoutSeconds: 1
    retries: 0
`);
    // Act
    const { outcome, faulty } = await runWithFaults(job, ['RunTask=timeout'], { skipWaits: false });
    // Assess
    expect(outcome).toMatchObject({ status: 'TIMED_OUT', error: 'JobTimedOut' });
    expect(faulty.stopped).toHaveLength(1);
  });

  it('hourly-cleanup: a Spot interruption is retried; a second one ends JobFailed with the Task in the cause', async () => {
    // Act
    const once = await runWithFaults(sample('hourly-cleanup'), ['RunTask=spot-interruption']);
    const twice = await runWithFaults(sample('hourly-cleanup'), ['RunTask=spot-interruption:2']);
    // Assess
    expect(once.outcome.status).toBe('SUCCEEDED');
    expect(entered(once.outcome.events, 'NoExitCode')).toHaveLength(1);
    expect(twice.outcome).toMatchObject({ status: 'FAILED', error: 'JobFailed' });
    expect(JSON.parse(twice.outcome.cause!)).toMatchObject({ StopCode: 'SpotInterruption' });
    expect(twice.calls.notify).toEqual([expect.objectContaining({ status: 'FAILED' })]);
  });

  it('nightly-report: a Lambda error on Precheck is retried; past the retries it ends PrecheckFailed, notified', async () => {
    // Act
    const once = await runWithFaults(sample('nightly-report'), ['Precheck=lambda-error']);
    const always = await runWithFaults(sample('nightly-report'), ['Precheck=lambda-error:4']);
    // Assess
    expect(once.outcome.status).toBe('SUCCEEDED');
    expect(retried(once.outcome.events, 'Precheck')).toBe(1);
    expect(always.outcome).toMatchObject({ status: 'FAILED', error: 'PrecheckFailed' });
    expect(retried(always.outcome.events, 'Precheck')).toBe(3);
    expect(always.calls.runTask).toHaveLength(0);
    expect(always.calls.notify).toEqual([expect.objectContaining({ status: 'FAILED', outcome: expect.objectContaining({ error: 'PrecheckFailed' }) })]);
  });

  it('nightly-report: a failed notification leaves the run\'s own failure as it was', async () => {
    const { outcome, calls } = await runWithFaults(sample('nightly-report'), ['RunTask=exit:2', 'NotifyFailure=lambda-error:4']);
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'JobFailed' });
    expect(retried(outcome.events, 'NotifyFailure')).toBe(3);
    expect(calls.notify).toHaveLength(0);
  });

  it('tenant-sync (inline fan-out): each item meets the fault on its own first attempt and is retried', async () => {
    // Act
    const { outcome, faulty, calls } = await runWithFaults(sample('tenant-sync'), ['RunTask=spot-interruption']);
    // Assess: 8 tenants, each interrupted once, then run again
    expect(outcome.status).toBe('SUCCEEDED');
    expect(new Set(faulty.injected.map((i) => i.startedBy)).size).toBe(8);
    expect(calls.runTask).toHaveLength(8);
    expect(entered(outcome.events, 'ItemSucceeded')).toHaveLength(8);
  });

  it('tenant-sync (inline fan-out): items failing past the tolerance fail the run, notified', async () => {
    // Act: every item exits 1 on all 3 attempts
    const { outcome, calls } = await runWithFaults(sample('tenant-sync'), ['RunTask=exit:1:3']);
    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'FanOutToleranceExceeded' });
    expect(entered(outcome.events, 'ItemFailed')).toHaveLength(8);
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'FAILED' })]);
  });
});

describe('stepcron run --fault', () => {
  const BIN = join(root, 'bin', 'stepcron.cjs');
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stepcron-faults-'));
    writeFileSync(join(dir, 'jobs.yml'), [
      'defaults:', '  image: busybox:latest', 'jobs:',
      '  report:', '    description: report', '    schedule: rate(1 hour)', "    command: [sh, -c, 'exit 0']",
      '    retries: 1', '    exitCodes: { fail: [2] }',
    ].join('\n'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const stepcron = (args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(killer); resolve({ code, stdout, stderr }); });
  });

  it('runs the job through its definition with the faults given, repeatable', async () => {
    // Act: a throttled start (retried by ECS's policy), then an exit 2 the catalog fails at once
    const result = await stepcron(['run', 'report', '--catalog', 'jobs.yml', '--skip-waits', '--json', '--fault', 'RunTask=throttle', '--fault', 'RunTask=exit:2']);
    // Assess
    const summary = JSON.parse(result.stdout.trimEnd().split('\n').at(-1)!) as Summary;
    expect(result.code).toBe(1);
    expect(summary).toMatchObject({ status: 'FAILED', error: 'JobFailed', tasks: [{ exitCode: 2, status: 'FAILED', attempts: 1 }] });
    expect(summary.faults?.map((f) => [f.state, f.fault, f.error])).toEqual([
      ['RunTask', 'throttle', 'ECS.AmazonECSException'], ['RunTask', 'exit:2', 'States.TaskFailed'],
    ]);
    expect(summary.notifications).toEqual([expect.objectContaining({ status: 'FAILED' })]);
    expect(result.stderr).toContain('⚡ fault RunTask=exit:2 (attempt 1): States.TaskFailed');
  });

  it('refuses an unknown state with exit 2 and one line naming the valid ones', async () => {
    // Act
    const result = await stepcron(['run', 'report', '--catalog', 'jobs.yml', '--fault', 'RunTsk=timeout']);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      "stepcron: --fault: 'RunTsk=timeout': no Task state 'RunTsk' in this job (valid states: RunTask, Precheck, NotifyFailure)",
    ]);
  });
});
