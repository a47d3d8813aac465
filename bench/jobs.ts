// The one job the benchmarks run, shaped by the catalog lines each measurement adds (retries, fanOut, ...).
import { type Job, parseCatalog } from '../workflows/catalog';

export function benchJob(lines: string): Job {
  return parseCatalog(`
jobs:
  bench:
    description: bench
    schedule: rate(1 hour)
    image: bench:1
    command: ["true"]
${lines}
`, { stage: 'bench' })[0]!;
}
