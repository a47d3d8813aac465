// The console's API (cli/ui/api.ts) and server (cli/ui/server.ts) without a browser: over a real local store, and over
// a stage with the AWS SDK mocked (aws-sdk-client-mock, as test/ops-aws.test.ts). What the pages show comes from the
// same port and command bodies as the CLI's; the security rules hold at the HTTP level.
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { GetScheduleCommand, ListSchedulesCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, ListMapRunsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsOps } from '../cli/ops/aws';
import * as commands from '../cli/ops/commands';
import { localOps } from '../cli/ops/local';
import type { OpsPort } from '../cli/ops/types';
import { Store } from '../cli/store';
import { dstChanges, type JobRow, LATE_MS, STRIP_RUNS, uiApi } from '../cli/ui/api';
import { serveUi } from '../cli/ui/server';
import { type Job, parseCatalog } from '../workflows/catalog';
import { monthlyEstimate } from '../workflows/cost';
import { seedRuns } from './support/seed-store';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'secret';
process.env.AWS_REGION = 'eu-west-1';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const CATALOG = [
  'defaults:', '  image: busybox:latest', 'jobs:',
  '  ok:', '    description: hourly sync', '    schedule: cron(0 * * * ? *)', '    timezone: Europe/Berlin', '    command: [sh, -c, "true"]',
  '    minRuntimeSeconds: 30',
  '  nightly:', '    description: at 02:30 Berlin', '    schedule: cron(30 2 * * ? *)', '    timezone: Europe/Berlin', '    command: [sh, -c, "true"]',
  '  off:', '    description: off', '    schedule: rate(1 day)', '    enabled: false', '    command: [sh, -c, "true"]', '',
].join('\n');

function api(jobs: Job[], ops: OpsPort, now?: Date) {
  return uiApi({
    ops, mode: 'local', catalog: 'jobs.yml', jobs: async () => jobs, enabledJobs: '*',
    checkInput: async (input) => {
      // As cli/main.ts checks it (RunInputSchema); these tests only need the refusal's shape.
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new (await import('../cli/errors')).UsageError('input: must be an object');
      return input as Record<string, unknown>;
    },
    monthlyRuns: (s, z) => monthlyEstimate(s, z, 1).runs,
    ...(now && { now: () => now }),
  });
}

function localStore(runsPerJob: number, jobs: string[], end: Date) {
  const root = join(mkdtempSync(join(tmpdir(), 'stepcron-ui-api-')), '.stepcron');
  dirs.push(root);
  seedRuns(root, jobs, runsPerJob, { end });
  const store = Store.open(root, { broken: 'fail' });
  const ops = localOps({ stage: 'dev', store: () => store, run: async () => { throw new Error('nothing runs in these tests'); } });
  return { store, ops };
}

describe('the jobs page over the local store', () => {
  const NOW = new Date('2026-12-07T12:00:00Z');
  const jobs = parseCatalog(CATALOG, { stage: 'dev' });

  it('gives each job status\'s row, its schedule in words and the newest 30 runs, the same runs `stepcron runs` lists', async () => {
    const { store, ops } = localStore(40, ['ok', 'nightly'], NOW);
    const { status, body } = await api(jobs, ops, NOW).handle('GET', '/api/jobs', new URLSearchParams(), undefined);
    const rows = body as JobRow[];

    expect(status).toBe(200);
    expect(rows.map((r) => [r.job, r.state, r.words])).toEqual([['ok', 'enabled', 'every hour at :00'], ['nightly', 'enabled', 'every day at 02:30'], ['off', 'disabled', 'every day']]);
    const ok = rows[0]!;
    expect(ok.runs).toHaveLength(STRIP_RUNS);
    // One read for all jobs returns what runs() returns per job: same runs, same order, same outcome fields.
    const listed = await ops.runs(jobs[0]!, { limit: STRIP_RUNS });
    expect(ok.runs.map((r) => [r.e, r.s, r.t, r.d, r.x])).toEqual(listed.map((r) => [r.execution, r.status, r.startedAt, r.durationMs, r.exitCode]));
    // The row is `status --json`'s for the same job and runs.
    const out: string[] = [];
    await commands.status(ops, [jobs[0]!], { json: true, last: STRIP_RUNS }, { out: (t) => void out.push(t), err: () => undefined, tty: false, now: () => NOW });
    const [cli] = JSON.parse(out.join(''));
    expect({ ...ok, description: undefined, words: undefined, runs: undefined, monthlyEstimate: undefined })
      .toEqual({ ...cli, description: undefined, words: undefined, runs: undefined, monthlyEstimate: undefined });
    expect(rows[2]).toMatchObject({ state: 'disabled', off: 'off on dev: enabled: false in the catalog', runs: [] });
    store.close();
  });

  it('marks a run that started over a minute after its scheduled time late, and one that succeeded under minRuntimeSeconds fast', async () => {
    const { store, ops } = localStore(30, ['ok', 'nightly'], NOW);
    const rows = (await api(jobs, ops, NOW).handle('GET', '/api/jobs', new URLSearchParams(), undefined)).body as JobRow[];
    // seedRuns starts every 13th run (by run and job index) six minutes after its scheduled time, the others after 1 s.
    const late = rows[0]!.runs.filter((r) => r.m?.includes('late')).map((r) => r.e);
    const expected = store.list('ok').slice(0, STRIP_RUNS).filter((_, i) => (STRIP_RUNS - 1 - i) % 13 === 0).map((r) => r.execution);
    expect(late).toEqual(expected);
    expect(late.length).toBeGreaterThan(0);
    // ok has minRuntimeSeconds: 30; nightly has none, so nothing of it is fast.
    expect(rows[0]!.runs.filter((r) => r.m?.includes('fast')).every((r) => r.s === 'SUCCEEDED' && r.d! < 30_000)).toBe(true);
    expect(rows[0]!.runs.some((r) => r.m?.includes('fast'))).toBe(true);
    expect(rows[0]!.runs.filter((r) => r.s === 'SUCCEEDED' && r.d! < 30_000).every((r) => r.m?.includes('fast'))).toBe(true);
    expect(rows[1]!.runs.some((r) => r.m?.includes('fast'))).toBe(false);
    expect(LATE_MS).toBe(60_000);
    store.close();
  });

  it('shows only the stage\'s runs: another stage\'s runs of the same job are not in its strip', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'stepcron-ui-api-')), '.stepcron');
    dirs.push(root);
    seedRuns(root, ['ok'], 10, { end: NOW, stage: 'prod' });
    const store = Store.open(root, { broken: 'fail' });
    const ops = localOps({ stage: 'dev', store: () => store, run: async () => undefined });
    const rows = (await api(jobs, ops, NOW).handle('GET', '/api/jobs', new URLSearchParams(), undefined)).body as JobRow[];
    expect(rows[0]!.runs).toEqual([]);
    expect((await ops.recent!(jobs, 5)).get('ok')).toBeUndefined();
    store.close();
  });
});

describe('Store.recent', () => {
  it('reads a changed run again (a redrive gives it a new end), and a hand-edited summary or input does not fail the page', () => {
    const root = join(mkdtempSync(join(tmpdir(), 'stepcron-ui-api-')), '.stepcron');
    dirs.push(root);
    const file = seedRuns(root, ['ok'], 3, { end: new Date('2026-12-07T12:00:00Z') });
    const store = Store.open(root, { broken: 'fail' });
    const first = store.recent('dev', ['ok'], 3).get('ok')!;
    expect(first.map((r) => r.cost)).toEqual([0.000321, 0.000321, 0.000321]);
    const db = new DatabaseSync(file);
    db.prepare('UPDATE runs SET summary = ?, stopped_at = ? WHERE execution = ?')
      .run(JSON.stringify({ cost: { totalUsd: 0.5 }, tasks: [{ exitCode: null }], reason: 'redriven' }), '2026-12-07T13:00:00.000Z', first[0]!.execution);
    db.prepare("UPDATE runs SET summary = '{not json', input = 'nor this' WHERE execution = ?").run(first[1]!.execution);
    db.close();
    const again = store.recent('dev', ['ok'], 3).get('ok')!;
    expect(again[0]).toMatchObject({ cost: 0.5, exitCode: null, reason: 'redriven' });
    // The run whose summary is no JSON is still listed, without what its summary would have said.
    expect(again[1]).toEqual({ job: 'ok', execution: first[1]!.execution, status: first[1]!.status, startedAt: first[1]!.startedAt, stoppedAt: first[1]!.stoppedAt, durationMs: first[1]!.durationMs, ...(first[1]!.error && { error: first[1]!.error }) });
    expect(again[2]).toEqual(first[2]);
    store.close();
  });
});

describe('live updates', () => {
  it('the store\'s version changes with a write of this process or another, and only then', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'stepcron-ui-api-')), '.stepcron');
    dirs.push(root);
    const file = seedRuns(root, ['ok'], 2);
    const store = Store.open(root, { broken: 'fail' });
    const ops = localOps({ stage: 'dev', store: () => store, run: async () => undefined });
    const v1 = await ops.version!();
    expect(await ops.version!()).toBe(v1);
    store.pause('dev', 'ok', { by: 'me', at: new Date().toISOString(), note: 'n' });
    const v2 = await ops.version!();
    expect(v2).not.toBe(v1);
    // Another stepcron process (its own connection) finishing a run.
    const other = new DatabaseSync(file);
    other.prepare("UPDATE runs SET status = 'FAILED' WHERE id = 1").run();
    other.close();
    const v3 = await ops.version!();
    expect(v3).not.toBe(v2);
    expect(await ops.version!()).toBe(v3);
    store.close();
  });
});

describe('the calendar', () => {
  const jobs = parseCatalog(CATALOG, { stage: 'dev' });

  it('counts every enabled job\'s fire times per hour; a DST night shows as the zone\'s change and a skipped 02:30', async () => {
    // Europe's spring-forward is 2026-03-29 01:00 UTC: 02:30 Berlin does not exist that night and does not fire.
    const now = new Date('2026-03-27T12:00:00Z');
    const { store, ops } = localStore(0, [], now);
    const { status, body } = await api(jobs, ops, now).handle('GET', '/api/calendar', new URLSearchParams('days=7'), undefined);
    const cal = body as { hours: number; buckets: Array<{ at: string; count: number; jobs: Array<{ job: string; at: string }> }>; dst: unknown[] };

    expect(status).toBe(200);
    expect(cal.hours).toBe(168);
    const nightly = cal.buckets.flatMap((b) => b.jobs.filter((j) => j.job === 'nightly').map((j) => j.at));
    expect(nightly).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z', '2026-04-01T00:30:00.000Z', '2026-04-02T00:30:00.000Z', '2026-04-03T00:30:00.000Z']);
    // ok fires every hour of the week (the hour that does not exist locally is not one of UTC's); off never.
    expect(cal.buckets.reduce((n, b) => n + b.count, 0)).toBe(168 + 6);
    expect(cal.buckets.some((b) => b.jobs.some((j) => j.job === 'off'))).toBe(false);
    expect(cal.dst).toEqual([{ zone: 'Europe/Berlin', at: '2026-03-29T01:00:00.000Z', from: 'UTC+01:00', to: 'UTC+02:00' }]);
    store.close();
  });

  it('counts only the fires still to come: [now, now + 24 h), bucketed by clock hour (a fire earlier this hour has passed)', async () => {
    // 12:30 UTC: ok's 12:00 fire has passed; its fire at 12:00 tomorrow is within the next 24 hours.
    const now = new Date('2026-12-07T12:30:00Z');
    const { store, ops } = localStore(0, [], now);
    const cal = (await api(jobs, ops, now).handle('GET', '/api/calendar', new URLSearchParams(), undefined)).body as { from: string; buckets: Array<{ at: string; count: number; jobs: Array<{ job: string; at: string }> }> };
    const fires = cal.buckets.flatMap((b) => b.jobs.map((j) => j.at));

    expect(cal.from).toBe(now.toISOString());
    expect(fires.filter((at) => at < now.toISOString())).toEqual([]);
    expect(fires).toContain('2026-12-08T12:00:00.000Z');
    // 24 hourly fires and nightly's 02:30 Berlin (01:30 UTC); 25 buckets, the first and last partial.
    expect(cal.buckets.reduce((n, b) => n + b.count, 0)).toBe(24 + 1);
    expect(cal.buckets.map((b) => b.at)[0]).toBe('2026-12-07T12:00:00.000Z');
    expect(cal.buckets.at(-1)?.at).toBe('2026-12-08T12:00:00.000Z');
    expect(cal.buckets[0]!.count).toBe(0);
    store.close();
  });

  it('finds fall-back and half-hour zones to the minute', () => {
    expect(dstChanges(['America/New_York', 'Australia/Lord_Howe', 'UTC'], new Date('2026-10-01T00:00:00Z'), 24 * 40)).toEqual([
      // 02:00 local standard time (UTC+10:30) on the first Sunday of October.
      { zone: 'Australia/Lord_Howe', at: '2026-10-03T15:30:00.000Z', from: 'UTC+10:30', to: 'UTC+11:00' },
      { zone: 'America/New_York', at: '2026-11-01T06:00:00.000Z', from: 'UTC-04:00', to: 'UTC-05:00' },
    ]);
  });
});

describe('actions over the local store', () => {
  const jobs = parseCatalog(CATALOG, { stage: 'dev' });

  it('pause and resume are stepcron pause and resume: the same words, the same record', async () => {
    const { store, ops } = localStore(0, [], new Date());
    const a = api(jobs, ops);
    const before = (await a.handle('GET', '/api/calendar', new URLSearchParams(), undefined)).body as { buckets: Array<{ jobs: Array<{ job: string }> }> };
    expect(before.buckets.flatMap((b) => b.jobs.map((j) => j.job))).toContain('ok');
    const paused = await a.handle('POST', '/api/jobs/ok/pause', new URLSearchParams(), { note: '  vendor down  ' });
    expect(paused).toMatchObject({ status: 200, body: { message: expect.stringMatching(/^paused ok on dev \(local store .*\) by .* at .*: vendor down$/) } });
    expect(store.paused('dev').get('ok')).toMatchObject({ note: 'vendor down' });
    // What fires changed: the calendar does not reuse the page computed before the pause.
    const calendar = (await a.handle('GET', '/api/calendar', new URLSearchParams(), undefined)).body as { buckets: Array<{ jobs: Array<{ job: string }> }> };
    expect(calendar.buckets.flatMap((b) => b.jobs.map((j) => j.job))).not.toContain('ok');
    expect(await a.handle('POST', '/api/jobs/ok/pause', new URLSearchParams(), { note: ' ' }))
      .toEqual({ status: 400, body: { error: 'pause: --note must say why (it is shown by stepcron status until resume)' } });
    const resumed = await a.handle('POST', '/api/jobs/ok/resume', new URLSearchParams(), {});
    expect(resumed).toMatchObject({ status: 200, body: { message: expect.stringMatching(/^resumed ok on dev .*: vendor down$/) } });
    expect(store.paused('dev').size).toBe(0);
    store.close();
  });

  it('a start\'s input is refused before anything runs: not JSON, over 256 KiB, or what the precheck refuses', async () => {
    const { store, ops } = localStore(0, [], new Date());
    const a = api(jobs, ops);
    const start = (input: unknown) => a.handle('POST', '/api/jobs/ok/start', new URLSearchParams(), { input });
    expect(await start('{"input": ')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^input: not valid JSON \(/) } });
    expect(await start(JSON.stringify({ input: { blob: 'x'.repeat(256 * 1024) } }))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^input: 257 KiB; Step Functions takes at most 256 KiB/) } });
    expect(await start('[1, 2]')).toEqual({ status: 400, body: { error: 'input: must be an object' } });
    expect(store.list()).toEqual([]);
    store.close();
  });

  it('backfill is the dry run only, redrive says why not; unknown jobs and actions are 404', async () => {
    const now = new Date();
    const { store, ops } = localStore(3, ['nightly'], now);
    const a = api(jobs, ops);
    const from = new Date(now.getTime() - 3 * 86_400_000).toISOString();
    const dry = await a.handle('POST', '/api/jobs/nightly/backfill', new URLSearchParams(), { from, to: now.toISOString(), dryRun: false });
    expect(dry.status).toBe(200);
    expect((dry.body as { times: Array<{ status: string }> }).times.map((t) => t.status)).toEqual(['WOULD_RUN', 'WOULD_RUN', 'WOULD_RUN']);
    expect(store.list('nightly')).toHaveLength(3);
    expect(await a.handle('POST', '/api/jobs/nightly/backfill', new URLSearchParams(), { from: 'yesterday', to: now.toISOString() }))
      .toMatchObject({ status: 400, body: { error: expect.stringMatching(/^--from: 'yesterday' is not an ISO time/) } });
    expect(await a.handle('POST', '/api/jobs/nightly/redrive', new URLSearchParams(), { execution: 'nope' }))
      .toMatchObject({ status: 409, body: { error: expect.stringMatching(/^redrive: job 'nightly' has no local run 'nope'/) } });
    expect(await a.handle('POST', '/api/jobs/nope/pause', new URLSearchParams(), { note: 'x' })).toMatchObject({ status: 404 });
    expect(await a.handle('POST', '/api/jobs/ok/delete', new URLSearchParams(), {})).toMatchObject({ status: 404 });
    store.close();
  });
});

describe('the same pages on a stage (--aws)', () => {
  const sfn = mockClient(SFNClient);
  const scheduler = mockClient(SchedulerClient);
  const sts = mockClient(STSClient);
  mockClient(CloudWatchLogsClient);
  const ACCOUNT = '123456789012';
  const MACHINE = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:stepcron-prod-ok`;
  const [job] = parseCatalog(['defaults:', '  image: busybox:latest', 'jobs:', '  ok:', '    description: hourly', '    schedule: cron(0 * * * ? *)',
    '    timezone: Europe/Berlin', '    command: [sh, -c, "true"]', ''].join('\n'), { stage: 'prod' });
  const schedule = {
    Arn: `arn:aws:scheduler:eu-west-1:${ACCOUNT}:schedule/default/stepcron-prod-OkSchedule-1A2B3C`, Name: 'stepcron-prod-OkSchedule-1A2B3C', GroupName: 'default',
    State: 'ENABLED' as const, Description: 'ok: hourly', ScheduleExpression: 'cron(0 * * * ? *)', ScheduleExpressionTimezone: 'Europe/Berlin',
    FlexibleTimeWindow: { Mode: 'OFF' as const }, Target: { Arn: MACHINE, RoleArn: `arn:aws:iam::${ACCOUNT}:role/stepcron-prod-SchedulerRole` },
  };

  beforeEach(() => {
    sfn.reset();
    scheduler.reset();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/readonly/alice`, UserId: 'AROAEXAMPLE:alice' });
    scheduler.on(ListSchedulesCommand).resolves({ Schedules: [{ Name: schedule.Name, GroupName: 'default', State: 'ENABLED', Target: { Arn: MACHINE } }] });
    scheduler.on(GetScheduleCommand).resolves(schedule);
    sfn.on(ListExecutionsCommand).resolves({ executions: [
      { executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:b`, stateMachineArn: MACHINE, name: 'b', status: 'RUNNING', startDate: new Date('2026-11-24T08:00:01Z') },
      { executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:a`, stateMachineArn: MACHINE, name: 'a', status: 'FAILED', startDate: new Date('2026-11-24T07:00:01Z'), stopDate: new Date('2026-11-24T07:01:01Z') },
    ] });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: 'x', name: 'a', status: 'FAILED', stateMachineArn: MACHINE, startDate: new Date(), error: 'JobFailed', cause: '{"exitCode":3}' });
  });

  it('the jobs page reads the schedule and the executions, as status --aws does', async () => {
    const ops = awsOps({ stage: 'prod', pollMs: 1 });
    const a = uiApi({ ops, mode: 'aws', catalog: 'jobs.yml', jobs: async () => [job!], enabledJobs: '*', checkInput: async (i) => i as Record<string, unknown>, monthlyRuns: () => 720 });
    const { status, body } = await a.handle('GET', '/api/jobs', new URLSearchParams(), undefined);
    expect({ status, body: status === 200 ? 'rows' : body }).toEqual({ status: 200, body: 'rows' });
    expect((body as JobRow[])[0]).toMatchObject({ job: 'ok', state: 'enabled', words: 'every hour at :00', runs: [{ e: 'b', s: 'RUNNING' }, { e: 'a', s: 'FAILED', d: 60_000 }] });
    // One ListExecutions page per job, nothing described: 1,000 jobs are 1,000 calls, not 30,000.
    expect(sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input)).toEqual([{ stateMachineArn: MACHINE, maxResults: STRIP_RUNS }]);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    expect((await a.handle('GET', '/api/info', new URLSearchParams(), undefined)).body).toMatchObject({ mode: 'aws', stage: 'prod', live: false });
    (ops as { close?: () => void }).close?.();
  });

  it('a run page is one DescribeExecution, its history and its tasks\' output, not a listing of the job\'s runs', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [
      { id: 1, type: 'ExecutionStarted', timestamp: new Date('2026-11-24T07:00:01Z') },
      { id: 2, type: 'TaskStateEntered', timestamp: new Date('2026-11-24T07:00:02Z'), stateEnteredEventDetails: { name: 'RunTask' } },
    ] });
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [] });
    const ops = awsOps({ stage: 'prod', pollMs: 1 });
    const a = uiApi({ ops, mode: 'aws', catalog: 'jobs.yml', jobs: async () => [job!], enabledJobs: '*', checkInput: async (i) => i as Record<string, unknown>, monthlyRuns: () => 720 });
    const { status, body } = await a.handle('GET', '/api/runs/ok/a', new URLSearchParams(), undefined);
    expect(status).toBe(200);
    expect(body).toMatchObject({ job: 'ok', execution: 'a', run: { execution: 'a', status: 'FAILED', exitCode: 3, error: 'JobFailed', link: expect.stringMatching(/^https:\/\/eu-west-1\.console\.aws\.amazon\.com\/states\//) },
      events: [{ type: 'ExecutionStarted' }, { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'RunTask' } }], output: [] });
    expect(sfn.commandCalls(ListExecutionsCommand)).toHaveLength(0);
    (ops as { close?: () => void }).close?.();
  });

  it('an action AWS denies is a 403 naming the permission: the page is read-only for it', async () => {
    scheduler.on(UpdateScheduleCommand).rejects(Object.assign(new Error(`User: arn:aws:sts::${ACCOUNT}:assumed-role/readonly/alice is not authorized to perform: scheduler:UpdateSchedule`),
      { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }));
    const ops = awsOps({ stage: 'prod', pollMs: 1 });
    const a = uiApi({ ops, mode: 'aws', catalog: 'jobs.yml', jobs: async () => [job!], enabledJobs: '*', checkInput: async (i) => i as Record<string, unknown>, monthlyRuns: () => 720 });
    const answer = await a.handle('POST', '/api/jobs/ok/pause', new URLSearchParams(), { note: 'maintenance' });
    expect(answer).toEqual({ status: 403, body: { denied: true, error: expect.stringMatching(/^AWS denied scheduler:UpdateSchedule: your identity needs that permission \(User: .*scheduler:UpdateSchedule\)$/) } });
    (ops as { close?: () => void }).close?.();
  });
});

describe('the server', () => {
  const jobs = parseCatalog(CATALOG, { stage: 'dev' });
  let served: Awaited<ReturnType<typeof serveUi>>;
  let store: Store;
  beforeAll(async () => {
    const local = localStore(0, [], new Date());
    store = local.store;
    served = await serveUi({ api: api(jobs, local.ops), port: 0 });
  });
  afterAll(async () => {
    await served.close();
    store.close();
  });

  const send = (path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: served.port, path, method: o.method ?? 'GET', headers: { Host: `127.0.0.1:${served.port}`, ...o.headers } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(o.body);
    });

  it('a malformed %-escape in the path is the request\'s mistake: 400 with one line, not an internal error', async () => {
    const a = api(jobs, localStore(0, [], new Date()).ops);
    for (const path of ['/api/jobs/%E0', '/api/run/x/%ZZ', '/api/runs/ok/%']) {
      expect(await a.handle('GET', path, new URLSearchParams(), undefined)).toEqual({ status: 400, body: { error: expect.stringMatching(/^a malformed %-escape in the path \('%[^']*'\): encode names with encodeURIComponent$/) } });
    }
    expect((await a.handle('POST', '/api/jobs/%E0/pause', new URLSearchParams(), { note: 'x' })).status).toBe(400);
    const answer = await send('/api/jobs/%E0', { headers: { 'X-Stepcron-Token': served.token } });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error).not.toMatch(/internal error/);
  });

  it('a run input is refused by its 256 KiB rule (as run --event), not by the body\'s size once JSON escaping inflates it', async () => {
    const json = { 'X-Stepcron-Token': served.token, 'Content-Type': 'application/json' };
    // 200 KB of input (a JSON string of 100,000 quotes) is a 400 KB body: read whole, and checked as an input (this
    // test's checkInput wants an object: its refusal shows the input reached the check).
    const escaped = JSON.stringify('"'.repeat(100_000));
    expect(Buffer.byteLength(escaped)).toBeLessThan(256 * 1024);
    const body = JSON.stringify({ input: escaped });
    expect(Buffer.byteLength(body)).toBeGreaterThan(400_000);
    const heavy = await send('/api/jobs/ok/start', { method: 'POST', headers: json, body });
    expect([heavy.status, JSON.parse(heavy.body)]).toEqual([400, { error: 'input: must be an object' }]);
    // 300 KiB of input: the 256 KiB rule's own message.
    const big = await send('/api/jobs/ok/start', { method: 'POST', headers: json, body: JSON.stringify({ input: JSON.stringify({ s: 'x'.repeat(300 * 1024) }) }) });
    expect([big.status, JSON.parse(big.body)]).toEqual([400, { error: 'input: 301 KiB; Step Functions takes at most 256 KiB of input: put the data in S3 and pass its key' }]);
  });

  it('listens on 127.0.0.1 only and prints a URL with a random token', () => {
    expect(served.server.address()).toMatchObject({ address: '127.0.0.1' });
    expect(served.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${served.port}/\\?token=[A-Za-z0-9_-]{32}$`));
  });

  it('trades the URL\'s token once for a separate session cookie (HttpOnly, SameSite=Strict), then answers the cookie or the header only', async () => {
    const link = new URL(served.url).searchParams.get('token')!;
    const first = await send(`/?token=${link}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const [cookie] = first.headers['set-cookie'] as string[];
    expect(cookie).toMatch(new RegExp(`^stepcron-ui-${served.port}=[A-Za-z0-9_-]{32}; HttpOnly; SameSite=Strict; Path=/$`));
    // The cookie (which other servers on 127.0.0.1 also receive) is a session value, never the printed token.
    const session = cookie!.split(';')[0]!.split('=')[1]!;
    expect(session).not.toBe(link);
    expect(session).not.toBe(served.token);
    expect((await send('/api/info', { headers: { Cookie: `stepcron-ui-${served.port}=${session}` } })).status).toBe(200);
    expect((await send('/api/info', { headers: { Cookie: `stepcron-ui-${served.port}=${link}` } })).status).toBe(401);
    expect((await send('/api/info', { headers: { 'X-Stepcron-Token': served.token } })).status).toBe(200);
    expect((await send('/api/info')).status).toBe(401);
    expect((await send('/api/info', { headers: { 'X-Stepcron-Token': `${served.token}x` } })).status).toBe(401);
    // The cookie of another console on another port is not this one's.
    expect((await send('/api/info', { headers: { Cookie: `stepcron-ui-1=${session}` } })).status).toBe(401);
  });

  it('the printed URL opens the console once: used again it is refused, and a fresh URL is printed to the terminal', async () => {
    const printed: string[] = [];
    const own = await serveUi({ api: api(jobs, localStore(0, [], new Date()).ops), port: 0, onUrl: (u) => void printed.push(u) });
    const get = (path: string, headers: Record<string, string> = {}) => new Promise<{ status: number; body: string; cookie: string | undefined }>((resolve, reject) => {
      request({ host: '127.0.0.1', port: own.port, path, headers: { Host: `127.0.0.1:${own.port}`, ...headers } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode!, body, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] }));
      }).on('error', reject).end();
    });
    try {
      const path = own.url.slice(`http://127.0.0.1:${own.port}`.length);
      const first = await get(path);
      expect(first.status).toBe(303);
      // Clicked again in the browser that has the session: just the console.
      expect((await get(path, { Cookie: first.cookie! })).status).toBe(303);
      expect(printed).toEqual([]);
      const again = await get(path);
      expect([again.status, JSON.parse(again.body).error]).toEqual([401, 'this link was used already (it opens the console once): use the open tab, or the new URL stepcron ui just printed in its terminal']);
      expect(printed).toHaveLength(1);
      expect(printed[0]).not.toBe(own.url);
      expect((await get(printed[0]!.slice(`http://127.0.0.1:${own.port}`.length))).status).toBe(303);
      expect((await get(path)).status).toBe(401);
    } finally {
      await own.close();
    }
  });

  it('refuses other Hosts, cross-origin and non-JSON POSTs, and GETs on actions; serves files by name only', async () => {
    const token = { 'X-Stepcron-Token': served.token };
    const json = { ...token, 'Content-Type': 'application/json' };
    expect((await send('/api/info', { headers: { ...token, Host: 'attacker.example' } })).status).toBe(403);
    expect((await send('/api/info', { headers: { ...token, Host: `localhost:${served.port}` } })).status).toBe(200);
    expect((await send('/api/jobs/ok/pause', { method: 'POST', headers: { ...json, Origin: 'https://attacker.example' }, body: '{"note":"x"}' })).status).toBe(403);
    expect((await send('/api/jobs/ok/pause', { method: 'POST', headers: { ...token, 'Content-Type': 'text/plain' }, body: '{"note":"x"}' })).status).toBe(403);
    expect((await send('/api/jobs/ok/pause', { headers: token })).status).toBe(405);
    expect((await send('/api/jobs/ok/pause', { method: 'PUT', headers: json, body: '{"note":"x"}' })).status).toBe(405);
    expect((await send('/api/jobs/ok/pause', { method: 'POST', headers: json, body: 'x'.repeat(2 * 1024 * 1024) })).status).toBe(413);
    expect(store.paused('dev').size).toBe(0);
    const ok = await send('/api/jobs/ok/pause', { method: 'POST', headers: { ...json, Origin: `http://127.0.0.1:${served.port}` }, body: '{"note":"from the page"}' });
    expect(ok.status).toBe(200);
    expect(store.paused('dev').get('ok')?.note).toBe('from the page');
    for (const path of ['/assets/../../package.json', '/assets/%2e%2e%2f%2e%2e%2fpackage.json', '/assets/index.html/..', '/etc/passwd']) {
      expect((await send(path, { headers: token })).status).toBe(404);
    }
    const script = await send('/assets/app.js', { headers: token });
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['content-security-policy']).toMatch(/^default-src 'self'; script-src 'self'; /);
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    expect(script.headers['x-frame-options']).toBe('DENY');
  });

  it('a fixed port already taken is refused at start', async () => {
    await expect(serveUi({ api: api(jobs, localStore(0, [], new Date()).ops), port: served.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
