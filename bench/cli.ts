// How fast the CLI starts, next to a bare Node: `node -e 0`, `node bin/stepcron.cjs --help` and
// `node bin/stepcron.cjs validate` (the sample catalog), each run as a user runs it, with the same node binary.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface CliStart {
  /** Median wall time of `node -e 0`, ms. */
  bareNodeMs: number;
  /** Median wall time of `node bin/stepcron.cjs --help`, ms. */
  helpMs: number;
  /** Median wall time of `node bin/stepcron.cjs validate` (workflows/jobs.yml), ms. */
  validateMs: number;
  /** The fastest run of each, ms: on a busy machine the medians drift with the load, the fastest runs much less. */
  fastest: { bareNodeMs: number; helpMs: number; validateMs: number };
  runs: number;
}

/**
 * Median wall times over `runs` runs of each command, interleaved so that a busy machine slows all three alike. One
 * untimed run of each comes first: it rebuilds a stale build and writes the code caches, as a user's first start does.
 */
export function measureCliStart(root: string, runs = 30): CliStart {
  const bin = join(root, 'bin', 'stepcron.cjs');
  const commands = { bareNodeMs: ['-e', '0'], helpMs: [bin, '--help'], validateMs: [bin, 'validate'] };
  type Measured = 'bareNodeMs' | 'helpMs' | 'validateMs';
  const times: Record<Measured, number[]> = { bareNodeMs: [], helpMs: [], validateMs: [] };
  const once = (args: string[]) => {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    return ms;
  };
  for (const args of Object.values(commands)) once(args);
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of Object.entries(commands) as Array<[Measured, string[]]>) times[name].push(once(args));
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  };
  return {
    bareNodeMs: median(times.bareNodeMs), helpMs: median(times.helpMs), validateMs: median(times.validateMs),
    fastest: { bareNodeMs: Math.min(...times.bareNodeMs), helpMs: Math.min(...times.helpMs), validateMs: Math.min(...times.validateMs) },
    runs,
  };
}
