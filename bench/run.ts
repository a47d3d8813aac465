// `npm run bench`: how fast the pieces are on this machine. Targets live here, never in timed tests.
//   compile      every sample job -> ASL, per catalog
//   engine       a fan-out of N items on the local engine with an instant in-memory task (engine overhead per item)
//   process      a fan-out of 100 items, each a real child process (`true`)
//   next         1000 fire times of a per-minute cron, in UTC and across a DST change
//   container    one task under podman/docker (when an engine answers and the test image exists)
//   package      `sls package --stage dev` (the real CLI and plugins)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCatalog } from '../workflows/catalog';
import { compile } from '../workflows/compile';
import { execute, localInfra, newExecution, syncResult, type Services } from '../cli/engine';
import { processBackend } from '../cli/backends/process';
import { containerBackend, detectEngine } from '../cli/backends/container';
import { nextFireTimes } from '../workflows/schedule';
import type { EcsTask } from '../cli/backends/types';

const root = join(__dirname, '..');
const rows: Array<[string, string, string]> = [];
const record = (name: string, value: string, target: string) => {
  rows.push([name, value, target]);
  process.stderr.write(`${name}: ${value} (target ${target})\n`);
};

const fanOutJob = (n: number, command: string[]) => parseCatalog(`
jobs:
  bench:
    description: bench
    schedule: rate(1 hour)
    image: bench:1
    command: ${JSON.stringify(command)}
    retries: 0
    fanOut: { items: ${JSON.stringify(Array.from({ length: n }, (_, i) => i))}, maxConcurrency: 40 }
`, { stage: 'bench' })[0]!;

function services(runTask: Services['runTask']): Services {
  return {
    precheck: async (e) => ({ run: true, reason: 'bench', runId: e.executionName, scheduledTime: e.startTime, input: {}, items: e.policy.fanOut?.items ?? [], maxFailedItems: 0, route: 'inline', source: null }),
    notify: async () => ({ delivered: [], subject: '', message: '' }),
    runTask, listTasks: async () => [], stopTask: async () => undefined,
  };
}

async function main() {
  // compile
  const jobs = parseCatalog(readFileSync(join(root, 'workflows/jobs.yml'), 'utf8'), { stage: 'dev' });
  const rounds = 2000;
  let t = performance.now();
  for (let i = 0; i < rounds; i++) for (const job of jobs) compile(job, localInfra(job, 'dev'));
  record('compile', `${((performance.now() - t) / rounds).toFixed(3)} ms per catalog of ${jobs.length} jobs`, '< 1 ms');

  // engine overhead
  const instant: EcsTask = { TaskArn: 'arn:aws:ecs:local:0:task/c/x', ClusterArn: '', TaskDefinitionArn: '', StartedBy: '', LastStatus: 'STOPPED', DesiredStatus: 'STOPPED', StopCode: 'EssentialContainerExited', StoppedReason: '', CreatedAt: '', StoppedAt: '', Containers: [{ Name: 'job', ExitCode: 0, LastStatus: 'STOPPED' }] };
  for (const n of [1000, 3000]) {
    const job = fanOutJob(n, ['true']);
    const heap = process.memoryUsage().heapUsed;
    t = performance.now();
    const outcome = await execute(compile(job, localInfra(job, 'bench')), {}, newExecution(job, 'bench', `e-${n}`), { services: services(async () => syncResult(instant)) });
    const ms = performance.now() - t;
    record(`engine fan-out ${n}`, `${ms.toFixed(0)} ms (${(ms / n).toFixed(2)} ms/item), ${outcome.status}, +${((process.memoryUsage().heapUsed - heap) / 2 ** 20).toFixed(0)} MiB heap`, '< 2 ms/item');
  }

  // real child processes
  const backend = processBackend({ cwd: root });
  const job = fanOutJob(100, ['true']);
  t = performance.now();
  const outcome = await execute(compile(job, localInfra(job, 'bench')), {}, newExecution(job, 'bench', 'e-proc'), {
    services: services(async (p) => backend.run({ job, cluster: p.Cluster, taskDefinition: p.TaskDefinition, startedBy: p.StartedBy, environment: {}, command: job.command, onOutput: () => undefined })),
  });
  record('process fan-out 100', `${(performance.now() - t).toFixed(0)} ms, ${outcome.status}`, '< 3 s');

  // schedule search
  for (const timezone of ['UTC', 'America/New_York']) {
    t = performance.now();
    nextFireTimes('cron(* * * * ? *)', { from: new Date('2026-03-08T00:00:00Z'), count: 1000, timezone });
    record(`next 1000 (${timezone})`, `${(performance.now() - t).toFixed(1)} ms`, '< 100 ms');
  }

  // one container task
  const engine = await detectEngine();
  if (engine) {
    const image = 'localhost/stepcron-busybox:latest';
    const containers = containerBackend({ engine: engine.engine, extraArgs: ['--pull', 'never'] });
    t = performance.now();
    const task = await containers.run({ job: { ...job, image, command: ['true'] }, cluster: 'bench', taskDefinition: 'bench', startedBy: 'bench', environment: {}, command: ['true'], onOutput: () => undefined });
    const ok = task.Containers[0]?.ExitCode === 0;
    record('container task', ok ? `${(performance.now() - t).toFixed(0)} ms (${engine.engine})` : `not measured: ${task.StoppedReason} (build ${image} with the container tests first)`, '< 1 s');
  } else {
    record('container task', 'not measured: no container engine answers', '< 1 s');
  }

  // sls package
  const out = mkdtempSync(join(tmpdir(), 'stepcron-bench-'));
  t = performance.now();
  execFileSync(join(root, 'node_modules/.bin/sls'), ['package', '--stage', 'dev', '--package', out], {
    cwd: root, stdio: 'ignore', env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  record('sls package', `${((performance.now() - t) / 1000).toFixed(1)} s`, '< 20 s');
  rmSync(out, { recursive: true, force: true });

  process.stdout.write(`\n| measure | result | target |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exitCode = 1;
});
