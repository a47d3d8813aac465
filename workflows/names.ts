// Names people type: the closest known one, for "did you mean", and stage names checked before they reach AWS
// resource names. Pure, no dependencies: the CLI loads it for argument checks without the catalog parser.

/**
 * Edit distance with adjacent transpositions (optimal string alignment), case-insensitive: `timeoutSecond` ->
 * `timeoutSeconds` is 1, `Berln` -> `Berlin` 1, `scheudle` -> `schedule` 1.
 */
export function editDistance(a: string, b: string): number {
  const [s, t] = [a.toLowerCase(), b.toLowerCase()];
  // Three rows: the transposition looks two back.
  let before = new Array<number>(t.length + 1).fill(0);
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    [before, previous] = [previous, row];
  }
  return previous[t.length]!;
}

/**
 * The candidate a typo most likely meant: within 1 edit for names up to 4 characters, 2 up to 11, 3 beyond (a
 * larger allowance suggests unrelated names); else the only candidate that starts with it. Undefined when none fits.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const allowed = word.length <= 4 ? 1 : word.length <= 11 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) > allowed) continue;
    const d = editDistance(word, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  if (best !== undefined || word.length < 4) return best;
  // A field written short (`timeout` for timeoutSeconds): the one known name it begins, if only one.
  const longer = [...candidates].filter((c) => c.toLowerCase().startsWith(word.toLowerCase()));
  return longer.length === 1 ? longer[0] : undefined;
}

/**
 * The longest stage name: `stepcron-<stage>-precheck` (a Lambda function) and `stepcron-<stage>-warnings` (an IAM role
 * and a schedule group) must fit AWS's 64-character limit on those names.
 */
export const MAX_STAGE_LENGTH = 64 - 'stepcron--precheck'.length; // 'stepcron': SERVICE in catalog.ts

/**
 * Why a stage name cannot be used, or undefined. The stage is part of the stack (`stepcron-<stage>`; CloudFormation
 * allows letters, digits and '-'), the state machines, roles, the claims table and the topic; lowercase keeps it valid
 * wherever an S3-style name is built from it, and keeps `Prod` and `prod` from being two stages that collide.
 */
export function stageProblem(stage: string): string | undefined {
  if (/^[a-z][a-z0-9-]*$/.test(stage) && !stage.endsWith('-') && stage.length <= MAX_STAGE_LENGTH) return undefined;
  const why = "stage names are part of AWS resource names (the stack stepcron-<stage>, its state machines, roles and table)";
  if (stage.length > MAX_STAGE_LENGTH) {
    return `'${stage}' is ${stage.length} characters: ${why}, which allow at most ${MAX_STAGE_LENGTH} for the stage: shorten it`;
  }
  const fixed = stage.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+|-+$/g, '');
  return `'${stage}' is not a valid stage name: ${why}, so use lowercase letters, digits and '-', starting with a letter` +
    (fixed ? ` (e.g. ${fixed})` : '');
}
