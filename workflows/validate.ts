// ASL validation of a whole stage at package time, once per distinct definition shape. asl-validator builds a new
// JSON-schema compiler on every call (~0.1 s), which made `validate: true` in serverless-step-functions the slowest
// part of packaging 1,000 jobs. Our definitions differ between jobs mostly in free text and numbers, so a definition
// is validated through its shape: the same JSON with free-text strings and numbers replaced by stand-ins of the same
// kind. Only when a shape is invalid is the job's own definition validated, so errors name the real values.

/** The validator's verdict (asl-validator's interface). */
export type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };

/** Keys whose string values the ASL grammar constrains: kept as they are in a shape. */
const STRUCTURAL = new Set([
  'Type', 'Next', 'Default', 'StartAt', 'Resource', 'Mode', 'ExecutionType', 'InputType', 'CSVHeaderLocation',
  'QueryLanguage', 'Variable', 'ItemsPath', 'ResultPath', 'InputPath', 'OutputPath', 'SecondsPath', 'TimestampPath',
  'ErrorPath', 'CausePath', 'JitterStrategy', 'ErrorEquals', 'Transformation', 'OutputType',
]);

/** The definition with free text and numbers generalised; equal shapes validate alike. */
export function definitionShape(definition: unknown): string {
  const canonical = (node: unknown, key: string): unknown => {
    if (Array.isArray(node)) return node.map((n) => canonical(n, key));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, canonical(v, k)]));
    }
    // In a path or intrinsic, numbers are arguments: `States.Array(30, 60)` and `States.Array(10)` parse alike.
    if (typeof node === 'string' && key.endsWith('.$')) return node.replace(/\d+(\.\d+)?/g, '1').replace(/1(, 1)+/g, '1');
    if (typeof node === 'string') return STRUCTURAL.has(key) || key.endsWith('Path') ? node : 's';
    // Numbers keep what the schema checks: sign, integer or not, and its maxima (ToleratedFailurePercentage 100,
    // MaxInputBytesPerBatch 262144).
    if (typeof node === 'number') return Math.sign(node) * (!Number.isInteger(node) ? 1.5 : Math.abs(node) > 262_144 ? 262_145 : Math.abs(node) > 100 ? 101 : 1);
    return node;
  };
  return JSON.stringify(canonical(definition, ''));
}

/** Validates every definition (by name); one line per invalid one, naming it. Calls `validator` once per shape. */
export function validateDefinitions(definitions: Record<string, unknown>, validator: AslValidator): string[] {
  const verdicts = new Map<string, boolean>();
  const problems: string[] = [];
  for (const [name, definition] of Object.entries(definitions)) {
    const shape = definitionShape(definition);
    let valid = verdicts.get(shape);
    if (valid === undefined) {
      valid = validator(JSON.parse(shape)).isValid;
      verdicts.set(shape, valid);
    }
    if (valid) continue;
    // structuredClone: asl-validator writes QueryLanguage into the states it checks.
    const own = validator(structuredClone(definition));
    if (!own.isValid) problems.push(`state machine ${name}: ${own.errorsText('; ')}`);
  }
  return problems;
}
