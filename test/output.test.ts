// The CLI's memory while a job's output flows through it, measured from outside (VmRSS of the real CLI process in
// /proc): a line far longer than MAX_LINE_BYTES is cut, not held, and a reader that does not keep up holds the job
// back instead of the CLI buffering what it cannot write. Growth is counted from the moment the job starts writing
// (the job says so with a file and waits a little), so the CLI's own start (and a rebuild of its bundle) is left out.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cutMarker, MAX_LINE_BYTES } from '../cli/backends/task';
import { BIN, type Cli, cleanUp, memoryOf, sleep, startCli, until, workspace } from './support/cli';

const MiB = 1024 * 1024;
const LINE_BYTES = 100 * MiB;
const OUTPUT_BYTES = 50 * MiB;
/** Before writing, each job leaves a file and waits, so the test can read the CLI's memory before the output. */
const ready = (name: string) => `touch ready-${name}; sleep 0.5; `;

const jobs = {
  // One 100 MiB line ('x' repeated), then a short one.
  huge: { command: `${ready('huge')}head -c ${LINE_BYTES} /dev/zero | tr '\\0' x; echo; echo after` },
  // 50 MiB of 100-byte lines, then a file saying the job got to its end.
  chatty: { command: `${ready('chatty')}yes '${'a'.repeat(99)}' | head -c ${OUTPUT_BYTES}; touch finished` },
};

/** The CLI's resident memory when the job is about to write, and the most it reaches until `end` resolves. */
async function growth(cli: Cli, dir: string, job: string, end: Promise<unknown>): Promise<number> {
  await until(() => existsSync(join(dir, `ready-${job}`)), 20_000, `job ${job} to start`);
  const before = memoryOf(cli.child.pid!)!.rss;
  let most = before;
  let ended = false;
  void end.finally(() => { ended = true; });
  while (!ended) {
    const rss = memoryOf(cli.child.pid!)?.rss;
    // Gone, or a zombie (no VmRSS): the run is over.
    if (rss === undefined || Number.isNaN(rss)) break;
    most = Math.max(most, rss);
    await sleep(20);
  }
  return most - before;
}

describe('the CLI with large job output', () => {
  let dir: string;
  beforeAll(() => {
    dir = workspace(jobs);
  });
  afterAll(cleanUp);

  it('passes a 100 MiB line on cut to MAX_LINE_BYTES with its length, without ever holding it', async () => {
    // Act
    const cli = startCli(['run', 'huge', '--catalog', 'jobs.yml', '--json'], { cwd: dir });
    const grown = await growth(cli, dir, 'huge', cli.done);
    const result = await cli.done;

    // Assess
    expect(result.code).toBe(0);
    const [line, after] = result.stdout.split('\n');
    expect(line).toBe(`${'x'.repeat(MAX_LINE_BYTES)}${cutMarker(LINE_BYTES)}`);
    expect(after).toBe('after');
    // Holding the line costs at least its size; splitting a growing string, as before, cost 2 GB.
    expect(grown).toBeLessThan(LINE_BYTES);
  }, 60_000);

  it('holds the job back while nobody reads its stdout, then delivers every byte', async () => {
    // Prepare
    const cli = startCli(['run', 'chatty', '--catalog', 'jobs.yml', '--json'], { cwd: dir, readStdout: false });

    // Act: nobody reads for 3 s while the job has 50 MiB to write.
    const grown = await growth(cli, dir, 'chatty', sleep(3500));
    const finishedUnread = existsSync(join(dir, 'finished'));
    cli.stdout();
    const result = await cli.done;

    // Assess: the job was blocked on its writes (it could not finish), and the CLI held little of its output
    // (without back-pressure it held all of it: 452 MB of memory for these 50 MiB).
    expect(finishedUnread).toBe(false);
    expect(grown).toBeLessThan(32 * MiB);
    expect(result.code).toBe(0);
    const output = result.stdout.slice(0, result.stdout.lastIndexOf('\n', result.stdout.length - 2) + 1);
    // Every line arrived, in order.
    expect(output.length).toBe(OUTPUT_BYTES);
    expect(output === `${'a'.repeat(99)}\n`.repeat(OUTPUT_BYTES / 100)).toBe(true);
    expect(JSON.parse(result.stdout.slice(output.length))).toMatchObject({ status: 'SUCCEEDED' });
    expect(existsSync(join(dir, 'finished'))).toBe(true);
  }, 60_000);
});

describe('a reader that goes away (stepcron … | head)', () => {
  let dir: string;
  beforeAll(() => {
    dir = workspace({ chatty: jobs.chatty });
  });
  afterAll(cleanUp);

  /** Starts the CLI and closes its stdout after the first chunk, as `head -1` does. */
  async function closedAfterFirstChunk(args: string[]) {
    const cli = startCli([...args, '--catalog', 'jobs.yml'], { cwd: dir, readStdout: false });
    cli.child.stdout!.once('data', () => cli.child.stdout!.destroy());
    return cli.done;
  }

  it('a listing ends there, quietly, exit 0 (no EPIPE stack trace)', async () => {
    const result = await closedAfterFirstChunk(['next', 'rate(1 minute)', '-n', '10000']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  // validate and help write to fd 1 directly until something uses process.stdout (cli/main.ts, out): the stream's
  // handlers must still see what goes wrong, as they did when every line went through the stream.
  it.each(['validate', '--help', 'validate --help'])('%s into a closed pipe ends quietly, exit 0', async (command) => {
    const args = command.split(' ');
    const cli = startCli(args[0] === 'validate' ? [...args, '--catalog', 'jobs.yml'] : args, { cwd: dir, readStdout: false });
    cli.child.stdout!.destroy();
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/EPIPE|^\s+at /m);
  });

  it.each(['validate', '--help'])('%s onto a full disk says so once on stderr, exit 0', (command) => {
    const fd = openSync('/dev/full', 'w');
    const result = spawnSync(process.execPath, [BIN, command, ...(command === 'validate' ? ['--catalog', 'jobs.yml'] : [])],
      { cwd: dir, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    closeSync(fd);
    expect(result.status).toBe(0);
    expect(result.stderr.match(/disk full: cannot write stdout \(\/dev\/full/g)).toHaveLength(1);
  });

  it('a run goes on to its end, exits as it would, and keeps its output in the store', async () => {
    const result = await closedAfterFirstChunk(['run', 'chatty']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/EPIPE|^\s+at /m);
    expect(existsSync(join(dir, 'finished'))).toBe(true);
    const history = await startCli(['history', 'chatty', '--catalog', 'jobs.yml', '--json'], { cwd: dir }).done;
    expect(JSON.parse(history.stdout)[0]).toMatchObject({ status: 'SUCCEEDED' });
  }, 60_000);
});

describe('stdout and stderr into one file (2>&1)', () => {
  it("keep the order things happened in: the job's lines between its task's start and end, the summary last", async () => {
    // Prepare
    const dir = workspace({ order: { command: 'echo line-A; echo line-B >&2; echo line-C' } });
    const file = join(dir, 'both.log');
    const fd = openSync(file, 'w');
    // Act
    const child = spawn(process.execPath, [BIN, 'run', 'order', '--catalog', 'jobs.yml', '--json'], { cwd: dir, stdio: ['ignore', fd, fd] });
    const code = await new Promise((resolve) => child.on('close', resolve));
    closeSync(fd);
    // Assess
    expect(code).toBe(0);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const at = (text: string) => lines.findIndex((l) => l.includes(text));
    expect(at('→ RunTask')).toBeLessThan(at('line-A'));
    // (the job's own stdout and stderr are two pipes: their lines' order between each other is the reader's race)
    expect(at('line-A')).toBeLessThan(at('line-C'));
    for (const line of ['line-A', 'line-B', 'line-C']) expect(at(line)).toBeLessThan(at('✓ RunTask'));
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ job: 'order', status: 'SUCCEEDED' });
  });
});
