import type { PasswordStrengthEstimator, StrengthEstimate } from '@application/ports/password-strength';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';
import { ZXCVBN_SCORING } from './zxcvbn-scoring';

export { MAX_SCORED_LENGTH } from './zxcvbn-scoring';

const { maxScoredLength, quickScoredLength, topScore, l33tMaxSubstitutions, commonPasswordsList } = ZXCVBN_SCORING;

/** Built once per process: loading the dictionaries takes about 200 ms; the result is immutable. */
let shared: { zxcvbn: ZxcvbnFactory; commonPasswords: ReadonlySet<string> } | undefined;

function load() {
  shared ??= {
    zxcvbn: new ZxcvbnFactory({
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...english.dictionary },
      l33tMaxSubstitutions,
      maxLength: maxScoredLength,
    }),
    commonPasswords: new Set(toStrings(common.dictionary[commonPasswordsList]).map((entry) => entry.toLowerCase())),
  };
  return shared;
}

/**
 * zxcvbn on the calling thread: each estimate blocks the event loop for 6-27 ms (200 ms more on first use).
 * The unit tests' estimator; the service uses ZxcvbnWorkerStrengthEstimator, which runs the same rules
 * (ZXCVBN_SCORING) in a worker thread.
 */
export class ZxcvbnStrengthEstimator implements PasswordStrengthEstimator {
  async estimate(password: string, userInputs: string[]): Promise<StrengthEstimate> {
    const { zxcvbn, commonPasswords } = load();
    const points = [...password];
    const inputs = userInputs.map((input) => input.slice(0, maxScoredLength));
    // The short prefix first: at the top score it answers for the whole (see ZXCVBN_SCORING).
    let score = zxcvbn.check(points.slice(0, quickScoredLength).join(''), inputs).score;
    if (score < topScore && points.length > quickScoredLength) score = zxcvbn.check(points.slice(0, maxScoredLength).join(''), inputs).score;
    return { score, common: commonPasswords.has(password.toLowerCase()) };
  }
}

function toStrings(list: unknown): string[] {
  return Array.isArray(list) ? list.map((entry) => String(entry)) : [];
}
