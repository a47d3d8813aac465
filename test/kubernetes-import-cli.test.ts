// `stepcron import kubernetes` end to end: the real CLI imports test/fixtures/kubernetes into a catalog that validates,
// and refuses a Helm template and a missing path. Apart from kubernetes-import.test.ts's tests of the import itself:
// spawning the CLI takes seconds, and mutation testing reloads that file for each mutant of code run at load.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanUp, startCli } from './support/cli';

const DIR = join(__dirname, 'fixtures', 'kubernetes');

afterAll(cleanUp);

describe('the CLI, spawned', () => {
  it('imports a directory into a catalog that validates; refuses a Helm template and a missing path with exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-k8s-cli-'));
    try {
      const cli = (args: string[]) => startCli(args, { cwd: dir }).done;
      const [imported_, helm, missing] = await Promise.all([
        cli(['import', 'kubernetes', DIR, '-o', 'out.yml']),
        cli(['import', 'kubernetes', join(__dirname, 'fixtures', 'kubernetes-helm')]),
        cli(['import', 'kubernetes', 'nope']),
      ]);
      expect(imported_.code).toBe(0);
      expect(imported_.stdout).toBe('out.yml: added 7 jobs (db-backup, cache-warm, hello, report-generator-v2-dom, report-generator-v2-dow, queue-sweep, month-end); ' +
        'check them with: npx stepcron validate --catalog out.yml\n');
      for (const line of imported_.stderr.trimEnd().split('\n')) expect(line).toMatch(/^stepcron: warning: /);
      const validate = await cli(['validate', '--catalog', 'out.yml']);
      expect(validate.code).toBe(0);
      expect(validate.stdout).toMatch(/^out\.yml: 7 jobs valid for stage dev/);
      expect(helm).toMatchObject({ code: 2, stdout: '' });
      expect(helm.stderr).toBe(`stepcron: ${join(__dirname, 'fixtures', 'kubernetes-helm', 'cronjob.yml')}:4: is a Helm template ('{{' here): render it first (helm template <release> <chart> > rendered.yaml) and import that\n`);
      expect(missing).toMatchObject({ code: 2, stderr: 'stepcron: nope: cannot read it (ENOENT): give a YAML file or a directory of them\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
