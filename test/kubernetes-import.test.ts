// `stepcron import kubernetes`: CronJob manifests in the shapes Kubernetes' documentation shows (test/fixtures/kubernetes:
// the docs' hello, a production-like backup beside a ConfigMap, kubectl's List export, odd-but-valid ones beside a Deployment) become
// catalog jobs, checked three ways: the fields written, parseCatalog accepting them, and each job's next 100 fire times
// (workflows/schedule.ts, EventBridge Scheduler's semantics) against croner reading the CronJob's own schedule. Then
// what is refused (Helm templates, schedules Kubernetes refuses). The real CLI end to end: kubernetes-import-cli.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cron } from 'croner';
import { type ImportedJob, renderCatalog } from '../workflows/crontab';
import {
  at, cpuUnits, envNameOk, fargateSize, goCronSchedules, goDurationSeconds, helmProblem, importKubernetes, jobNameFor, ManifestError,
  memoryMiB, ordered, prefixProblem, readManifests,
} from '../workflows/kubernetes';
import { parseCatalog } from '../workflows/catalog';
import { nextFireTimes } from '../workflows/schedule';

const DIR = join(__dirname, 'fixtures', 'kubernetes');
/** The DST warnings look one year ahead: from here they name the 2026 changes. */
const FROM = new Date('2026-01-01T00:00:00Z');

/**
 * The fixtures imported, and a job's spec by name. Built by each test that reads them, not once at load: mutation
 * testing (npm run mutate -- kubernetes) credits a test only with the code it runs itself.
 */
function importFixtures() {
  const files = readdirSync(DIR).sort().map((f) => ({ file: `kubernetes/${f}`, text: readFileSync(join(DIR, f), 'utf8') }));
  const imported = importKubernetes(files, { from: FROM });
  const spec = (name: string) => {
    const found = imported.jobs.find((j) => j.name === name);
    if (!found) throw new Error(`no imported job ${name}: ${imported.jobs.map((j) => j.name).join(', ')}`);
    return found.spec as unknown as Record<string, unknown>;
  };
  return { imported, spec };
}

function problemsOf(text: string): string[] {
  try {
    importKubernetes([{ file: 'c.yaml', text }]);
  } catch (err) {
    if (err instanceof ManifestError) return err.problems;
    throw err;
  }
  throw new Error('expected the manifest to be refused');
}

/** A CronJob manifest around a schedule (and extra spec lines). */
const cronJob = (schedule: string, extra = '') => `apiVersion: batch/v1
kind: CronJob
metadata:
  name: x
spec:
  schedule: "${schedule}"
${extra}  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: x
              image: busybox:1.36
              args: [true]
`;

describe('the fixtures: CronJobs as catalog jobs', () => {
  it('imports every CronJob, in file order, with these schedules and zones; other kinds are skipped with a warning', () => {
    const { imported } = importFixtures();
    expect(imported.jobs.map((j) => [j.name, j.spec.schedule, j.spec.timezone])).toEqual([
      ['db-backup', 'cron(30 2 * * ? *)', 'Europe/Berlin'],
      // From a List, as kubectl get cronjobs -o yaml writes it.
      ['cache-warm', 'cron(0/20 * * * ? *)', 'UTC'],
      ['hello', 'cron(* * * * ? *)', 'UTC'],
      // robfig/cron: '*/2' in day-of-month is no wildcard, so day-of-month OR day-of-week: two jobs. CRON_TZ= sets the zone.
      ['report-generator-v2-dom', 'cron(0 6 1/2 * ? *)', 'America/New_York'],
      ['report-generator-v2-dow', 'cron(0 6 ? * MON *)', 'America/New_York'],
      ['queue-sweep', 'cron(0 * * * ? *)', 'Asia/Tokyo'],
      // '?' is '*', and '5/10' is 5-59/10 to robfig/cron.
      ['month-end', 'cron(5/10 22 ? * MON-FRI *)', 'UTC'],
    ]);
    expect(imported.warnings).toContain("kubernetes/backup.yaml:3: ConfigMap 'backup-config' is not a CronJob: skipped");
    expect(imported.warnings).toContain("kubernetes/odd.yaml:3: Deployment 'web' is not a CronJob: skipped");
  });

  it('carries over policy, deadlines, retries (with Kubernetes\' back-off), the container, env, secrets and size', () => {
    const { spec } = importFixtures();
    expect(spec('db-backup')).toEqual({
      description: 'Nightly dump of the billing database to S3',
      schedule: 'cron(30 2 * * ? *)',
      timezone: 'Europe/Berlin',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/db-tools:2.3',
      command: ['/usr/local/bin/backup', '--database', 'billing', '--compress'],
      // limits cpu "1", memory 3Gi: the smallest Fargate size with as much.
      cpu: 1024,
      memory: 3072,
      environment: { PGHOST: 'billing-db.internal', PGPORT: '5432' },
      secrets: { PGPASSWORD: '/kubernetes/billing-db/password' },
      concurrency: 'forbid',
      retries: 3,
      retryIntervalSeconds: 10,
      backoffRate: 2,
      maxDelaySeconds: 360,
      timeoutSeconds: 5400,
    });
    // Kubernetes' defaults, written out where the catalog's differ: Allow, backoffLimit 6.
    expect(spec('hello')).toMatchObject({ concurrency: 'allow', retries: 6, command: ['/bin/sh', '-c', 'date; echo Hello from the Kubernetes cluster'] });
    expect(spec('hello')).not.toHaveProperty('timeoutSeconds');
    // suspend -> enabled: false; Replace; backoffLimit 20 -> the catalog's 10; 2500m / 5G -> 4 vCPU, 8 GiB.
    expect(spec('report-generator-v2-dom')).toMatchObject({ enabled: false, concurrency: 'replace', retries: 10, cpu: 4096, memory: 8192 });
    // A pod's activeDeadlineSeconds bounds each attempt, as timeoutSeconds does; backoffLimit 0: no retry settings.
    expect(spec('queue-sweep')).toMatchObject({ retries: 0, timeoutSeconds: 300 });
    expect(spec('queue-sweep')).not.toHaveProperty('retryIntervalSeconds');
  });

  // A Fargate task gets exactly its size: the pod was guaranteed its requests and could use up to its limits, so the
  // task is sized to the larger of the two per resource (rounded up to a Fargate size), and the note says so.
  it('sizes the task to the larger of requests and limits, per resource, rounded up to a Fargate size, and says so', () => {
    const sized = (resources: string) => {
      const text = `${cronJob('0 * * * *')}              resources:\n${resources}`;
      const got = importKubernetes([{ file: 'c.yaml', text }]);
      return { spec: got.jobs[0]!.spec as unknown as Record<string, unknown>, notes: got.warnings.filter((w) => w.includes('resources')) };
    };
    // Requests alone: what there is. Limits above the requests: the limits.
    expect(sized('                requests: {cpu: 500m, memory: 1Gi}\n').spec).toMatchObject({ cpu: 512, memory: 1024 });
    const burst = sized('                requests: {cpu: 250m, memory: 512Mi}\n                limits: {cpu: "2", memory: 3Gi}\n');
    expect(burst.spec).toMatchObject({ cpu: 2048, memory: 4096 });
    expect(burst.notes).toEqual(['c.yaml:15: x: resources: sized to the larger of requests and limits (cpu 2, memory 3Gi) as cpu 2048, memory 4096: ' +
      'a Fargate task gets exactly its size, and the pod could use up to its limits']);
    // Per resource, and whichever is larger even where a hand-written file has requests above limits.
    expect(sized('                requests: {memory: 6Gi}\n                limits: {cpu: "1", memory: 2Gi}\n').spec).toMatchObject({ cpu: 1024, memory: 6144 });
  });

  it('a schedule with both day fields restricted, split in two, says both jobs run on a day matching both, and the next', () => {
    const { imported } = importFixtures();
    // Rule: robfig/cron ran the CronJob once on a day that matches day-of-month and day-of-week; the two jobs each run.
    // '0 6 */2 * 1' in New York from 2026-01-01: Monday 5 January is an odd day of the month.
    expect(imported.warnings).toContain('kubernetes/odd.yaml:15: report-generator-v2-dom and report-generator-v2-dow: day-of-month and day-of-week ' +
      'are both restricted: Kubernetes ran it when either matched, so it became two jobs; on a day that matches both, both run where Kubernetes ran it once (next on 2026-01-05)');
  });

  it('lists, by file and line, what is not carried over and why, on stderr and above the job', () => {
    const { imported, spec } = importFixtures();
    const odd = imported.warnings.filter((w) => w.startsWith('kubernetes/odd.yaml:') && w.includes('report-generator'));
    // In line order; the one without a line of its own (no activeDeadlineSeconds) at the CronJob's, last.
    expect(odd.map((w) => w.split(': ')[0])).toEqual([15, 20, 21, 24, 25, 32, 36, 40, 43, 50, 52, 10].map((l) => `kubernetes/odd.yaml:${l}`));
    for (const [text, why] of [
      ['backoffLimit 20', 'retries at most 10'], ['parallelism', 'fanOut'], ['serviceAccountName', 'taskPolicyArns'],
      ['initContainers', 'init containers'], ['$(VAR) in command/args', 'ECS does not'], ['env POD_NAME comes from fieldRef', 'environment:'],
      ['envFrom', 'list each'], ['volumeMounts', 'volumes'], ['containers log-shipper', 'only the first, report'], ['volumes', 'S3'],
    ]) expect(odd.some((w) => w.includes(text!) && w.includes(why!))).toBe(true);
    const backup = imported.warnings.filter((w) => w.startsWith('kubernetes/backup.yaml:') && w.includes('db-backup'));
    expect(backup.map((w) => /^\S+ \S+ \S+/.exec(w)![0])).toEqual([
      'kubernetes/backup.yaml:17: db-backup: 02:30',
      'kubernetes/backup.yaml:20: db-backup: startingDeadlineSeconds:',
      'kubernetes/backup.yaml:21: db-backup: successfulJobsHistoryLimit:',
      'kubernetes/backup.yaml:22: db-backup: failedJobsHistoryLimit:',
      'kubernetes/backup.yaml:26: db-backup: activeDeadlineSeconds',
      'kubernetes/backup.yaml:33: db-backup: command',
      'kubernetes/backup.yaml:40: db-backup: env',
      'kubernetes/backup.yaml:45: db-backup: resources:',
    ]);
    const text = renderCatalog(imported);
    expect(text).toContain('  # kubernetes/backup.yaml line 10: CronJob billing/db-backup, schedule \'30 2 * * *\' in Europe/Berlin\n');
    expect(text).toContain('  # line 40: env PGPASSWORD is Secret billing-db key password: mapped to the SSM parameter /kubernetes/billing-db/password: create it');
    expect(imported.warnings.at(-1)).toMatch(/^2 CronJobs have no timeZone: read in UTC/);
    // kubectl's export: the server's defaults and empty maps (securityContext: {}, resources: {}) ask for nothing.
    expect(imported.warnings.filter((w) => w.includes('cache-warm')).map((w) => w.split(': ').slice(0, 3).join(': '))).toEqual([
      'kubernetes/exported-list.yaml:15: cache-warm: failedJobsHistoryLimit',
      'kubernetes/exported-list.yaml:41: cache-warm: successfulJobsHistoryLimit',
      'kubernetes/exported-list.yaml:5: cache-warm: no activeDeadlineSeconds',
    ]);
    expect(spec('cache-warm')).toMatchObject({ description: 'CronJob web/cache-warm', command: ['warm', '--all-regions'], concurrency: 'forbid', retries: 6 });
    expect(spec('cache-warm')).not.toHaveProperty('cpu');
  });

  it('is a catalog parseCatalog accepts, job for job', () => {
    const { imported } = importFixtures();
    const jobs = parseCatalog(renderCatalog(imported), { stage: 'prod', file: 'imported.yml' });
    expect(jobs.map((j) => [j.name, j.schedule, j.timezone, j.enabled])).toEqual(
      imported.jobs.map((j) => [j.name, j.spec.schedule, j.spec.timezone, (j.spec as { enabled?: boolean }).enabled ?? true]));
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// The oracle: croner reads the CronJob's schedule (domAndDow: false, the OR of cron; a stepped '*' counts as a
// restriction, as in robfig/cron). croner refuses two robfig spellings, given to it as robfig defines them: 'N/s' is
// 'N-max/s', and '?' is '*'.

const STARTS = ['2026-03-27T12:00:00Z', '2026-10-23T12:00:00Z', '2026-02-26T12:00:00Z'];

function oracleTimes(pattern: string, timezone: string, from: Date, count: number): number[] {
  const cron = new Cron(pattern, { timezone, domAndDow: false, paused: true });
  // In a spring-forward gap croner runs a skipped time later, where Scheduler skips it: such times do not match.
  return [...new Set(cron.nextRuns(count + 60, from).filter((t) => cron.match(t)).map((t) => t.getTime()))].sort((a, b) => a - b).slice(0, count);
}

function awsTimes(jobs: ImportedJob[], from: Date, count: number): number[] {
  const times = new Set<number>();
  for (const j of jobs) for (const t of nextFireTimes(j.spec.schedule, { timezone: j.spec.timezone, from, count })) times.add(t.getTime());
  return [...times].sort((a, b) => a - b).slice(0, count);
}

describe('oracle: each CronJob fires when croner says its schedule runs (next 100 times, across DST changes)', () => {
  const cases: Array<[string, string, string]> = [
    ['db-backup', '30 2 * * *', 'Europe/Berlin'],
    ['hello', '* * * * *', 'UTC'],
    ['cache-warm', '*/20 * * * *', 'UTC'],
    ['report-generator-v2', '0 6 */2 * 1', 'America/New_York'],
    ['queue-sweep', '0 * * * *', 'Asia/Tokyo'],
    ['month-end', '5-59/10 22 * * 1-5', 'UTC'],
  ];
  it.each(cases)('%s (%s in %s)', (name, pattern, zone) => {
    const { imported } = importFixtures();
    const jobs = imported.jobs.filter((j) => j.name === name || j.name.startsWith(`${name}-do`));
    expect(jobs.length).toBeGreaterThan(0);
    for (const start of STARTS) {
      const from = new Date(start);
      const oracle = oracleTimes(pattern, zone, from, 100);
      expect(oracle).toHaveLength(100);
      expect(awsTimes(jobs, from, 100).map((t) => new Date(t).toISOString())).toEqual(oracle.map((t) => new Date(t).toISOString()));
    }
  });

  it.each([
    ['0 0 * * 0', 'cron(0 0 ? * SUN *)'],
    ['0 0 1,15 * *', 'cron(0 0 1,15 * ? *)'],
    ['15 */3 * * MON-FRI', 'cron(15 0/3 ? * MON-FRI *)'],
    ['0 12 * * */2', 'cron(0 12 ? * SUN,TUE,THU,SAT *)'], // a stepped '*' alone: the weekdays it lists
    // (2/5, not 1/5: croner 10.0.1 skips March 1 after "February 31", test/crontab.test.ts shows it)
    ['0 8 2/5 * ?', 'cron(0 8 2/5 * ? *)'],
    // robfig/cron reads '?' as '*' before a step too: '?/15' is '*/15', and in a day field a restriction (every other day)
    ['?/15 * * * *', 'cron(0/15 * * * ? *)'],
    ['0 6 ?/2 * *', 'cron(0 6 1/2 * ? *)'],
    ['@weekly', 'cron(0 0 ? * SUN *)'],
    ['@monthly', 'cron(0 0 1 * ? *)'],
  ])('%s -> %s, and fires when croner says', (schedule, aws) => {
    const { schedules } = goCronSchedules(schedule);
    expect(schedules).toEqual([aws]);
    const croner = schedule.replace('2/5', '2-31/5').replace(/(^| )\?/g, '$1*');
    const from = new Date('2026-04-02T12:00:00Z');
    const jobs = schedules.map((s) => ({ spec: { schedule: s, timezone: 'UTC' } }) as unknown as ImportedJob);
    expect(awsTimes(jobs, from, 100)).toEqual(oracleTimes(croner, 'UTC', from, 100));
  });

  it('@every becomes a rate in the largest exact unit', () => {
    expect(goCronSchedules('@every 1h30m').schedules).toEqual(['rate(90 minutes)']);
    expect(goCronSchedules('@every 2h').schedules).toEqual(['rate(2 hours)']);
    expect(goCronSchedules('@every 24h').schedules).toEqual(['rate(1 day)']);
    expect(() => goCronSchedules('@every 90s')).toThrow(/whole minutes/);
  });
});

describe('DST: a time a fall-back repeats ran twice on Kubernetes (robfig/cron matches the wall clock), once on Scheduler', () => {
  it('warns for the year ahead, naming the times and the day; not for times outside the repeated hour, nor for UTC', () => {
    const { imported } = importFixtures();
    expect(imported.warnings).toContain('kubernetes/backup.yaml:17: db-backup: 02:30 happens twice on 2026-10-25 in Europe/Berlin (clocks fall back): ' +
      'Kubernetes ran it at both (kubernetes/kubernetes#121594); EventBridge Scheduler runs it once, at the first');
    const warn = (schedule: string, zone: string) => importKubernetes([{ file: 'c.yaml', text: cronJob(schedule, `  timeZone: ${zone}\n`) }], { from: FROM })
      .warnings.filter((w) => w.includes('twice'));
    expect(warn('*/15 * * * *', 'America/New_York')).toEqual([expect.stringContaining('x: 01:00-01:45 happens twice on 2026-11-01 in America/New_York')]);
    expect(warn('30 2 * * *', 'America/New_York')).toEqual([]); // its repeated hour is 01:00-02:00
    expect(warn('0 * * * *', 'UTC')).toEqual([]);
    expect(warn('@every 30m', 'Europe/Berlin')).toEqual([]); // a rate counts real time
  });
});

describe('refused, one line each naming file:line and the fix', () => {
  it.each([
    [cronJob('0 0 * * 7'), "c.yaml:6: CronJob x: schedule: day-of-week '7': 7 is out of range (0-6, 0 is Sunday), which robfig/cron (Kubernetes' and Copilot's parser) refuses: write 0"],
    // 7 in day-of-week is refused as such even before a step (not as the range 7-6 it would become)
    [cronJob('0 0 * * 7/2'), "c.yaml:6: CronJob x: schedule: day-of-week '7/2': 7 is out of range (0-6, 0 is Sunday), which robfig/cron (Kubernetes' and Copilot's parser) refuses: write 0"],
    [cronJob('0 0 * *'), "c.yaml:6: CronJob x: schedule: '0 0 * *' has 4 fields: a schedule has five"],
    [cronJob('@reboot'), "c.yaml:6: CronJob x: schedule: '@reboot' is not a schedule"],
    [cronJob('0 0 1 * 1-5/0'), 'c.yaml:6: CronJob x: schedule: day-of-week: the step'],
    [cronJob('TZ=Europe/Berlin 0 0 * * *', '  timeZone: Europe/Berlin\n'), 'c.yaml:6: CronJob x: both timeZone and a TZ= prefix in schedule, which Kubernetes refuses: keep timeZone'],
    [cronJob('0 0 * * *', '  timeZone: Berlin\n'), "c.yaml:7: CronJob x: timeZone 'Berlin' is not an IANA time zone such as Europe/Berlin"],
    [cronJob('0 0 * * *', '  concurrencyPolicy: forbid\n'), "c.yaml:7: CronJob x: concurrencyPolicy 'forbid' is none of Allow, Forbid, Replace"],
    [cronJob('0 0 * * *').replace(/ {2}jobTemplate:[\s\S]*$/, '  jobTemplate: {}\n'), 'c.yaml:2: CronJob x: jobTemplate.spec.template.spec.containers is missing'],
    ['apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: x\nspec:\n  schedule: [\n', 'c.yaml:7: not valid YAML'],
    ['apiVersion: apps/v1\nkind: Deployment\n', 'c.yaml: no CronJob to import'],
    [cronJob('0 0 * * *').replace('name: x', 'name: {{ .Release.Name }}'), "c.yaml:4: is a Helm template ('{{' here): render it first (helm template <release> <chart> > rendered.yaml) and import that"],
    // A string that parses but is all template, or uses Helm's own objects, is a chart's too.
    [cronJob('0 0 * * *').replace('busybox:1.36', '"{{ .Values.image }}"'), "c.yaml:13: is a Helm template ('{{' here)"],
    [cronJob('0 0 * * *').replace('busybox:1.36', '"{{ .Values.image.repository }}:{{ .Values.image.tag }}"'), "c.yaml:13: is a Helm template ('{{' here)"],
  ])('%#', (text, problem) => {
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(problem)).toBe(true);
  });
});

describe('empty documents', () => {
  it('skips a document with nothing in it (a doubled or trailing ---, as tools concatenating manifests write) without a word', () => {
    // Rule: only a document with content is a manifest; one with no kind is warned about, an empty one is no document.
    const text = `---\n${cronJob('0 0 * * *')}---\n---\n# the end\n---\n`;
    // Act
    const result = importKubernetes([{ file: 'c.yaml', text }], { from: FROM });
    // Assess
    expect(result.jobs.map((j) => j.name)).toEqual(['x']);
    expect(result.warnings.filter((w) => w.includes('no kind'))).toEqual([]);
    expect(importKubernetes([{ file: 'c.yaml', text: `${cronJob('0 0 * * *')}---\nmetadata:\n  name: y\n` }], { from: FROM }).warnings)
      .toContain('c.yaml:16: a document with no kind is not a CronJob: skipped'); // its first line
  });
});

describe('a Go template in a rendered manifest is data, not Helm', () => {
  it("imports a command that runs kubectl -o go-template='{{range .items}}...'", () => {
    // Rule: '{{' inside a string value that parses is the command's own text; only one outside strings (or a whole
    // '{{ }}' value, or Helm's .Values/.Release...) marks a template to render first.
    const command = "kubectl get pods -o go-template='{{range .items}}{{.metadata.name}}{{\"\\n\"}}{{end}}'";
    const text = cronJob('0 0 * * *').replace('args: [true]', `command: [sh, -c, ${JSON.stringify(command)}]`);
    const result = importKubernetes([{ file: 'c.yaml', text }], { from: FROM });
    expect(result.jobs.map((j) => j.spec.command)).toEqual([['sh', '-c', command]]);
  });
});

describe('sizes and names', () => {
  it('reads Kubernetes quantities and picks the smallest Fargate size that fits both', () => {
    expect([cpuUnits('250m'), cpuUnits('1'), cpuUnits('0.5'), cpuUnits('2500m'), cpuUnits('x')]).toEqual([256, 1024, 512, 2560, undefined]);
    expect([memoryMiB('768Mi'), memoryMiB('3Gi'), memoryMiB('5G'), memoryMiB('134217728'), memoryMiB('1e9')]).toEqual([768, 3072, 4769, 128, 954]);
    expect(fargateSize(256, 768)).toEqual({ cpu: 256, memory: 1024 });
    expect(fargateSize(256, 3000)).toEqual({ cpu: 512, memory: 3072 }); // 256 cpu goes to 2 GiB only
    expect(fargateSize(2560, 4769)).toEqual({ cpu: 4096, memory: 8192 });
    expect(fargateSize(20000, 512)).toBeUndefined();
  });

  it('sanitises metadata.name to the catalog\'s rule, unique, with --prefix', () => {
    const two = [cronJob('0 0 * * *').replace('name: x', 'name: Nightly.Report'), cronJob('0 1 * * *').replace('name: x', 'name: nightly-report')].join('---\n');
    const result = importKubernetes([{ file: 'c.yaml', text: two }], { prefix: 'k8s-' });
    expect(result.jobs.map((j) => j.name)).toEqual(['k8s-nightly-report', 'k8s-nightly-report-2']);
    expect(parseCatalog(renderCatalog(result), { stage: 'dev' })).toHaveLength(2);
    expect(() => importKubernetes([{ file: 'c.yaml', text: two }], { prefix: 'K8s_' })).toThrow(/--prefix: 'K8s_' must be lowercase/);
  });

  // 'a.b' and 'a-b' both become a-b: which one gets a-b-2 is decided by the CronJobs' own names (then namespace, file),
  // so a re-import with the files or documents in another order writes the same names (an import is re-run to update).
  it('names colliding CronJobs the same whatever the order of files and documents', () => {
    const docs = ['a.b', 'a-b', 'a--b'].map((name, i) => cronJob(`${i} 0 * * *`).replace('name: x', `name: ${name}`));
    const namesOf = (files: Array<{ file: string; text: string }>) =>
      Object.fromEntries(importKubernetes(files).jobs.map((j) => [j.entry, j.name]));
    const want = { 'CronJob a--b': 'a-b', 'CronJob a-b': 'a-b-2', 'CronJob a.b': 'a-b-3' };
    for (const order of [[0, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0]]) {
      expect(namesOf(order.map((i) => ({ file: `f${i}.yaml`, text: docs[i]! })))).toEqual(want);
      expect(namesOf(order.map((i) => ({ file: `shuffled-${order.indexOf(i)}.yaml`, text: docs[i]! })))).toEqual(want);
      expect(namesOf([{ file: 'one.yaml', text: order.map((i) => docs[i]).join('---\n') }])).toEqual(want);
    }
  });
});

describe('Go schedules, durations and quantities, as robfig/cron and Kubernetes read them', () => {
  const thrown = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return String(err);
    }
    return 'nothing thrown';
  };

  it('reads Go durations (time.ParseDuration): h, m, s, ms, us/µs/μs, ns, decimals, several units in a row', () => {
    // Assess
    expect(['1h30m', '45m', '90s', '1.5h', '1.25h', '.5m', '1500ms'].map(goDurationSeconds)).toEqual([5400, 2700, 90, 5400, 4500, 30, 1.5]);
    for (const micro of ['2us', '2µs', '2μs']) expect(goDurationSeconds(micro)).toBeCloseTo(2e-6, 12);
    expect(goDurationSeconds('1000000000ns')).toBeCloseTo(1, 9);
    // no unit, a unit Go lacks, a space, a sign, a number left without a unit: each refused with what a duration is
    for (const bad of ['', '5', '1d', 'h', '1h 30m', '-1h', '1h30']) {
      expect(thrown(() => goDurationSeconds(bad))).toBe(`'${bad}' is not a duration such as 1h30m, 45m or 90s`);
    }
  });

  it('writes @every as a rate in the largest exact unit, singular for 1, and refuses what is not whole minutes', () => {
    // Assess
    const rate = (d: string) => goCronSchedules(`@every ${d}`).schedules;
    expect(['1m', '60m', '90m', '25h', '1440m', '48h'].map(rate)).toEqual([
      ['rate(1 minute)'], ['rate(1 hour)'], ['rate(90 minutes)'], ['rate(25 hours)'], ['rate(1 day)'], ['rate(2 days)']]);
    expect(goCronSchedules('CRON_TZ=Asia/Tokyo @every 2h')).toEqual({ schedules: ['rate(2 hours)'], timezone: 'Asia/Tokyo', every: true });
    for (const d of ['30s', '90s', '0m']) {
      expect(thrown(() => goCronSchedules(`@every ${d}`))).toBe(`@every ${d}: EventBridge Scheduler rates are whole minutes (at least 1m)`);
    }
  });

  it('reads every robfig/cron nickname, a CRON_TZ= or TZ= zone, and refuses other @words and unknown zones', () => {
    // Assess
    expect(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'].map((n) => goCronSchedules(n))).toEqual([
      { schedules: ['cron(0 0 1 1 ? *)'] }, { schedules: ['cron(0 0 1 1 ? *)'] }, { schedules: ['cron(0 0 1 * ? *)'] },
      { schedules: ['cron(0 0 ? * SUN *)'] }, { schedules: ['cron(0 0 * * ? *)'] }, { schedules: ['cron(0 0 * * ? *)'] },
      { schedules: ['cron(0 * * * ? *)'] }]);
    expect(goCronSchedules(' TZ=Europe/Berlin  30 2 * * * ')).toEqual({ schedules: ['cron(30 2 * * ? *)'], timezone: 'Europe/Berlin' });
    expect(goCronSchedules('CRON_TZ=UTC @daily')).toEqual({ schedules: ['cron(0 0 * * ? *)'], timezone: 'UTC' });
    expect(thrown(() => goCronSchedules('TZ=Berlin 0 0 * * *'))).toBe('TZ=Berlin is not an IANA time zone such as Europe/Berlin');
    expect(thrown(() => goCronSchedules('@reboot'))).toBe("'@reboot' is not a schedule: use five fields, @hourly, @daily, @weekly, @monthly, @yearly or @every <duration>");
    expect(thrown(() => goCronSchedules('?'))).toBe("'?' has 1 fields: a schedule has five (minute hour day-of-month month day-of-week)");
    // @every and a nickname are the whole schedule (any spaces after @every)
    expect(goCronSchedules('@every  5m').schedules).toEqual(['rate(5 minutes)']);
    for (const [text, fields] of [['@every 5m x', 3], ['x @every 5m', 3], ['@daily x', 2], ['x@daily', 1], ['5 TZ=UTC 0 0 * * *', 7]] as const) {
      expect(thrown(() => goCronSchedules(text))).toBe(`'${text}' has ${fields} fields: a schedule has five (minute hour day-of-month month day-of-week)`);
    }
  });

  it("widens 'N/step' to N-max/step in each field, and a stepped * to a restriction in the day fields only", () => {
    // Assess: minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-6; '*/1' is still every day
    expect(['5/15 * * * *', '0 3/6 * * *', '0 0 5/10 * *', '0 0 1 2/3 *', '0 0 * * 1/2', '*/15 * * * *', '0 0 * */2 *', '0 0 */1 * *', '0 0 * * */3']
      .map((s) => goCronSchedules(s).schedules)).toEqual([
      ['cron(5/15 * * * ? *)'], ['cron(0 3/6 * * ? *)'], ['cron(0 0 5/10 * ? *)'], ['cron(0 0 1 2/3 ? *)'], ['cron(0 0 ? * MON,WED,FRI *)'],
      ['cron(0/15 * * * ? *)'], ['cron(0 0 * 1/2 ? *)'], ['cron(0 0 * * ? *)'], ['cron(0 0 ? * SUN,WED,SAT *)']]);
    // both day fields restricted: either one (two jobs); '*/10' restricts, '*/1' does not (robfig/cron: a step over 1)
    expect(goCronSchedules('0 0 1 * 1').schedules).toEqual(['cron(0 0 1 * ? *)', 'cron(0 0 ? * MON *)']);
    expect(goCronSchedules('0 0 */10 * 1').schedules).toEqual(['cron(0 0 1/10 * ? *)', 'cron(0 0 ? * MON *)']);
    expect(goCronSchedules('0 0 */1 * 1').schedules).toEqual(['cron(0 0 ? * MON *)']);
    expect(goCronSchedules('0 0 1 * */2').schedules).toEqual(['cron(0 0 1 * ? *)', 'cron(0 0 ? * SUN,TUE,THU,SAT *)']);
    // ranges and multi-digit starts are kept; 7 is refused in the weekday field only; fields split on any run of spaces
    expect(['10-30/5 * * * *', '10/15 * * * *', '7 7 7 7 *', '0  0 * * *'].map((s) => goCronSchedules(s).schedules)).toEqual([
      ['cron(10-30/5 * * * ? *)'], ['cron(10/15 * * * ? *)'], ['cron(7 7 7 7 ? *)'], ['cron(0 0 * * ? *)']]);
    // 7 anywhere in a weekday item is refused as robfig/cron refuses it
    for (const field of ['7', '5-7', '0,7', '7-1']) {
      expect(thrown(() => goCronSchedules(`0 0 * * ${field}`))).toBe(`day-of-week '${field}': 7 is out of range (0-6, 0 is Sunday), ` +
        "which robfig/cron (Kubernetes' and Copilot's parser) refuses: write 0");
    }
    // a step after anything but a number, '*' or '?', or junk after a step, is refused as written
    for (const [schedule, field, item] of [['0 0 1-*/2 * *', 'day-of-month', '1-*/2'], ['0 0 */2x * *', 'day-of-month', '*/2x'], ['5/2x * * * *', 'minute', '5/2x']] as const) {
      expect(thrown(() => goCronSchedules(schedule))).toBe(`${field}: '${item}' is not crontab syntax (numbers, a-b, */n, a-b/n, lists)`);
    }
    expect(thrown(() => goCronSchedules('0 0 1-? * *'))).toMatch(/^day-of-month: '1-\?' is not crontab syntax/);
    // the crontab parser's problem, about the schedule as written (not its widened form)
    expect(thrown(() => goCronSchedules('5/0 * * * *'))).toBe("minute: the step in '5-59/0' must be at least 1");
    expect(thrown(() => goCronSchedules('61 0 * * *'))).toBe('minute: 61 is out of range (0-59)');
  });

  it('reads cpu in cores or millicores as Fargate units (1024 a vCPU), rounded up, and memory in any unit as MiB, rounded up', () => {
    // Assess
    expect([cpuUnits(1), cpuUnits('.5'), cpuUnits('100m'), cpuUnits(undefined), cpuUnits('1.'), cpuUnits(' 1'), cpuUnits('1m2')])
      .toEqual([1024, 512, 103, undefined, undefined, undefined, undefined]);
    expect(['1Ki', '1Mi', '1.5Gi', '1Ti', '1k', '1K', '1M', '2G', '1T', '1e6', 536870912].map(memoryMiB))
      .toEqual([1, 1, 1536, 1048576, 1, 1, 1, 1908, 953675, 1, 512]);
    expect([memoryMiB(null), memoryMiB('1Mi '), memoryMiB('1e'), memoryMiB('1Pi'), memoryMiB('x1Gi')]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    // decimals of more than one digit, exponents of more than one
    expect([cpuUnits('1.25'), memoryMiB('1.25Gi'), memoryMiB('1e12')]).toEqual([1280, 1280, 953675]);
  });

  it('picks the smallest Fargate size with as much of both, up to the largest (16 vCPU, 120 GiB)', () => {
    // Assess
    expect([fargateSize(0, 0), fargateSize(257, 512), fargateSize(4096, 30720), fargateSize(8192, 16384), fargateSize(16384, 122880)]).toEqual([
      { cpu: 256, memory: 512 }, { cpu: 512, memory: 1024 }, { cpu: 4096, memory: 30720 }, { cpu: 8192, memory: 16384 }, { cpu: 16384, memory: 122880 }]);
    expect(fargateSize(16384, 122881)).toBeUndefined();
  });
});

describe('names, prefixes, lines and messages', () => {
  it("makes a job name of lowercase letters, digits and '-' (job when nothing is left), after the prefix, unique", () => {
    // Assess
    expect(jobNameFor('---', new Set(), '')).toBe('job');
    expect(jobNameFor('-Nightly..Report-', new Set(), '')).toBe('nightly-report');
    const taken = new Set<string>();
    expect([jobNameFor('Nightly.Report', taken, 'k8s-'), jobNameFor('nightly-report', taken, 'k8s-')]).toEqual(['k8s-nightly-report', 'k8s-nightly-report-2']);
    // no suffixes given is the name alone, as [''] is
    expect(jobNameFor('report', taken, '', [''])).toBe('report');
    expect(jobNameFor('report', taken, '')).toBe('report-2');
  });

  it("takes an empty --prefix or one of lowercase letters, digits and '-' starting with a letter", () => {
    // Assess
    expect([prefixProblem(''), prefixProblem('k8s-'), prefixProblem('a')]).toEqual([undefined, undefined, undefined]);
    for (const bad of ['K8s', '8s', 'k8s_', '-k8s']) {
      expect(prefixProblem(bad)).toBe(`--prefix: '${bad}' must be lowercase letters, digits and '-', starting with a letter (e.g. k8s-)`);
    }
  });

  it('says file:line: text (no line when it is unknown), one problem as itself and several as a list', () => {
    // Assess
    expect([at('f.yaml', 3, 'text'), at('f.yaml', undefined, 'text')]).toEqual(['f.yaml:3: text', 'f.yaml: text']);
    expect(new ManifestError(['a: b']).message).toBe('a: b');
    expect(new ManifestError(['a: b', 'c: d']).message).toBe('2 problems:\n  - a: b\n  - c: d');
    expect(new ManifestError(['a']).name).toBe('ManifestError');
  });

  it('takes environment names of letters, digits and _, not starting with a digit, except the STEPCRON_ ones', () => {
    // Assess
    expect(['A_1', '_a', 'stepcron_x', '1A', 'STEPCRON_X', 'a-b', ''].map(envNameOk)).toEqual([true, true, true, false, false, false, false]);
  });

  it("writes a job's fields in the catalog's order, leaving out those not set", () => {
    // Act
    const spec = ordered({ timeoutSeconds: 60, retries: 1, schedule: 'rate(1 hour)', description: 'd', timezone: 'UTC' });
    // Assess
    expect(Object.keys(spec)).toEqual(['description', 'schedule', 'timezone', 'retries', 'timeoutSeconds']);
  });

  it("refuses '{{' outside a string, in a key, or as a whole value or Helm's own; not in a comment or in other strings", () => {
    // Prepare
    const helm = (line: number) => `f:${line}: is a Helm template ('{{' here): render it first (helm template <release> <chart> > rendered.yaml) and import that`;
    // Assess
    expect([helmProblem('f', 'a: 1'), helmProblem('f', 'a: 1\n# {{ .Values.x }}\n'), helmProblem('f', 'a: 1 # {{ x }}\n'), helmProblem('f', 'a: "run {{ x }}"\n')])
      .toEqual([undefined, undefined, undefined, undefined]);
    expect(helmProblem('f', '"{{ x }}": 1\n')).toBe(helm(1));
    expect(helmProblem('f', 'a: [\n{{ x }}')).toBe(helm(2));
    expect(helmProblem('f', 'a: "x"\nb: "{{x}}"\n')).toBe(helm(2));
    expect(helmProblem('f', 'a: "x {{ include \\"y\\" . }}"\n')).toBe(helm(1));
    expect(helmProblem('f', 'a:\n  - "{{ .Chart.Name }}-x"\n')).toBe(helm(2));
    expect(helmProblem('f', 'a: b\n---\nc: {{ x }}\n')).toBe(helm(3));
  });
});

describe('a CronJob, field by field: carried over, noted with its line, or refused', () => {
  /** A CronJob with its spec's own lines, metadata and pod-level lines given. */
  const manifest = (spec: string, meta = '  name: x\n', pod = '') => `apiVersion: batch/v1
kind: CronJob
metadata:
${meta}spec:
${spec}  jobTemplate:
    spec:
      template:
        spec:
${pod}          containers:
            - name: x
              image: busybox:1.36
              args: [true]
`;
  const DAILY = '  schedule: "0 0 * * *"\n';
  /** The job specs and the warnings of one file, less the two every CronJob here gets (no zone, no deadline). */
  const imported = (text: string) => {
    const result = importKubernetes([{ file: 'c.yaml', text }], { from: FROM });
    return {
      specs: result.jobs.map((j) => j.spec as unknown as Record<string, unknown>),
      warnings: result.warnings.filter((w) => !w.includes('have no timeZone') && !w.includes('has no timeZone') && !w.includes('no activeDeadlineSeconds')),
    };
  };

  it('carries over everything a container says, and notes each thing the catalog has no equivalent for, by line', () => {
    // Prepare: an old apiVersion, @every, no image, args with $(VAR), each kind of env entry, cpu only, a deadline
    // beyond the catalog's 7 days, no retries
    const text = `apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: Odd.Job
  namespace: ops
  annotations:
    description: "  Sweeps   the\\n  queue  "
spec:
  schedule: "@every 90m"
  concurrencyPolicy: Replace
  jobTemplate:
    spec:
      backoffLimit: 0
      activeDeadlineSeconds: 900000
      template:
        spec:
          containers:
            - name: main
              args: ["--queue=$(QUEUE)", "run"]
              env:
                - name: bad-name
                  value: x
                - name: TOKEN
                  valueFrom:
                    secretKeyRef: {name: "api keys", key: "tok:en"}
                - name: CFG
                  valueFrom:
                    configMapKeyRef: {name: c, key: k}
                - name: EMPTY
                  value: null
                - name: REF
                  value: "$(HOME)/x"
              resources:
                requests: {cpu: "3"}
`;
    // Act
    const result = importKubernetes([{ file: 'o.yaml', text }], { from: FROM });
    // Assess
    expect(result.jobs.map((j) => [j.name, j.line, j.entry])).toEqual([['odd-job', 2, 'CronJob ops/Odd.Job']]);
    expect(result.jobs[0]!.spec).toEqual({
      // the description annotation, its white space folded
      description: 'Sweeps the queue',
      schedule: 'rate(90 minutes)',
      timezone: 'UTC',
      command: ['--queue=$(QUEUE)', 'run'],
      // 3 cores: the smallest Fargate size with as much (memory: the least that size takes)
      cpu: 4096,
      memory: 8192,
      environment: { EMPTY: '', REF: '$(HOME)/x' },
      // a Secret key becomes an SSM parameter name, what SSM names refuse made '-'
      secrets: { TOKEN: '/kubernetes/api-keys/tok-en' },
      concurrency: 'replace',
      retries: 0,
      timeoutSeconds: 604800,
    });
    expect(result.jobs[0]!.comments[0]).toBe("o.yaml line 2: CronJob ops/Odd.Job, schedule '@every 90m'");
    expect(result.warnings).toEqual([
      'o.yaml:1: odd-job: apiVersion batch/v1beta1: read as batch/v1',
      "o.yaml:9: odd-job: @every: EventBridge Scheduler's rate counts from when the schedule is created, not from the controller's start",
      'o.yaml:14: odd-job: activeDeadlineSeconds 900000: the catalog stops a run after at most 7 days',
      "o.yaml:18: odd-job: no image: the catalog's defaults.image applies",
      'o.yaml:19: odd-job: $(VAR) in command/args: Kubernetes expanded it, ECS does not: run it through sh -c with ${VAR}',
      'o.yaml:21: odd-job: env bad-name: not a name the catalog takes (letters, digits and _, not STEPCRON_): rename it',
      'o.yaml:23: odd-job: env TOKEN is Secret api keys key tok:en: mapped to the SSM parameter /kubernetes/api-keys/tok-en: ' +
        'create it (aws ssm put-parameter --type SecureString) or point secrets.TOKEN at yours',
      'o.yaml:26: odd-job: env CFG comes from configMapKeyRef: give its value under environment: (or secrets:)',
      'o.yaml:31: odd-job: env REF: $(VAR) references are not expanded by ECS: write the value out',
      '1 CronJob has no timeZone: read in UTC, the zone of kube-controller-manager on most clusters; if yours ran in another, set timezone: on the job',
    ]);
  });

  it('refuses a CronJob without a name, a schedule, containers, or a whole non-negative backoffLimit, or with a zone that is none', () => {
    // Prepare
    const problems = (text: string) => {
      try {
        importKubernetes([{ file: 'c.yaml', text }]);
      } catch (err) {
        return (err as ManifestError).problems;
      }
      return [];
    };
    const backoff = (limit: string) => manifest(DAILY).replace('    spec:\n      template', `    spec:\n      backoffLimit: ${limit}\n      template`);
    // Assess
    expect(problems(manifest(DAILY, '  namespace: ops\n'))).toEqual(['c.yaml:2: CronJob ops/(no name): metadata.name is missing: give the CronJob a name']);
    expect(problems(manifest(''))).toEqual(['c.yaml:2: CronJob x: spec.schedule is missing: give the CronJob its schedule']);
    expect(problems(manifest('  schedule: "  "\n'))).toEqual(['c.yaml:6: CronJob x: spec.schedule is missing: give the CronJob its schedule']);
    expect(problems(manifest(DAILY).replace(/ {10}containers:[\s\S]*$/, '          containers: []\n')))
      .toEqual(['c.yaml:11: CronJob x: jobTemplate.spec.template.spec.containers is missing: a CronJob runs one container']);
    expect(problems(backoff('-1'))).toEqual(["c.yaml:9: CronJob x: backoffLimit '-1' is not a whole number of retries"]);
    expect(problems(backoff('1.5'))).toEqual(["c.yaml:9: CronJob x: backoffLimit '1.5' is not a whole number of retries"]);
    expect(problems(backoff('"2"'))).toEqual(["c.yaml:9: CronJob x: backoffLimit '2' is not a whole number of retries"]);
    expect(problems(manifest(`${DAILY}  timeZone: 5\n`))).toEqual(["c.yaml:7: CronJob x: timeZone '5' is not an IANA time zone such as Europe/Berlin"]);
    expect(problems('')).toEqual(['c.yaml: no CronJob to import (kind: CronJob, apiVersion: batch/v1)']);
    expect(() => importKubernetes([])).toThrow('the input: no CronJob to import (kind: CronJob, apiVersion: batch/v1)');
  });

  it('names every CronJob, Job, pod and container field the catalog has no equivalent for, with why, by line', () => {
    // Prepare: each such field set (the pod's deadline set too, so no note about a missing one)
    const text = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: every-field
spec:
  schedule: "0 0 * * *"
  timeZone: UTC
  concurrencyPolicy: Allow
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
  startingDeadlineSeconds: 200
  jobTemplate:
    spec:
      parallelism: 2
      completions: 4
      completionMode: Indexed
      podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: In, values: [42]}}]}
      backoffLimitPerIndex: 1
      ttlSecondsAfterFinished: 100
      suspend: true
      template:
        spec:
          activeDeadlineSeconds: 60
          initContainers: [{name: init, image: busybox:1.36}]
          volumes: [{name: data, emptyDir: {}}]
          serviceAccountName: runner
          nodeSelector: {disk: ssd}
          affinity: {nodeAffinity: {}}
          tolerations: [{key: spot}]
          hostNetwork: true
          imagePullSecrets: [{name: regcred}]
          securityContext: {runAsNonRoot: true}
          containers:
            - name: main
              image: busybox:1.36
              args: [true]
              envFrom: [{configMapRef: {name: cfg}}]
              volumeMounts: [{name: data, mountPath: /data}]
              workingDir: /data
              securityContext: {readOnlyRootFilesystem: true}
              lifecycle: {preStop: {exec: {command: [true]}}}
`;
    // Act
    const result = importKubernetes([{ file: 'e.yaml', text }], { from: FROM });
    // Assess: Allow is carried over; everything else below is listed, in line order
    expect(result.jobs[0]!.spec).toMatchObject({ concurrency: 'allow', timeoutSeconds: 60 });
    expect(result.warnings.map((w) => w.replace(/^e\.yaml:(\d+): every-field: /, '$1 '))).toEqual([
      '9 successfulJobsHistoryLimit: Step Functions keeps run history 90 days (stepcron runs <job>)',
      '10 failedJobsHistoryLimit: Step Functions keeps run history 90 days (stepcron runs <job>)',
      '11 startingDeadlineSeconds: a missed start is retried by EventBridge Scheduler for up to an hour, then goes to the dead-letter queue ' +
        '(alarmed); stepcron backfill runs missed times',
      '14 parallelism: parallel pods: use fanOut (one task per item) if the pods split work',
      '15 completions: several completions: use fanOut (one task per item) if the pods split work',
      '16 completionMode: Indexed jobs: use fanOut, whose items each task gets',
      '17 podFailurePolicy: use exitCodes (retry: / fail: lists) for what it matched on exit codes',
      '18 backoffLimitPerIndex: per-index retries: fanOut items are retried as a whole task',
      '19 ttlSecondsAfterFinished: Step Functions keeps run history 90 days',
      '20 suspend: a suspended Job template: set enabled: false if it should not run',
      '24 initContainers: init containers: run their steps at the start of the command, or in the image',
      '25 volumes: volumes: a task has its own ephemeral storage; put the data in S3 or the image (or EFS, not in the catalog)',
      '26 serviceAccountName: the task role gets taskPolicyArns (IAM managed policies) instead of a service account',
      '27 nodeSelector: node placement: Fargate chooses the host',
      '28 affinity: node placement: Fargate chooses the host',
      '29 tolerations: node placement: Fargate chooses the host',
      "30 hostNetwork: the task runs in the stage's subnets (params in serverless.yml)",
      '31 imagePullSecrets: private registries: use ECR, or a registry the task role can pull from',
      "32 securityContext: the task runs as the image's user",
      '37 envFrom: whole ConfigMaps/Secrets as variables: list each as environment: or secrets:',
      '38 volumeMounts: volumes have no equivalent (see volumes)',
      "39 workingDir: the command runs in the image's WORKDIR: add a cd to the command",
      "40 securityContext: the task runs as the image's user",
      '41 lifecycle: no postStart/preStop hooks on a task',
    ]);
  });

  it('bounds each attempt by the shorter deadline, and says a Job deadline bounded every retry together', () => {
    // Prepare: the pod's 300 s and the Job's 600 s, 2 retries
    const text = manifest(DAILY, '  name: x\n', '          activeDeadlineSeconds: 300\n')
      .replace('    spec:\n      template', '    spec:\n      activeDeadlineSeconds: 600\n      backoffLimit: 2\n      template');
    // Act
    const { specs, warnings } = imported(text);
    // Assess
    expect(specs[0]).toMatchObject({ retries: 2, retryIntervalSeconds: 10, backoffRate: 2, maxDelaySeconds: 360, timeoutSeconds: 300 });
    expect(warnings).toEqual(['c.yaml:9: x: activeDeadlineSeconds bounded the whole Job, every retry included; timeoutSeconds bounds each attempt (2 retries)']);
  });

  it('cuts a description to 200 characters, and names an undescribed job after its CronJob', () => {
    // Assess
    expect(imported(manifest(DAILY, `  name: x\n  annotations:\n    description: "${'d'.repeat(250)}"\n`)).specs[0]!.description).toBe('d'.repeat(200));
    expect(imported(manifest(DAILY)).specs[0]!.description).toBe('CronJob x');
  });

  it('says what it could not size (unreadable, or beyond Fargate), and sizes memory alone with the least cpu that takes it', () => {
    // Prepare
    const sized = (resources: string) => imported(manifest(DAILY).replace('args: [true]', `args: [true]\n              resources:\n${resources}`));
    // Act
    const unreadable = sized('                limits: {cpu: lots, memory: 1Gi}\n');
    const huge = sized('                limits: {cpu: "32", memory: 1Gi}\n');
    const memory = sized('                requests: {memory: 3Gi}\n');
    // only what was given is named; of requests and limits, the one that cannot be read
    const cpuAlone = sized('                requests: {cpu: "1"}\n                limits: {cpu: lots}\n');
    // Assess: the first two keep the catalog's default size
    expect(unreadable.warnings).toEqual(["c.yaml:15: x: resources cpu 'lots', memory '1Gi': not quantities this import reads: set cpu: and memory: (a Fargate size)"]);
    expect(unreadable.specs[0]).not.toHaveProperty('cpu');
    expect(huge.warnings).toEqual(['c.yaml:15: x: resources cpu 32, memory 1Gi: larger than any Fargate task (16 vCPU, 120 GiB): the default size applies; split the work']);
    expect(huge.specs[0]).not.toHaveProperty('memory');
    expect(memory).toMatchObject({ specs: [{ cpu: 512, memory: 3072 }], warnings: [] });
    expect(cpuAlone.warnings).toEqual(["c.yaml:15: x: resources cpu 'lots': not quantities this import reads: set cpu: and memory: (a Fargate size)"]);
    expect(sized('                limits: {memory: lots}\n').warnings)
      .toEqual(["c.yaml:15: x: resources memory 'lots': not quantities this import reads: set cpu: and memory: (a Fargate size)"]);
  });

  it('notes only the fields set to something: a 0 is set; null, false, [] and {} (kubectl\'s empty defaults) are not', () => {
    // Act
    const { warnings } = imported(manifest(`${DAILY}  successfulJobsHistoryLimit: 0\n  failedJobsHistoryLimit: null\n  startingDeadlineSeconds: false\n`, '  name: x\n',
      '          volumes: []\n          nodeSelector: {}\n          securityContext: {runAsUser: 1}\n'));
    // Assess
    expect(warnings).toEqual([
      'c.yaml:7: x: successfulJobsHistoryLimit: Step Functions keeps run history 90 days (stepcron runs <job>)',
      "c.yaml:16: x: securityContext: the task runs as the image's user",
    ]);
  });

  it('says a command replaced the ENTRYPOINT, and that without command or args the image\'s CMD ran, and an empty image is none', () => {
    // Act
    const command = imported(manifest(DAILY).replace('args: [true]', 'command: ["sh", "-c", "echo $(A)"]'));
    const neither = imported(manifest(DAILY).replace('              args: [true]\n', ''));
    const noImage = imported(manifest(DAILY).replace('busybox:1.36', '""'));
    // Assess
    expect(command.specs[0]!.command).toEqual(['sh', '-c', 'echo $(A)']);
    expect(command.warnings).toEqual([
      "c.yaml:14: x: command replaced the image's ENTRYPOINT; the catalog's command replaces its CMD only: as written it runs as meant when the image has no ENTRYPOINT",
      'c.yaml:14: x: $(VAR) in command/args: Kubernetes expanded it, ECS does not: run it through sh -c with ${VAR}',
    ]);
    expect(neither.specs[0]).not.toHaveProperty('command');
    expect(neither.warnings).toEqual(["c.yaml:12: x: no command or args: the image's own CMD ran; the catalog needs a command: write it (e.g. the image's CMD)"]);
    expect(noImage.specs[0]).not.toHaveProperty('image');
    expect(noImage.warnings).toEqual(["c.yaml:13: x: no image: the catalog's defaults.image applies"]);
  });

  it('splits a schedule with both day fields restricted into -dom and -dow jobs, each described and commented as such', () => {
    // Act
    const result = importKubernetes([{ file: 'c.yaml', text: manifest(`  schedule: "0 0 13 * 5"\n  timeZone: Europe/Berlin\n`) }], { from: FROM });
    // Assess: Friday the 13th of February 2026 is the next day both fire
    expect(result.jobs.map((j) => [j.name, j.spec.schedule, j.spec.description, j.comments.slice(0, 2)])).toEqual([
      ['x-dom', 'cron(0 0 13 * ? *)', 'CronJob x (days of the month)', ["c.yaml line 2: CronJob x, schedule '0 0 13 * 5' in Europe/Berlin",
        'robfig/cron ran it when day-of-month OR day-of-week matched: this job has the days of the month, x-dow the weekdays']],
      ['x-dow', 'cron(0 0 ? * FRI *)', 'CronJob x (weekdays)', ["c.yaml line 2: CronJob x, schedule '0 0 13 * 5' in Europe/Berlin", "the weekdays of x-dom's schedule"]],
    ]);
    // the notes go above the first job only
    expect(result.jobs[1]!.comments).toEqual(["c.yaml line 2: CronJob x, schedule '0 0 13 * 5' in Europe/Berlin", "the weekdays of x-dom's schedule"]);
    expect(result.warnings[0]).toBe('c.yaml:6: x-dom and x-dow: day-of-month and day-of-week are both restricted: Kubernetes ran it when either matched, ' +
      'so it became two jobs; on a day that matches both, both run where Kubernetes ran it once (next on 2026-02-13)');
  });

  it('reads backoffLimit up to the catalog\'s 10 without a word, and deadlines that are whole positive seconds up to 7 days', () => {
    // Prepare
    const job = (lines: string, pod = '') => manifest(DAILY, '  name: x\n', pod).replace('    spec:\n      template', `    spec:\n${lines}      template`);
    // Act
    const ten = imported(job('      backoffLimit: 10\n'));
    const week = imported(job('      activeDeadlineSeconds: 604800\n      backoffLimit: 0\n'));
    const ignored = importKubernetes([{ file: 'c.yaml', text: job('      activeDeadlineSeconds: 0\n', '          activeDeadlineSeconds: 1.5\n') }], { from: FROM });
    const text = importKubernetes([{ file: 'c.yaml', text: job('      activeDeadlineSeconds: "60"\n') }], { from: FROM });
    // Assess
    expect(ten).toMatchObject({ specs: [{ retries: 10 }], warnings: [] });
    expect(week).toMatchObject({ specs: [{ timeoutSeconds: 604800 }], warnings: [] });
    for (const result of [ignored, text]) {
      expect(result.jobs[0]!.spec).not.toHaveProperty('timeoutSeconds');
      expect(result.warnings).toContain('c.yaml:2: x: no activeDeadlineSeconds: Kubernetes let it run until done; ' +
        'the catalog stops an attempt after timeoutSeconds (default 3600)');
    }
    expect(ignored.jobs[0]!.comments.at(-1)).toBe('note: no activeDeadlineSeconds: Kubernetes let it run until done; ' +
      'the catalog stops an attempt after timeoutSeconds (default 3600)');
  });

  it('refuses a concurrencyPolicy that is not one of the three words, even one that reads as one', () => {
    // Assess
    expect(() => importKubernetes([{ file: 'c.yaml', text: manifest(`${DAILY}  concurrencyPolicy: [Allow]\n`) }]))
      .toThrow("c.yaml:7: CronJob x: concurrencyPolicy 'Allow' is none of Allow, Forbid, Replace");
  });

  it('notes requests and limits that differ for either resource, not when they agree, and a memory too large alone', () => {
    // Prepare
    const sized = (resources: string) => imported(manifest(DAILY).replace('args: [true]', `args: [true]\n              resources:\n${resources}`));
    // Act
    const cpuOnly = sized('                requests: {cpu: 250m}\n                limits: {cpu: "1"}\n');
    const same = sized('                requests: {cpu: "1", memory: 2Gi}\n                limits: {cpu: 1000m, memory: 2Gi}\n');
    const memory = sized('                requests: {memory: 200Gi}\n');
    // Assess: 1000m and 1 are one quantity written two ways, yet not the same text: a note, harmless
    expect(cpuOnly).toMatchObject({ specs: [{ cpu: 1024, memory: 2048 }] });
    expect(cpuOnly.warnings).toEqual(['c.yaml:15: x: resources: sized to the larger of requests and limits (cpu 1) as cpu 1024, memory 2048: ' +
      'a Fargate task gets exactly its size, and the pod could use up to its limits']);
    expect(sized('                requests: {cpu: "1", memory: 2Gi}\n                limits: {cpu: "1", memory: 2Gi}\n').warnings).toEqual([]);
    expect(same.warnings).toHaveLength(1);
    expect(memory.warnings).toEqual(['c.yaml:15: x: resources memory 200Gi: larger than any Fargate task (16 vCPU, 120 GiB): the default size applies; split the work']);
  });

  it('names every container left out after the first', () => {
    // Act
    const { warnings } = imported(manifest(DAILY).replace('              args: [true]\n',
      '              args: [true]\n            - name: b\n              image: busybox:1.36\n            - {image: busybox:1.36}\n'));
    // Assess
    expect(warnings).toEqual(['c.yaml:15: x: containers b, ?: a job runs one container: only the first, x, was imported']);
    // A first container without a name is said to have none, not named by an empty string.
    const unnamed = imported(manifest(DAILY).replace('- name: x\n              image', '- image').replace('              args: [true]\n',
      '              args: [true]\n            - name: b\n              image: busybox:1.36\n'));
    expect(unnamed.warnings).toEqual(['c.yaml:14: x: containers b: a job runs one container: only the first, which has no name, was imported']);
  });

  it('warns of a fall-back repeat only where the schedule fires in it, by month, day of the month and weekday', () => {
    // Prepare: New York repeats 01:00-02:00 on Sunday 1 November 2026
    const twice = (schedule: string) => imported(manifest(`  schedule: "${schedule}"\n  timeZone: America/New_York\n`)).warnings.filter((w) => w.includes('twice'));
    // Assess
    for (const schedule of ['30 1 * 11 *', '30 1 1 * *', '30 1 * * 0']) {
      expect(twice(schedule)).toEqual([expect.stringContaining('01:30 happens twice on 2026-11-01 in America/New_York')]);
    }
    for (const schedule of ['30 1 * 10 *', '30 1 2 * *', '30 1 * * 1']) expect(twice(schedule)).toEqual([]);
    // split in two: the weekday job's repeat is found though the day-of-the-month one has none
    expect(twice('30 1 15 * 0')).toEqual([expect.stringContaining('x-dom and x-dow: 01:30 happens twice on 2026-11-01')]);
  });

  it('keeps the names a split CronJob took (-dom, -dow) from a CronJob named like one of them', () => {
    // Act
    const result = importKubernetes([{ file: 'c.yaml', text: [manifest('  schedule: "0 0 1 * 1"\n'),
      manifest(DAILY, '  name: x-dom\n'), manifest(DAILY, '  name: x-dow\n')].join('---\n') }], { from: FROM });
    // Assess
    expect(result.jobs.map((j) => j.name)).toEqual(['x-dom', 'x-dow', 'x-dom-2', 'x-dow-2']);
  });

  it('names CronJobs of one name by namespace, then file, whatever the order they come in', () => {
    // Prepare
    const inNamespace = (ns: string) => manifest(DAILY, `  name: x\n  namespace: ${ns}\n`);
    const names = (files: Array<{ file: string; text: string }>) =>
      importKubernetes(files, { from: FROM }).jobs.map((j) => `${j.entry} ${j.comments[0]!.split(' ')[0]} ${j.name}`);
    // Assess
    expect(names([{ file: 'c.yaml', text: [inNamespace('zz'), inNamespace('aa')].join('---\n') }])).toEqual(['CronJob zz/x c.yaml x-2', 'CronJob aa/x c.yaml x']);
    // no namespace sorts first
    expect(names([{ file: 'c.yaml', text: [inNamespace('Apps'), manifest(DAILY)].join('---\n') }])).toEqual(['CronJob Apps/x c.yaml x-2', 'CronJob x c.yaml x']);
    expect(names([{ file: 'b.yaml', text: manifest(DAILY) }, { file: 'a.yaml', text: manifest(DAILY) }])).toEqual(['CronJob x b.yaml x-2', 'CronJob x a.yaml x']);
    expect(names([{ file: 'a.yaml', text: manifest(DAILY) }, { file: 'b.yaml', text: manifest(DAILY) }])).toEqual(['CronJob x a.yaml x', 'CronJob x b.yaml x-2']);
  });

  it('lists the problems of every file at once, and names the files with no CronJob', () => {
    // Assess
    expect(() => importKubernetes([{ file: 'a.yaml', text: 'a: [\n' }, { file: 'b.yaml', text: manifest(`${DAILY}  timeZone: Mars\n`) }]))
      .toThrow(/^2 problems:\n {2}- a\.yaml:2: not valid YAML: .*\n {2}- b\.yaml:7: CronJob x: timeZone 'Mars' is not an IANA time zone/);
    expect(() => importKubernetes([{ file: 'a.yaml', text: 'kind: Service\n' }, { file: 'b.yaml', text: '' }]))
      .toThrow('a.yaml, b.yaml: no CronJob to import (kind: CronJob, apiVersion: batch/v1)');
    // a kind other than List with items is a document of its own, skipped
    expect(importKubernetes([{ file: 'c.yaml', text: `${manifest(DAILY)}---\nkind: Other\nitems: [a]\n` }]).warnings)
      .toContain("c.yaml:16: Other '' is not a CronJob: skipped");
    // a document that is a lone value is one, with no kind (not an empty one)
    expect(importKubernetes([{ file: 'c.yaml', text: `${manifest(DAILY)}---\nhello\n` }]).warnings)
      .toContain('c.yaml:16: a document with no kind is not a CronJob: skipped');
  });

  it('says where every CronJob\'s zone came from: no warning when each has one, a TZ= prefix included', () => {
    // Act
    const result = importKubernetes([{ file: 'c.yaml', text: [manifest(`${DAILY}  timeZone: UTC\n`), manifest('  schedule: " TZ=UTC 0 1 * * *"\n', '  name: y\n')]
      .join('---\n') }], { from: FROM });
    // Assess
    expect(result.warnings.filter((w) => w.includes('timeZone'))).toEqual([]);
    expect(result.header).toEqual([
      'Imported by `stepcron import kubernetes` (README: Coming from crontab, Kubernetes CronJob or Copilot).',
      'concurrency, retries (backoffLimit, default 6, 10 s doubling to 6 min) and timeoutSeconds are written as Kubernetes',
      'ran them where the catalog defaults differ; the comments above a job say, by line, what was not carried over and why.',
    ]);
  });

  it('writes an env entry without a value as empty, leaves out environment: or secrets: when there is none, and notes an old apiVersion where it is', () => {
    // Prepare
    const withEnv = (env: string) => imported(manifest(DAILY).replace('args: [true]', `args: [true]\n              env:\n${env}`));
    // Act
    const plain = withEnv('                - name: NOVALUE\n');
    const secret = withEnv('                - name: S\n                  valueFrom: {secretKeyRef: {name: s, key: k}}\n');
    const odd = withEnv('                - value: x\n                - name: V\n                  valueFrom: {}\n');
    const old = importKubernetes([{ file: 'c.yaml', text: manifest(DAILY).replace('apiVersion: batch/v1\nkind: CronJob\n', 'kind: CronJob\napiVersion: batch/v1beta1\n') }], { from: FROM });
    const blank = imported(manifest(DAILY, '  name: x\n  annotations:\n    description: "   "\n'));
    // Assess
    expect(plain.specs[0]).toMatchObject({ environment: { NOVALUE: '' } });
    expect(plain.specs[0]).not.toHaveProperty('secrets');
    expect(secret.specs[0]).toMatchObject({ secrets: { S: '/kubernetes/s/k' } });
    expect(secret.specs[0]).not.toHaveProperty('environment');
    expect(old.jobs[0]!.comments).toEqual(["c.yaml line 1: CronJob x, schedule '0 0 * * *'", 'line 2: apiVersion batch/v1beta1: read as batch/v1',
      'note: no activeDeadlineSeconds: Kubernetes let it run until done; the catalog stops an attempt after timeoutSeconds (default 3600)']);
    expect(blank.specs[0]!.description).toBe('CronJob x');
    expect(odd.warnings).toEqual(['c.yaml:16: x: env entry 1 has no name (Kubernetes refuses it): left out',
      'c.yaml:17: x: env V comes from valueFrom: give its value under environment: (or secrets:)']);
  });
});

describe('reading YAML: values, keys and lines by path, and Helm templates told from data', () => {
  it('gives each value, the keys of a map, and the line of a key (of the value, for a list item), by path', () => {
    // Act
    const [m] = readManifests('f', 'a: 1\nb:\n  c: 2\n  d: [x, y]\ne:\nf: null\n');
    const [list] = readManifests('f', 'kind: List\nitems:\n  - kind: A\n    v: 1\n  - kind: B\n');
    // Assess: an empty value is null, as YAML has it; a path that is not there has no value and no line
    expect([m!.get(['a']), m!.get(['b', 'c']), m!.get(['b', 'd']), m!.get(['e']), m!.get(['f']), m!.get(['nope'])]).toEqual([1, 2, ['x', 'y'], null, null, undefined]);
    expect([m!.keys([]), m!.keys(['b']), m!.keys(['a']), m!.keys(['nope'])]).toEqual([['a', 'b', 'e', 'f'], ['c', 'd'], [], []]);
    expect([m!.line(['a']), m!.line(['b', 'c']), m!.line(['b', 'd', 1]), m!.line(['e']), m!.line(['nope'])]).toEqual([1, 3, 4, 5, undefined]);
    // a List's item, with paths relative to it
    expect([list!.at(['items', 1]).get(['kind']), list!.at(['items', 1]).line(['kind']), list!.at(['items', 0]).keys([])]).toEqual(['B', 5, ['kind', 'v']]);
  });

  it('says which line is not YAML, in the parser\'s words without its own position', () => {
    // Assess
    expect(() => readManifests('f', 'a: [\n')).toThrow(new ManifestError(['f:2: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']));
    expect(() => readManifests('f', `${'a: 1\n'.repeat(11)}           b: [\n`))
      .toThrow(new ManifestError(['f:11: not valid YAML: Nested mappings are not allowed in compact mappings']));
    // a repeated key is read (kubectl's YAML reading keeps one), not refused
    expect(readManifests('f', 'a: 1\na: 2\n')).toHaveLength(1);
  });

  it("refuses '{{' outside strings (at the very start too, after a comment line) and in a key, even after a ' #' inside it", () => {
    // Prepare
    const helm = (line: number) => `f:${line}: is a Helm template ('{{' here): render it first (helm template <release> <chart> > rendered.yaml) and import that`;
    // Assess
    expect(helmProblem('f', '{{x: 1}: 2}\n')).toBe(helm(1));
    expect(helmProblem('f', '# note\n{{x: 1}: 2}\n')).toBe(helm(2));
    expect(helmProblem('f', '"a #{{ x }}": 1\n')).toBe(helm(1));
    expect(helmProblem('f', 'a: 1\n"{{ x }}": 2\n')).toBe(helm(2));
    expect(helmProblem('f', 'a: "{{ x }}"\n')).toBe(helm(1));
    // a file that is not YAML is refused at its first '{{', even one in what reads as a string
    expect(helmProblem('f', 'a: "x {{ y }}"\nb: [\n')).toBe(helm(1));
    // data: a string that is the whole document, a string beside a number key
    expect([helmProblem('f', '"x {{ y }}"\n'), helmProblem('f', '1: "x {{ y }}"\n')]).toEqual([undefined, undefined]);
  });

  it("reads a string as data unless it is one whole '{{ }}' or uses Helm's objects (with or without '-' and spaces)", () => {
    // Assess: data
    for (const text of ['a: "{{ x }} run"\n', 'a: "x{{ y }}"\n', 'a: "{{ x }}x"\n', 'a: "{{x}} y"\na: 2\n']) expect(helmProblem('f', text)).toBeUndefined();
    // Assess: Helm
    for (const text of ['a: "x {{ .Values.y }}"\n', 'a: "x {{.Values.y}}"\n', 'a: "x {{- .Values.y }}"\n']) expect(helmProblem('f', text)).toMatch(/^f:1: is a Helm template/);
  });
});
