// The stage's CloudWatch dashboard: what its runs did (started, succeeded, failed, timed out, aborted; how long they
// took) and its alarms, for any number of jobs. Pure: workflows/resources.ts puts it in the stage's main stack.
//
// A dashboard holds a fixed amount whatever the catalog: per-job graphs for 1,000 jobs would pass CloudWatch's
// metrics per dashboard. So each graph is one metric math SEARCH over the stage's state machines (their ARNs carry
// `stepcron-<stage>`), drawn as the stage's total and its top jobs, and the dashboard holds only as many SEARCH
// expressions as its metrics quota allows at their largest (DASHBOARD_LIMITS). The alarms, which are exact per job,
// are listed in alarm status widgets of at most 100 each.
import { type Job, scheduledOnStage } from './catalog';
import { dashboardName, deadlineAlarmName, jobPrefix, lostBufferedRunsAlarmName, missedSchedulesAlarmName, runsAlarmName, thousands } from './names';

/**
 * CloudWatch's limits on a dashboard (CloudWatch API reference, "Dashboard Body Structure and Syntax"; CloudWatch
 * user guide, "CloudWatch service quotas" and "CloudWatch search expression syntax"). The metrics quotas count every
 * metric a widget retrieves, those only used by metric math included, and cannot be raised.
 */
export const DASHBOARD_LIMITS = {
  /** Widgets in one DashboardBody. */
  widgets: 500,
  /** Metrics one widget retrieves. */
  metricsPerWidget: 500,
  /** Metrics all widgets of a dashboard retrieve together. */
  metricsPerDashboard: 2_500,
  /** Time series one graph shows, and so the most one SEARCH expression can retrieve. */
  seriesPerSearch: 500,
  /** Characters of a SEARCH expression's query (the text in its first quotes). */
  searchQueryCharacters: 1_024,
  /** Alarm ARNs in one alarm status widget. */
  alarmsPerWidget: 100,
} as const;

/** The period every graph sums or takes percentiles over: Step Functions publishes its execution metrics per minute. */
const PERIOD = 300;
/** How many jobs a graph names beside the stage's total: the ones with the most of it in the time range. */
const TOP_JOBS = 10;

type Cfn = Record<string, unknown>;

/** One graph: a SEARCH over the stage's state machines, shown as the stage's total and its top jobs (or only the top). */
interface SearchGraph {
  title: string;
  /** The metric(s) searched: `MetricName="X"`, or several joined with OR. */
  metrics: string[];
  /** The statistic per state machine and period: `Sum` for counts, a percentile for durations. */
  stat: string;
  /** `total`: the stage's sum and the top jobs (counts); `top`: only the top jobs (percentiles do not add up). */
  show: 'total' | 'top';
  /** What the top jobs are ranked by over the time range. */
  rank: 'SUM' | 'MAX';
  unit?: string;
}

/**
 * The graphs, most important first; each costs up to DASHBOARD_LIMITS.seriesPerSearch metrics, so only the first
 * metricsPerDashboard / seriesPerSearch of them fit a dashboard (the rest are named in its text, not drawn).
 */
export const GRAPHS: readonly SearchGraph[] = [
  { title: 'Runs failed (a fan-out\'s failed items are its child executions, <job>/<map run>)', metrics: ['ExecutionsFailed'], stat: 'Sum', show: 'total', rank: 'SUM' },
  { title: 'Runs timed out or aborted (aborted: stopped by a person, or by replace)', metrics: ['ExecutionsTimedOut', 'ExecutionsAborted'], stat: 'Sum', show: 'total', rank: 'SUM' },
  { title: 'Runs started', metrics: ['ExecutionsStarted'], stat: 'Sum', show: 'total', rank: 'SUM' },
  { title: 'Runs succeeded (skipped runs included: they succeed)', metrics: ['ExecutionsSucceeded'], stat: 'Sum', show: 'total', rank: 'SUM' },
  { title: `Run duration p90, the ${TOP_JOBS} slowest jobs`, metrics: ['ExecutionTime'], stat: 'p90', show: 'top', rank: 'MAX', unit: 'ms' },
  { title: `Run duration p50, the ${TOP_JOBS} slowest jobs`, metrics: ['ExecutionTime'], stat: 'p50', show: 'top', rank: 'MAX', unit: 'ms' },
  { title: `Run duration p99, the ${TOP_JOBS} slowest jobs`, metrics: ['ExecutionTime'], stat: 'p99', show: 'top', rank: 'MAX', unit: 'ms' },
];

/** The graphs a dashboard can hold with every SEARCH at its largest, and the ones left out. */
export function fittingGraphs(): { drawn: SearchGraph[]; left: SearchGraph[] } {
  // One SEARCH per widget (two could retrieve more than a widget may), each counted at its largest.
  const most = Math.floor(DASHBOARD_LIMITS.metricsPerDashboard / Math.min(DASHBOARD_LIMITS.seriesPerSearch, DASHBOARD_LIMITS.metricsPerWidget));
  return { drawn: GRAPHS.slice(0, most), left: GRAPHS.slice(most) };
}

/**
 * The SEARCH query that finds a metric of the stage's state machines. `stepcron-<stage>` is matched as consecutive
 * tokens of the StateMachineArn (a search term's `-` joins tokens; search-expression-syntax.md), so it finds the
 * stage's machines and their Distributed Map children (`<machine>/<map run>`), and no other stage's unless that
 * stage's name is this one followed by `-` or a digit (`prod-eu`, `dev2`: tokens split there), which the README
 * already says not to do.
 */
export function searchQuery(stage: string, metrics: readonly string[]): string {
  const names = metrics.map((m) => `MetricName="${m}"`);
  const which = names.length === 1 ? names[0] : `(${names.join(' OR ')})`;
  return `{AWS/States,StateMachineArn} ${which} ${jobPrefix(stage).slice(0, -1)}`;
}

/** The stage's alarms, by name: its own, then each job's (failed runs; no success within its deadline). */
export function stageAlarmNames(jobs: Job[], stage: string): string[] {
  return [
    missedSchedulesAlarmName(stage),
    ...(jobs.some((j) => j.concurrency === 'buffer') ? [lostBufferedRunsAlarmName(stage)] : []),
    ...jobs.flatMap((j) => [runsAlarmName(stage, j.name), ...(j.successDeadlineMinutes !== undefined ? [deadlineAlarmName(stage, j.name)] : [])]),
  ];
}

/**
 * The DashboardBody as an Fn::Sub text: `${AWS::Region}` and friends are references (a dashboard is global, so each
 * widget names its region), everything else is taken literally, the dynamic labels' `${SUM}` included (`literal`).
 */
export function dashboardBody(jobs: Job[], stage: string, enabledJobs: string[] | '*', literal: (text: string) => string): string {
  const region = '${AWS::Region}';
  const widgets: Cfn[] = [];
  let y = 0;
  const { drawn, left } = fittingGraphs();
  const scheduled = jobs.filter((j) => scheduledOnStage(j, enabledJobs)).length;
  widgets.push({
    type: 'text', x: 0, y, width: 24, height: 4,
    properties: {
      markdown: literal([
        `## stepcron ${stage}: ${thousands(jobs.length)} jobs, ${thousands(scheduled)} scheduled`,
        `Each graph is one SEARCH over the state machines named \`${jobPrefix(stage)}*\` (and their fan-out children, \`<job>/<map run>\`): ` +
          `the stage's total and the ${TOP_JOBS} jobs with the most. CloudWatch draws at most ${DASHBOARD_LIMITS.seriesPerSearch} series per graph, ` +
          `so with more state machines than that a total covers ${DASHBOARD_LIMITS.seriesPerSearch} of them; the alarms below are exact, one per job.`,
        left.length ? `Not drawn (a dashboard retrieves at most ${thousands(DASHBOARD_LIMITS.metricsPerDashboard)} metrics): ${left.map((g) => g.title).join('; ')}. ` +
          '`stepcron runs <job> --aws` lists a job\'s run durations.' : '',
      ].filter(Boolean).join('\n\n')),
    },
  });
  y += 4;
  drawn.forEach((graph, i) => {
    const search = `SEARCH('${searchQuery(stage, graph.metrics)}', '${graph.stat}', ${PERIOD})`;
    const metrics: Cfn[][] = [
      [{ expression: search, id: 'jobs', visible: false }],
      ...(graph.show === 'total' ? [[{ expression: 'SUM(jobs)', id: 'total', label: literal('all jobs (${SUM} in range)') }]] : []),
      // No label: each series keeps the SEARCH's own, the metric name and the state machine's ARN.
      [{ expression: `SORT(jobs, ${graph.rank}, DESC, ${TOP_JOBS})`, id: 'top' }],
    ];
    widgets.push({
      type: 'metric', x: (i % 2) * 12, y: y + Math.floor(i / 2) * 6, width: 12, height: 6,
      properties: {
        title: literal(graph.title), region, view: 'timeSeries', stacked: false, period: PERIOD, stat: graph.stat, metrics,
        ...(graph.unit && { yAxis: { left: { label: graph.unit, showUnits: false } } }),
      },
    });
  });
  y += Math.ceil(drawn.length / 2) * 6;
  const alarms = stageAlarmNames(jobs, stage);
  for (let i = 0; i < alarms.length; i += DASHBOARD_LIMITS.alarmsPerWidget) {
    const chunk = alarms.slice(i, i + DASHBOARD_LIMITS.alarmsPerWidget);
    const range = alarms.length > DASHBOARD_LIMITS.alarmsPerWidget ? ` ${i + 1}-${i + chunk.length} of ${alarms.length}` : '';
    widgets.push({
      type: 'alarm', x: 0, y, width: 24, height: Math.max(3, Math.ceil(chunk.length / 4) + 1),
      properties: {
        title: literal(`Alarms${range} (in ALARM first${range ? ' in this widget' : ''})`),
        // By state, ALARM first, then INSUFFICIENT_DATA and OK, each most recently changed first.
        sortBy: 'stateUpdatedTimestamp',
        alarms: chunk.map((name) => `arn:\${AWS::Partition}:cloudwatch:${region}:\${AWS::AccountId}:alarm:${literal(name)}`),
      },
    });
    y += Math.max(3, Math.ceil(chunk.length / 4) + 1);
  }
  return JSON.stringify({ start: '-PT24H', periodOverride: 'inherit', widgets });
}

/** Why the body would not fit a dashboard (widgets, SEARCH length), or undefined. */
export function dashboardProblem(body: string): string | undefined {
  const widgets = (JSON.parse(body) as { widgets: Array<{ properties: { metrics?: Array<Array<{ expression?: string }>> } }> }).widgets;
  if (widgets.length > DASHBOARD_LIMITS.widgets) {
    return `its dashboard would have ${widgets.length} widgets, and CloudWatch allows ${DASHBOARD_LIMITS.widgets}: please report this as a stepcron bug`;
  }
  for (const w of widgets) {
    for (const [m] of w.properties.metrics ?? []) {
      const query = /^SEARCH\('(.*)', '[^']*', \d+\)$/.exec(m?.expression ?? '')?.[1];
      if (query !== undefined && query.length > DASHBOARD_LIMITS.searchQueryCharacters) {
        return `its dashboard's SEARCH '${query.slice(0, 60)}…' is ${query.length} characters, and CloudWatch allows ${DASHBOARD_LIMITS.searchQueryCharacters}: use a shorter stage name`;
      }
    }
  }
  return undefined;
}

/** The AWS::CloudWatch::Dashboard resource; `literal` is workflows/resources.ts' Fn::Sub escaping. */
export function dashboardResource(jobs: Job[], stage: string, enabledJobs: string[] | '*', literal: (text: string) => string): Cfn {
  const body = dashboardBody(jobs, stage, enabledJobs, literal);
  return { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardName: dashboardName(stage), DashboardBody: { 'Fn::Sub': body } } };
}

/** The dashboard's page in the CloudWatch console (dashboards are global; the region only picks the console's). */
export function dashboardUrl(stage: string, region: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${dashboardName(stage)}`;
}
