// Picks the ECS backend for `--ecs`: a local process (default), a container when an engine answers, or real ECS.
import { ECSClient } from '@aws-sdk/client-ecs';
import { UsageError } from '../errors';
import { readStageParams } from '../stage';
import { awsBackend } from './aws';
import { containerBackend, detectEngine } from './container';
import { processBackend } from './process';
import type { EcsBackend } from './types';


/** `cwd`: where a local process runs, the project's folder (as an image's WORKDIR: `sh jobs/x.sh` from any subfolder). */
export async function makeBackend(kind: string, stage: string, cwd = process.cwd()): Promise<EcsBackend> {
  switch (kind) {
    case 'process':
      return processBackend({ cwd });
    case 'container': {
      const found = await detectEngine();
      if (!found) {
        throw new UsageError('--ecs container: no container engine answers (`podman info` and `docker info` failed); ' +
          'install podman (scripts/install-podman.sh) or use --ecs process');
      }
      return containerBackend({ engine: found.engine });
    }
    case 'aws': {
      // Checked up front: without them every RunTask would fail as a start failure, which says less.
      const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
      if (!region) throw new UsageError('--ecs aws: set AWS_REGION to the region the stage is deployed in');
      const client = new ECSClient({ region });
      try {
        await client.config.credentials();
      } catch (err) {
        throw new UsageError(`--ecs aws: no AWS credentials (${(err as Error).message.split('\n')[0]}); set AWS_PROFILE or sign in`);
      }
      return awsBackend(readStageParams(stage), client);
    }
    default:
      throw new UsageError(`--ecs: '${kind}' is not a backend: use process, container or aws`);
  }
}
