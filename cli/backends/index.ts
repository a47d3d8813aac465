// Picks the ECS backend for `--ecs`: a local process (default), a container when an engine answers, or real ECS.
import { UsageError } from '../errors';
import { readStageParams } from '../stage';
import { awsBackend } from './aws';
import { containerBackend, detectEngine } from './container';
import { processBackend } from './process';
import type { EcsBackend } from './types';


export async function makeBackend(kind: string, stage: string): Promise<EcsBackend> {
  switch (kind) {
    case 'process':
      return processBackend({ cwd: process.cwd() });
    case 'container': {
      const found = await detectEngine();
      if (!found) {
        throw new UsageError('--ecs container: no container engine answers (`podman info` and `docker info` failed); ' +
          'install podman (scripts/install-podman.sh) or use --ecs process');
      }
      return containerBackend({ engine: found.engine });
    }
    case 'aws':
      return awsBackend(readStageParams(stage));
    default:
      throw new UsageError(`--ecs: '${kind}' is not a backend: use process, container or aws`);
  }
}
