// A catalog with one job of every shape the compiler knows (single, Spot, inline and distributed fan-out from a list,
// from the run input and from S3 json/jsonl/csv, each concurrency policy, alerts, exit-code policy, timeout retry,
// every secret form ECS accepts, own IAM policies), with `text` written into every free-text field and item. For checks
// that must hold whatever a user writes: the cross-stack check, the IAM simulation, the API-model check.

/** Free text that has broken deploys: CloudFormation Sub references, JSON and YAML metacharacters, unicode, newlines. */
export const HOSTILE_TEXT = 'exports/${date} ${AWS::Region} ${!literal} $${x} "quoted" back\\slash \u00e9\u6f22\u{1F600} tab\there\nnewline';

/** Every form ECS accepts in a container's `secrets.valueFrom` (and what the catalog takes). */
export const SECRET_FORMS = {
  SSM_NAME: '/stepcron/shapes/db-password',
  SSM_ARN: 'arn:aws:ssm:eu-west-1:111122223333:parameter/stepcron/shapes/api-token',
  SM_FULL_ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:shapes/db-AbCdEf',
  SM_PARTIAL_ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:shapes/partial',
  SM_JSON_KEY: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:shapes/json-GhIjKl:password::',
  SM_JSON_KEY_STAGE: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:shapes/json-GhIjKl:username:AWSPREVIOUS:',
  SM_JSON_KEY_VERSION: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:shapes/json-GhIjKl:host::0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7',
} as const;

/** The catalog's YAML: `text` goes into every description, input value, item, environment value and argument. */
export function shapesCatalog(text = HOSTILE_TEXT): string {
  const q = (s: string) => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar
  // A multi-line string as a list item is refused by validate (asl-validator cannot take it in a definition).
  const item = q(text.replace(/\n/g, ' '));
  const job = (name: string, lines: string[]) => [
    `  ${name}:`,
    `    description: ${q(`${name}: ${text}`)}`,
    // printf, not sh -c: the job prints the text as it received it (a shell would expand ${...} in it).
    `    command: [printf, ${q('%s\n')}, ${q(text)}, ${q(name)}]`,
    `    environment: { NOTE: ${q(text)} }`,
    ...lines.map((l) => `    ${l}`),
  ].join('\n');
  return [
    'defaults:',
    '  image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/stepcron-jobs:1.0.0',
    'jobs:',
    job('single', ['schedule: cron(30 2 * * ? *)', 'timezone: Europe/Berlin', `input: { note: ${q(text)}, nested: { list: [${item}, 1, true, { none: null }] } }`]),
    job('spot', ['schedule: rate(15 minutes)', 'capacity: spot', 'retryOn: [timeout]', 'exitCodes: { retry: [75], fail: [2] }']),
    job('inline-fanout', ['schedule: cron(0 * * * ? *)', 'concurrency: allow', `fanOut: { items: [${item}, { id: ${q(text)} }, 3], maxConcurrency: 2 }`]),
    job('input-fanout', ['schedule: cron(0/30 * * * ? *)', `input: { tenants: [${item}, b] }`, 'fanOut: { itemsPath: $.tenants, toleratedFailurePercentage: 50 }']),
    job('s3-json', ['schedule: cron(0 3 * * ? *)', 'fanOut: { itemsFrom: s3://shapes-items/list.json, maxConcurrency: 100 }']),
    job('s3-jsonl', ['schedule: cron(0 4 * * ? *)', 'fanOut: { itemsFrom: s3://shapes-items/list.jsonl }']),
    job('s3-csv', ['schedule: cron(0 5 * * ? *)', 'fanOut: { itemsFrom: s3://shapes-items/list.csv, toleratedFailurePercentage: 10 }']),
    job('buffered', ['schedule: rate(5 minutes)', 'concurrency: buffer']),
    job('replaced', ['schedule: rate(10 minutes)', 'concurrency: replace']),
    job('alerted', ['schedule: cron(0 6 * * ? *)', 'successDeadlineMinutes: 1500', 'runtimeWarningSeconds: 600', 'minRuntimeSeconds: 5',
      'notify: { onSuccess: true }']),
    job('secret-forms', ['schedule: cron(0 7 * * ? *)', 'secrets:',
      ...Object.entries(SECRET_FORMS).map(([name, ref]) => `  ${name}: ${q(ref)}`)]),
    job('own-policies', ['schedule: cron(0 8 * * ? *)', 'taskPolicyArns: [arn:aws:iam::111122223333:policy/shapes-writer, arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]']),
    '',
  ].join('\n');
}
