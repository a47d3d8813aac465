// The console's jobs page (`stepcron ui`, issue 15) over a store of `jobs` jobs x `runs` finished runs: the answer to
// GET /api/jobs through the real server (HTTP on loopback, gzip as a browser asks), once the server has warmed up
// (it parses the catalog once, and computes the schedules' runs per month at start, as `stepcron ui` does); baseline:
// `status --json` over the same store and jobs (the day-2 port asked per job, as the CLI does it).
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as commands from '../cli/ops/commands';
import { localOps } from '../cli/ops/local';
import { Store } from '../cli/store';
import { uiApi } from '../cli/ui/api';
import { serveUi } from '../cli/ui/server';
import { parseCatalog } from '../workflows/catalog';
import { monthlyEstimate } from '../workflows/cost';
import { bigCatalog } from '../test/support/big-catalog';
import { seedRuns } from '../test/support/seed-store';

export interface UiFigures {
  /** The first answer right after start, before warm-up (catalog parse and schedule facts included). */
  coldMs: number;
  /** Median of the answers after warm-up. */
  warmMs: number;
  /** The page's bytes, gzipped as sent, and as JSON. */
  gzipBytes: number;
  jsonBytes: number;
  /** Median of `status --json` over the same store. */
  statusMs: number;
  rows: number;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function get(port: number, token: string): Promise<{ ms: number; bytes: number; json: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/jobs', headers: { 'X-Stepcron-Token': token, 'Accept-Encoding': 'gzip' } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; }).on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET /api/jobs: ${res.statusCode}`));
        resolve({ ms: performance.now() - started, bytes, json: 0 });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export async function measureUi(jobCount: number, runsPerJob: number, rounds = 5): Promise<UiFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-bench-ui-'));
  try {
    const jobs = parseCatalog(bigCatalog(jobCount), { stage: 'dev' });
    seedRuns(join(dir, '.stepcron'), jobs.map((j) => j.name), runsPerJob);
    const store = Store.open(join(dir, '.stepcron'), { broken: 'fail', keep: runsPerJob });
    const ops = localOps({ stage: 'dev', store: () => store, run: async () => undefined });
    const monthlyRuns = (schedule: string, timezone: string) => monthlyEstimate(schedule, timezone, 1).runs;
    const api = uiApi({
      ops, mode: 'local', catalog: 'bench', jobs: async () => jobs, enabledJobs: '*',
      checkInput: async (input) => input as Record<string, unknown>, monthlyRuns,
    });
    const served = await serveUi({ api, port: 0 });
    try {
      const cold = await get(served.port, served.token);
      await api.warm();
      const warm: number[] = [];
      let bytes = 0;
      for (let i = 0; i < rounds; i++) {
        const r = await get(served.port, served.token);
        warm.push(r.ms);
        bytes = r.bytes;
      }
      const page = await api.handle('GET', '/api/jobs', new URLSearchParams(), undefined);
      const status: number[] = [];
      for (let i = 0; i < Math.max(1, Math.floor(rounds / 2)); i++) {
        const started = performance.now();
        await commands.status(ops, jobs, { json: true, last: 30, cost: { monthly: (j, c) => monthlyEstimate(j.schedule, j.timezone, c).usd } },
          { out: () => undefined, err: () => undefined, tty: false });
        status.push(performance.now() - started);
      }
      return {
        coldMs: cold.ms, warmMs: median(warm), gzipBytes: bytes, jsonBytes: JSON.stringify(page.body).length, statusMs: median(status),
        rows: (page.body as unknown[]).length,
      };
    } finally {
      await served.close();
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
