// Catalog validation: every rule rejects with a line naming the job, the field and what is allowed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CatalogError, crontabAdvice, enabledJobsProblem, findJob, loadCatalog, logicalId, MAX_CATALOG_BYTES, noSuchJob, offReason,
  oneLine, parseCatalog, scheduledOnStage, unknownEnabledStages,
} from '../workflows/catalog';
import { overrideChars, RUN_INPUT_OVERRIDE_CHARS } from '../workflows/limits';
import { SECRET_FORMS } from './support/shapes-catalog';

const base = {
  description: 'a job',
  schedule: 'cron(0 2 * * ? *)',
  image: 'img:1',
  command: '[run]',
};

function catalog(fields: Record<string, string | undefined>, name = 'job-a', extra = ''): string {
  const merged = { ...base, ...fields };
  const lines = Object.entries(merged).filter(([, v]) => v !== undefined).map(([k, v]) => `    ${k}: ${v}`);
  return `jobs:\n  ${name}:\n${lines.join('\n')}\n${extra}`;
}

function problems(text: string, stage = 'dev'): string[] {
  try {
    parseCatalog(text, { stage, file: 'jobs.yml' });
  } catch (err) {
    if (err instanceof CatalogError) return err.problems;
    throw err;
  }
  throw new Error('expected the catalog to be rejected');
}

describe('the sample catalog', () => {
  it('is valid for every stage and resolves defaults', () => {
    // Act
    const jobs = parseCatalog(readFileSync('workflows/jobs.yml', 'utf8'), { stage: 'prod' });
    // Assess
    expect(jobs.map((j) => j.name)).toEqual(['nightly-report', 'hourly-cleanup', 'tenant-sync']);
    const report = jobs[0]!;
    expect(report).toMatchObject({ timezone: 'Europe/Berlin', cpu: 512, memory: 1024, concurrency: 'forbid', retries: 2 });
    expect(report.environment).toEqual({ LOG_LEVEL: 'info', REPORT_BUCKET: 'acme-reports' });
    expect(report.notify).toEqual({ onFailure: true, onSuccess: true });
    expect(jobs[2]!.fanOut).toMatchObject({ itemsPath: '$.tenants', maxConcurrency: 4, toleratedFailurePercentage: 25 });
  });
});

describe('catalog validation', () => {
  it.each([
    ['cron with both day fields set', { schedule: 'cron(0 2 * * * *)' }, /jobs\.job-a\.schedule: .*\?/],
    ['cron with five fields', { schedule: 'cron(0 2 * * ?)' }, /jobs\.job-a\.schedule: .*6 fields|six|fields/],
    ['cron minute out of range', { schedule: 'cron(61 2 * * ? *)' }, /jobs\.job-a\.schedule: .*minute/i],
    ['rate with a plural for 1', { schedule: 'rate(1 hours)' }, /jobs\.job-a\.schedule: .*hour/],
    ['an unknown expression', { schedule: 'every day' }, /jobs\.job-a\.schedule: .*cron\(/],
    ['an unknown timezone', { timezone: 'Mars/Olympus' }, /jobs\.job-a\.timezone: 'Mars\/Olympus' is not an IANA time zone/],
    ['a Fargate cpu/memory pair that does not exist', { cpu: '256', memory: '4096' }, /jobs\.job-a\.memory: 4096 MiB is not a Fargate size for cpu 256: use 512, 1024, 2048/],
    ['a cpu size Fargate does not have', { cpu: '300' }, /jobs\.job-a\.cpu: must be a Fargate cpu size/],
    ['a missing image', { image: undefined }, /jobs\.job-a\.image: is required/],
    ['a missing command', { command: undefined }, /jobs\.job-a\.command: is required/],
    ['an empty command', { command: '[]' }, /jobs\.job-a\.command: is required/],
    ['negative retries', { retries: '-1' }, /jobs\.job-a\.retries: must be at least 0/],
    ['too many retries', { retries: '50' }, /jobs\.job-a\.retries: must be at most 10/],
    ['a zero timeout', { timeoutSeconds: '0' }, /jobs\.job-a\.timeoutSeconds: must be at least 1/],
    ['a fractional timeout', { timeoutSeconds: '1.5' }, /jobs\.job-a\.timeoutSeconds: must be a whole number/],
    ['an unknown concurrency', { concurrency: 'queue' }, /jobs\.job-a\.concurrency: must be allow, forbid, replace or buffer/],
    ['an unknown capacity', { capacity: 'ec2' }, /jobs\.job-a\.capacity: must be fargate or spot/],
    ['an unknown field', { retry: '3' }, /jobs\.job-a\.retry: unknown field/],
    ['a reserved variable', { environment: '{ STEPCRON_JOB: x }' }, /jobs\.job-a\.environment\.STEPCRON_JOB: .*reserved/],
    ['a plain-text secret', { secrets: '{ DB_PASSWORD: hunter2 }' }, /jobs\.job-a\.secrets\.DB_PASSWORD: must be an SSM parameter/],
    // ECS wants a JSON key's two version fields too, empty ones as colons.
    ['a JSON key without its version fields', { secrets: "{ DB: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:password' }" },
      /jobs\.job-a\.secrets\.DB: a JSON key takes the form <secret ARN>:<json-key>:<version-stage>:<version-id>, empty fields kept: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:password::'/],
    ['an SSM parameter ARN without a name', { secrets: "{ DB: 'arn:aws:ssm:eu-west-1:111122223333:parameter/' }" }, /jobs\.job-a\.secrets\.DB: must be an SSM parameter/],
    // IAM attaches at most 10 managed policies to a role, and the job's task role gets exactly these.
    ['more task policies than IAM attaches to a role', { taskPolicyArns: `[${Array.from({ length: 11 }, (_, i) => `arn:aws:iam::111122223333:policy/p${i}`).join(', ')}]` },
      /jobs\.job-a\.taskPolicyArns: lists 11 policies; IAM attaches at most 10 managed policies to a role \(the job's task role\): combine them/],
    ['fan-out with both item sources', { fanOut: '{ items: [a], itemsPath: $.x }' }, /jobs\.job-a\.fanOut: give exactly one of items/],
    ['fan-out concurrency above the Distributed Map limit', { fanOut: '{ items: [a], maxConcurrency: 10001 }' }, /jobs\.job-a\.fanOut\.maxConcurrency: must be at most 10000/],
    ['items from S3 in an unknown format', { fanOut: '{ itemsFrom: s3://acme-items/tenants.xml }' }, /jobs\.job-a\.fanOut\.itemsFrom: must be s3:\/\/bucket\/key ending in \.json/],
    ['items from S3 and a list', { fanOut: '{ items: [a], itemsFrom: s3://acme-items/t.json }' }, /jobs\.job-a\.fanOut: give exactly one of items/],
    ['a tolerated percentage above 100', { fanOut: '{ items: [a], toleratedFailurePercentage: 150 }' }, /jobs\.job-a\.fanOut\.toleratedFailurePercentage: must be 0-100/],
    ['an exit code both retried and failed', { exitCodes: '{ retry: [3], fail: [3] }' }, /jobs\.job-a\.exitCodes: codes 3 are both retried and failed/],
    // Input and items are written into the definition as they are: a '.$' key is a path, and asl-validator refuses some list items.
    ['an input key ending in .$', { input: "{ 'tenant.$': $.x }" }, /jobs\.job-a\.input\.tenant\.\$: keys ending in '\.\$' are read as paths/],
    ['null in an input list', { input: '{ ids: [1, null] }' }, /jobs\.job-a\.input\.ids\.1: null in a list cannot be written into the state machine/],
    ['an input key named Ref', { input: '{ git: { Ref: main } }' }, /jobs\.job-a\.input\.git\.Ref: a key named Ref or Fn::\.\.\. is read as a CloudFormation function/],
    ['an item keyed Fn::Sub', { fanOut: "{ items: [{ 'Fn::Sub': x }] }" }, /jobs\.job-a\.fanOut\.items\.0\.Fn::Sub: a key named Ref or Fn::\.\.\. is read as a CloudFormation function/],
    ['an empty string in fan-out items', { fanOut: "{ items: [a, ''] }" }, /jobs\.job-a\.fanOut\.items\.1: an empty, multi-line or '\{% '-prefixed string in a list/],
  ])('rejects %s', (_what, fields, expected) => {
    // Act
    const found = problems(catalog(fields));
    // Assess: one line, naming the field
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(expected);
  });

  it('counts a task policy listed twice once, as the role gets it', () => {
    const eleven = ['arn:aws:iam::aws:policy/ReadOnlyAccess', ...Array.from({ length: 10 }, (_, i) => `arn:aws:iam::111122223333:policy/p${i}`)];
    const [job] = parseCatalog(catalog({ taskPolicyArns: `[${[...eleven.slice(1), eleven[1]].join(', ')}]` }), { stage: 'dev' });
    expect(job!.taskPolicyArns).toEqual(eleven.slice(1));
    expect(problems(catalog({ taskPolicyArns: `[${eleven.join(', ')}]` }))[0]).toMatch(/lists 11 policies/);
  });

  it('accepts every secret form ECS takes: SSM /name and ARN, Secrets Manager full and partial ARN, JSON key with version stage or id', () => {
    // Prepare: quoted, as the JSON-key forms must be
    const secrets = Object.entries(SECRET_FORMS).map(([name, ref]) => `${name}: '${ref}'`).join(', ');
    // Act
    const [job] = parseCatalog(catalog({ secrets: `{ ${secrets} }` }), { stage: 'dev' });
    // Assess
    expect(job!.secrets).toEqual(SECRET_FORMS);
  });

  it('says to quote a JSON-key secret left unquoted (YAML reads its trailing colon as a key), in block and flow style', () => {
    const ref = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:password::';
    for (const text of [catalog({}, 'job-a', `    secrets:\n      DB: ${ref}\n`), catalog({ secrets: `{ DB: ${ref} }` })]) {
      const found = problems(text);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(new RegExp(`^jobs\\.job-a\\.secrets: not valid YAML \\(line \\d+\\): '${ref}' ends in ':', which YAML reads as a key: put the value in quotes$`));
    }
    // Any other value with ': ' in it gets the same advice.
    expect(problems(catalog({ description: 'Nightly: export' }))[0]).toMatch(/jobs\.job-a\.description: not valid YAML .*must be in quotes/);
  });

  it('rejects a job name too long for the state machine name with service and stage', () => {
    const name = `job-${'x'.repeat(70)}`;
    const [problem] = problems(catalog({}, name), 'production');
    expect(problem).toMatch(new RegExp(`jobs\\.${name}: state machine name 'stepcron-production-${name}' is \\d+ characters; the limit is 80`));
  });

  it('rejects a job defined twice', () => {
    const text = `${catalog({})}  job-a:\n    description: again\n`;
    expect(problems(text).join('\n')).toMatch(/job-a.*(twice|unique|duplicate)/i);
  });

  it('rejects names that are not lowercase words', () => {
    expect(problems(catalog({}, 'Nightly_Report'))[0]).toMatch(/jobs\.Nightly_Report: job names use lowercase letters/);
  });

  it('lists every problem at once, one line each', () => {
    const found = problems(catalog({ schedule: 'rate(0 minutes)', timezone: 'Nowhere', memory: '3' }));
    expect(found.length).toBeGreaterThanOrEqual(3);
    expect(found.every((p) => p.startsWith('jobs.job-a.') && !p.includes('\n'))).toBe(true);
  });

  it('reports a bad cpu/memory pair alongside other field errors', () => {
    const found = problems(catalog({ timezone: 'Nowhere', cpu: '256', memory: '4096' }));
    expect(found).toEqual([expect.stringMatching(/^jobs\.job-a\.timezone: /), expect.stringMatching(/^jobs\.job-a\.memory: 4096 MiB/)]);
  });

  it('keeps each problem on one line whatever a name holds', () => {
    const found = problems('jobs:\n  "a\\nb": { description: d }\n');
    expect(found).toEqual([expect.stringMatching(/^jobs\.a\\nb: job names use lowercase letters/)]);
  });

  it('reports YAML syntax errors with the line', () => {
    expect(problems('jobs:\n  a: [unclosed\n')[0]).toMatch(/not valid YAML \(line \d+\)/);
  });

  it('did-you-mean: the near field whose type takes the value; every field only when none is near', () => {
    // Rule: an abbreviation (timeoutSecs) still finds its field; among near fields one that takes the value wins
    // (retry: 3 is a number, like retries; retryOn is a list); nothing near lists the fields.
    expect(problems(catalog({ timeoutSecs: '5' }))).toEqual(['jobs.job-a.timeoutSecs: unknown field: did you mean timeoutSeconds?']);
    expect(problems(catalog({ retry: '3' }))).toEqual(['jobs.job-a.retry: unknown field: did you mean retries?']);
    expect(problems(catalog({ retry: '[States.Timeout]' }))).toEqual(['jobs.job-a.retry: unknown field: did you mean retryOn?']);
    expect(problems(catalog({ zzzz: '1' }))).toEqual([expect.stringMatching(/^jobs\.job-a\.zzzz: unknown field: the fields here are description, schedule, /)]);
  });

  it('reports a YAML error at the line that causes it, with its text: a mis-indented key, an unclosed quote', () => {
    // Rule: yaml blames the line above a key indented too deep, and the end of the file for a quote never closed; the
    // message names the line to fix (never past the last line) and what to do.
    const indented = 'jobs:\n  a:\n    description: x\n    schedule: cron(0 3 * * ? *)\n      image: foo\n    command: [echo]\n';
    expect(problems(indented)).toEqual(["jobs.a: not valid YAML (line 5: image: foo): 'image:' is indented under schedule; " +
      'did you mean it as a field of job a? Indent it as schedule is']);
    const quote = 'jobs:\n  a:\n    schedule: cron(0 3 * * ? *)\n    description: "unclosed\n    image: foo\n    command: [echo]\n';
    expect(problems(quote)).toEqual(['jobs.a.description: not valid YAML (line 4: description: "unclosed): the quote opened here is never closed: close it on this line']);
  });

  it('resolves enabled per stage', () => {
    const text = catalog({ enabled: '{ prod: true, default: false }' });
    expect(parseCatalog(text, { stage: 'prod' })[0]!.enabled).toBe(true);
    expect(parseCatalog(text, { stage: 'dev' })[0]!.enabled).toBe(false);
  });

  it('merges defaults under every job, maps key by key', () => {
    const text = `defaults:\n  retries: 5\n  environment: { A: '1' }\n${catalog({ environment: '{ B: "2" }' })}`;
    const [job] = parseCatalog(text, { stage: 'dev' });
    expect(job!.retries).toBe(5);
    expect(job!.environment).toEqual({ A: '1', B: '2' });
  });
});

describe('what the catalog says around the jobs: sections, stages, sizes, names', () => {
  const thrown = (f: () => unknown): string => {
    try {
      f();
    } catch (err) {
      if (err instanceof CatalogError) return err.message;
      throw err;
    }
    throw new Error('expected a CatalogError');
  };

  it('names a section it does not know, with the one meant or the two it has; a wrong kind of jobs: says what it takes', () => {
    expect(thrown(() => parseCatalog('zzzzzz: {}\njobs: {}\n', { stage: 'dev' })))
      .toBe("jobs.yml: (catalog): 'zzzzzz' is not a section of the catalog: it has defaults: and jobs:");
    expect(thrown(() => parseCatalog('jobz: {}\n', { stage: 'dev', file: 'x.yml' })))
      .toBe("x.yml: 2 problems\n  - jobs: must be a map of job name -> job\n  - (catalog): 'jobz' is not a section of the catalog: did you mean jobs?");
    expect(thrown(() => parseCatalog('jobs: 3\n', { stage: 'dev' }))).toBe('jobs.yml: jobs: must be a map of job name -> job (got 3)');
    expect(thrown(() => parseCatalog('jobs:\n  a: 3\n', { stage: 'dev' })))
      .toBe('jobs.yml: jobs.a: must be a map of fields: description, schedule, image, command, ... (got 3)');
    expect(thrown(() => parseCatalog('jobs: {}\n', { stage: 'dev' }))).toBe('jobs.yml: jobs: the catalog defines no jobs');
    // An empty file is an empty catalog, not a crash.
    expect(thrown(() => parseCatalog('', { stage: 'dev' }))).toBe('jobs.yml: jobs: must be a map of job name -> job');
  });

  it('refuses a bad stage once, before any job', () => {
    expect(thrown(() => parseCatalog(catalog({}), { stage: 'Bad_Stage' }))).toMatch(/^jobs\.yml: \(stage\): 'Bad_Stage' is not a valid stage name: .*\(e\.g\. bad-stage\)$/);
  });

  it("refuses two names that make the same CloudFormation ids ('a-b' and 'a--b' are both AB)", () => {
    const text = `${catalog({}, 'a-b')}${catalog({}, 'a--b').replace('jobs:\n', '')}`;
    expect(problems(text)).toEqual(["jobs.a--b: duplicates job 'a-b' (the same resource names): rename one of them"]);
  });

  it('refuses text over 1 MiB before parsing it, in MiB, or in bytes where MiB would not show the difference', () => {
    expect(thrown(() => parseCatalog(`# ${'x'.repeat(3 * 1024 * 1024)}`, { stage: 'dev' })))
      .toBe('jobs.yml: (catalog): is 3.0 MiB; the limit is 1.0 MiB (a 1,000-job catalog is ~0.2 MiB): is this the right file? Split the jobs over stages or services');
    expect(thrown(() => parseCatalog('x'.repeat(MAX_CATALOG_BYTES + 1), { stage: 'dev' })))
      .toMatch(/^jobs\.yml: \(catalog\): is 1048577 bytes; the limit is 1048576 bytes \(1\.0 MiB; a 1,000-job catalog/);
    // Bytes, not characters: 'é' is two.
    expect(thrown(() => parseCatalog(`# ${'é'.repeat(MAX_CATALOG_BYTES / 2)}`, { stage: 'dev' }))).toMatch(/is 1048578 bytes/);
  });

  it('loadCatalog: a missing file says so with its code, an oversized one is refused by its size', () => {
    expect(thrown(() => loadCatalog('/nonexistent/jobs.yml', { stage: 'dev' }))).toBe('/nonexistent/jobs.yml: cannot read the catalog: ENOENT');
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-catalog-'));
    try {
      writeFileSync(join(dir, 'big.yml'), `# ${'x'.repeat(2 * 1024 * 1024)}`);
      expect(thrown(() => loadCatalog(join(dir, 'big.yml'), { stage: 'dev' }))).toMatch(/^.*big\.yml: \(catalog\): is 2\.0 MiB; the limit is 1\.0 MiB/);
      writeFileSync(join(dir, 'jobs.yml'), catalog({}));
      expect(loadCatalog(join(dir, 'jobs.yml'), { stage: 'dev' }).map((j) => j.name)).toEqual(['job-a']);
      // The file's own path names it in every problem.
      writeFileSync(join(dir, 'bad.yml'), 'jobs: {}\n');
      expect(thrown(() => loadCatalog(join(dir, 'bad.yml'), { stage: 'dev' }))).toBe(`${join(dir, 'bad.yml')}: jobs: the catalog defines no jobs`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no such job: the near name, else the first 10 there are, else none', () => {
    expect(noSuchJob(['report', 'cleanup'], 'reprot')).toBe("no job named 'reprot': did you mean report?");
    expect(noSuchJob(['a', 'b'], 'zzzzzzzz')).toBe("no job named 'zzzzzzzz': the catalog has a, b");
    expect(noSuchJob([], 'x')).toBe("no job named 'x': the catalog has no jobs");
    const ten = Array.from({ length: 10 }, (_, i) => `job${i}`);
    expect(noSuchJob(ten, 'zzzzzzzzzzzz')).toBe(`no job named 'zzzzzzzzzzzz': the catalog has ${ten.join(', ')}`);
    expect(noSuchJob([...ten, 'job10', 'job11'], 'zzzzzzzzzzzz'))
      .toBe(`no job named 'zzzzzzzzzzzz': the catalog has ${ten.join(', ')}, and 2 more (stepcron validate lists them)`);
    expect(thrown(() => findJob([], 'x'))).toBe("catalog: no job named 'x': the catalog has no jobs");
    const jobs = parseCatalog(catalog({}), { stage: 'dev' });
    expect(findJob(jobs, 'job-a', 'jobs.yml')).toBe(jobs[0]);
    expect(thrown(() => findJob(jobs, 'job-b', 'jobs.yml'))).toBe("jobs.yml: no job named 'job-b': did you mean job-a?");
  });

  it("enabledJobs naming a job the catalog lacks: each one, where the setting is, and what to put; '*' and known names pass", () => {
    const where = { stage: 'dev', key: 'params.dev.enabledJobs in serverless.yml', catalog: 'workflows/jobs.yml' };
    expect(enabledJobsProblem(['report', 'cleanup'], ['report', 'reprot', 'zzzzzzz'], where))
      .toBe("stage dev: params.dev.enabledJobs in serverless.yml names a job workflows/jobs.yml does not have: no job named 'reprot': " +
        "did you mean report?; no job named 'zzzzzzz': the catalog has report, cleanup; change that setting to the catalog's job " +
        "names (comma-separated) or '*'");
    expect(enabledJobsProblem(['report'], '*', where)).toBeUndefined();
    expect(enabledJobsProblem(['report', 'cleanup'], ['cleanup'], where)).toBeUndefined();
    expect(enabledJobsProblem([], [], where)).toBeUndefined();
  });

  it('a job fires on a stage only when enabled there and in enabledJobs; the reason names which', () => {
    expect(offReason({ name: 'a', enabled: false }, '*')).toBe('enabled: false');
    expect(offReason({ name: 'a', enabled: false }, ['b'])).toBe('enabled: false');
    expect(offReason({ name: 'a', enabled: true }, ['b'])).toBe('not in enabledJobs');
    expect(offReason({ name: 'a', enabled: true }, ['b', 'a'])).toBeUndefined();
    expect(offReason({ name: 'a', enabled: true }, '*')).toBeUndefined();
    expect(scheduledOnStage({ name: 'a', enabled: true }, ['a'])).toBe(true);
    expect(scheduledOnStage({ name: 'a', enabled: true }, [])).toBe(false);
  });

  it('enabled per stage: the stage, else default, else on', () => {
    const on = (enabled: string, stage: string) => parseCatalog(catalog({ enabled }), { stage })[0]!.enabled;
    expect(on('{ prod: false }', 'prod')).toBe(false);
    expect(on('{ prod: false }', 'dev')).toBe(true);
    expect(on('{ default: false, dev: true }', 'dev')).toBe(true);
    expect(on('{ default: false }', 'dev')).toBe(false);
    expect(on('false', 'dev')).toBe(false);
  });

  it('logical ids: each word capitalised, dashes dropped', () => {
    expect(logicalId('nightly-report')).toBe('NightlyReport');
    expect(logicalId('a2-b')).toBe('A2B');
    expect(logicalId('x')).toBe('X');
  });

  it('oneLine writes line breaks and control characters as escapes, and leaves other text alone', () => {
    expect(oneLine('a\nb\tc\u2028d\u2029e\u0000\u001f é ✓')).toBe('a\\nb\\u0009c\\u2028d\\u2029e\\u0000\\u001f é ✓');
  });

  it("unknownEnabledStages: an enabled: key near a serverless.yml stage is named with it, in defaults and jobs; others are not", () => {
    const typo = (path: string) => `${path}: 'prdo' is no stage in serverless.yml's params (dev, prod): did you mean prod? ` +
      'Until a stage prdo is deployed, that key is never used (stage prod follows default)';
    expect(unknownEnabledStages('jobs:\n  a:\n    enabled: { prdo: false, default: true, dev: true, zzzzzz: false }\n', ['dev', 'prod']))
      .toEqual([typo('jobs.a.enabled')]);
    expect(unknownEnabledStages('defaults:\n  enabled: # per stage\n    prdo: false\njobs:\n  a: { enabled: true }\n  b: 3\n', ['dev', 'prod']))
      .toEqual([typo('defaults.enabled')]);
    expect(unknownEnabledStages('jobs:\n  a:\n    enabled:\r\n      prdo: false\n', ['dev', 'prod'])).toEqual([typo('jobs.a.enabled')]);
    // Nothing to say: no stages known, no per-stage map, text that is no YAML or no map.
    expect(unknownEnabledStages('jobs:\n  a:\n    enabled: { prdo: false }\n', [])).toEqual([]);
    expect(unknownEnabledStages('jobs:\n  a:\n    enabled: false\n', ['prod'])).toEqual([]);
    expect(unknownEnabledStages('enabled: {\n  [', ['prod'])).toEqual([]);
    expect(unknownEnabledStages('- enabled: { prdo: 1 }\n', ['prod'])).toEqual([]);
    // At most 20 lines, however many jobs hold the typo.
    const many = `jobs:\n${Array.from({ length: 25 }, (_, i) => `  j${i}: { enabled: { prdo: false } }`).join('\n')}\n`;
    expect(unknownEnabledStages(many, ['prod'])).toHaveLength(20);
  });

  it('crontabAdvice: crontab syntax answered with its AWS form, quoted where YAML needs it; two jobs when both day fields are set', () => {
    const said = "is crontab syntax; EventBridge Scheduler takes cron(minutes hours day-of-month month day-of-week year)";
    expect(crontabAdvice('*/15 * * * *')).toBe(`'*/15 * * * *' ${said}: use schedule: 'cron(0/15 * * * ? *)'`);
    expect(crontabAdvice(' */15 * * * * ', true)).toBe(`'*/15 * * * *' ${said}: use schedule: 'cron(0/15 * * * ? *)' (in quotes: YAML reads a value starting with * as an alias)`);
    expect(crontabAdvice('@daily', true)).toBe(`'@daily' ${said}: use schedule: 'cron(0 0 * * ? *)' (in quotes: YAML reserves '@' at the start of a value)`);
    expect(crontabAdvice('cron(0 3 * * 1-5)')).toBe(`'cron(0 3 * * 1-5)' ${said}: use schedule: 'cron(0 3 ? * MON-FRI *)'`);
    expect(crontabAdvice('0 3 1 * 1')).toBe(`'0 3 1 * 1' ${said}, and cron runs this line when either day field matches while AWS needs '?' ` +
      "in one of them: make it two jobs, with schedule: 'cron(0 3 1 * ? *)' and schedule: 'cron(0 3 ? * MON *)' (stepcron import crontab does that)");
    // Not crontab: AWS's own six fields, four fields, '?' in a day field.
    expect(crontabAdvice('cron(0 3 * * ? *)')).toBeUndefined();
    expect(crontabAdvice('0 3 * *')).toBeUndefined();
    expect(crontabAdvice('0 3 ? * 1')).toBeUndefined();
    expect(crontabAdvice('rate(5 minutes)')).toBeUndefined();
    // In a catalog: the schedule field says it, quoted or not.
    expect(problems(catalog({ schedule: "'0 3 * * *'" }))).toEqual([`jobs.job-a.schedule: '0 3 * * *' ${said}: use schedule: 'cron(0 3 * * ? *)'`]);
    expect(problems(catalog({ schedule: '*/5 * * * *' })))
      .toEqual([`jobs.job-a.schedule: '*/5 * * * *' ${said}: use schedule: 'cron(0/5 * * * ? *)' (in quotes: YAML reads a value starting with * as an alias)`]);
  });
});

describe('each rule in exact words: across fields, input written into the definition, the value given', () => {
  const job = (fields: string, defaults = '') => `${defaults}jobs:\n  job-a:\n    description: a job\n    schedule: cron(0 2 * * ? *)\n    image: img:1\n    command: [run]\n${fields}`;
  const nulls = (n: number) => `[${Array.from({ length: n }, () => 'null').join(', ')}]`;
  const nullLine = (i: number) => `jobs.job-a.input.a.${i}: null in a list cannot be written into the state machine (asl-validator refuses it): leave it out or wrap it in an object`;

  it.each([
    ['a maximum delay below the first interval', '    retryIntervalSeconds: 100\n    maxDelaySeconds: 50\n', ['jobs.job-a.maxDelaySeconds: must be at least retryIntervalSeconds']],
    ['timeouts retried with no retries', '    retryOn: [timeout]\n    retries: 0\n',
      ['jobs.job-a.retryOn: timeout is retried only up to retries, and retries is 0: set retries: 1 or more, or remove retryOn']],
    ['a retryOn value that is not timeout', '    retryOn: [failure]\n',
      ["jobs.job-a.retryOn.0: the only value is timeout (failed tasks are always retried up to retries) (got 'failure')"]],
    ['retryOn not a list', '    retryOn: timeout\n', ["jobs.job-a.retryOn: must be a list: [timeout] retries a run that timed out (got 'timeout')"]],
    ['an input too big for ECS overrides', `    input: { blob: '${'x'.repeat(9000)}' }\n`,
      ['jobs.job-a.input: is 9017 characters as ECS container overrides (input plus the largest item), and every run would fail its ' +
        'precheck: keep it under 7168 (ECS allows 8 KiB in total), e.g. put the data in S3 and pass its key']],
    ['an item too big for ECS overrides', `    fanOut: { items: ['${'x'.repeat(9000)}'] }\n`,
      ['jobs.job-a.fanOut.items: is 9010 characters as ECS container overrides (input plus the largest item), and every run would fail ' +
        'its precheck: keep it under 7168 (ECS allows 8 KiB in total), e.g. put the data in S3 and pass its key']],
    ['keys JavaScript objects already have', '    input: { constructor: 1, toString: 2 }\n', [
      'jobs.job-a.input.constructor: a key named constructor is refused by asl-validator, which packaging runs (or lost in copying): rename it',
      'jobs.job-a.input.toString: a key named toString is refused by asl-validator, which packaging runs (or lost in copying): rename it']],
    ["multi-line and '{% ' strings in a list", '    input: { l: [ok, "a\\nb", "{% x %}", "c\\rd", "\\u2028", "{%x"] }\n', [1, 2, 3, 4].map((i) =>
      `jobs.job-a.input.l.${i}: an empty, multi-line or '{% '-prefixed string in a list cannot be written into the state machine (asl-validator refuses it): wrap it in an object`)],
    ['a list nested in a map nested in a list', "    input: { a: [{ b: [1, null] }] }\n",
      ['jobs.job-a.input.a.0.b.1: null in a list cannot be written into the state machine (asl-validator refuses it): leave it out or wrap it in an object']],
    ['memory outside the range of a cpu size', '    cpu: 1024\n    memory: 1000\n', ['jobs.job-a.memory: 1000 MiB is not a Fargate size for cpu 1024: use 2048-8192 in steps of 1024']],
    ['memory not whole', '    memory: 512.5\n', ['jobs.job-a.memory: must be a whole number from 512 to 122880 (got 512.5)']],
    ['a map where a number goes', '    retries: { a: 1 }\n', ['jobs.job-a.retries: must be a whole number from 0 to 10 (got a map)']],
    ['a quoted number', "    retries: '3'\n", ["jobs.job-a.retries: must be a whole number from 0 to 10 (got '3')"]],
    ['a list where a map goes', '    input: [1]\n', ["jobs.job-a.input: must be a map: the default run input (a run's own input is merged over it) (got a list)"]],
    ['text where true/false goes', '    notify: { onFailure: yes please }\n', ["jobs.job-a.notify.onFailure: must be true or false (got 'yes please')"]],
    ['a number in the environment', '    environment: { A: 1 }\n', ['jobs.job-a.environment.A: values must be strings (quote numbers) (got 1)']],
    ['bad environment names', '    environment: { 1A: x, "A-B": y, _ok: z }\n', ['jobs.job-a.environment.1A: is not a valid environment variable name',
      'jobs.job-a.environment.A-B: is not a valid environment variable name']],
    ['a secret with both a version stage and id', "    secrets: { S: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:k:AWSCURRENT:abc' }\n",
      ["jobs.job-a.secrets.S: gives both a version stage (AWSCURRENT) and a version id: keep one, leave the other field empty (got 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbC…')"]],
    ['exit codes out of range', '    exitCodes: { retry: [0], fail: [256, 1.5] }\n', ['jobs.job-a.exitCodes.retry.0: exit codes are 1-255 (0 is success) (got 0)',
      'jobs.job-a.exitCodes.fail.0: exit codes are 1-255 (got 256)', 'jobs.job-a.exitCodes.fail.1: exit codes are whole numbers 1-255 (got 1.5)']],
    ['several codes both retried and failed', '    exitCodes: { retry: [3, 4, 5], fail: [4, 3] }\n', ['jobs.job-a.exitCodes: codes 3, 4 are both retried and failed']],
    ['an empty items list', '    fanOut: { items: [] }\n', ['jobs.job-a.fanOut.items: must list at least one item']],
    ['an items path that is no path', '    fanOut: { itemsPath: tenants }\n', ["jobs.job-a.fanOut.itemsPath: must be a path into the run input like '$.tenants' (got 'tenants')"]],
    ['a fan-out with no items', '    fanOut: {}\n', ['jobs.job-a.fanOut: give exactly one of items (a static list), itemsPath (a path into the run input) or itemsFrom (s3://bucket/key)']],
    ['a misspelt fan-out field', '    fanOut: { items: [a], maxConcurency: 3 }\n', ['jobs.job-a.fanOut.maxConcurency: unknown field: did you mean maxConcurrency?']],
    ['a misspelt notify field', '    notify: { onFail: true }\n', ['jobs.job-a.notify.onFail: unknown field: did you mean onFailure?']],
    ['a policy that is no ARN', '    taskPolicyArns: [foo]\n', ["jobs.job-a.taskPolicyArns.0: must be IAM managed policy ARNs (got 'foo')"]],
    ['a backoff rate below 1', '    backoffRate: 0.5\n', ['jobs.job-a.backoffRate: must be 1-10 (got 0.5)']],
    ['enabled as text', '    enabled: yes-ish\n', ["jobs.job-a.enabled: must be true, false, or a map of stage -> true/false (key default for other stages) (got 'yes-ish')"]],
    ['a runtime warning the timeout beats', '    runtimeWarningSeconds: 99999\n    timeoutSeconds: 60\n', ["jobs.job-a.runtimeWarningSeconds: 99999 s is not below " +
      "the run's hard limit (timeoutSeconds 60 x 3 attempts = 180 s): the run would be stopped before the warning; use a smaller value or raise timeoutSeconds"]],
    // Alerts are checked only on whole numbers: a bad timeout is its own problem, said once.
    ['a runtime warning with a bad timeout', '    runtimeWarningSeconds: 99999\n    timeoutSeconds: 1.5\n', ['jobs.job-a.timeoutSeconds: must be a whole number from 1 to 604800 (got 1.5)']],
    ['a runtime warning with bad retries', '    runtimeWarningSeconds: 99999\n    timeoutSeconds: 60\n    retries: 1.5\n', ['jobs.job-a.retries: must be a whole number from 0 to 10 (got 1.5)']],
    ['a runtime warning in a bad zone', '    runtimeWarningSeconds: 99999\n    timeoutSeconds: 60\n    timezone: Nowhere\n', [expect.stringMatching(/^jobs\.job-a\.timezone: 'Nowhere' is not an IANA time zone/)]],
    ['the first 5 values it cannot write, not all', `    input: { a: ${nulls(7)} }\n`, [0, 1, 2, 3, 4].map(nullLine)],
    ['the first 5 keys it cannot write, not all', `    input: { ${Array.from({ length: 7 }, (_, i) => `'k${i}.$': x`).join(', ')} }\n`,
      [0, 1, 2, 3, 4].map((i) => `jobs.job-a.input.k${i}.$: keys ending in '.$' are read as paths by Step Functions: rename it`)],
  ])('%s', (_what, fields, expected) => {
    expect(problems(job(fields))).toEqual(expected);
  });

  it('a map where a list goes says so', () => {
    expect(problems(job('').replace('command: [run]', 'command: { a: 1 }'))).toEqual(["jobs.job-a.command: must be a list of strings, e.g. [sh, -c, './report.sh'] (got a map)"]);
  });

  it('a value too long to repeat is cut at 60 characters; one the message quotes whole is not repeated', () => {
    const zone = 'Z'.repeat(80);
    expect(problems(job(`    timezone: ${zone}\n`))).toEqual([expect.stringMatching(new RegExp(`^jobs\\.job-a\\.timezone: '${zone}' is not an IANA time zone[^(]*$`))]);
    expect(problems(job(`    image: [${'y'.repeat(70)}]\n`).replace('    image: img:1\n', '')))
      .toEqual(['jobs.job-a.image: must be the container image to run, e.g. ghcr.io/acme/jobs:1.4 (got a list)']);
    expect(problems(job(`    capacity: ${'c'.repeat(70)}\n`))).toEqual([`jobs.job-a.capacity: must be fargate or spot (got '${'c'.repeat(59)}…')`]);
    expect(problems(job(`    capacity: ${'c'.repeat(60)}\n`))).toEqual([`jobs.job-a.capacity: must be fargate or spot (got '${'c'.repeat(60)}')`]);
  });

  it('a problem in a value that comes from defaults: is named there, once, not in every job', () => {
    const defaults = 'defaults:\n  retries: 50\n  environment: { A: 1 }\n';
    const two = `${job('', defaults)}  job-b:\n    description: b\n    schedule: rate(1 hour)\n    image: i\n    command: [x]\n`;
    expect(problems(two)).toEqual(['defaults.environment.A: values must be strings (quote numbers) (got 1)', 'defaults.retries: must be at most 10 (got 50)']);
    // The job's own value is the job's problem; a map entry of its own too, even where defaults has the map.
    expect(problems(job('    retries: 60\n', 'defaults:\n  retries: 50\n'))).toEqual(['jobs.job-a.retries: must be at most 10 (got 60)']);
    expect(problems(job('    environment: { B: 2 }\n', 'defaults:\n  environment: { A: "1" }\n'))).toEqual(['jobs.job-a.environment.B: values must be strings (quote numbers) (got 2)']);
    expect(problems(job('    environment: { A: 2 }\n', 'defaults:\n  environment: { A: 1 }\n'))).toEqual(['jobs.job-a.environment.A: values must be strings (quote numbers) (got 2)']);
    // A misspelt field in defaults is named in defaults.
    expect(problems(job('', 'defaults:\n  retrys: 3\n'))).toEqual(['defaults.retrys: unknown field: did you mean retries?']);
  });

  it('defaults merge maps key by key (environment, secrets, notify, input, exitCodes), other fields are replaced', () => {
    const defaults = 'defaults:\n  notify: { onSuccess: true }\n  input: { a: 1 }\n  exitCodes: { retry: [75] }\n  secrets: { S: /a }\n  command: [default]\n';
    const [one] = parseCatalog(job("    notify: { onFailure: false }\n    input: { b: 2 }\n    exitCodes: { fail: [2] }\n    secrets: { T: /b }\n", defaults), { stage: 'dev' });
    expect(one!.notify).toEqual({ onFailure: false, onSuccess: true });
    expect(one!.input).toEqual({ a: 1, b: 2 });
    expect(one!.exitCodes).toEqual({ retry: [75], fail: [2] });
    expect(one!.secrets).toEqual({ S: '/a', T: '/b' });
    expect(one!.command).toEqual(['run']);
  });

  it('fills every default a job leaves out', () => {
    const [one] = parseCatalog(job(''), { stage: 'dev' });
    expect(one).toEqual({
      name: 'job-a', description: 'a job', schedule: 'cron(0 2 * * ? *)', image: 'img:1', command: ['run'], enabled: true,
      timezone: 'UTC', cpu: 256, memory: 512, environment: {}, secrets: {}, taskPolicyArns: [], capacity: 'fargate',
      timeoutSeconds: 3600, retries: 2, retryOn: [], retryIntervalSeconds: 30, backoffRate: 2, maxDelaySeconds: 900, exitCodes: {},
      concurrency: 'forbid', notify: { onFailure: true, onSuccess: false }, input: {},
    });
    const [fan] = parseCatalog(job('    fanOut: { items: [a] }\n'), { stage: 'dev' });
    expect(fan!.fanOut).toEqual({ items: ['a'], maxConcurrency: 10, toleratedFailurePercentage: 0 });
  });

  it('YAML errors: a tab, a flow never closed, a single-quoted value never closed (\'\' inside is a quote), a key twice', () => {
    expect(problems('jobs:\n\ta: {}\n')).toEqual(['jobs.a: not valid YAML (line 2: a: {}): Tabs are not allowed as indentation']);
    expect(problems('jobs: { a: [ }\n')).toEqual(['not valid YAML (line 1: jobs: { a: [ }): Flow sequence in block collection must be sufficiently indented and end with a ]']);
    expect(problems("jobs:\n  a:\n    description: 'it''s open\n    image: x\n"))
      .toEqual(["jobs.a.description: not valid YAML (line 3: description: 'it''s open): the quote opened here is never closed: close it on this line"]);
    expect(problems('jobs:\n  a:\n    description: "say \\"hi\\" open\n    image: x\n'))
      .toEqual(['jobs.a.description: not valid YAML (line 3: description: "say \\"hi\\" open): the quote opened here is never closed: close it on this line']);
    expect(problems(job('    retries: 1\n    retries: 2\n'))).toEqual(["jobs.job-a.retries: 'retries' is defined twice (line 8): each job and field may appear once"]);
    expect(problems('defaults:\n  retries: 1\n  retries: 2\njobs: {}\n')).toEqual(["defaults.retries: 'retries' is defined twice (line 3): each job and field may appear once"]);
  });
});

describe('the schema says what each field takes, and the cross-field rules skip values a field already refuses', () => {
  const job = (fields: string) => `jobs:\n  job-a:\n    description: a job\n    schedule: cron(0 2 * * ? *)\n    image: img:1\n    command: [run]\n${fields}`;
  /** `field: value` in place of the job's own line, or added. */
  const given = (field: string, value: string) => {
    const text = job('');
    return text.includes(`    ${field}: `) ? text.replace(new RegExp(`    ${field}: [^\\n]*\\n`), `    ${field}: ${value}\n`) : `${text}    ${field}: ${value}\n`;
  };

  it.each([
    ['description', '[a]', 'must be text: one line saying what the job does (got a list)'],
    ['schedule', '5', 'must be cron(...), rate(...) or at(...) in quotes (got 5)'],
    ['timezone', '5', 'must be an IANA time zone such as Europe/Berlin or UTC (got 5)'],
    ['enabled', '[1]', 'must be true, false, or a map of stage -> true/false (key default for other stages)'],
    ['image', '{a: 1}', 'must be the container image to run, e.g. ghcr.io/acme/jobs:1.4 (got a map)'],
    ['command', 'run', "must be a list of strings, e.g. [sh, -c, './report.sh'] (got 'run')"],
    ['cpu', 'x', "must be a Fargate cpu size: 256, 512, 1024, 2048, 4096, 8192, 16384 (got 'x')"],
    ['memory', 'x', "must be a whole number from 512 to 122880 (got 'x')"],
    ['environment', '[1]', 'must be a map of NAME: value (got a list)'],
    ['secrets', '[1]', 'must be a map of NAME: SSM parameter or Secrets Manager ARN (got a list)'],
    ['taskPolicyArns', 'x', "must be a list of IAM managed policy ARNs (got 'x')"],
    ['capacity', '5', 'must be fargate or spot (got 5)'],
    ['timeoutSeconds', 'x', "must be a whole number from 1 to 604800 (got 'x')"],
    ['retryIntervalSeconds', 'x', "must be a whole number from 1 to 86400 (got 'x')"],
    ['backoffRate', 'x', "must be a number from 1 to 10 (got 'x')"],
    ['maxDelaySeconds', 'x', "must be a whole number from 1 to 86400 (got 'x')"],
    ['exitCodes', '[1]', 'must be a map with retry: and/or fail: lists of exit codes (got a list)'],
    ['notify', '[1]', 'must be a map with onFailure: and onSuccess: true/false (got a list)'],
    ['input', '5', "must be a map: the default run input (a run's own input is merged over it) (got 5)"],
    ['fanOut', '[1]', 'must be a map with items, itemsPath or itemsFrom (got a list)'],
    ['successDeadlineMinutes', 'x', "must be a whole number from 1 to 10080 (got 'x')"],
    ['runtimeWarningSeconds', 'x', "must be a whole number from 1 to 31536000 (got 'x')"],
    ['minRuntimeSeconds', 'x', "must be a whole number from 1 to 31536000 (got 'x')"],
    ['notify', '{ onSuccess: 1 }', null, 'notify.onSuccess: must be true or false (got 1)'],
    ['exitCodes', '{ retry: 3 }', null, 'exitCodes.retry: must be a list of exit codes to retry, e.g. [75] (got 3)'],
    ['exitCodes', '{ fail: 3 }', null, 'exitCodes.fail: must be a list of exit codes that fail at once, e.g. [2] (got 3)'],
    ['exitCodes', '{ fail: [x] }', null, "exitCodes.fail.0: exit codes are whole numbers 1-255 (got 'x')"],
    ['fanOut', '{ items: 3 }', null, 'fanOut.items: must be a list of items, one run of the command each (got 3)'],
    ['fanOut', '{ itemsPath: 3 }', null, "fanOut.itemsPath: must be a path into the run input like '$.tenants' (got 3)"],
    ['fanOut', "{ itemsPath: '$.a.' }", null, "fanOut.itemsPath: must be a path into the run input like '$.tenants' (got '$.a.')"],
    ['fanOut', "{ itemsPath: 'x$.a' }", null, "fanOut.itemsPath: must be a path into the run input like '$.tenants' (got 'x$.a')"],
    ['fanOut', '{ itemsFrom: 3 }', null, 'fanOut.itemsFrom: must be s3://bucket/key (.json, .jsonl or .csv) (got 3)'],
    ['fanOut', '{ items: [a], toleratedFailurePercentage: x }', null, "fanOut.toleratedFailurePercentage: must be a number from 0 to 100 (got 'x')"],
    ['fanOut', '{ items: [a], toleratedFailurePercentage: -1 }', null, 'fanOut.toleratedFailurePercentage: must be 0-100 (got -1)'],
    ['fanOut', '{ items: [a], maxConcurrency: 0 }', null, 'fanOut.maxConcurrency: must be at least 1 (got 0)'],
    ['environment', '{ A: [1] }', null, 'environment.A: values must be strings (quote numbers) (got a list)'],
    ['taskPolicyArns', '[5]', null, 'taskPolicyArns.0: must be an IAM managed policy ARN (got 5)'],
    ['timeoutSeconds', '604801', null, 'timeoutSeconds: must be at most 604800 (got 604801)'],
  ])('%s: %s', (field, value, message, at = `${field}: ${message}`) => {
    expect(problems(given(field, value))).toEqual([`jobs.job-a.${at}`]);
  });

  it('accepts the largest values each field takes, and paths of more than one key', () => {
    expect(() => parseCatalog(job("    timeoutSeconds: 604800\n    fanOut: { itemsPath: '$.a.b_2' }\n"), { stage: 'dev' })).not.toThrow();
  });

  it('policy ARNs: AWS managed or an account\'s, in any partition, nothing before arn:, a policy name after policy/', () => {
    const arns = ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'xarn:aws:iam::aws:policy/X', 'arn:aws-cn:iam::123456789012:policy/p', 'arn:awsX:iam::aws:policy/x', 'arn:aws:iam::aws:policy/'];
    expect(problems(job(`    taskPolicyArns: [${arns.map((a) => `'${a}'`).join(', ')}]\n`)))
      .toEqual([1, 3, 4].map((i) => `jobs.job-a.taskPolicyArns.${i}: must be IAM managed policy ARNs (got '${arns[i]}')`));
  });

  it('secret references: SSM and Secrets Manager ARNs in any partition (aws, aws-cn), nothing before arn:', () => {
    const refs = { A: 'xarn:aws:ssm:eu-west-1:123456789012:parameter/a', B: 'arn:aws-cn:ssm:cn-north-1:123456789012:parameter/b', C: 'arn:awsX:ssm:eu-west-1:123456789012:parameter/c',
      D: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:password::v1', E: 'arn:awsX:secretsmanager:eu-west-1:123456789012:secret:db', F: '/a/b.c-d_e' };
    const bad = (ref: string) => `must be an SSM parameter /name or ARN, or a Secrets Manager secret ARN (optionally :json-key:version-stage:version-id, e.g. 'arn:...:secret:db-AbCdEf:password::') (got '${ref.length > 60 ? `${ref.slice(0, 59)}…` : ref}')`;
    expect(problems(job(`    secrets: { ${Object.entries(refs).map(([k, v]) => `${k}: '${v}'`).join(', ')} }\n`)))
      .toEqual(['A', 'C', 'E'].map((k) => `jobs.job-a.secrets.${k}: ${bad(refs[k as keyof typeof refs])}`));
    // A JSON key without its version fields, in another partition: the fix keeps the partition.
    expect(problems(job("    secrets: { S: 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db:password' }\n")))
      .toEqual(["jobs.job-a.secrets.S: a JSON key takes the form <secret ARN>:<json-key>:<version-stage>:<version-id>, empty fields kept: 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db:password::' (in quotes)"]);
    // A version stage given without the version id after it: kept, and the empty field added.
    expect(problems(job("    secrets: { S: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:password:AWSCURRENT' }\n")))
      .toEqual(["jobs.job-a.secrets.S: a JSON key takes the form <secret ARN>:<json-key>:<version-stage>:<version-id>, empty fields kept: " +
        "'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:password:AWSCURRENT:' (in quotes)"]);
    expect(problems(job("    secrets: { S: 'xarn:aws:secretsmanager:eu-west-1:123456789012:secret:db:password' }\n"))[0]).toMatch(/^jobs\.job-a\.secrets\.S: must be an SSM parameter/);
  });

  it('cross-field rules compare numbers only: a field of the wrong type is its own problem, said once', () => {
    expect(problems(job("    retryIntervalSeconds: '100'\n    maxDelaySeconds: 50\n"))).toEqual(["jobs.job-a.retryIntervalSeconds: must be a whole number from 1 to 86400 (got '100')"]);
    expect(problems(job("    retryIntervalSeconds: 100\n    maxDelaySeconds: '50'\n"))).toEqual(["jobs.job-a.maxDelaySeconds: must be a whole number from 1 to 86400 (got '50')"]);
    expect(problems(job("    retryOn: [timeout]\n    retries: '0'\n"))).toEqual(["jobs.job-a.retries: must be a whole number from 0 to 10 (got '0')"]);
    expect(problems(job("    cpu: 1024\n    memory: '2048'\n"))).toEqual(["jobs.job-a.memory: must be a whole number from 512 to 122880 (got '2048')"]);
    expect(problems(job("    cpu: '1024'\n    memory: 3000\n"))).toEqual(["jobs.job-a.cpu: must be a Fargate cpu size: 256, 512, 1024, 2048, 4096, 8192, 16384 (got '1024')"]);
    expect(problems(job('    retryOn: timeout\n    retries: 0\n'))).toEqual(["jobs.job-a.retryOn: must be a list: [timeout] retries a run that timed out (got 'timeout')"]);
    // Alerts: a value out of its range is not also checked against the schedule; a schedule or zone of the wrong type skips them.
    expect(problems(job('    runtimeWarningSeconds: 31536001\n'))).toEqual(['jobs.job-a.runtimeWarningSeconds: must be at most 31536000 (got 31536001)']);
    expect(problems(job('    successDeadlineMinutes: 0\n'))).toEqual(['jobs.job-a.successDeadlineMinutes: must be at least 1 (got 0)']);
    expect(problems(`${given('schedule', '5')}    successDeadlineMinutes: 60\n`)).toEqual(['jobs.job-a.schedule: must be cron(...), rate(...) or at(...) in quotes (got 5)']);
    expect(problems(job('    timezone: 5\n    successDeadlineMinutes: 60\n'))).toEqual(['jobs.job-a.timezone: must be an IANA time zone such as Europe/Berlin or UTC (got 5)']);
    expect(problems(job("    runtimeWarningSeconds: '99999'\n    timeoutSeconds: 60\n"))).toEqual(["jobs.job-a.runtimeWarningSeconds: must be a whole number from 1 to 31536000 (got '99999')"]);
    // Defaults count: the alert check uses the default timeout and retries (3600 s x 3 attempts).
    expect(problems(job('    runtimeWarningSeconds: 10800\n'))[0]).toMatch(/^jobs\.job-a\.runtimeWarningSeconds: 10800 s is not below the run's hard limit \(timeoutSeconds 3600 x 3 attempts = 10800 s\)/);
    expect(() => parseCatalog(job('    runtimeWarningSeconds: 10799\n'), { stage: 'dev' })).not.toThrow();
  });

  it('input and items fit ECS overrides up to the last character, counted with the largest item', () => {
    const sized = (n: number) => overrideChars({ a: 'x'.repeat(n) }, []);
    const fits = RUN_INPUT_OVERRIDE_CHARS - sized(0);
    expect(sized(fits)).toBe(RUN_INPUT_OVERRIDE_CHARS);
    expect(() => parseCatalog(job(`    input: { a: '${'x'.repeat(fits)}' }\n`), { stage: 'dev' })).not.toThrow();
    expect(problems(job(`    input: { a: '${'x'.repeat(fits + 1)}' }\n`))[0]).toMatch(/^jobs\.job-a\.input: is 7169 characters as ECS container overrides/);
  });
});

describe('YAML errors are placed at the job and field of their line', () => {
  it.each([
    ['a key indented under a value in defaults', 'defaults:\n  retries: 2\n    image: foo\njobs: {}\n', "defaults: not valid YAML (line 3: image: foo): 'image:' is indented under retries"],
    ['a key indented under a top-level value', 'jobs: x\n  a: 1\n', "not valid YAML (line 2: a: 1): 'a:' is indented under jobs"],
    ['an unclosed quote in defaults', 'defaults:\n  image: "x\njobs: {}\n', 'defaults.image: not valid YAML (line 2: image: "x): the quote opened here is never closed: close it on this line'],
    ['an unclosed quote on the last line', 'jobs:\n  a:\n    description: "x\n', 'jobs.a.description: not valid YAML (line 3: description: "x): the quote opened here is never closed: close it on this line'],
    ['a job defined twice', 'jobs:\n  a: {}\n  a: {}\n', "jobs.a: 'a' is defined twice (line 3): each job and field may appear once"],
    ['a section twice', 'jobs: {}\njobs: {}\n', "'jobs' is defined twice (line 2): each job and field may appear once"],
    ['a quoted key and a colon in a value', 'jobs:\n  "a":\n    \'image\': foo: bar\n',
      "jobs.a.image: not valid YAML (line 3: 'image': foo: bar): Nested mappings are not allowed in compact mappings (a value with ': ' in it, or ending in ':', must be in quotes)"],
    ['a value ending in colons in a flow map, before a comment', 'jobs:\n  a:\n    secrets: { DB: arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:password:: }  # note\n',
      "jobs.a.secrets: not valid YAML (line 3): 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:password::' ends in ':', which YAML reads as a key: put the value in quotes"],
    ['a value with colons after a commented line', 'jobs:\n  a:\n    description: x # has: colons:\n    image: a:b: c\n',
      "jobs.a.image: not valid YAML (line 4): 'a:b:' ends in ':', which YAML reads as a key: put the value in quotes"],
    ['an unquoted crontab schedule in defaults', 'defaults:\n  schedule: */5 * * * *\njobs: {}\n',
      "defaults.schedule: '*/5 * * * *' is crontab syntax; EventBridge Scheduler takes cron(minutes hours day-of-month month day-of-week year): use schedule: 'cron(0/5 * * * ? *)' (in quotes: YAML reads a value starting with * as an alias)"],
    ['an unquoted @nickname', 'jobs:\n  a:\n    schedule: @daily\n',
      "jobs.a.schedule: '@daily' is crontab syntax; EventBridge Scheduler takes cron(minutes hours day-of-month month day-of-week year): use schedule: 'cron(0 0 * * ? *)' (in quotes: YAML reserves '@' at the start of a value)"],
    ['a tab under a job', 'jobs:\n  a:\n\tdescription: x\n', 'jobs.a: not valid YAML (line 3: description: x): Tabs are not allowed as indentation'],
    ['a flow list left open under a job', 'jobs:\n  a: [\n', 'jobs.a: not valid YAML (line 3): Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['an error outside jobs and defaults', 'other:\n  a: [\n', 'not valid YAML (line 3): Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['a block map inside a flow map', 'jobs: { a: b: c }\n',
      "not valid YAML (line 1: jobs: { a: b: c }): Block collections are not allowed within flow collections (a value with ': ' in it, or ending in ':', must be in quotes)"],
  ])('%s', (_what, text, expected) => {
    expect(problems(text)).toEqual([expected]);
  });
});

describe('a few edges mutation testing found untested', () => {
  const job = (fields: string) => `jobs:\n  job-a:\n    description: a job\n    schedule: cron(0 2 * * ? *)\n    image: img:1\n    command: [run]\n${fields}`;

  it('each alert field alone is checked against the schedule and timeout', () => {
    expect(problems(job('    successDeadlineMinutes: 60\n'))[0]).toMatch(/^jobs\.job-a\.successDeadlineMinutes: 60 min is not longer than the schedule's longest wait between runs \(1440 min/);
    expect(problems(job('    minRuntimeSeconds: 3600\n'))).toEqual(['jobs.job-a.minRuntimeSeconds: 3600 s is not below timeoutSeconds (3600): every successful run would be reported as too fast']);
  });

  it('a catalog of exactly 1 MiB is read; one byte more is not', () => {
    const text = job('');
    const padded = `${text}#${'x'.repeat(MAX_CATALOG_BYTES - Buffer.byteLength(text) - 2)}\n`;
    expect(Buffer.byteLength(padded)).toBe(MAX_CATALOG_BYTES);
    expect(parseCatalog(padded, { stage: 'dev' }).map((j) => j.name)).toEqual(['job-a']);
    expect(() => parseCatalog(`${padded} `, { stage: 'dev' })).toThrow(/is 1048577 bytes/);
  });

  it('unknownEnabledStages reads a catalog with defaults and no jobs, or jobs and no defaults', () => {
    expect(unknownEnabledStages('defaults:\n  enabled: {prdo: false}\n', ['prod'])).toHaveLength(1);
    expect(unknownEnabledStages('jobs:\n  a: {enabled: {prdo: false}}\n', ['prod'])).toHaveLength(1);
  });
});
