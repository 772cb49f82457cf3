import { request } from 'node:http';
import { TrackedHttpServer } from '@config/http-server';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Sends a request and hangs up before any answer, as an impatient client does. */
function abandonRequest(port: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/slow' });
    req.on('error', () => undefined);
    req.end('{}', () => setTimeout(() => {
      req.destroy();
      resolve();
    }, 50));
  });
}

describe('TrackedHttpServer graceful stop', () => {
  it('waits for a handler whose client has gone before it resolves', async () => {
    const work = deferred();
    const started = deferred();
    const events: string[] = [];
    const server = new TrackedHttpServer(async (_req, res) => {
      started.resolve();
      await work.promise;
      events.push('handler finished');
      res.end();
    });
    const port = await server.listen(0, '127.0.0.1');
    await abandonRequest(port);
    await started.promise;
    expect(server.handling).toBe(1);

    const stopping = server.stop(5000).then(() => events.push('stopped'));
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toEqual([]);
    work.resolve();
    await stopping;
    expect(events).toEqual(['handler finished', 'stopped']);
    expect(server.handling).toBe(0);
  });

  it('gives up on handlers that outlive the grace period', async () => {
    const started = deferred();
    const server = new TrackedHttpServer(async () => {
      started.resolve();
      await new Promise(() => undefined);
    });
    const port = await server.listen(0, '127.0.0.1');
    void abandonRequest(port);
    await started.promise;
    const begun = Date.now();
    await server.stop(200);
    const took = Date.now() - begun;
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(2000);
  });
});
