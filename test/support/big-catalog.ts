// A catalog of n jobs shaped like a real team's: mostly plain nightly/hourly jobs, some on Spot, some with secrets or
// their own IAM policies, some fanning out. Deterministic, so templates and measurements compare across runs.
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney'];

export function bigCatalog(n: number): string {
  const jobs: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `job-${String(i).padStart(4, '0')}-${['report', 'sync', 'cleanup', 'export', 'import'][i % 5]}`;
    const lines = [
      `  ${name}:`,
      `    description: Job ${i} of a large catalog`,
      `    schedule: ${i % 3 === 0 ? `rate(${2 + (i % 12)} hours)` : `cron(${i % 60} ${i % 24} * * ? *)`}`,
      `    timezone: ${ZONES[i % ZONES.length]}`,
      `    command: [sh, jobs/${name}.sh]`,
      `    timeoutSeconds: ${600 + (i % 10) * 300}`,
      `    retries: ${i % 4}`,
    ];
    if (i % 7 === 0) lines.push('    capacity: spot');
    if (i % 10 === 3) lines.push('    secrets:', `      DB_PASSWORD: /stepcron/jobs/${name}/db-password`);
    if (i % 20 === 5) lines.push('    taskPolicyArns: [arn:aws:iam::123456789012:policy/stepcron-reports-writer]');
    if (i % 9 === 4) lines.push('    exitCodes: { fail: [2] }');
    if (i % 10 === 8) {
      lines.push('    input: { tenants: [a, b, c] }', '    fanOut: { itemsPath: $.tenants, maxConcurrency: 5, toleratedFailurePercentage: 10 }');
    }
    if (i % 25 === 0) lines.push('    notify: { onSuccess: true }');
    jobs.push(lines.join('\n'));
  }
  return [
    'defaults:',
    '  image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/stepcron-jobs:1.4.2',
    '  cpu: 256',
    '  memory: 512',
    'jobs:',
    ...jobs,
    '',
  ].join('\n');
}
