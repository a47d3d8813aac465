// `stepcron schedule` (cli/scheduler.ts): what it announces is what it fires, and its lines are on the job's clock.
// Real child processes (the process backend) and a scheduler clock set just before a fire time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processBackend } from '../cli/backends/process';
import { localScheduler } from '../cli/scheduler';
import { Store } from '../cli/store';
import { jobFrom } from './support/workflow';

let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stepcron-scheduler-'));
  store = Store.open(join(dir, '.stepcron'));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

// An aligned rate in a zone that is not UTC: it deploys as cron(0 0 * * ? *) in UTC (workflows/schedule.ts
// deployedSchedule), so it fires at midnight UTC, 05:30 in Kolkata, not at midnight in Kolkata.
const daily = jobFrom(`
jobs:
  daily:
    description: once a day
    schedule: rate(1 day)
    timezone: Asia/Kolkata
    image: local:1
    command: [sh, -c, 'true']
    retries: 0
`);

it('announces as the next time exactly the time it then fires at (an aligned rate in Asia/Kolkata fires in UTC)', async () => {
  // The scheduler's clock: 0.4 s before 2026-12-08T00:00:00Z, whatever the real time.
  const offset = Date.parse('2026-12-08T00:00:00Z') - 400 - Date.now();
  const now = () => new Date(Date.now() + offset);
  const out: string[] = [];

  const code = await localScheduler({ jobs: [daily], stage: 'test', history: store, backend: processBackend({ graceMs: 200 }), forMs: 3000, out: (t) => void out.push(t), now });

  const text = out.join('');
  expect(code).toBe(0);
  const announced = /daily: rate\(1 day\) Asia\/Kolkata, next (\d{4}-\d\d-\d\d \d\d:\d\d \S+) \(in /.exec(text)?.[1];
  const fired = /daily: start \(scheduled (\d{4}-\d\d-\d\d \d\d:\d\d \S+)\)/.exec(text)?.[1];
  expect({ announced, fired }).toEqual({ announced: '2026-12-08 05:30 UTC+05:30', fired: '2026-12-08 05:30 UTC+05:30' });
  expect(store.list('daily')[0]).toMatchObject({ status: 'SUCCEEDED' });
}, 15_000);

it('stamps each line with the time on the job\'s clock, labelled, not a bare ISO UTC time', async () => {
  const offset = Date.parse('2026-12-08T00:00:00Z') - 400 - Date.now();
  const now = () => new Date(Date.now() + offset);
  const out: string[] = [];

  await localScheduler({ jobs: [daily], stage: 'test', history: store, backend: processBackend({ graceMs: 200 }), forMs: 3000, out: (t) => void out.push(t), now });

  const jobLines = out.join('').split('\n').filter((l) => /^\S+ \S+ daily: /.test(l));
  expect(jobLines.length).toBeGreaterThanOrEqual(3);
  expect(out.join('')).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  // 23:59:59.6 UTC is 05:29:59 in Kolkata; the start and its outcome come after 05:30:00 there.
  expect(jobLines[0]).toMatch(/^05:29:59 UTC\+05:30 daily: rate\(1 day\) Asia\/Kolkata, next /);
  expect(jobLines[1]).toMatch(/^05:30:0\d UTC\+05:30 daily: start \(scheduled 2026-12-08 05:30 UTC\+05:30\)$/);
  expect(jobLines.at(-1)).toMatch(/^05:30:0\d UTC\+05:30 daily: SUCCEEDED in /);
}, 15_000);
