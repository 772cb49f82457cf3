import { trustedBy } from '@interface/http/middleware/client-ip';
import type { AppConfig } from './env';

/** Public addresses spread over each family's space: a list that trusts them all trusts everyone, in effect. */
const SPREAD_IPV4 = ['1.1.1.1', '8.8.8.8', '45.33.32.156', '93.184.216.34', '129.6.15.28', '151.101.1.69', '198.41.0.4', '223.5.5.5'];
const SPREAD_IPV6 = ['2001:4860:4860::8888', '2400:cb00:2048:1::c629:d7a2', '2606:4700:4700::1111', '2a00:1450:4001:81b::200e', '2c0f:fb50:4003::1'];

/**
 * What a configuration may do but an operator should hear about: logged as warnings at start-up, never refused
 * (refusing would stop deployments that protect the endpoint another way, e.g. a firewall or a proxy rule).
 */
export function startupWarnings(config: AppConfig): string[] {
  const warnings: string[] = [];
  // Outside review 2026-11-30: production ran with a public /metrics and said nothing.
  if (config.env === 'production' && config.metricsToken === null) {
    warnings.push(
      'METRICS_TOKEN is not set: GET /metrics is public (login outcomes, lockouts, the Node version); set METRICS_TOKEN or block /metrics at the proxy or ingress',
    );
  }
  // Every peer trusted: X-Forwarded-For is believed from anyone who reaches the port, so per-IP limits and audited
  // addresses can be chosen by the client. Right only where nothing but the proxy can reach the service. Judged by
  // what the list trusts, not how it is written: `::ffff:0:0/96` trusts every IPv4 peer, and so do `0.0.0.0/1` and
  // `128.0.0.0/1` together (an outside review, 2026-12-03, found the literal `/0` check missing them).
  const trusts = trustedBy(config.trustedProxies);
  const families = [
    { name: 'IPv4', spread: SPREAD_IPV4 },
    { name: 'IPv6', spread: SPREAD_IPV6 },
  ].filter(({ spread }) => spread.every(trusts));
  if (families.length > 0) {
    warnings.push(
      `TRUSTED_PROXIES (${config.trustedProxies.join(', ')}) trusts every ${families.map((f) => f.name).join(' and ')} address: X-Forwarded-For is believed from any client that reaches the service, so per-IP rate limits and audited addresses can be forged unless only the proxy can reach it; list the proxies' addresses instead`,
    );
  }
  const plaintextRelay = plaintextSmtpRelay(config);
  if (plaintextRelay !== null) {
    warnings.push(
      `SMTP_REQUIRE_TLS=false with SMTP_URL at ${plaintextRelay}, not this host: anyone on the path can strip STARTTLS and read the SMTP login and every reset, verification and invitation link; use smtps:// or leave SMTP_REQUIRE_TLS on unless the relay is on this host`,
    );
  }
  return warnings;
}

/**
 * The relay's host when production may send over `smtp://` without STARTTLS to another host (an outside review,
 * 2026-12-08: allowed, meant for a relay on the same host, but nothing said so when the relay was elsewhere); null
 * otherwise. Outside production TLS is opportunistic by default and nothing is said.
 */
function plaintextSmtpRelay(config: AppConfig): string | null {
  if (config.env !== 'production' || config.smtpUrl === null || config.smtpTls.requireTls) return null;
  const url = new URL(config.smtpUrl);
  if (url.protocol !== 'smtp:') return null;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  // An IPv4-mapped 127.x comes out of URL as `::ffff:7fxx:xxxx`.
  const loopback = host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host);
  return loopback ? null : url.hostname;
}
