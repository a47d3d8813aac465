// One stage, many stacks: CloudFormation allows 500 resources and a 1 MB template per stack, so each job's resources
// go into one of a fixed set of nested stacks, picked by a hash of the job's name. The hash keeps a job in the same
// stack as the catalog grows or shrinks (moving a named resource between stacks would fail: create runs before
// delete), and the shared resources (roles, topic, queue, Lambdas) stay in the main stack. Pure: the Serverless
// plugin in workflows/stacks-plugin.cjs applies it to the packaged template.
import { createHash } from 'node:crypto';

/** CloudFormation's per-stack quotas (template read from S3, which is how `sls deploy` sends it). */
export const STACK_LIMITS = { resources: 500, bytes: 1_000_000, parameters: 200, outputs: 200 } as const;

/**
 * How many nested stacks a stage's jobs are spread over. Fixed, so a job never changes stacks; 64 stacks of at most
 * 500 resources / 1 MB hold about 2,000 typical jobs once the hash's unevenness is allowed for.
 */
export const JOB_STACKS = 64;

type Cfn = Record<string, unknown>;
export interface Template {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Parameters?: Record<string, Cfn>;
  Resources: Record<string, Cfn>;
  Outputs?: Record<string, Cfn>;
  [key: string]: unknown;
}

/** The nested stack (0 .. count-1) a job's resources live in: FNV-1a of its name. */
export function stackIndex(jobName: string, count = JOB_STACKS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobName.length; i++) {
    hash ^= jobName.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

/** `Jobs07`: the nested stack's logical id in the main template. */
export const stackId = (index: number) => `Jobs${String(index).padStart(2, '0')}`;

export interface Group {
  /** The nested stack's logical id. */
  id: string;
  /** The logical ids of the resources it takes out of the main template. */
  resourceIds: string[];
}

export interface NestedStack {
  id: string;
  template: Template;
  /** The template as uploaded (what its size and hash are taken from). */
  body: string;
  sha256: string;
}

/** Groups jobs by stack: `resourceIds(job)` lists each job's logical ids. */
export function groupJobs<J extends { name: string }>(jobs: J[], resourceIds: (job: J) => string[], count = JOB_STACKS): Group[] {
  const groups = new Map<number, string[]>();
  for (const job of jobs) {
    const index = stackIndex(job.name, count);
    groups.set(index, [...(groups.get(index) ?? []), ...resourceIds(job)]);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([index, resourceIds]) => ({ id: stackId(index), resourceIds }));
}

/**
 * Moves each group's resources into a nested stack. A reference from a nested resource to one left in the main
 * template becomes a stack parameter (`Ref X` keeps its name, `GetAtt X.Arn` becomes `XArn`), a DependsOn on one
 * moves to the nested stack itself. `templateUrl` says where the nested template will be uploaded.
 */
export function splitStacks(template: Template, groups: Group[], templateUrl: (stack: NestedStack) => unknown): { main: Template; nested: NestedStack[] } {
  const moved = new Set(groups.flatMap((g) => g.resourceIds));
  const mainResources: Record<string, Cfn> = {};
  for (const [id, resource] of Object.entries(template.Resources)) if (!moved.has(id)) mainResources[id] = resource;

  const nested: NestedStack[] = [];
  const stackResources: Record<string, Cfn> = {};
  for (const group of groups) {
    const inside = new Set(group.resourceIds);
    const params = new Map<string, unknown>();
    const dependsOn = new Set<string>();
    const resources: Record<string, Cfn> = {};
    for (const id of group.resourceIds) {
      const resource = template.Resources[id];
      if (!resource) throw new Error(`stacks: ${group.id} lists ${id}, which is not in the template`);
      const { DependsOn, ...rest } = resource;
      const keep = [DependsOn ?? []].flat().map(String).filter((d) => {
        if (inside.has(d)) return true;
        dependsOn.add(d);
        return false;
      });
      resources[id] = { ...(rewrite(rest, inside, params) as Cfn), ...(keep.length && { DependsOn: keep }) };
    }
    for (const name of params.keys()) {
      if (inside.has(name)) throw new Error(`stacks: parameter ${name} of ${group.id} has the name of one of its resources`);
    }
    const body: Template = {
      AWSTemplateFormatVersion: '2010-09-09',
      Description: `${template.Description ?? 'stepcron'}: jobs stack ${group.id}`,
      ...(params.size > 0 && { Parameters: Object.fromEntries([...params.keys()].map((p) => [p, { Type: 'String' }])) }),
      Resources: resources,
    };
    const text = JSON.stringify(body);
    // The hash when first read: only what names the uploaded file needs it (validate measures sizes alone).
    let sha256: string | undefined;
    const stack = { id: group.id, template: body, body: text } as NestedStack;
    Object.defineProperty(stack, 'sha256', { enumerable: true, get: () => (sha256 ??= createHash('sha256').update(text).digest('hex')) });
    nested.push(stack);
    stackResources[group.id] = {
      Type: 'AWS::CloudFormation::Stack',
      ...(dependsOn.size > 0 && { DependsOn: [...dependsOn].sort() }),
      Properties: {
        TemplateURL: templateUrl(stack),
        ...(params.size > 0 && { Parameters: Object.fromEntries(params) }),
      },
    };
  }

  const main: Template = { ...template, Resources: { ...mainResources, ...stackResources } };
  const dangling = references(main).filter((r) => moved.has(r.target));
  if (dangling.length > 0) {
    throw new Error(`stacks: the main stack still references resources moved to nested stacks: ${dangling.map((r) => `${r.from} -> ${r.target}`).join(', ')}`);
  }
  return { main, nested };
}

/** Rewrites references to resources outside `inside` into parameters, recording each one's value in the main stack. */
function rewrite(node: unknown, inside: Set<string>, params: Map<string, unknown>): unknown {
  if (Array.isArray(node)) return node.map((n) => rewrite(n, inside, params));
  if (typeof node !== 'object' || node === null) return node;
  const entries = Object.entries(node);
  if (entries.length === 1) {
    const [key, value] = entries[0]!;
    if (key === 'Ref' && typeof value === 'string' && !value.startsWith('AWS::') && !inside.has(value)) {
      params.set(value, { Ref: value });
      return { Ref: value };
    }
    if (key === 'Fn::GetAtt') {
      const [target, attribute] = Array.isArray(value) ? value.map(String) : String(value).split(/\.(.*)/s);
      if (target && attribute && !inside.has(target)) {
        const name = paramName(target, attribute);
        params.set(name, { 'Fn::GetAtt': [target, attribute] });
        return { Ref: name };
      }
      return node;
    }
    if (key === 'Fn::Sub') {
      const [text, variables] = Array.isArray(value) ? [String(value[0]), value[1] as Cfn] : [String(value), undefined];
      const own = new Set(Object.keys(variables ?? {}));
      const replaced = text.replace(/\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}/g, (whole, target: string, attribute?: string) => {
        if (own.has(target) || inside.has(target)) return whole;
        if (!attribute) {
          params.set(target, { Ref: target });
          return whole;
        }
        const name = paramName(target, attribute);
        params.set(name, { 'Fn::GetAtt': [target, attribute] });
        return `\${${name}}`;
      });
      return { 'Fn::Sub': variables ? [replaced, rewrite(variables, inside, params)] : replaced };
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, rewrite(v, inside, params)]));
}

const paramName = (target: string, attribute: string) => `${target}${attribute.replace(/[^A-Za-z0-9]/g, '')}`;

/**
 * The nested stacks' parameters that the main template feeds with a Ref or GetAtt of nothing it has: a `${name}` in
 * an Fn::Sub that no one defines (user text left unescaped) becomes such a parameter, and CloudFormation would refuse
 * the whole stage. For the complete template (as packaged): one line each, naming the stack and the name.
 */
export function unresolvedParameters(main: Template): string[] {
  const known = (name: string) => name in main.Resources || name in (main.Parameters ?? {}) || name.startsWith('AWS::');
  const found: string[] = [];
  for (const [id, resource] of Object.entries(main.Resources)) {
    if (resource.Type !== 'AWS::CloudFormation::Stack') continue;
    const parameters = (resource.Properties as { Parameters?: Record<string, { Ref?: string; 'Fn::GetAtt'?: string[] }> }).Parameters ?? {};
    for (const [name, value] of Object.entries(parameters)) {
      const target = value.Ref ?? value['Fn::GetAtt']?.[0];
      if (target !== undefined && !known(target)) found.push(`${id}: parameter ${name} is fed by ${target}, which the template does not have`);
    }
  }
  return found;
}

/** Every Ref, GetAtt, Sub `${X}` and DependsOn in a template, as (from, target) pairs. */
export function references(template: Template): Array<{ from: string; target: string }> {
  const found: Array<{ from: string; target: string }> = [];
  const visit = (from: string, node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(from, n);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Ref' && typeof value === 'string') found.push({ from, target: value });
      else if (key === 'Fn::GetAtt') found.push({ from, target: Array.isArray(value) ? String(value[0]) : String(value).split('.')[0]! });
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(value) ? String(value[0]) : String(value);
        for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)) found.push({ from, target: m[1]! });
        if (Array.isArray(value)) visit(from, value[1]);
        continue;
      }
      visit(from, value);
    }
  };
  for (const [id, resource] of Object.entries(template.Resources)) {
    for (const d of [resource.DependsOn ?? []].flat()) found.push({ from: id, target: String(d) });
    visit(id, resource.Properties);
  }
  for (const [id, output] of Object.entries(template.Outputs ?? {})) visit(`Outputs.${id}`, output);
  return found;
}

export interface StackSize { id: string; resources: number; bytes: number; parameters: number; outputs: number }

export function stackSize(id: string, template: Template, body = JSON.stringify(template)): StackSize {
  return {
    id,
    resources: Object.keys(template.Resources).length,
    bytes: Buffer.byteLength(body),
    parameters: Object.keys(template.Parameters ?? {}).length,
    outputs: Object.keys(template.Outputs ?? {}).length,
  };
}

/** One line per quota a stack exceeds, naming the stack, the figure and the limit. */
export function stackProblems(size: StackSize): string[] {
  const problems: string[] = [];
  const over = (what: keyof typeof STACK_LIMITS, unit: string) => {
    if (size[what] > STACK_LIMITS[what]) problems.push(`${size.id}: ${size[what]} ${unit} (CloudFormation allows ${STACK_LIMITS[what]})`);
  };
  over('resources', 'resources');
  over('bytes', 'bytes of template');
  over('parameters', 'parameters');
  over('outputs', 'outputs');
  return problems;
}

/** A TemplateURL as long as planStacks' default, without hashing the nested template: for a plan only measured. */
export const sizedTemplateUrl = (): string => `https://example.invalid/${'0'.repeat(64)}.json`;

/** How a stage splits: the templates, every stack's size and, one line each, what exceeds a quota. */
export function planStacks<J extends { name: string }>(template: Template, jobs: J[], resourceIds: (job: J) => string[],
  templateUrl: (stack: NestedStack) => unknown = (s) => `https://example.invalid/${s.sha256}.json`) {
  const { main, nested } = splitStacks(compactDefinitions(template), groupJobs(jobs, resourceIds), templateUrl);
  const sizes = [stackSize('main stack', main), ...nested.map((s) => stackSize(s.id, s.template, s.body))];
  return { main, nested, sizes, problems: sizes.flatMap(stackProblems) };
}

/**
 * State machine definitions without the indentation serverless-step-functions writes them with: the same JSON, about
 * half the bytes, so a stack of fan-out jobs stays well under 1 MB. A definition that is not JSON text (a Wait with an
 * intrinsic number) is left as it is.
 */
export function compactDefinitions(template: Template): Template {
  const resources: Record<string, Cfn> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    const properties = resource.Properties as { DefinitionString?: unknown } | undefined;
    const sub = (properties?.DefinitionString as { 'Fn::Sub'?: unknown } | undefined)?.['Fn::Sub'];
    const text = Array.isArray(sub) ? sub[0] : typeof sub === 'string' ? sub : properties?.DefinitionString;
    let compact: string | undefined;
    if (resource.Type === 'AWS::StepFunctions::StateMachine' && typeof text === 'string') {
      try {
        compact = JSON.stringify(JSON.parse(text));
      } catch {
        compact = undefined;
      }
    }
    if (compact === undefined) {
      resources[id] = resource;
      continue;
    }
    const definition = Array.isArray(sub) ? { 'Fn::Sub': [compact, sub[1]] } : typeof sub === 'string' ? { 'Fn::Sub': compact } : compact;
    resources[id] = { ...resource, Properties: { ...properties, DefinitionString: definition } };
  }
  return { ...template, Resources: resources };
}
