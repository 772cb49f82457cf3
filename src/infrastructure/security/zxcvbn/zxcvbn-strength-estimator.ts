import type { PasswordStrengthEstimator, StrengthEstimate } from '@application/ports/password-strength';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';

/**
 * zxcvbn is synchronous and its cost grows with length (about 300 ms for 64 characters with the default l33t
 * search, measured here), so it scores a bounded prefix with a bounded l33t search: worst case about 25 ms.
 * Characters past the prefix only add strength; a prefix that is already strong enough passes.
 */
export const MAX_SCORED_LENGTH = 64;
const L33T_MAX_SUBSTITUTIONS = 4;

/** Built once per process: loading the dictionaries takes about 200 ms; the result is immutable. */
let shared: { zxcvbn: ZxcvbnFactory; commonPasswords: ReadonlySet<string> } | undefined;

function load() {
  shared ??= {
    zxcvbn: new ZxcvbnFactory({
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...english.dictionary },
      l33tMaxSubstitutions: L33T_MAX_SUBSTITUTIONS,
      maxLength: MAX_SCORED_LENGTH,
    }),
    commonPasswords: new Set(toStrings(common.dictionary['passwords-common']).map((entry) => entry.toLowerCase())),
  };
  return shared;
}

export class ZxcvbnStrengthEstimator implements PasswordStrengthEstimator {
  estimate(password: string, userInputs: string[]): StrengthEstimate {
    const { zxcvbn, commonPasswords } = load();
    const scored = [...password].slice(0, MAX_SCORED_LENGTH).join('');
    const result = zxcvbn.check(scored, userInputs.map((input) => input.slice(0, MAX_SCORED_LENGTH)));
    return { score: result.score, common: commonPasswords.has(password.toLowerCase()) };
  }
}

function toStrings(list: unknown): string[] {
  return Array.isArray(list) ? list.map((entry) => String(entry)) : [];
}
