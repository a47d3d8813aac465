// Types of bin/cli-build.cjs, for the tests.
export const BUNDLE: string;
export interface Stamp {
  format: number;
  hash: string;
  /** module name -> [offset after the stamp line, length, line] */
  segments: Record<string, [number, number, number]>;
  /** [path relative to the project, size, mtimeMs, ctimeMs] */
  files: Array<[string, number, number, number]>;
  /** [path relative to the project, mtimeMs] */
  dirs: Array<[string, number]>;
}
export interface Build {
  stamp: Stamp | undefined;
  id: string;
  segment(name: string): { code: string; line: number };
  close(): void;
}
export function readBuild(root: string): Build | undefined;
export function snapshot(root: string, files: string[], dirs: string[]): Pick<Stamp, 'files' | 'dirs'>;
export function staleReason(root: string, stamp: Stamp | undefined): string | undefined;
export function canBuild(root: string): boolean;
export function build(root: string): { file: string; bytes: number; inputs: number; stamped: number; hash: string };
export function loadBuild(root: string, build: Build, command: string): { main(argv: string[]): Promise<number> };
