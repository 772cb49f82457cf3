import type { StrengthEstimate } from '@application/ports/password-strength';
import type { ZxcvbnScoring } from './zxcvbn-scoring';

/** What the worker is started with: absolute module paths resolved by the parent, and the scoring rules. */
export interface ZxcvbnWorkerData {
  modules: { core: string; common: string; english: string };
  scoring: ZxcvbnScoring;
}

export interface ZxcvbnWorkerRequest {
  id: number;
  password: string;
  userInputs: string[];
}

/** One reply per request, matched by id: the estimate, or why this one estimate failed. */
export type ZxcvbnWorkerReply = ({ id: number } & StrengthEstimate) | { id: number; error: string };

/**
 * The worker's code: plain CommonJS evaluated by Node (not compiled, and outside Jest's module sandbox, so it
 * runs from src/ and dist/ alike). The same rules as ZxcvbnStrengthEstimator, from the same ZXCVBN_SCORING;
 * a test compares the two. Dictionaries load once, when the worker starts; requests queue on its port and
 * run one at a time. A failure never echoes the password.
 */
export const ZXCVBN_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { ZxcvbnFactory } = require(workerData.modules.core);
const common = require(workerData.modules.common);
const english = require(workerData.modules.english);
const { maxScoredLength, quickScoredLength, topScore, l33tMaxSubstitutions, commonPasswordsList } = workerData.scoring;

const zxcvbn = new ZxcvbnFactory({
  graphs: common.adjacencyGraphs,
  dictionary: { ...common.dictionary, ...english.dictionary },
  l33tMaxSubstitutions,
  maxLength: maxScoredLength,
});
const list = common.dictionary[commonPasswordsList];
const commonPasswords = new Set((Array.isArray(list) ? list : []).map((entry) => String(entry).toLowerCase()));

parentPort.on('message', ({ id, password, userInputs }) => {
  try {
    const points = [...password];
    const inputs = userInputs.map((input) => input.slice(0, maxScoredLength));
    let score = zxcvbn.check(points.slice(0, quickScoredLength).join(''), inputs).score;
    if (score < topScore && points.length > quickScoredLength) score = zxcvbn.check(points.slice(0, maxScoredLength).join(''), inputs).score;
    parentPort.postMessage({ id, score, common: commonPasswords.has(password.toLowerCase()) });
  } catch (error) {
    const message = String((error && error.message) || error);
    parentPort.postMessage({ id, error: message.includes(password) ? 'estimate failed (message withheld)' : message });
  }
});
`;
