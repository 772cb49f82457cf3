import { createHash, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';

/**
 * What GET /metrics serves: this instance's registry in the Prometheus text format, optionally behind a bearer
 * secret (METRICS_TOKEN). Without one the endpoint is public and must be firewalled (docs: metrics).
 */
export class MetricsEndpoint {
  private readonly tokenDigest: Buffer | null;

  constructor(
    private readonly registry: Registry,
    token: string | null,
    /** Where the text comes from: this registry, or (WORKERS>1) every worker's, summed by the cluster primary. */
    private readonly source: () => Promise<string> = () => registry.metrics(),
  ) {
    this.tokenDigest = token === null ? null : digest(token);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  scrape(): Promise<string> {
    return this.source();
  }

  /** Whether the Authorization header carries the configured secret; always true when none is configured. */
  admits(authorization: string): boolean {
    if (this.tokenDigest === null) return true;
    const presented = /^Bearer +(\S+) *$/i.exec(authorization)?.[1];
    // Digests have one length whatever was sent, so the comparison leaks neither the length nor a prefix.
    return presented !== undefined && timingSafeEqual(digest(presented), this.tokenDigest);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
