// Types of bin/cli-build.cjs, for the tests.
export const BUNDLE: string;
export interface Stamp {
  format: number;
  hash: string;
  /** [path relative to the project, size, mtimeMs, ctimeMs] */
  files: Array<[string, number, number, number]>;
  /** [path relative to the project, mtimeMs] */
  dirs: Array<[string, number]>;
}
export interface Build {
  code: string;
  stamp: Stamp | undefined;
  id: string;
}
export function readBuild(root: string): Build | undefined;
export function readStamp(code: string): Stamp | undefined;
export function snapshot(root: string, files: string[], dirs: string[]): Pick<Stamp, 'files' | 'dirs'>;
export function staleReason(root: string, stamp: Stamp | undefined): string | undefined;
export function canBuild(root: string): boolean;
export function build(root: string): { file: string; bytes: number; inputs: number; hash: string };
export function loadBundle(root: string, bundle: Build, command: string): { main(argv: string[]): Promise<number> };
