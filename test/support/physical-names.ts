// The longest stage and job names the table of physical names (workflows/names.ts) allows, and a scan of templates for
// every name built from them: shared by test/names.test.ts (the stage template stepcron validate builds) and
// test/names-package.test.ts (a real `sls package`).
import { MAX_STAGE_LENGTH, maxJobNameLength, PHYSICAL_NAMES } from '../../workflows/names';
import { shapesCatalog } from './shapes-catalog';

/** The longest stage the table allows, recognisable in any text. */
export const longestStage = () => `z${'q'.repeat(MAX_STAGE_LENGTH - 1)}`;

/** The shapes catalog (one job of every shape) with each job renamed to the longest name the stage allows. */
export function longestNamesCatalog(stage: string): { text: string; jobs: string[] } {
  const max = maxJobNameLength(stage);
  const jobs: string[] = [];
  const text = shapesCatalog().replace(/^ {2}([a-z0-9-]+):$/gm, (_line, name: string) => {
    const long = `${name}-${'k'.repeat(max)}`.slice(0, max);
    jobs.push(long);
    return `  ${long}:`;
  });
  return { text, jobs };
}

/** Where a string holds a stage or job name without being a name: text, tags, references (ARNs, logical ids). */
const NOT_A_NAME = new Set(['Description', 'AlarmDescription', 'Tags', 'DefinitionString', 'EventPattern', 'Input', 'Policies',
  'AssumeRolePolicyDocument', 'Environment', 'Fn::Sub', 'Ref', 'Fn::GetAtt', 'DependsOn', 'Value', 'Parameters']);

export type Templates = Array<{ Resources: Record<string, unknown>; Outputs?: Record<string, unknown> }>;

/** Every string in the templates' resources and outputs that holds the stage or a job's name, with its path. */
export function namesIn(templates: Templates, stage: string, jobs: string[]) {
  const found: Array<{ path: string; value: string }> = [];
  const walk = (node: unknown, path: string[]): void => {
    if (typeof node === 'string') {
      if ((!node.includes(stage) && !jobs.some((j) => node.includes(j))) || node.startsWith('arn:')) return;
      // awslogs names each stream <prefix>/<container>/<task id>: the stream's name is what has a limit.
      const value = path.at(-1) === 'awslogs-stream-prefix' ? `${node}/job/${'0'.repeat(32)}` : node;
      found.push({ path: path.join('.'), value });
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => {
        walk(item, [...path, String(i)]);
      });
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) if (!NOT_A_NAME.has(key)) walk(value, [...path, key]);
    }
  };
  for (const t of templates) {
    walk(t.Resources, []);
    // Outputs' values are references; their export names are names.
    for (const [id, output] of Object.entries(t.Outputs ?? {})) walk((output as { Export?: unknown }).Export, ['Outputs', id, 'Export']);
  }
  return found;
}

/**
 * The table entry a name found in a template is, or undefined. The parts `sls` varies per deploy are put in the
 * form the table writes them: the upload's time, a nested stack's id and its template's hash.
 */
function entryFor(value: string, stage: string, jobs: string[]) {
  const normal = value
    .replace(/\/\d{13}-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\//, '/1796668963829-2026-12-07T18:42:43.829Z/')
    .replace(/-Jobs\d\d-[0-9a-f]{64}\.json$/, `-Jobs63-${'0'.repeat(64)}.json`)
    .replace(/-(PrecheckLambdaFunctionQualifiedArn|NotifyLambdaFunctionQualifiedArn|ServerlessDeploymentBucketName)$/, '-PrecheckLambdaFunctionQualifiedArn')
    .replace(/\/(notify|precheck)\.zip$/, '/precheck.zip');
  return PHYSICAL_NAMES.find((n) => (n.scope === 'job' ? jobs.some((j) => n.name(stage, j) === normal) : n.name(stage, '') === normal));
}

/** Each name is one the table knows, and within the table's limit for it. */
export function expectCovered(found: Array<{ path: string; value: string }>, stage: string, jobs: string[]): void {
  const uncovered = found.filter((f) => !entryFor(f.value, stage, jobs)).map((f) => `${f.path} = ${f.value}`);
  expect(uncovered).toEqual([]);
  const over = found.filter((f) => f.value.length > entryFor(f.value, stage, jobs)!.limit).map((f) => `${f.path} = ${f.value}`);
  expect(over).toEqual([]);
}
