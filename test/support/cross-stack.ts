// An independent check of a packaged stage, the way CloudFormation would read it: the main template and the nested
// templates the stacks plugin writes beside it (found by their TemplateURL's file name). Written from CloudFormation's
// documented rules, not from workflows/stacks.ts (whose split it checks):
// - every Ref, Fn::GetAtt and Fn::Sub reference resolves in its own template: a resource or parameter there, a pseudo
//   parameter, or a variable of the Sub's own map; `${!` is a literal; a `${` with no `}` is refused;
// - each GetAtt names an attribute the resource's type has (AWS's resource spec), or an output of a nested template;
// - DependsOn names resources of the same template;
// - each nested stack's Parameters are supplied exactly: every declared one without a Default, none undeclared;
// - every template is within CloudFormation's per-stack quotas; every nested file is used by a stack.
import { cfnSpec } from './cfn-spec';

/** CloudFormation's per-stack quotas (template read from S3, as `sls deploy` sends it). */
export const QUOTAS = { resources: 500, bytes: 1_000_000, parameters: 200, outputs: 200 } as const;

const PSEUDO = new Set(['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region',
  'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix']);
const FUNCTIONS = new Set(['Fn::Base64', 'Fn::Cidr', 'Fn::FindInMap', 'Fn::GetAZs', 'Fn::ImportValue', 'Fn::Join',
  'Fn::Select', 'Fn::Split', 'Fn::Transform', 'Fn::If', 'Fn::Length', 'Fn::ToJsonString', 'Fn::Equals', 'Fn::And',
  'Fn::Or', 'Fn::Not']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An Fn::Sub string as CloudFormation reads it: literal text (`${!` stands for `${`) and `${name}` references, in
 * order; `unterminated` when a `${` has no `}`.
 */
export function subParts(text: string): { parts: Array<{ text: string } | { name: string }>; unterminated: boolean } {
  const parts: Array<{ text: string } | { name: string }> = [];
  let at = 0;
  for (;;) {
    const start = text.indexOf('${', at);
    if (start < 0) {
      parts.push({ text: text.slice(at) });
      return { parts, unterminated: false };
    }
    parts.push({ text: text.slice(at, start) });
    if (text[start + 2] === '!') {
      parts.push({ text: '${' });
      at = start + 3;
      continue;
    }
    const end = text.indexOf('}', start + 2);
    if (end < 0) {
      parts.push({ text: text.slice(start) });
      return { parts, unterminated: true };
    }
    parts.push({ name: text.slice(start + 2, end) });
    at = end + 1;
  }
}

/**
 * What an Fn::Sub evaluates to, given each name's value: `${!` becomes `${`, `${name}` its value. For checks that
 * rebuild deployed text (a state machine definition) from a template.
 */
export function evaluateSub(text: string, value: (name: string) => string): string {
  const { parts, unterminated } = subParts(text);
  if (unterminated) throw new Error("Fn::Sub: a '${' has no '}'");
  return parts.map((p) => ('name' in p ? value(p.name) : p.text)).join('');
}

interface Stack { name: string; template: Json; bytes: number }

/**
 * One line per problem, each naming the template and the path in it. `main` is the main template's text;
 * `files` the nested templates' texts by file name, as written in the package folder.
 */
export function crossStackProblems(main: string, files: Record<string, string>): string[] {
  const problems: string[] = [];
  const stacks = new Map<string, Stack>(Object.entries(files).map(([file, text]) => [file, { name: file, template: JSON.parse(text), bytes: Buffer.byteLength(text) }]));
  const used = new Set<string>();
  check({ name: 'main template', template: JSON.parse(main), bytes: Buffer.byteLength(main) }, stacks, used, problems);
  for (const file of stacks.keys()) if (!used.has(file)) problems.push(`${file}: no stack of the main template uses it`);
  return problems;
}

function check(stack: Stack, files: Map<string, Stack>, used: Set<string>, problems: string[]): void {
  const { template } = stack;
  const problem = (path: string, text: string): void => {
    problems.push(`${stack.name}: ${path}: ${text}`);
  };
  const resources = isObject(template.Resources) ? template.Resources : {};
  const parameters = isObject(template.Parameters) ? template.Parameters : {};
  const outputs = isObject(template.Outputs) ? template.Outputs : {};
  const typeOf = (id: string) => (isObject(resources[id]) ? String(resources[id].Type) : undefined);

  const counts = { resources: Object.keys(resources).length, bytes: stack.bytes, parameters: Object.keys(parameters).length, outputs: Object.keys(outputs).length };
  for (const [what, limit] of Object.entries(QUOTAS)) {
    const count = counts[what as keyof typeof QUOTAS];
    if (count > limit) problem(what, `${count} (CloudFormation allows ${limit} per stack)`);
  }

  const ref = (name: string, at: string) => {
    if (!PSEUDO.has(name) && !(name in resources) && !(name in parameters)) problem(at, `${name} is not a resource, parameter or pseudo parameter of this template`);
  };
  const getAtt = (id: string, attribute: string, at: string) => {
    const type = typeOf(id);
    if (!type) return void problem(at, `${id} is not a resource of this template`);
    if (type === 'AWS::CloudFormation::Stack') {
      const output = attribute.match(/^Outputs\.(.+)$/)?.[1];
      const nested = nestedOf(id);
      if (!output || (nested && !(output in (isObject(nested.template.Outputs) ? nested.template.Outputs : {})))) {
        problem(at, `${id} (a nested stack) has no output ${attribute}`);
      }
      return;
    }
    if (type.startsWith('Custom::')) return;
    const spec = cfnSpec().resources.get(type);
    if (!spec) return void problem(at, `${type} is not a resource type AWS's spec knows`);
    if (!(attribute in spec.attributes)) problem(at, `${type} has no attribute ${attribute}`);
  };

  const visit = (node: unknown, at: string): void => {
    if (Array.isArray(node)) {
      for (const [i, n] of node.entries()) visit(n, `${at}[${i}]`);
      return;
    }
    if (!isObject(node)) return;
    const keys = Object.keys(node);
    const fn = keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::')) ? keys[0]! : undefined;
    if (!fn) {
      for (const k of keys) visit(node[k], `${at}.${k}`);
      return;
    }
    const arg = node[fn];
    const here = `${at}.${fn}`;
    if (fn === 'Ref') return void (typeof arg === 'string' ? ref(arg, here) : problem(here, 'takes a name'));
    if (fn === 'Fn::GetAtt') {
      const [id, attribute] = Array.isArray(arg) ? arg : typeof arg === 'string' ? [arg.slice(0, arg.indexOf('.')), arg.slice(arg.indexOf('.') + 1)] : [];
      if (typeof id !== 'string' || typeof attribute !== 'string' || !id || !attribute) return void problem(here, 'takes [resource, attribute]');
      return void getAtt(id, attribute, here);
    }
    if (fn === 'Fn::Sub') {
      const [text, map] = Array.isArray(arg) ? arg : [arg, {}];
      if (typeof text !== 'string' || !isObject(map)) return void problem(here, 'takes a string or [string, { name: value }]');
      if (Array.isArray(arg)) visit(map, `${here}[1]`);
      const { parts, unterminated } = subParts(text);
      if (unterminated) problem(here, "a '${' with no '}' (a literal '${' is written '${!')");
      for (const name of parts.flatMap((p) => ('name' in p ? [p.name] : []))) {
        if (name in map || PSEUDO.has(name)) continue;
        const dot = name.indexOf('.');
        if (dot > 0) getAtt(name.slice(0, dot), name.slice(dot + 1), `${here} \${${name}}`);
        else ref(name, `${here} \${${name}}`);
      }
      return;
    }
    if (!FUNCTIONS.has(fn)) return void problem(here, `${fn} is not an intrinsic function`);
    visit(arg, here);
  };

  /** The nested template a stack resource points at, by the file name its TemplateURL ends with. */
  const nestedOf = (id: string): Stack | undefined => {
    const url = (resources[id] as Json).Properties && ((resources[id] as Json).Properties as Json).TemplateURL;
    const text = typeof url === 'string' ? url : isObject(url) && typeof url['Fn::Sub'] === 'string' ? url['Fn::Sub'] : '';
    return files.get(text.slice(text.lastIndexOf('/') + 1));
  };

  for (const [id, resource] of Object.entries(resources)) {
    if (!isObject(resource)) {
      problem(`Resources.${id}`, 'is not an object');
      continue;
    }
    for (const target of [resource.DependsOn ?? []].flat()) {
      if (typeof target !== 'string' || !(target in resources)) problem(`Resources.${id}.DependsOn`, `${String(target)} is not a resource of this template`);
    }
    visit(resource.Properties, `Resources.${id}.Properties`);
    if (resource.Type !== 'AWS::CloudFormation::Stack') continue;
    const nested = nestedOf(id);
    if (!nested) {
      problem(`Resources.${id}.Properties.TemplateURL`, 'names no nested template of the package');
      continue;
    }
    used.add(nested.name);
    const declared = isObject(nested.template.Parameters) ? nested.template.Parameters : {};
    const given = isObject((resource.Properties as Json | undefined)?.Parameters) ? (resource.Properties as Json).Parameters as Json : {};
    for (const [name, declaration] of Object.entries(declared)) {
      if (!(name in given) && !(isObject(declaration) && 'Default' in declaration)) problem(`Resources.${id}.Properties.Parameters`, `${nested.name} needs ${name}, which is not given`);
    }
    for (const name of Object.keys(given)) if (!(name in declared)) problem(`Resources.${id}.Properties.Parameters.${name}`, `${nested.name} declares no such parameter`);
    check(nested, files, used, problems);
  }
  for (const [id, output] of Object.entries(outputs)) visit(output, `Outputs.${id}`);
}
