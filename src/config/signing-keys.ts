import type { Logger } from 'pino';
import type { Clock } from '@application/ports/clock';
import type { SecretBox } from '@application/ports/secret-box';
import type { SigningKeyRepository, SigningKeyTransaction } from '@application/ports/signing-keys';
import { SigningKeyManager } from '@infrastructure/security/jose/signing-key-manager';
import { JWKS_MAX_AGE_SECONDS } from '@interface/http/routes/well-known.routes';
import { MAX_ACCESS_TOKEN_TTL_SECONDS, type AppConfig } from './env';

const KEY_RELOAD_INTERVAL_MS = 60_000;
/**
 * A key signs only once every verifier can hold it: the JWKS's cache lifetime (300 s) plus the instances' reload
 * interval, the same 360 s rotate-keys waits for. A changed JWT_ALG takes effect this long after its key is written.
 */
const KEY_PUBLICATION_WINDOW_SECONDS = JWKS_MAX_AGE_SECONDS + KEY_RELOAD_INTERVAL_MS / 1000;

export interface SigningKeyParts {
  store: SigningKeyRepository;
  /** Where rotations and withdrawals write, with their audit entry (SigningKeyManagerOptions.transact). */
  transact: SigningKeyTransaction;
  secretBox: SecretBox;
  clock: Clock;
  /** See InfrastructureOverrides.signingKeys. */
  mode: 'manage' | 'follow';
}

/**
 * The signing keys, loaded (and in `manage` mode made sure of), and reloaded every minute: other instances may
 * rotate keys, and their changes are picked up well within the JWKS cache lifetime (300 s). In `manage` mode the
 * reload also completes a JWT_ALG change once its key has been published for the window. Rejects when a stored key
 * does not open (another ENCRYPTION_KEY); nothing is left running then.
 */
export async function startSigningKeys(config: AppConfig, logger: Logger, parts: SigningKeyParts): Promise<{ keys: SigningKeyManager; stopRefresh(): void }> {
  const keys = new SigningKeyManager(parts.store, parts.secretBox, parts.clock, {
    alg: config.jwt.alg,
    accessTokenTtlSeconds: config.jwt.accessTokenTtlSeconds,
    maxAccessTokenTtlSeconds: MAX_ACCESS_TOKEN_TTL_SECONDS,
    reloadIntervalSeconds: KEY_RELOAD_INTERVAL_MS / 1000,
    publicationWindowSeconds: KEY_PUBLICATION_WINDOW_SECONDS,
    mode: parts.mode,
    transact: parts.transact,
    onRejectedKey: (kid, reason) => logger.error({ kid, reason }, 'a stored signing key fails its checks: not published, not trusted'),
    onAlgorithmChange: ({ from, to, kid, pending, effectiveAt }) => {
      if (pending) {
        logger.warn(
          { from, to, kid, effectiveAt: effectiveAt.toISOString() },
          `JWT_ALG is ${to} but the active signing key is ${from}: the ${from} key keeps signing until the new ${to} key has been in the JWKS for ${KEY_PUBLICATION_WINDOW_SECONDS} s; the change takes effect at about ${effectiveAt.toISOString()}`,
        );
      } else {
        logger.info({ from, to, kid }, `signing algorithm changed from ${from} to ${to}: the published ${to} key signs from now on`);
      }
    },
  });
  await keys.start();
  const refresh = setInterval(() => {
    keys.refresh().catch((error: unknown) => logger.warn({ err: error }, 'signing key reload failed'));
  }, KEY_RELOAD_INTERVAL_MS);
  refresh.unref();
  return { keys, stopRefresh: () => clearInterval(refresh) };
}
