// The stage's CloudWatch dashboard (workflows/dashboard.ts): its DashboardBody, once CloudFormation has substituted it,
// is dashboard JSON within CloudWatch's limits (DASHBOARD_LIMITS, with their sources there) at 1,000 jobs, lists every
// alarm the stage has, and its SEARCH expressions find the stage's state machines and no other's.
import { type Job, parseCatalog } from '../workflows/catalog';
import { DASHBOARD_LIMITS, dashboardBody, dashboardProblem, dashboardResource, dashboardUrl, GRAPHS, searchQuery } from '../workflows/dashboard';
import { dashboardName, MAX_STAGE_LENGTH } from '../workflows/names';
import { jobResourceIds, literal, stageTemplate, toStageParams } from '../workflows/resources';
import { planStacks } from '../workflows/stacks';
import { bigCatalog } from './support/big-catalog';
import { evaluateSub, subParts } from './support/cross-stack';
import { shapesCatalog } from './support/shapes-catalog';

const PARAMS = { subnets: 'subnet-0a1b2c3d', securityGroups: 'sg-0a1b2c3d' };
const PSEUDO: Record<string, string> = { 'AWS::Region': 'eu-west-1', 'AWS::Partition': 'aws', 'AWS::AccountId': '123456789012' };

interface Widget { type: string; x: number; y: number; width: number; height: number; properties: Record<string, unknown> }
type Expression = { expression: string; id: string; label?: string; visible?: boolean };

/** The stage's Dashboard resource, its Fn::Sub text and the body CloudFormation would send, parsed. */
function deployed(jobs: Job[], stage: string) {
  const template = stageTemplate(jobs, toStageParams(stage, PARAMS));
  const resource = template.Resources.Dashboard as { Type: string; Properties: { DashboardName: string; DashboardBody: { 'Fn::Sub': string } } };
  const sub = resource.Properties.DashboardBody['Fn::Sub'];
  const text = evaluateSub(sub, (name) => {
    if (!(name in PSEUDO)) throw new Error(`the body references \${${name}}, which CloudFormation would read as a resource or parameter`);
    return PSEUDO[name]!;
  });
  return { template, resource, sub, text, body: JSON.parse(text) as { widgets: Widget[] } };
}

const expressions = (w: Widget) => ((w.properties.metrics ?? []) as Expression[][]).map(([e]) => e!);
const searches = (widgets: Widget[]) => widgets.flatMap(expressions).filter((e) => e.expression.startsWith('SEARCH('));

describe('the stage dashboard at 1,000 jobs', () => {
  const jobs = parseCatalog(bigCatalog(1000), { stage: 'prod' });
  const { template, resource, text, body } = deployed(jobs, 'prod');

  it('is valid dashboard JSON once substituted, within the widget and metrics quotas whatever the SEARCHes find', () => {
    expect(resource.Type).toBe('AWS::CloudWatch::Dashboard');
    expect(resource.Properties.DashboardName).toBe('stepcron-prod');
    expect(body.widgets.length).toBeLessThanOrEqual(DASHBOARD_LIMITS.widgets);
    for (const w of body.widgets) {
      // The grid is 24 wide; every widget has a place on it and a type CloudWatch draws.
      expect(['text', 'metric', 'alarm']).toContain(w.type);
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      // A widget retrieves at most 500 metrics: one SEARCH can retrieve all 500, so at most one per widget.
      expect(searches([w]).length).toBeLessThanOrEqual(DASHBOARD_LIMITS.metricsPerWidget / DASHBOARD_LIMITS.seriesPerSearch);
    }
    // ... and at most 2,500 on the dashboard, each SEARCH counted at its largest.
    expect(searches(body.widgets).length * DASHBOARD_LIMITS.seriesPerSearch).toBeLessThanOrEqual(DASHBOARD_LIMITS.metricsPerDashboard);
    // The most important graphs are drawn: failures first (GRAPHS' order).
    expect(body.widgets.filter((w) => w.type === 'metric').map((w) => w.properties.title)).toEqual(GRAPHS.slice(0, 5).map((g) => g.title));
    for (const w of body.widgets.filter((x) => x.type === 'metric')) expect(w.properties.region).toBe('eu-west-1');
  });

  it('lists every alarm of the stage once, at most 100 to an alarm widget, ARNs in the stage\'s region and account', () => {
    const alarmNames = Object.values({ ...template.Resources }).filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => (r.Properties as { AlarmName: string }).AlarmName);
    const widgets = body.widgets.filter((w) => w.type === 'alarm');
    const listed = widgets.flatMap((w) => w.properties.alarms as string[]);
    for (const w of widgets) expect((w.properties.alarms as string[]).length).toBeLessThanOrEqual(DASHBOARD_LIMITS.alarmsPerWidget);
    expect(alarmNames.length).toBe(1001);
    expect(widgets.length).toBe(11);
    expect(listed.map((a) => a.replace('arn:aws:cloudwatch:eu-west-1:123456789012:alarm:', '')).sort()).toEqual(alarmNames.sort());
  });

  it('keeps the main stack within CloudFormation\'s quotas (the body is ~100 KB of its 1 MB)', () => {
    const plan = planStacks(template, jobs, jobResourceIds);
    expect(plan.problems).toEqual([]);
    expect(Object.keys(plan.main.Resources)).toContain('Dashboard');
    expect(Buffer.byteLength(text)).toBeLessThan(150_000);
  });
});

describe('the stage dashboard of every job shape', () => {
  it('lists every alarm, the deadline alarms and the buffer jobs\' lost-runs alarm included', () => {
    const { template, body } = deployed(parseCatalog(shapesCatalog(), { stage: 'dev' }), 'dev');
    const alarmNames = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => (r.Properties as { AlarmName: string }).AlarmName);
    const listed = body.widgets.filter((w) => w.type === 'alarm').flatMap((w) => w.properties.alarms as string[]);
    expect(alarmNames).toEqual(expect.arrayContaining(['stepcron-dev-lost-buffered-runs', expect.stringMatching(/-no-success$/)]));
    expect(listed.map((a) => a.replace('arn:aws:cloudwatch:eu-west-1:123456789012:alarm:', '')).sort()).toEqual(alarmNames.sort());
  });
});

describe('dashboard text through Fn::Sub', () => {
  it('keeps CloudWatch\'s own ${...} (dynamic labels) as text: written ${!SUM}, deployed ${SUM}', () => {
    const { sub, body } = deployed(parseCatalog(shapesCatalog(), { stage: 'dev' }), 'dev');
    const references = subParts(sub).parts.flatMap((p) => ('name' in p ? [p.name] : []));
    expect(new Set(references)).toEqual(new Set(Object.keys(PSEUDO)));
    const totals = body.widgets.flatMap(expressions).filter((e) => e.id === 'total');
    expect(totals.length).toBeGreaterThan(0);
    for (const e of totals) expect(e.label).toBe('all jobs (${SUM} in range)');
  });

  it('escapes whatever text reaches the body (the literal() it is given is applied to every piece)', () => {
    const jobs = parseCatalog(shapesCatalog(), { stage: 'dev' });
    // A body built without escaping has CloudWatch's ${SUM} where Fn::Sub would look for a resource named SUM.
    const raw = dashboardBody(jobs, 'dev', '*', (t) => t);
    expect(() => evaluateSub(raw, (name) => PSEUDO[name] ?? (() => { throw new Error(name); })())).toThrow('SUM');
    expect(() => evaluateSub(dashboardBody(jobs, 'dev', '*', literal), (name) => PSEUDO[name]!)).not.toThrow();
  });
});

describe('SEARCH expressions', () => {
  it('search the StateMachineArn of AWS/States for the stage\'s name, each metric by its exact name', () => {
    expect(searchQuery('prod', ['ExecutionsFailed'])).toBe('{AWS/States,StateMachineArn} MetricName="ExecutionsFailed" stepcron-prod');
    expect(searchQuery('prod', ['ExecutionsTimedOut', 'ExecutionsAborted']))
      .toBe('{AWS/States,StateMachineArn} (MetricName="ExecutionsTimedOut" OR MetricName="ExecutionsAborted") stepcron-prod');
    const { body } = deployed(parseCatalog(bigCatalog(3), { stage: 'dev' }), 'dev');
    for (const e of searches(body.widgets)) {
      expect(e.expression).toMatch(/^SEARCH\('\{AWS\/States,StateMachineArn\} .+ stepcron-dev', '(Sum|p\d+)', 300\)$/);
      // Only drawn through the total and the top jobs: a graph of 500 lines says nothing.
      expect(e.visible).toBe(false);
    }
  });

  it('fit the 1,024 characters of a SEARCH query, and the dashboard name its 255 of [A-Za-z0-9_-], at the longest stage name', () => {
    const stage = `s${'x'.repeat(MAX_STAGE_LENGTH - 1)}`;
    for (const g of GRAPHS) expect(searchQuery(stage, g.metrics).length).toBeLessThanOrEqual(DASHBOARD_LIMITS.searchQueryCharacters);
    expect(dashboardName(stage)).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
  });
});

describe('the whole dashboard of a small stage, as CloudWatch gets it', () => {
  // Three jobs: one with a success deadline, one buffered, one disabled; enabledJobs leaves out the buffered one.
  const jobs = () => parseCatalog(['jobs:',
    '  report: { description: r, schedule: cron(0 2 * * ? *), image: i, command: [x], successDeadlineMinutes: 1500 }',
    '  sync: { description: s, schedule: rate(1 hour), image: i, command: [x], concurrency: buffer }',
    '  old: { description: o, schedule: rate(1 day), image: i, command: [x], enabled: false }', ''].join('\n'), { stage: 'prod' });
  const search = (which: string, stat: string) => `SEARCH('{AWS/States,StateMachineArn} ${which} stepcron-prod', '${stat}', 300)`;
  const counts = (x: number, y: number, title: string, which: string) => ({
    type: 'metric', x, y, width: 12, height: 6,
    properties: {
      title, region: '${AWS::Region}', view: 'timeSeries', stacked: false, period: 300, stat: 'Sum',
      metrics: [[{ expression: search(which, 'Sum'), id: 'jobs', visible: false }], [{ expression: 'SUM(jobs)', id: 'total', label: 'all jobs (${!SUM} in range)' }],
        [{ expression: 'SORT(jobs, SUM, DESC, 10)', id: 'top' }]],
    },
  });
  const alarm = (name: string) => `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:stepcron-prod-${name}`;

  it('a heading that counts jobs and scheduled ones, the graphs that fit two to a row (failures first), then the alarms', () => {
    const body = JSON.parse(dashboardBody(jobs(), 'prod', ['report', 'old'], literal));
    expect(body).toEqual({
      start: '-PT24H', periodOverride: 'inherit',
      widgets: [
        {
          type: 'text', x: 0, y: 0, width: 24, height: 4,
          properties: {
            markdown: '## stepcron prod: 3 jobs, 1 scheduled\n\nEach graph is one SEARCH over the state machines named `stepcron-prod-*` ' +
              "(and their fan-out children, `<job>/<map run>`): the stage's total and the 10 jobs with the most. CloudWatch draws at most 500 " +
              'series per graph, so with more state machines than that a total covers 500 of them; the alarms below are exact, one per job.\n\n' +
              'Not drawn (a dashboard retrieves at most 2,500 metrics): Run duration p50, the 10 slowest jobs; Run duration p99, the 10 slowest ' +
              "jobs. `stepcron runs <job> --aws` lists a job's run durations.",
          },
        },
        counts(0, 4, "Runs failed (a fan-out's failed items are its child executions, <job>/<map run>)", 'MetricName="ExecutionsFailed"'),
        counts(12, 4, 'Runs timed out or aborted (aborted: stopped by a person, or by replace)', '(MetricName="ExecutionsTimedOut" OR MetricName="ExecutionsAborted")'),
        counts(0, 10, 'Runs started', 'MetricName="ExecutionsStarted"'),
        counts(12, 10, 'Runs succeeded (skipped runs included: they succeed)', 'MetricName="ExecutionsSucceeded"'),
        {
          type: 'metric', x: 0, y: 16, width: 12, height: 6,
          properties: {
            title: 'Run duration p90, the 10 slowest jobs', region: '${AWS::Region}', view: 'timeSeries', stacked: false, period: 300, stat: 'p90',
            // Percentiles do not add up: no total, only the slowest jobs.
            metrics: [[{ expression: search('MetricName="ExecutionTime"', 'p90'), id: 'jobs', visible: false }], [{ expression: 'SORT(jobs, MAX, DESC, 10)', id: 'top' }]],
            yAxis: { left: { label: 'ms', showUnits: false } },
          },
        },
        {
          type: 'alarm', x: 0, y: 22, width: 24, height: 3,
          properties: {
            title: 'Alarms (in ALARM first)', sortBy: 'stateUpdatedTimestamp',
            alarms: ['missed-schedules', 'lost-buffered-runs', 'report-runs-not-succeeded', 'report-no-success', 'sync-runs-not-succeeded', 'old-runs-not-succeeded'].map(alarm),
          },
        },
      ],
    });
  });

  it('no lost-runs alarm without a buffered job; alarm widgets of 100, each titled with its range, as tall as its rows of 4', () => {
    const many = parseCatalog(`jobs:\n${Array.from({ length: 120 }, (_, i) => `  j${i}: { description: d, schedule: rate(1 day), image: i, command: [x] }`).join('\n')}\n`, { stage: 'prod' });
    const widgets = (JSON.parse(dashboardBody(many, 'prod', '*', literal)) as { widgets: Widget[] }).widgets.filter((w) => w.type === 'alarm');
    // 121 alarms: the stage's missed schedules, then one per job.
    expect(widgets.map((w) => [w.y, w.height, w.properties.title, (w.properties.alarms as string[]).length])).toEqual([
      [22, 26, 'Alarms 1-100 of 121 (in ALARM first in this widget)', 100],
      [48, 7, 'Alarms 101-121 of 121 (in ALARM first in this widget)', 21],
    ]);
    expect((widgets[0]!.properties.alarms as string[])[0]).toBe(alarm('missed-schedules'));
    expect((widgets[1]!.properties.alarms as string[]).at(-1)).toBe(alarm('j119-runs-not-succeeded'));
    expect(JSON.parse(dashboardBody(many, 'prod', '*', literal)).widgets[0].properties.markdown).toMatch(/^## stepcron prod: 120 jobs, 120 scheduled\n/);
    // Exactly 100 alarms (99 jobs and the stage's own): one widget, no range in its title, and no empty widget after it.
    const full = parseCatalog(`jobs:\n${Array.from({ length: 99 }, (_, i) => `  j${i}: { description: d, schedule: rate(1 day), image: i, command: [x] }`).join('\n')}\n`, { stage: 'prod' });
    const one = (JSON.parse(dashboardBody(full, 'prod', '*', literal)) as { widgets: Widget[] }).widgets.filter((w) => w.type === 'alarm');
    expect(one.map((w) => [w.properties.title, (w.properties.alarms as string[]).length, w.height])).toEqual([['Alarms (in ALARM first)', 100, 26]]);
  });

  it('dashboardProblem: too many widgets, or a SEARCH query over 1,024 characters, each said with what to do; a body within both passes', () => {
    const search = (query: string) => ({ properties: { metrics: [[{ expression: `SEARCH('${query}', 'Sum', 300)` }]] } });
    const body = (widgets: unknown[]) => JSON.stringify({ widgets });
    expect(dashboardProblem(dashboardBody(jobs(), 'prod', '*', literal))).toBeUndefined();
    expect(dashboardProblem(body(Array.from({ length: 500 }, () => ({ properties: {} }))))).toBeUndefined();
    expect(dashboardProblem(body(Array.from({ length: 501 }, () => ({ properties: {} })))))
      .toBe('its dashboard would have 501 widgets, and CloudWatch allows 500: please report this as a stepcron bug');
    expect(dashboardProblem(body([search('q'.repeat(1024))]))).toBeUndefined();
    expect(dashboardProblem(body([{ properties: {} }, { properties: { metrics: [[], [{ expression: 'SUM(jobs)' }]] } }, search('q'.repeat(1025))])))
      .toBe(`its dashboard's SEARCH '${'q'.repeat(60)}…' is 1025 characters, and CloudWatch allows 1024: use a shorter stage name`);
  });

  it("dashboardResource names the stage's dashboard and sends the body through Fn::Sub; dashboardUrl opens it in the region's console", () => {
    expect(dashboardResource(jobs(), 'prod', '*', literal)).toEqual({
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: { DashboardName: 'stepcron-prod', DashboardBody: { 'Fn::Sub': dashboardBody(jobs(), 'prod', '*', literal) } },
    });
    expect(dashboardUrl('prod', 'eu-west-1')).toBe('https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/stepcron-prod');
  });
});
