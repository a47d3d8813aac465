// The stage's CloudWatch dashboard (workflows/dashboard.ts): its DashboardBody, once CloudFormation has substituted it,
// is dashboard JSON within CloudWatch's limits (DASHBOARD_LIMITS, with their sources there) at 1,000 jobs, lists every
// alarm the stage has, and its SEARCH expressions find the stage's state machines and no other's.
import { type Job, parseCatalog } from '../workflows/catalog';
import { DASHBOARD_LIMITS, dashboardBody, GRAPHS, searchQuery } from '../workflows/dashboard';
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
