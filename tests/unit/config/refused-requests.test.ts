import { Registry } from 'prom-client';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { createClientErrorCounter, refusedRequestReporter } from '@config/refused-requests';
import type { RefusedRequest } from '@config/http-server';

const MALFORMED: RefusedRequest = { reason: 'malformed', status: 400, parserCode: 'HPE_INVALID_METHOD', remoteAddress: '::ffff:203.0.113.9', requestId: 'r-1' };

describe('refusedRequestReporter', () => {
  it('counts every refusal, logs at most N a window, then says how many went unlogged when the next window starts', async () => {
    const registry = new Registry();
    const counter = createClientErrorCounter(registry);
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    let now = 0;
    const report = refusedRequestReporter(logger, counter, { linesPerWindow: 3, windowMs: 1000, now: () => now });

    for (let i = 0; i < 7; i += 1) report(MALFORMED);
    report({ ...MALFORMED, reason: 'timeout', status: 408, parserCode: null });
    expect(lines.map((l) => l['msg'])).toEqual(Array(3).fill('request refused before the app'));
    expect(lines[0]).toEqual(expect.objectContaining({ level: 'info', status: 400, reason: 'malformed', parser_error: 'HPE_INVALID_METHOD', remote_address: '::ffff:203.0.113.9', request_id: 'r-1' }));

    now = 1000;
    report(MALFORMED);
    expect(lines.slice(3).map((l) => [l['msg'], l['unlogged']])).toEqual([
      ['requests refused before the app: more were not logged (see http_client_errors_total)', 5],
      ['request refused before the app', undefined],
    ]);

    const exposition = await registry.metrics();
    expect(exposition).toContain('http_client_errors_total{status="400",reason="malformed"} 8');
    expect(exposition).toContain('http_client_errors_total{status="408",reason="timeout"} 1');
    // A fixed set of series: six, whatever arrives.
    expect(exposition.split('\n').filter((l) => l.startsWith('http_client_errors_total{'))).toHaveLength(7);
  });
});
