import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';
import { ZXCVBN_SCORING } from '@infrastructure/security/zxcvbn/zxcvbn-scoring';
import { ZxcvbnStrengthEstimator } from '@infrastructure/security/zxcvbn/zxcvbn-strength-estimator';
import { MIN_STRENGTH_SCORE } from '@application/password/password-policy';

/**
 * The estimator scores a 16-character prefix first and stops there at the top score. Its verdict (score >= 3 or
 * not) must be the one the full 64-character scoring gives: checked against zxcvbn itself on passphrases, random
 * strings, keyboard walks, l33t and repeats, short and long, with and without the owner's words.
 */
const { maxScoredLength, quickScoredLength, l33tMaxSubstitutions } = ZXCVBN_SCORING;
const full = new ZxcvbnFactory({
  graphs: common.adjacencyGraphs,
  dictionary: { ...common.dictionary, ...english.dictionary },
  l33tMaxSubstitutions,
  maxLength: maxScoredLength,
});
const estimator = new ZxcvbnStrengthEstimator();
const INPUTS = ['ada.lovelace@example.com', 'ada.lovelace', 'ada'];

const PASSWORDS = [
  'bench password that is long enough',
  'correct horse battery staple',
  'a long and unusual passphrase 9 owls',
  'passwordpasswordpasswordpassword',
  'qwertyuiopasdfghjklzxcvbnm123456',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  '1234567890123456789012345678901234',
  'p4$$w0rdp4$$w0rdp4$$w0rdp4$$w0rd',
  'ada.lovelace-ada.lovelace-2026-ada',
  'iloveyouiloveyou!!iloveyou',
  'kX9#mP2$vL7!qR4@zT8&',
  'Tr0ub4dor&3-Tr0ub4dor&3',
  'abcdefghijklmnopqrstuvwxyz',
  'monkey monkey monkey monkey',
  'summer2024summer2024',
  'letmein-letmein-letmein',
  'Ünïcödé wörds ärë fïnë ïn pässwörds',
];

describe('ZxcvbnStrengthEstimator quick pass', () => {
  it.each(PASSWORDS)('gives the full scoring\'s verdict for %s', async (password) => {
    for (const inputs of [INPUTS, []]) {
      const expected = full.check([...password].slice(0, maxScoredLength).join(''), inputs).score;
      const { score } = await estimator.estimate(password, inputs);
      expect(score >= MIN_STRENGTH_SCORE).toBe(expected >= MIN_STRENGTH_SCORE);
      // A quick answer is the top score, and then so is the full one; otherwise the full score itself.
      expect(score).toBe(expected);
    }
  });

  it('covers passwords longer than the quick prefix', () => {
    expect(PASSWORDS.every((p) => [...p].length > quickScoredLength)).toBe(true);
  });
});
