// Serverless plugin: `sls remove` can delete a stage that has run jobs. CloudFormation deletes a bucket only when it is
// empty and a cluster only when no task runs in it, so before osls deletes the stack (before:remove:remove) this:
// - stops the remove, before anything is deleted, while the stage's own cluster still runs tasks (runs in progress);
// - deletes every object version and delete marker in the stage bucket (FanOutBucket: fan-out results and items).
// What else the stack holds deletes itself or is kept on purpose (README, "Removing a stage").
// osls 4 removed provider.request() (it throws AWS_SDK_V2_SURFACE_REMOVED): clients get the user's profile and region
// from provider.getAwsSdkV3Config(), as osls's own remove does.
const { S3Client, ListObjectVersionsCommand, DeleteObjectsCommand } = require('@aws-sdk/client-s3');
const { ECSClient, ListTasksCommand } = require('@aws-sdk/client-ecs');
// osls's own dependency: its provider.getCloudFormationClient() is a client of this package.
const { DescribeStackResourceCommand } = require('@aws-sdk/client-cloudformation');

/** S3 deletes at most this many keys per DeleteObjects call. */
const BATCH = 1000;

class StepcronRemoveStage {
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils?.log ?? { notice: console.log, warning: console.warn };
    this.hooks = { 'before:remove:remove': () => this.prepare() };
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  get stage() {
    return this.provider.getStage();
  }

  fail(message) {
    return new this.serverless.classes.Error(`stepcron: ${message}`);
  }

  /** An AWS refusal as one line naming the permission to grant, or the error itself. */
  denied(err, action, resource) {
    const name = err?.name ?? err?.Code;
    if (!/AccessDenied|UnauthorizedOperation|not authorized/i.test(`${name} ${err?.message ?? ''}`)) return err;
    return this.fail(`cannot remove stage ${this.stage}: access denied to ${action} on ${resource}; grant it and run sls remove again`);
  }

  async prepare() {
    const stack = this.provider.naming.getStackName();
    const cluster = await this.physicalId(stack, 'Cluster');
    if (cluster) await this.checkTasks(cluster);
    const bucket = await this.physicalId(stack, 'FanOutBucket');
    if (bucket) await this.emptyBucket(bucket);
  }

  /**
   * The physical id of one of the stack's resources, or undefined (said in a line) when the stack is not there or
   * does not have it: a stage removed half-way, or one whose cluster is the `cluster` param's (not the stack's).
   */
  async physicalId(stack, logicalId) {
    const cfn = await this.provider.getCloudFormationClient();
    try {
      const { StackResourceDetail: r } = await cfn.send(new DescribeStackResourceCommand({ StackName: stack, LogicalResourceId: logicalId }));
      if (r?.PhysicalResourceId && r.ResourceStatus !== 'DELETE_COMPLETE') return r.PhysicalResourceId;
      this.log.notice(`stepcron: stack ${stack} has no ${logicalId} any more; nothing to prepare for it`);
      return undefined;
    } catch (err) {
      if (err?.name === 'ValidationError' && /does not exist/.test(err.message ?? '')) {
        this.log.notice(`stepcron: ${err.message}; nothing of ${logicalId} to prepare`);
        return undefined;
      }
      throw this.denied(err, 'cloudformation:DescribeStackResource', `stack ${stack}`);
    }
  }

  /** ECS refuses to delete a cluster with tasks in it, and CloudFormation's delete then fails half-way. */
  async checkTasks(cluster) {
    const ecs = new ECSClient(await this.provider.getAwsSdkV3Config());
    let taskArns;
    try {
      ({ taskArns = [] } = await ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', maxResults: 100 })));
    } catch (err) {
      throw this.denied(err, 'ecs:ListTasks', `cluster ${cluster}`);
    }
    if (taskArns.length === 0) return;
    const more = taskArns.length === 100 ? ' or more' : '';
    throw this.fail(`stage ${this.stage} has ${taskArns.length}${more} task(s) running in cluster ${cluster}, and a cluster with ` +
      `running tasks cannot be deleted; nothing was removed: let the runs end (npx stepcron status --aws --stage ${this.stage}) ` +
      `or stop the tasks (aws ecs stop-task --cluster ${cluster} --task <id>), then run sls remove again`);
  }

  /**
   * Deletes every version and delete marker (an unversioned bucket lists each object once, version "null"), page by
   * page as S3 lists them, so memory stays one page however large the bucket.
   */
  async emptyBucket(bucket) {
    const s3 = new S3Client(await this.provider.getAwsSdkV3Config());
    const counts = { versions: 0, markers: 0 };
    let KeyMarker;
    let VersionIdMarker;
    this.log.notice(`stepcron: emptying bucket ${bucket} (fan-out results and items of stage ${this.stage})`);
    do {
      let page;
      try {
        page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker }));
      } catch (err) {
        if (err?.name === 'NoSuchBucket') {
          this.log.notice(`stepcron: bucket ${bucket} is already gone`);
          return counts;
        }
        throw this.denied(err, 's3:ListBucketVersions', `bucket ${bucket}`);
      }
      const versions = (page.Versions ?? []).map(({ Key, VersionId }) => ({ Key, VersionId }));
      const markers = (page.DeleteMarkers ?? []).map(({ Key, VersionId }) => ({ Key, VersionId }));
      const all = [...versions, ...markers];
      for (let i = 0; i < all.length; i += BATCH) await this.deleteBatch(s3, bucket, all.slice(i, i + BATCH));
      counts.versions += versions.length;
      counts.markers += markers.length;
      if (all.length) this.log.notice(`stepcron: ${bucket}: ${counts.versions + counts.markers} deleted so far`);
      ({ NextKeyMarker: KeyMarker, NextVersionIdMarker: VersionIdMarker } = page);
      if (!page.IsTruncated) break;
    } while (KeyMarker || VersionIdMarker);
    this.log.notice(`stepcron: bucket ${bucket} emptied: ${counts.versions} object version(s) and ${counts.markers} delete marker(s) deleted`);
    return counts;
  }

  async deleteBatch(s3, bucket, objects) {
    let out;
    try {
      out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
    } catch (err) {
      throw this.denied(err, 's3:DeleteObjectVersion', `bucket ${bucket}`);
    }
    const first = out.Errors?.[0];
    if (!first) return;
    if (first.Code === 'AccessDenied') throw this.denied({ name: 'AccessDenied' }, 's3:DeleteObjectVersion', `bucket ${bucket}`);
    throw this.fail(`could not delete ${out.Errors.length} object(s) in bucket ${bucket} (first: ${first.Key}: ${first.Code} ${first.Message ?? ''}); run sls remove again`);
  }
}

module.exports = StepcronRemoveStage;
