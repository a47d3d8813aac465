// One measurement in a fresh `node` (started by bench/run.ts through runChild): `node --import tsx bench/child.ts
// <name> <n>`. A warm-up run on a few items first (both sides of a comparison get the same), then the measured run;
// the last stdout line is `@@bench <json>`: the measurement's result and the process's peak RSS
// (process.resourceUsage().maxRSS, which covers the whole process's life: node, tsx, the code, the warm-up).
import { distributedRaw, distributedStepcron, engineRaw, engineStepcron, spawnMany } from './fanout';

const MEASURES: Record<string, { warm: (n: number) => Promise<unknown>; run: (n: number) => Promise<unknown>; warmN: number }> = {
  idle: { warm: async () => undefined, run: async () => ({ ms: 0 }), warmN: 0 },
  'engine-stepcron': { warm: engineStepcron, run: engineStepcron, warmN: 100 },
  'engine-raw': { warm: engineRaw, run: engineRaw, warmN: 100 },
  'distributed-execute': { warm: (n) => distributedStepcron(n, 'execute'), run: (n) => distributedStepcron(n, 'execute'), warmN: 40 },
  'distributed-runlocal': { warm: (n) => distributedStepcron(n, 'runLocal'), run: (n) => distributedStepcron(n, 'runLocal'), warmN: 40 },
  'distributed-raw': { warm: distributedRaw, run: distributedRaw, warmN: 40 },
  'spawn-backend': { warm: (n) => spawnMany(n, 'backend'), run: (n) => spawnMany(n, 'backend'), warmN: 10 },
  'spawn-bare': { warm: (n) => spawnMany(n, 'bare'), run: (n) => spawnMany(n, 'bare'), warmN: 10 },
};

export const CHILD_MEASURES = Object.keys(MEASURES);

async function main() {
  const [name = '', count = '0'] = process.argv.slice(2);
  const measure = MEASURES[name];
  if (!measure) throw new Error(`unknown measure ${name}: one of ${Object.keys(MEASURES).join(', ')}`);
  if (measure.warmN > 0 && process.env.BENCH_NO_WARMUP !== '1') await measure.warm(measure.warmN);
  const result = await measure.run(Number(count));
  const maxRssMb = (process.resourceUsage().maxRSS * 1024) / 1e6;
  process.stdout.write(`\n@@bench ${JSON.stringify({ result, maxRssMb })}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  });
}
