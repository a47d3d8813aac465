// Checks a CloudFormation template against AWS's CloudFormation resource specification, as published in the npm package
// @aws-cdk/aws-service-spec (its db.json.gz: AWS's registry schemas, merged with the older resource specification):
// every resource type exists, every property is one the type knows, required properties are present, values have the
// spec's types (nested property types recursively, unions by any member, a type the property had before accepted as
// CloudFormation still accepts it), intrinsic functions are well formed and point at something the template defines
// (a resource, a parameter, a pseudo parameter, a `Fn::Sub` variable), `Fn::GetAtt` names an attribute the type has,
// and the template's own sections (Parameters, Resources, Outputs) have the shape CloudFormation accepts.
//
// How strict: like cfn-lint's default (non-strict) typing, which mirrors what CloudFormation converts when it reads a
// template: a string property takes any scalar (CloudFormation turns 256 into "256"), an integer/number takes a
// numeric string ("300"), a boolean takes "true"/"false". `{ strict: true }` wants the JSON type itself. `null` is
// refused everywhere ("'null' values are not allowed in templates").
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** A property's type in the service spec database (@aws-cdk/service-spec-types' PropertyType). */
export type SpecType =
  | { type: 'string' | 'integer'; allowedValues?: Array<string | number> }
  | { type: 'number' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { type: 'ref'; reference: { $ref: string } }
  | { type: 'array' | 'map'; element: SpecType }
  | { type: 'union'; types: SpecType[] };
export interface SpecProperty { type: SpecType; previousTypes?: SpecType[]; required?: boolean }
export interface SpecResource { cloudFormationType: string; properties: Record<string, SpecProperty>; attributes: Record<string, unknown> }
interface SpecTypeDefinition { name: string; properties: Record<string, SpecProperty> }
export interface Spec {
  /** The package version the database comes from. */
  version: string;
  resources: Map<string, SpecResource>;
  types: Map<string, SpecTypeDefinition>;
}

let cached: Spec | undefined;
/** The service spec database (2.6 MB gzipped, read once): resource types by CloudFormation name, type definitions by id. */
export function cfnSpec(): Spec {
  if (cached) return cached;
  const dir = require.resolve('@aws-cdk/aws-service-spec/package.json').replace(/package\.json$/, '');
  const db = JSON.parse(gunzipSync(readFileSync(`${dir}db.json.gz`)).toString('utf8')) as {
    schema: Record<string, { entities: Array<{ $id: string } & Record<string, unknown>> }>;
  };
  const resources = db.schema.resource!.entities as unknown as Array<SpecResource & { $id: string }>;
  const types = db.schema.typeDefinition!.entities as unknown as Array<SpecTypeDefinition & { $id: string }>;
  cached = {
    version: JSON.parse(readFileSync(`${dir}package.json`, 'utf8')).version,
    resources: new Map(resources.map((r) => [r.cloudFormationType, r])),
    types: new Map(types.map((t) => [t.$id, t])),
  };
  return cached;
}

export interface SpecOptions {
  /** JSON types exactly as the spec says (no numeric strings for numbers, no numbers for strings). */
  strict?: boolean;
}

const PSEUDO = new Set(['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region',
  'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix']);
const FUNCTIONS = new Set(['Ref', 'Fn::Base64', 'Fn::Cidr', 'Fn::FindInMap', 'Fn::GetAtt', 'Fn::GetAZs', 'Fn::ImportValue',
  'Fn::Join', 'Fn::Select', 'Fn::Split', 'Fn::Sub', 'Fn::Transform', 'Fn::If', 'Fn::Length', 'Fn::ToJsonString',
  'Fn::Equals', 'Fn::And', 'Fn::Or', 'Fn::Not', 'Fn::ForEach']);
const TEMPLATE_KEYS = new Set(['AWSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters', 'Rules', 'Mappings',
  'Conditions', 'Transform', 'Resources', 'Outputs']);
const RESOURCE_KEYS = new Set(['Type', 'Properties', 'DependsOn', 'Condition', 'DeletionPolicy', 'UpdateReplacePolicy',
  'Metadata', 'CreationPolicy', 'UpdatePolicy']);
const PARAMETER_KEYS = new Set(['Type', 'Default', 'Description', 'AllowedPattern', 'AllowedValues', 'ConstraintDescription',
  'MaxLength', 'MaxValue', 'MinLength', 'MinValue', 'NoEcho']);
const PARAMETER_TYPES = /^(String|Number|List<Number>|CommaDelimitedList|AWS::[A-Za-z0-9:]+|List<AWS::[A-Za-z0-9:]+>|AWS::SSM::Parameter::Value<.+>)$/;
const OUTPUT_KEYS = new Set(['Description', 'Value', 'Export', 'Condition']);
const POLICIES = new Set(['Delete', 'Retain', 'Snapshot', 'RetainExceptOnCreate']);
const LOGICAL_ID = /^[A-Za-z0-9]{1,255}$/;
/** The spec's built-in tag type. */
const TAG: Record<string, SpecProperty> = { Key: { type: { type: 'string' }, required: true }, Value: { type: { type: 'string' }, required: true } };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** `{ "Ref": ... }` or `{ "Fn::X": ... }`: the one key, else undefined. */
function intrinsicKey(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::')) ? keys[0] : undefined;
}

/** One line per problem, each starting with the path in the template. Empty: the template matches the spec. */
export function specProblems(template: unknown, options: SpecOptions = {}): string[] {
  const spec = cfnSpec();
  const problems: string[] = [];
  const problem = (path: string, text: string) => problems.push(`${path}: ${text}`);
  if (!isObject(template)) return ['template: not a JSON object'];

  for (const key of Object.keys(template)) if (!TEMPLATE_KEYS.has(key)) problem(key, 'not a template section');
  if (template.AWSTemplateFormatVersion !== undefined && template.AWSTemplateFormatVersion !== '2010-09-09') {
    problem('AWSTemplateFormatVersion', `${show(template.AWSTemplateFormatVersion)}: the only version is "2010-09-09"`);
  }
  if (template.Description !== undefined) {
    if (typeof template.Description !== 'string') problem('Description', 'must be a string');
    else if (Buffer.byteLength(template.Description) > 1024) problem('Description', 'longer than 1024 bytes');
  }

  // Parameters
  const parameters = template.Parameters ?? {};
  if (!isObject(parameters)) problem('Parameters', 'must be an object');
  const parameterIds = new Set(isObject(parameters) ? Object.keys(parameters) : []);
  for (const [id, parameter] of Object.entries(isObject(parameters) ? parameters : {})) {
    const path = `Parameters.${id}`;
    if (!LOGICAL_ID.test(id)) problem(path, 'logical ids are 1-255 letters and digits');
    if (!isObject(parameter)) {
      problem(path, 'must be an object');
      continue;
    }
    for (const key of Object.keys(parameter)) if (!PARAMETER_KEYS.has(key)) problem(`${path}.${key}`, 'not a parameter attribute');
    if (typeof parameter.Type !== 'string') problem(`${path}.Type`, 'is required');
    else if (!PARAMETER_TYPES.test(parameter.Type)) problem(`${path}.Type`, `${show(parameter.Type)} is not a parameter type`);
  }

  // Resources
  const resources = template.Resources;
  if (!isObject(resources) || Object.keys(resources).length === 0) {
    problem('Resources', 'is required and must declare at least one resource');
  }
  const resourceTypes = new Map<string, string>();
  for (const [id, resource] of Object.entries(isObject(resources) ? resources : {})) {
    if (isObject(resource) && typeof resource.Type === 'string') resourceTypes.set(id, resource.Type);
  }
  const conditionIds = new Set(isObject(template.Conditions) ? Object.keys(template.Conditions) : []);
  for (const id of parameterIds) if (resourceTypes.has(id)) problem(`Parameters.${id}`, 'a resource has the same logical id');

  /** Checks intrinsic functions anywhere inside `node` (type checks are the caller's). */
  const checkIntrinsics = (node: unknown, path: string, subVariables = new Set<string>()): void => {
    if (node === null) return void problem(path, "'null' values are not allowed in templates");
    if (Array.isArray(node)) {
      for (const [i, n] of node.entries()) checkIntrinsics(n, `${path}[${i}]`, subVariables);
      return;
    }
    if (!isObject(node)) return;
    const key = intrinsicKey(node);
    if (!key) {
      for (const [k, v] of Object.entries(node)) checkIntrinsics(v, `${path}.${k}`, subVariables);
      return;
    }
    const arg = node[key];
    const at = `${path}.${key}`;
    if (!FUNCTIONS.has(key)) return void problem(at, 'not an intrinsic function');
    switch (key) {
      case 'Ref':
        if (typeof arg !== 'string') problem(at, 'takes a logical id or pseudo parameter name');
        else if (!resourceTypes.has(arg) && !parameterIds.has(arg) && !PSEUDO.has(arg)) {
          problem(at, `${arg} is not a resource, parameter or pseudo parameter of this template`);
        }
        return;
      case 'Fn::GetAtt': {
        const [target, attribute] = Array.isArray(arg) ? arg : typeof arg === 'string' ? arg.split(/\.(.*)/s) : [];
        if (typeof target !== 'string' || (typeof attribute !== 'string' && intrinsicKey(attribute) !== 'Ref')) {
          return void problem(at, 'takes [logicalId, attribute] or "logicalId.attribute"');
        }
        checkAttribute(target, attribute, at);
        return;
      }
      case 'Fn::Sub': {
        const [text, variables] = Array.isArray(arg) ? arg : [arg, undefined];
        if (typeof text !== 'string' || (Array.isArray(arg) && (arg.length !== 2 || !isObject(variables)))) {
          return void problem(at, 'takes a string, or [string, { variable: value }]');
        }
        const own = new Set(isObject(variables) ? Object.keys(variables) : []);
        if (isObject(variables)) for (const [k, v] of Object.entries(variables)) checkIntrinsics(v, `${at}[1].${k}`);
        for (const m of text.matchAll(/\$\{([^}]*)\}/g)) {
          const name = m[1]!;
          if (name.startsWith('!')) continue;
          if (own.has(name) || subVariables.has(name) || PSEUDO.has(name) || parameterIds.has(name) || resourceTypes.has(name)) continue;
          const dot = name.indexOf('.');
          if (dot > 0 && resourceTypes.has(name.slice(0, dot))) {
            checkAttribute(name.slice(0, dot), name.slice(dot + 1), at);
            continue;
          }
          problem(at, `\${${name}} is not a variable, resource, parameter or pseudo parameter of this template`);
        }
        return;
      }
      case 'Fn::Join':
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string' || !(Array.isArray(arg[1]) || intrinsicKey(arg[1]))) {
          return void problem(at, 'takes [delimiter, [values]]');
        }
        return void checkIntrinsics(arg[1], `${at}[1]`, subVariables);
      case 'Fn::Select':
      case 'Fn::Split':
      case 'Fn::If':
      case 'Fn::FindInMap':
      case 'Fn::Cidr':
        if (!Array.isArray(arg)) return void problem(at, 'takes a list of arguments');
        if (key === 'Fn::If' && (typeof arg[0] !== 'string' || !conditionIds.has(arg[0]) || arg.length !== 3)) {
          return void problem(at, 'takes [condition name from Conditions, value if true, value if false]');
        }
        return void checkIntrinsics(key === 'Fn::If' ? arg.slice(1) : arg, at, subVariables);
      default:
        return void checkIntrinsics(arg, at, subVariables);
    }
  };

  const checkAttribute = (target: string, attribute: unknown, at: string) => {
    const type = resourceTypes.get(target);
    if (!type) return void problem(at, `${target} is not a resource of this template`);
    if (typeof attribute !== 'string') return;
    if (type === 'AWS::CloudFormation::Stack' ? attribute.startsWith('Outputs.') : type.startsWith('Custom::')) return;
    const resource = spec.resources.get(type);
    if (resource && !(attribute in resource.attributes)) {
      problem(at, `${type} has no attribute ${attribute} (it has: ${Object.keys(resource.attributes).sort().join(', ') || 'none'})`);
    }
  };

  /** The problems `check` finds, kept apart from the template's (to try each member of a union). */
  const attempt = (check: () => void): string[] => {
    const before = problems.length;
    check();
    return problems.splice(before);
  };

  /** A scalar value: non-strict like CloudFormation's own conversion, see the file comment. */
  const checkScalar = (value: unknown, type: SpecType['type'], path: string, allowed?: Array<string | number>) => {
    const strict = options.strict === true;
    const scalar = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    let ok: boolean;
    switch (type) {
      case 'string':
        ok = strict ? typeof value === 'string' : scalar;
        break;
      case 'integer':
        ok = (typeof value === 'number' && Number.isInteger(value)) || (!strict && typeof value === 'string' && /^[+-]?\d+$/.test(value.trim()));
        break;
      case 'number':
        ok = (typeof value === 'number' && Number.isFinite(value)) ||
          (!strict && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)));
        break;
      case 'boolean':
        ok = typeof value === 'boolean' || (!strict && typeof value === 'string' && /^(true|false)$/i.test(value));
        break;
      case 'date-time':
        ok = typeof value === 'string' && !Number.isNaN(Date.parse(value));
        break;
      case 'json':
        ok = isObject(value) || Array.isArray(value) || (!strict && typeof value === 'string' && parsesAsJson(value));
        break;
      default:
        return void problem(path, `the spec names an unknown type ${type}`);
    }
    if (!ok) problem(path, `expected ${type}, got ${show(value)}`);
    else if (allowed && !allowed.map(String).includes(String(value))) problem(path, `${show(value)} is not one of ${allowed.join(', ')}`);
    if (type === 'json') checkIntrinsics(value, path);
  };

  /** A property value against its type: the current one, or any type it had before (CloudFormation still takes those). */
  const checkProperty = (value: unknown, property: SpecProperty, path: string): void => {
    const current = attempt(() => checkValue(value, property.type, path));
    if (current.length === 0) return;
    for (const previous of property.previousTypes ?? []) if (attempt(() => checkValue(value, previous, path)).length === 0) return;
    problems.push(...current);
  };

  const checkValue = (value: unknown, type: SpecType, path: string): void => {
    if (value === null) return void problem(path, "'null' values are not allowed in templates");
    if (intrinsicKey(value)) return void checkIntrinsics(value, path);
    switch (type.type) {
      case 'array':
        if (!Array.isArray(value)) return void problem(path, `expected a list, got ${show(value)}`);
        for (const [i, v] of value.entries()) checkValue(v, type.element, `${path}[${i}]`);
        return;
      case 'map':
        if (!isObject(value)) return void problem(path, `expected a map, got ${show(value)}`);
        for (const [k, v] of Object.entries(value)) checkValue(v, type.element, `${path}.${k}`);
        return;
      case 'union': {
        const tried = type.types.map((member) => attempt(() => checkValue(value, member, path)));
        if (!tried.some((p) => p.length === 0)) problems.push(...tried.sort((x, y) => x.length - y.length)[0]!);
        return;
      }
      case 'tag':
        return void checkProperties(value, TAG, path, 'a tag');
      case 'ref': {
        const definition = spec.types.get(type.reference.$ref);
        if (!definition) return void problem(path, `the spec has no type definition ${type.reference.$ref}`);
        return void checkProperties(value, definition.properties, path, definition.name);
      }
      default:
        return void checkScalar(value, type.type, path, 'allowedValues' in type ? type.allowedValues : undefined);
    }
  };

  const checkProperties = (value: unknown, properties: Record<string, SpecProperty>, path: string, owner: string) => {
    if (!isObject(value)) return void problem(path, `expected an object, got ${show(value)}`);
    for (const [key, v] of Object.entries(value)) {
      const property = properties[key];
      if (!property) problem(`${path}.${key}`, `not a property of ${owner} (known: ${Object.keys(properties).sort().join(', ')})`);
      else checkProperty(v, property, `${path}.${key}`);
    }
    for (const [key, property] of Object.entries(properties)) {
      if (property.required && !(key in value)) problem(`${path}.${key}`, 'is required');
    }
  };

  for (const [id, resource] of Object.entries(isObject(resources) ? resources : {})) {
    const path = `Resources.${id}`;
    if (!LOGICAL_ID.test(id)) problem(path, 'logical ids are 1-255 letters and digits');
    if (!isObject(resource)) {
      problem(path, 'must be an object');
      continue;
    }
    for (const key of Object.keys(resource)) if (!RESOURCE_KEYS.has(key)) problem(`${path}.${key}`, 'not a resource attribute');
    for (const policy of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
      if (resource[policy] !== undefined && !POLICIES.has(String(resource[policy]))) problem(`${path}.${policy}`, `${show(resource[policy])} is not a policy`);
    }
    if (resource.Condition !== undefined && !conditionIds.has(String(resource.Condition))) {
      problem(`${path}.Condition`, `${show(resource.Condition)} is not in Conditions`);
    }
    if (resource.DependsOn !== undefined) {
      const targets = [resource.DependsOn].flat();
      for (const target of targets) {
        if (typeof target !== 'string') problem(`${path}.DependsOn`, 'takes logical ids');
        else if (!resourceTypes.has(target)) problem(`${path}.DependsOn`, `${target} is not a resource of this template`);
        else if (target === id) problem(`${path}.DependsOn`, 'a resource cannot depend on itself');
      }
    }
    const type = resource.Type;
    if (typeof type !== 'string') {
      problem(`${path}.Type`, 'is required');
      continue;
    }
    if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') {
      checkIntrinsics(resource.Properties ?? {}, `${path}.Properties`);
      continue;
    }
    const typeSpec = spec.resources.get(type);
    if (!typeSpec) {
      problem(`${path}.Type`, `${type} is not a resource type in @aws-cdk/aws-service-spec ${spec.version}`);
      continue;
    }
    checkProperties(resource.Properties ?? {}, typeSpec.properties, `${path}.Properties`, type);
  }

  // Outputs
  const outputs = template.Outputs ?? {};
  if (!isObject(outputs)) problem('Outputs', 'must be an object');
  const exports = new Map<string, string>();
  for (const [id, output] of Object.entries(isObject(outputs) ? outputs : {})) {
    const path = `Outputs.${id}`;
    if (!LOGICAL_ID.test(id)) problem(path, 'logical ids are 1-255 letters and digits');
    if (!isObject(output)) {
      problem(path, 'must be an object');
      continue;
    }
    for (const key of Object.keys(output)) if (!OUTPUT_KEYS.has(key)) problem(`${path}.${key}`, 'not an output attribute');
    if (output.Value === undefined) problem(`${path}.Value`, 'is required');
    checkIntrinsics(output.Value, `${path}.Value`);
    if (output.Export !== undefined) {
      const name = isObject(output.Export) ? output.Export.Name : undefined;
      if (name === undefined || Object.keys(output.Export as object).length !== 1) problem(`${path}.Export`, 'takes { Name }');
      checkIntrinsics(name, `${path}.Export.Name`);
      if (typeof name === 'string') {
        if (exports.has(name)) problem(`${path}.Export.Name`, `${name} is also exported by ${exports.get(name)}`);
        exports.set(name, id);
      }
    }
  }
  return problems;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
