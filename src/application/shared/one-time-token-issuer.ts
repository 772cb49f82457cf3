import type { OneTimeTokenPurpose } from '@domain/token/one-time-token';
import type { IdGenerator } from '../ports/id-generator';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { Repositories } from '../ports/unit-of-work';

/** 256 bits: above the 128 the contract asks of one-time tokens. */
const ONE_TIME_TOKEN_BYTES = 32;

export interface OneTimeTokenRequest {
  userId: string;
  purpose: OneTimeTokenPurpose;
  ttlSeconds: number;
  now: Date;
  /** Random bytes of the token (default 32). */
  tokenBytes?: number;
  /** false: earlier tokens of the purpose stay valid (each pending MFA login is its own). Default true. */
  replacePrevious?: boolean;
  /** true: the row is written spent (a link never mailed, where the same writes must be made as for one that is). */
  voided?: boolean;
}

/**
 * Creates a single-use, purpose-bound token for an emailed link: voids the user's earlier tokens of the same
 * purpose (a newer link replaces older ones), stores only the digest, and returns the raw token for the email.
 */
export async function issueOneTimeToken(
  repos: Repositories,
  opaque: OpaqueTokens,
  ids: IdGenerator,
  request: OneTimeTokenRequest,
): Promise<string> {
  const { token, hash } = opaque.create(request.tokenBytes ?? ONE_TIME_TOKEN_BYTES);
  if (request.replacePrevious !== false) await repos.oneTimeTokens.consumeAllFor(request.userId, request.purpose, request.now);
  await repos.oneTimeTokens.add({
    id: ids.newId(),
    userId: request.userId,
    purpose: request.purpose,
    tokenHash: hash,
    createdAt: request.now,
    expiresAt: new Date(request.now.getTime() + request.ttlSeconds * 1000),
    consumedAt: request.voided === true ? request.now : null,
  });
  return token;
}
