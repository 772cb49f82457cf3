import { inject, injectable } from 'inversify';
import { Session, type SessionLifetimes } from '@domain/session/session';
import type { TokenPair } from '@domain/session/token-pair';
import type { User } from '@domain/user/user';
import { sessionLifetimes, type AuthSettings } from '../shared/auth-settings';
import type { TokenSigner } from '../ports/access-tokens';
import type { IdGenerator } from '../ports/id-generator';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import { SEALED, type SecretBox } from '../ports/secret-box';
import type { Repositories } from '../ports/unit-of-work';
import type { ClientContext } from '../shared/client-context';
import { PORTS } from '../ports/tokens';
import { SessionLimit } from './session-limit';

/** 256 bits from a CSPRNG (CONTRACT §4). */
export const REFRESH_TOKEN_BYTES = 32;

/** Starts sessions and mints their tokens; shared by every use case that logs a user in or refreshes. */
@injectable()
export class SessionIssuer {
  constructor(
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.SecretBox) private readonly box: SecretBox,
    @inject(PORTS.TokenSigner) private readonly signer: TokenSigner,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(SessionLimit) private readonly limit: SessionLimit,
  ) {}

  get lifetimes(): SessionLifetimes {
    return sessionLifetimes(this.settings);
  }

  /** Creates and saves a session for `user`; the caller saves the user (its login event) in the same unit of work. */
  async start(repos: Repositories, user: User, amr: string[], client: ClientContext, now: Date) {
    const refresh = this.opaque.create(REFRESH_TOKEN_BYTES);
    const id = this.ids.newId();
    const session = Session.start(
      {
        id,
        userId: user.id,
        refreshTokenHash: refresh.hash,
        // Nothing to replay before the first rotation (a replay is of the token a rotation replaced): an empty value,
        // sealed so that reseal and key rotation treat every row alike.
        sealedRefreshToken: this.box.seal('', SEALED.refreshToken(id)),
        amr,
        ip: client.ip,
        userAgent: client.userAgent,
      },
      now,
      this.lifetimes,
    );
    await repos.sessions.add(session);
    this.limit.afterStart(repos, user.id);
    return { session, tokens: await this.pair(user, session, refresh.token) };
  }

  /**
   * Gives the session a new refresh token; `presented`, the one it replaces, becomes `previous` (grace window), then
   * retired. The new token is kept for a replay inside the grace window sealed under `presented` as well as
   * ENCRYPTION_KEY: until stop 62 it was sealed under ENCRYPTION_KEY alone, so a copy of the database with the key
   * (in embedded mode one backup of DATA_DIR holds both) opened every live session's refresh token (a review).
   */
  rotate(session: Session, now: Date, presented: string): string {
    const refresh = this.opaque.create(REFRESH_TOKEN_BYTES);
    const context = SEALED.refreshToken(session.id);
    // A session begun before then holds `presented` under ENCRYPTION_KEY alone: anyone with a copy of the database
    // from then and the key would have it, and so, in later copies (a WAL archive), every token sealed under it after.
    // Its first rotation here keeps nothing to replay (a replay of `presented` inside the grace window is refused,
    // once), which ends that chain (a review of stop 62).
    const sealedRefreshToken = this.box.opensAlone(session.sealedRefreshToken, context)
      ? this.box.seal('', context)
      : this.box.sealUnder(refresh.token, context, presented);
    session.rotate({ refreshTokenHash: refresh.hash, sealedRefreshToken }, now, this.lifetimes);
    return refresh.token;
  }

  /**
   * The current refresh token of a session, for a concurrent refresh inside the grace window presenting `previous`;
   * null when none was kept (the first rotation of a session begun before stop 62: see rotate): the replay is refused.
   */
  currentRefreshToken(session: Session, previous: string): string | null {
    const token = this.box.openUnder(session.sealedRefreshToken, SEALED.refreshToken(session.id), previous);
    return token === '' ? null : token;
  }

  /**
   * The access token expires with its session at the latest (an outside review, 2026-12-03: with
   * SESSION_MAX_LIFETIME=1m a token said `expires_in: 900`, and services verifying offline would have accepted it
   * 14 minutes after its session had ended; by default, a token issued in a 90-day session's last 15 minutes).
   */
  async pair(user: User, session: Session, refreshToken: string): Promise<TokenPair> {
    const access = await this.signer.sign(
      {
        sub: user.id,
        sid: session.id,
        roles: [...user.roles],
        email_verified: user.emailVerified,
        amr: [...session.amr],
      },
      { notAfter: session.expiresAt },
    );
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      accessTokenExpiresIn: access.expiresIn,
      refreshToken,
      refreshTokenExpiresAt: session.expiresAt,
    };
  }
}
