// A job's output through the real CLI (`stepcron run`, the process backend, line splitting, the run store), next to
// the least any runner does: a bare Node process that spawns the same command and pipes its stdout on. Each side is
// a fresh process whose stdout goes to /dev/null; its peak RSS is read from /proc (VmHWM) until it exits.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchPeak } from '../test/support/cli';

export interface OutputFigures {
  ms: number;
  peakMb: number;
  /** The run store's size afterwards (stepcron only), bytes. */
  storeBytes?: number;
}

const bin = join(__dirname, '..', 'bin', 'stepcron.cjs');

/** Runs `argv` with stdout to /dev/null, sampling its peak RSS; rejects if it does not exit 0. */
function measured(argv: string[], cwd: string): Promise<{ ms: number; peakMb: number }> {
  return new Promise((resolve, reject) => {
    const nul = openSync('/dev/null', 'w');
    const started = performance.now();
    const child = spawn(process.execPath, argv, { cwd, stdio: ['ignore', nul, 'ignore'], env: { ...process.env, NODE_OPTIONS: '' } });
    const peak = watchPeak(child.pid!, 10);
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      peak.stop();
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code}`));
      else resolve({ ms, peakMb: peak.peak() / 1e6 });
    });
  });
}

/** `command` (a shell line) as a job run by `stepcron run`, and through a bare pipe. */
export async function measureOutput(command: string): Promise<{ stepcron: OutputFigures; bare: OutputFigures }> {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-bench-output-'));
  try {
    writeFileSync(join(dir, 'jobs.yml'), ['defaults:', '  image: busybox:latest', '  retries: 0', 'jobs:',
      '  out:', '    description: output', '    schedule: rate(1 hour)', `    command: [sh, -c, ${JSON.stringify(command)}]`, ''].join('\n'));
    const pipe = `const c=require('child_process').spawn('sh',['-c',${JSON.stringify(command)}],{stdio:['ignore','pipe','inherit']});` +
      "c.stdout.pipe(process.stdout);c.on('exit',(code)=>{process.exitCode=code})";
    // One untimed run of each: the CLI's build check and code cache, the file cache.
    await measured([bin, 'run', 'out', '--catalog', 'jobs.yml'], dir);
    await measured(['-e', pipe], dir);
    rmSync(join(dir, '.stepcron'), { recursive: true, force: true });
    const stepcron = await measured([bin, 'run', 'out', '--catalog', 'jobs.yml'], dir);
    const bare = await measured(['-e', pipe], dir);
    return { stepcron: { ...stepcron, storeBytes: statSync(join(dir, '.stepcron', 'store.db')).size }, bare };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
