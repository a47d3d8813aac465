// Distributed Map, locally. aws-local-stepfunctions runs every Map inline from ItemsPath (no ItemReader, no child
// executions), so for a DISTRIBUTED Map the runner does what Step Functions does: the Map state becomes a Task the
// runner serves, which reads the items (the state's ItemsPath, or the ItemReader's object from the local S3 folder),
// runs each item's ItemSelector and ItemProcessor as a child execution of its own (own history, own limits), at most
// MaxConcurrency at once, fails the map run past ToleratedFailurePercentage, writes the ResultWriter files as AWS lays
// them out, and keeps the map run for ListMapRuns and DescribeMapRun. The states each item runs are the deployed ones.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { jsonDepth, LOCAL_DEPTH_LIMIT, localDepthProblem } from '../workflows/limits';

/** The Task resource a DISTRIBUTED Map is served under locally (never deployed). */
export const LOCAL_DISTRIBUTED_MAP = 'arn:aws:states:::stepcron:localDistributedMap';

type Json = Record<string, unknown>;
type StatesMap = Record<string, Json>;

interface MapState {
  ItemsPath?: string;
  ItemReader?: { Resource: string; ReaderConfig?: { InputType?: string; CSVHeaderLocation?: string; MaxItems?: number }; Parameters?: Json };
  ItemSelector?: Json;
  ItemProcessor: { StartAt: string; States: StatesMap };
  MaxConcurrency?: number;
  ToleratedFailurePercentage?: number;
  ToleratedFailureCount?: number;
  ResultWriter?: { Resource: string; Parameters?: Json };
}

/** The definition with each DISTRIBUTED Map (top level) served by the runner; the maps by state name. */
export function extractDistributedMaps<D extends { States: StatesMap }>(definition: D): { definition: D; maps: Map<string, MapState> } {
  const maps = new Map<string, MapState>();
  const states: StatesMap = {};
  for (const [name, state] of Object.entries(definition.States)) {
    const processor = state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined;
    if (state.Type !== 'Map' || processor?.ProcessorConfig?.Mode !== 'DISTRIBUTED') {
      states[name] = state;
      continue;
    }
    const map = state as unknown as MapState & Json;
    for (const unsupported of ['ItemBatcher', 'MaxConcurrencyPath', 'ToleratedFailurePercentagePath', 'ToleratedFailureCountPath', 'Label']) {
      if (unsupported in map) throw new Error(`${name}: the local runner does not run a Distributed Map with ${unsupported}`);
    }
    maps.set(name, map);
    // The engine evaluates what the Map's fields would: its items (or the reader's and writer's parameters) from the
    // state's input; the runner does the rest. Input/output processing, Catch and Retry stay the Map's own.
    const { ItemsPath, ItemReader, ItemSelector, ItemProcessor, MaxConcurrency, ToleratedFailurePercentage,
      ToleratedFailureCount, ResultWriter, Type, ...rest } = map;
    states[name] = {
      ...rest,
      Type: 'Task',
      Resource: LOCAL_DISTRIBUTED_MAP,
      Parameters: {
        'input.$': '$',
        ...(ItemReader ? { reader: ItemReader.Parameters ?? {} } : { 'items.$': ItemsPath ?? '$' }),
        ...(ResultWriter && { writer: ResultWriter.Parameters ?? {} }),
      },
    };
  }
  return { definition: { ...definition, States: states }, maps };
}

/** `s3://bucket/key` as files under a folder: `<dir>/<bucket>/<key>`. */
export class LocalS3 {
  constructor(readonly dir: string) {}

  path(bucket: string, key: string): string {
    const file = resolve(this.dir, bucket, key);
    if (!file.startsWith(resolve(this.dir) + sep)) throw new Error(`s3://${bucket}/${key}: the key leaves the local S3 folder`);
    return file;
  }

  read(bucket: string, key: string): string {
    return readFileSync(this.path(bucket, key), 'utf8');
  }

  write(bucket: string, key: string, body: string): number {
    const file = this.path(bucket, key);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, body);
    return Buffer.byteLength(body);
  }
}

/** A map-run error: the name Step Functions reports, so the Map's Catch matches it as on AWS. */
export class MapRunError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** Items of an S3 object as ItemReader reads them: a JSON array, JSON Lines, or CSV rows as objects of strings. */
export function parseItems(text: string, inputType: string, csvHeaderLocation = 'FIRST_ROW'): unknown[] {
  switch (inputType) {
    case 'JSON': {
      const value = JSON.parse(text);
      if (!Array.isArray(value)) throw new Error('the JSON object is not an array of items');
      return value;
    }
    case 'JSONL':
      return text.split('\n').map((line, i) => [line.trim(), i + 1] as const).filter(([line]) => line !== '').map(([line, n]) => {
        try {
          return JSON.parse(line);
        } catch {
          throw new Error(`line ${n} is not JSON`);
        }
      });
    case 'CSV': {
      if (csvHeaderLocation !== 'FIRST_ROW') throw new Error(`CSVHeaderLocation ${csvHeaderLocation} is not run locally (use FIRST_ROW)`);
      const [header, ...rows] = parseCsv(text);
      if (!header) return [];
      return rows.map((row, i) => {
        if (row.length !== header.length) throw new Error(`row ${i + 2} has ${row.length} fields; the header has ${header.length}`);
        return Object.fromEntries(header.map((name, j) => [name, row[j]!]));
      });
    }
    default:
      throw new Error(`InputType ${inputType} is not run locally (JSON, JSONL and CSV are)`);
  }
}

/** RFC 4180: quoted fields with "" for a quote, commas and line breaks inside quotes; blank lines skipped. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    if (row.length > 1 || row[0] !== '') rows.push(row);
    row = [];
    field = '';
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') endRow();
    else if (c !== '\r') field += c;
    i++;
  }
  if (quoted) throw new Error('a quoted field is not closed');
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

export type ChildStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ChildExecution {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  startTime: Date;
}

export interface ChildResult { status: ChildStatus; output?: unknown; error?: string; cause?: string }

export interface MapRunCounts {
  Pending: number; Running: number; Succeeded: number; Failed: number; TimedOut: number; Aborted: number;
  Total: number; ResultsWritten: number;
}

export interface MapRun {
  mapRunArn: string;
  executionArn: string;
  stateMachineArn: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startDate: Date;
  stopDate?: Date;
  maxConcurrency: number;
  toleratedFailurePercentage: number;
  toleratedFailureCount: number;
  itemCounts: MapRunCounts;
}

export interface MapRunContext {
  /** The parent execution. */
  executionArn: string;
  stateMachineArn: string;
  s3: LocalS3;
  /** Runs one child execution of `definition` (the engine, with its limits) and reports how it ended. */
  runChild(definition: { StartAt: string; States: StatesMap }, input: unknown, execution: ChildExecution,
    context: Json, signal: AbortSignal): Promise<ChildResult>;
  /** Each item as it starts and ends (progress, summary). */
  onItem?(event: { index: number; phase: 'started' | 'ended'; status?: ChildStatus; error?: string; cause?: string }): void;
  signal?: AbortSignal;
}

/** ResultWriter files are split like AWS's (AWS splits at 5 GB; locally a smaller bound keeps each file readable). */
const RESULTS_PER_FILE = 10_000;

/**
 * Runs one Distributed Map: `params` is what the engine evaluated from the state's input (see extractDistributedMaps).
 * Returns the Map's output (the ResultWriter manifest's location, or the children's outputs in item order); throws
 * MapRunError as Step Functions fails a map run.
 */
export async function runDistributedMap(state: MapState, params: { input: unknown; items?: unknown; reader?: { Bucket?: string; Key?: string }; writer?: { Bucket?: string; Prefix?: string } },
  context: MapRunContext, record: (run: MapRun) => void): Promise<unknown> {
  const items = readItems(state, params, context.s3);
  const total = items.length;
  const label = randomUUID();
  const machine = context.stateMachineArn.slice(context.stateMachineArn.lastIndexOf(':') + 1);
  const prefix = context.stateMachineArn.slice(0, context.stateMachineArn.lastIndexOf(':stateMachine:'));
  const run: MapRun = {
    mapRunArn: `${prefix}:mapRun:${machine}/${label}:${randomUUID()}`,
    executionArn: context.executionArn,
    stateMachineArn: context.stateMachineArn,
    status: 'RUNNING',
    startDate: new Date(),
    maxConcurrency: state.MaxConcurrency ?? 0,
    toleratedFailurePercentage: state.ToleratedFailurePercentage ?? 0,
    toleratedFailureCount: state.ToleratedFailureCount ?? 0,
    itemCounts: { Pending: total, Running: 0, Succeeded: 0, Failed: 0, TimedOut: 0, Aborted: 0, Total: total, ResultsWritten: 0 },
  };
  record(run);

  const childDefinition = state.ItemSelector
    ? { StartAt: '__ItemSelector', States: { __ItemSelector: { Type: 'Pass', Parameters: state.ItemSelector, Next: state.ItemProcessor.StartAt }, ...state.ItemProcessor.States } }
    : { StartAt: state.ItemProcessor.StartAt, States: state.ItemProcessor.States };
  // How many failed items are tolerated: none by default; with both fields, the lower (either one exceeded fails).
  const byPercent = state.ToleratedFailurePercentage === undefined ? undefined : Math.floor((total * state.ToleratedFailurePercentage) / 100);
  const byCount = state.ToleratedFailureCount;
  const tolerated = byPercent === undefined && byCount === undefined ? 0
    : Math.min(byPercent ?? Number.POSITIVE_INFINITY, byCount ?? Number.POSITIVE_INFINITY);
  const childInput = withoutItems(state, params.input);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  context.signal?.addEventListener('abort', onAbort, { once: true });
  const results: Array<{ execution: ChildExecution; input: unknown; stopDate: Date; result: ChildResult } | undefined> = new Array(total);
  let thresholdExceeded = false;
  let next = 0;
  const counts = run.itemCounts;

  const worker = async () => {
    while (next < total && !stop.signal.aborted) {
      const index = next++;
      const name = randomUUID();
      const execution: ChildExecution = {
        executionArn: `${prefix}:execution:${machine}/${label}:${name}`,
        name,
        stateMachineArn: `${context.stateMachineArn}/${label}`,
        startTime: new Date(),
      };
      counts.Pending--;
      counts.Running++;
      context.onItem?.({ index, phase: 'started' });
      // Without an ItemSelector a child starts from its item, as on AWS; with one, from the Map's input it reads.
      const input = state.ItemSelector ? childInput : items[index];
      const result = await context.runChild(childDefinition, input, execution, { Map: { Item: { Index: index, Value: items[index] } } }, stop.signal)
        .catch((err: Error): ChildResult => ({ status: 'FAILED', error: err.name || 'States.Runtime', cause: err.message }));
      counts.Running--;
      counts[({ SUCCEEDED: 'Succeeded', FAILED: 'Failed', TIMED_OUT: 'TimedOut', ABORTED: 'Aborted' } as const)[result.status]]++;
      results[index] = { execution, input: items[index], stopDate: new Date(), result };
      context.onItem?.({ index, phase: 'ended', status: result.status, ...(result.error !== undefined && { error: result.error }), ...(result.cause !== undefined && { cause: result.cause }) });
      // Step Functions fails the map run as soon as more items failed (or timed out) than it tolerates.
      if (counts.Failed + counts.TimedOut > tolerated && !thresholdExceeded) {
        thresholdExceeded = true;
        stop.abort();
      }
    }
  };
  const width = Math.min(total, state.MaxConcurrency && state.MaxConcurrency > 0 ? state.MaxConcurrency : 10_000);
  try {
    await Promise.all(Array.from({ length: width }, worker));
  } finally {
    context.signal?.removeEventListener('abort', onAbort);
  }
  run.stopDate = new Date();
  run.status = context.signal?.aborted ? 'ABORTED' : thresholdExceeded ? 'FAILED' : 'SUCCEEDED';

  let output: unknown;
  if (state.ResultWriter) {
    output = writeResults(params.writer ?? {}, run, results, context.s3);
  } else {
    output = results.map((r) => r?.result.output ?? null);
  }
  if (context.signal?.aborted) throw new MapRunError('States.Runtime', 'the execution was aborted');
  if (thresholdExceeded) {
    throw new MapRunError('States.ExceedToleratedFailureThreshold',
      `The specified tolerated failure threshold was exceeded: ${counts.Failed + counts.TimedOut} of ${total} items failed (${tolerated} tolerated)`);
  }
  return output;
}

/**
 * What each child execution starts from: the Map's input, which its ItemSelector reads. A list of items (ItemsPath
 * `$.<field>`) rides in that input, and every child's engine would copy all of it again (10,000 children, 10,000 copies
 * of the list); when the selector's paths provably read other top-level fields only (each `$` starts `$.<name>`,
 * `$$` being the context object), the list is left out. Anything else keeps the input whole.
 */
function withoutItems(state: MapState, input: unknown): unknown {
  const field = /^\$\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(state.ItemsPath ?? '')?.[1];
  if (!field || !state.ItemSelector || typeof input !== 'object' || input === null || Array.isArray(input) || !(field in input)) return input;
  const paths: unknown[] = [];
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(collect);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key.endsWith('.$')) paths.push(value);
        else collect(value);
      }
    }
  };
  collect(state.ItemSelector);
  for (const path of paths) {
    if (typeof path !== 'string') return input;
    for (const match of path.matchAll(/\$+/g)) {
      if (match[0].length > 1) continue;
      const name = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(path.slice(match.index + 1))?.[1];
      if (name === undefined || name === field) return input;
    }
  }
  const { [field]: _items, ...rest } = input as Json;
  return rest;
}

function readItems(state: MapState, params: { items?: unknown; reader?: { Bucket?: string; Key?: string } }, s3: LocalS3): unknown[] {
  if (!state.ItemReader) {
    if (!Array.isArray(params.items)) throw new MapRunError('States.Runtime', `ItemsPath ${state.ItemsPath ?? '$'} is not an array`);
    return params.items;
  }
  const { Bucket, Key } = params.reader ?? {};
  if (!Bucket || !Key) throw new MapRunError('States.ItemReaderFailed', 'the ItemReader needs Bucket and Key');
  let text: string;
  try {
    text = s3.read(Bucket, Key);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'NoSuchKey' : (err as Error).message;
    throw new MapRunError('States.ItemReaderFailed',
      `${code}: s3://${Bucket}/${Key} (locally ${s3.path(Bucket, Key)}): put the items there, or point --s3-dir at the folder that has them`);
  }
  try {
    const items = parseItems(text, state.ItemReader.ReaderConfig?.InputType ?? 'JSON', state.ItemReader.ReaderConfig?.CSVHeaderLocation);
    const max = state.ItemReader.ReaderConfig?.MaxItems;
    const read = max ? items.slice(0, max) : items;
    // The run input's depth was checked at its start; an S3 object's items only now (workflows/limits.ts).
    if (jsonDepth(read, LOCAL_DEPTH_LIMIT + 1) > LOCAL_DEPTH_LIMIT + 1) {
      const index = read.findIndex((item) => localDepthProblem(item, 'item'));
      throw new Error(localDepthProblem(read[index], `item ${index}`));
    }
    return read;
  } catch (err) {
    throw new MapRunError('States.ItemReaderFailed', `s3://${Bucket}/${Key}: ${(err as Error).message}`);
  }
}

/** SUCCEEDED_n.json / FAILED_n.json / PENDING_n.json and manifest.json under <Prefix>/<map run id>/, as AWS writes them. */
function writeResults(writer: { Bucket?: string; Prefix?: string }, run: MapRun,
  results: Array<{ execution: ChildExecution; input: unknown; stopDate: Date; result: ChildResult } | undefined>, s3: LocalS3): unknown {
  const bucket = writer.Bucket;
  if (!bucket) throw new MapRunError('States.ResultWriterFailed', 'the ResultWriter needs a Bucket');
  const dir = [writer.Prefix?.replace(/\/+$/, ''), run.mapRunArn.slice(run.mapRunArn.lastIndexOf(':') + 1)].filter(Boolean).join('/');
  const groups: Record<'SUCCEEDED' | 'FAILED' | 'PENDING', unknown[]> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
  for (const r of results) {
    if (!r) {
      groups.PENDING.push({});
      continue;
    }
    const entry = {
      ExecutionArn: r.execution.executionArn,
      Input: JSON.stringify(r.input),
      Name: r.execution.name,
      StartDate: r.execution.startTime.toISOString(),
      StateMachineArn: r.execution.stateMachineArn,
      Status: r.result.status,
      StopDate: r.stopDate.toISOString(),
      ...(r.result.status === 'SUCCEEDED' ? { Output: JSON.stringify(r.result.output ?? null) } : { Error: r.result.error, Cause: r.result.cause }),
    };
    groups[r.result.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED'].push(entry);
  }
  const files: Record<string, Array<{ Key: string; Size: number }>> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
  try {
    for (const [status, entries] of Object.entries(groups)) {
      for (let part = 0; part * RESULTS_PER_FILE < entries.length; part++) {
        const key = `${dir}/${status}_${part}.json`;
        const size = s3.write(bucket, key, JSON.stringify(entries.slice(part * RESULTS_PER_FILE, (part + 1) * RESULTS_PER_FILE)));
        files[status]!.push({ Key: key, Size: size });
      }
    }
    const manifestKey = `${dir}/manifest.json`;
    s3.write(bucket, manifestKey, JSON.stringify({ DestinationBucket: bucket, MapRunArn: run.mapRunArn, ResultFiles: files }));
    run.itemCounts.ResultsWritten = groups.SUCCEEDED.length + groups.FAILED.length;
    return { MapRunArn: run.mapRunArn, ResultWriterDetails: { Bucket: bucket, Key: manifestKey } };
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    const why = code === 'ENOSPC' || code === 'EDQUOT' ? resultsDiskFull(s3, bucket, dir) : (err as Error).message;
    throw new MapRunError('States.ResultWriterFailed', `s3://${bucket}/${dir}: ${why}`);
  }
}

/** The local S3 folder's disk is full: where, and what to do (as AWS, the run fails: its results are not all written). */
function resultsDiskFull(s3: LocalS3, bucket: string, dir: string): string {
  const local = s3.path(bucket, dir);
  let free = '';
  try {
    const fs = statfsSync(resolve(s3.dir));
    free = `, ${Math.floor((fs.bavail * fs.bsize) / 1024)} KiB free`;
  } catch {
    // Only the figure is missing.
  }
  return `disk full: cannot write the fan-out's results there (locally ${local}${free}): free space on the disk that holds ` +
    `${resolve(s3.dir)}, or point --s3-dir at a folder on a disk with room, then run the job again`;
}

/** DescribeMapRun's answer (the fields the definitions read, in the SDK's shape). */
export function describeMapRun(run: MapRun): Json {
  return {
    MapRunArn: run.mapRunArn,
    ExecutionArn: run.executionArn,
    Status: run.status,
    StartDate: run.startDate.toISOString(),
    ...(run.stopDate && { StopDate: run.stopDate.toISOString() }),
    MaxConcurrency: run.maxConcurrency,
    ToleratedFailurePercentage: run.toleratedFailurePercentage,
    ToleratedFailureCount: run.toleratedFailureCount,
    ItemCounts: run.itemCounts,
    ExecutionCounts: run.itemCounts,
  };
}

