// AWS calls that AWS would refuse or drop (issue 13): checked on the compiled definitions and the stage template for
// every job shape, where no local run would notice.
import { parseCatalog } from '../workflows/catalog';
import { compile } from '../workflows/compile';
import { deployInfra, toStageParams } from '../workflows/resources';
import { shapesCatalog } from './support/shapes-catalog';

const jobs = parseCatalog(shapesCatalog('plain text'), { stage: 'prod' });
const params = toStageParams('prod', { subnets: 'subnet-0123456789abcdef0', securityGroups: 'sg-0123456789abcdef0' });

type State = Record<string, unknown>;
/** Every state of a definition, Map item processors included. */
function* statesOf(states: Record<string, State>): Generator<[string, State]> {
  for (const [name, state] of Object.entries(states)) {
    yield [name, state];
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, State> } | undefined;
    if (processor) yield* statesOf(processor.States);
  }
}

describe('ECS ListTasks: startedBy is its only filter', () => {
  // ECS API reference, ListTasks startedBy: "When you specify startedBy as the filter, it must be the only filter that
  // you use" (InvalidParameterException otherwise): with DesiredStatus, a timed-out task would never be stopped.
  const FILTERS = ['ContainerInstance', 'Family', 'ServiceName', 'DesiredStatus', 'LaunchType'];

  it.each(jobs.map((j) => [j.name, j] as const))('%s: every ListTasks state filters by StartedBy alone', (_name, job) => {
    // Act
    const definition = compile(job, deployInfra(job, params)) as { States: Record<string, State> };
    const calls = [...statesOf(definition.States)].filter(([, s]) => s.Resource === 'arn:aws:states:::aws-sdk:ecs:listTasks');
    // Assess
    expect(calls.length).toBeGreaterThan(0);
    for (const [, state] of calls) {
      const parameters = Object.keys(state.Parameters as object).map((k) => k.replace(/\.\$$/, ''));
      expect(parameters).toContain('StartedBy');
      expect(parameters.filter((p) => FILTERS.includes(p))).toEqual([]);
    }
  });
});
