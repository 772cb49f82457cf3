import { createHash } from 'node:crypto';
import type { Clock } from '@application/ports/clock';
import type { OtpReplayGuard } from '@application/ports/otp-replay-guard';
import { OTP_REPLAY_TTL_SECONDS } from '../otp-replay-rules';

/** Used steps in process memory (embedded mode, and the per-process fallback while Redis is down). */
export class InMemoryOtpReplayGuard implements OtpReplayGuard {
  private readonly used = new Map<string, number>();
  private writes = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttlSeconds = OTP_REPLAY_TTL_SECONDS,
  ) {}

  async claim(userId: string, factor: string, step: number): Promise<boolean> {
    const now = this.clock.now().getTime();
    // Now and then drops every expired claim (bounded memory).
    if (++this.writes % 1000 === 0) for (const [key, forgetAt] of [...this.used]) if (forgetAt <= now) this.used.delete(key);
    const key = this.key(userId, factor, step);
    const forgetAt = this.used.get(key);
    if (forgetAt !== undefined && forgetAt > now) return false;
    this.used.set(key, now + this.ttlSeconds * 1000);
    return true;
  }

  async release(userId: string, factor: string, step: number): Promise<void> {
    this.used.delete(this.key(userId, factor, step));
  }

  /** The secret by a digest, as in Redis: a short key, and no sealed secret kept beside its user id. */
  private key(userId: string, factor: string, step: number): string {
    return `${userId}:${createHash('sha256').update(factor).digest('base64url').slice(0, 16)}:${step}`;
  }
}
