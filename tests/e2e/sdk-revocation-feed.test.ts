import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { brokerUser } from '@infrastructure/messaging/rabbitmq/broker-user';
import { queueNames } from '@infrastructure/messaging/rabbitmq/amqp-event-subscriptions';
import { createRevocationFeed, createTokenVerifier, type RevocationFeed, type TokenVerifierOptions } from '../../src/sdk';
import { NO_RATE_LIMITS, PASSWORD, signUp, startSecureApp, type TestApp } from '../support/app';
import { eventually } from '../support/events';
import {
  cleanupBroker,
  describeWhen,
  REAL_AMQP_URL,
  REAL_POSTGRES_SELECTED,
  REAL_RABBIT_SELECTED,
  REAL_REDIS_SELECTED,
  uniqueNames,
} from '../support/servers';
import { TcpProxy } from '../support/tcp-proxy';

const ROUNDS = 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Issue 11 item 7: the SDK's revocation feed on the real RabbitMQ, fed by the real service (servers mode: PostgreSQL,
 * Redis, its outbox relay publishing to a per-run exchange). Logout -> the offline verifier refuses the token, and
 * how long that takes. The feed reaches the broker through a TCP proxy the outage test cuts.
 */
describeWhen(REAL_POSTGRES_SELECTED && REAL_REDIS_SELECTED && REAL_RABBIT_SELECTED, 'the real PostgreSQL, Redis and RabbitMQ')(
  'SDK revocation feed against the service and RabbitMQ',
  () => {
    let t: TestApp;
    let feed: RevocationFeed;
    let proxy: TcpProxy;
    let jwksUrl: string;
    const { exchange, queuePrefix } = uniqueNames();

    beforeAll(async () => {
      t = await startSecureApp('servers', { ...NO_RATE_LIMITS, AMQP_URL: REAL_AMQP_URL, AMQP_EXCHANGE: exchange, AMQP_QUEUE_PREFIX: queuePrefix });
      await eventually(() => t.app.infra.events.broker() === 'up', 10_000, 'the service on the broker');
      jwksUrl = `http://127.0.0.1:${await t.app.listen()}/.well-known/jwks.json`;
      const target = new URL(REAL_AMQP_URL);
      proxy = new TcpProxy(target.hostname, Number(target.port || 5672));
      await proxy.start();
      feed = createRevocationFeed({ url: proxy.through(REAL_AMQP_URL), exchange, reconnect: { baseDelayMs: 50, maxDelayMs: 200 }, trustedPublishers: [brokerUser(REAL_AMQP_URL)] });
      await feed.ready();
    }, 60_000);

    afterAll(async () => {
      await feed?.close();
      await t?.stop();
      await proxy?.close();
      await cleanupBroker(exchange, Object.values(queueNames(queuePrefix, 'security-notices')));
    });

    const verifier = (options: Partial<TokenVerifierOptions> = {}) =>
      createTokenVerifier({
        issuer: 'https://auth.example.com',
        audience: 'example-api',
        jwksUrl,
        revocations: feed,
        now: () => t.clock.now().getTime(),
        ...options,
      });
    const login = async (email: string): Promise<string> => {
      const res = await t.http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
      return res.body.data.tokens.access_token as string;
    };
    const logout = (token: string) => t.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${token}`).send({ scope: 'local' }).expect(200);
    /** Polls the offline verifier (every ms) until it refuses; ms from `since` to the refusal. */
    const untilRefused = async (v: ReturnType<typeof verifier>, token: string, since: number, timeoutMs = 5000): Promise<number> => {
      for (;;) {
        const refused = await v.verify(token).then(
          () => null,
          (error: unknown) => error,
        );
        if (refused) {
          expect(refused).toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
          return performance.now() - since;
        }
        if (performance.now() - since > timeoutMs) throw new Error(`the verifier still accepts the token ${timeoutMs} ms after logout`);
        await sleep(1);
      }
    };

    it(`logout -> the offline verifier refuses the token; delay measured over ${ROUNDS} rounds, under 1 s`, async () => {
      const email = 'feed-logout@example.com';
      const { tokens } = await signUp(t, email);
      const v = verifier();
      await expect(v.verify(tokens.access_token)).resolves.toMatchObject({ tokenType: 'user' });
      const other = await login(email);

      const delays: number[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        const token = await login(email);
        await expect(v.verify(token)).resolves.toMatchObject({ tokenType: 'user' });
        await logout(token);
        delays.push(await untilRefused(v, token, performance.now()));
      }
      // Only the logged-out sessions: the user's other session still verifies offline.
      await expect(v.verify(other)).resolves.toMatchObject({ tokenType: 'user' });

      const sorted = [...delays].sort((a, b) => a - b);
      const pick = (p: number) => sorted[Math.ceil(p * sorted.length) - 1]!;
      console.log(
        `[revocation feed] logout response -> offline verifier refuses, ${ROUNDS} rounds: ` +
          `p50 ${pick(0.5).toFixed(1)} ms, p95 ${pick(0.95).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms, min ${sorted[0]!.toFixed(1)} ms`,
      );
      expect(sorted.at(-1)!).toBeLessThan(1000);
    }, 120_000);

    /** Outside review, 2026-12-05: anyone allowed to publish to the exchange could log any user out of the services. */
    it('an auth.session.revoked not published by auth-service (no user id) is dropped: the token stays valid offline', async () => {
      const email = 'feed-forged@example.com';
      const { tokens } = await signUp(t, email);
      const other = await login(email);
      const v = verifier();
      const { sessionId, subject } = await v.verify(tokens.access_token);
      const model = await connect(REAL_AMQP_URL);
      try {
        const channel = await model.createConfirmChannel();
        for (const type of ['auth.session.revoked', 'auth.user.deleted']) {
          const forged = {
            specversion: '1.0', id: randomUUID(), source: 'auth-service', type, subject,
            time: new Date(t.clock.now().getTime() + 1000).toISOString(), datacontenttype: 'application/json', data: { user_id: subject, session_id: sessionId },
          };
          channel.publish(exchange, type, Buffer.from(JSON.stringify(forged)), { persistent: true });
        }
        await channel.waitForConfirms();
      } finally {
        await model.close();
      }
      // The service's own revocation, published after the forged ones: once it is applied, they were read too.
      await logout(other);
      await untilRefused(v, other, performance.now());
      await expect(v.verify(tokens.access_token)).resolves.toMatchObject({ sessionId, subject });
    }, 60_000);

    it('account deletion: every token of the user is refused offline', async () => {
      const email = 'feed-delete@example.com';
      const { tokens } = await signUp(t, email);
      const second = await login(email);
      const v = verifier();
      await expect(v.verify(second)).resolves.toMatchObject({ tokenType: 'user' });
      await t.http.delete('/api/v1/users/me').set('Authorization', `Bearer ${tokens.access_token}`).send({ password: PASSWORD }).expect(200);
      const since = performance.now();
      await untilRefused(v, second, since);
      await untilRefused(v, tokens.access_token, since);
    }, 60_000);

    it('a broker outage: the feed reports unhealthy and reconnects; failClosedWhenDisconnected refuses meanwhile, and the tokens issued before it resumed after', async () => {
      const email = 'feed-outage@example.com';
      const { tokens } = await signUp(t, email);
      const revokedInOutage = await login(email);
      const lenient = verifier();
      // The feed's clock is this host's; the tokens' iat the app's (a manual clock): 1 s of skew allowed.
      const strict = verifier({ failClosedWhenDisconnected: true, clockTolerance: 1 });
      await expect(strict.verify(tokens.access_token)).resolves.toMatchObject({ tokenType: 'user' });
      expect(feed.resumedAt).toBe(0); // no outage since its first subscription

      proxy.cut();
      await eventually(() => !feed.healthy, 10_000, 'the feed to notice the outage');
      expect(feed.resumedAt).toBeNull();
      // Offline by default: still accepted (a revocation now would be missed until the token expires).
      await expect(lenient.verify(tokens.access_token)).resolves.toMatchObject({ tokenType: 'user' });
      // Fail closed: online instead, and without introspection configured that is AUTH_UNAVAILABLE.
      await expect(strict.verify(tokens.access_token)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
      // A logout the feed never hears of: its event is published while the feed's queue is gone.
      await logout(revokedInOutage);

      proxy.restore();
      await feed.ready();
      expect(feed.healthy).toBe(true);
      expect(feed.resumedAt).toEqual(expect.any(Number));
      // Offline, the revocation was missed: the lenient verifier still accepts (the documented price).
      await expect(lenient.verify(revokedInOutage)).resolves.toMatchObject({ tokenType: 'user' });
      // Fail closed: every token issued before the feed resumed is checked online until it expires (an outside
      // review, 2026-12-05: they went back to offline at the reconnection, so the one logged out meanwhile passed).
      for (const issuedBefore of [revokedInOutage, tokens.access_token]) {
        await expect(strict.verify(issuedBefore)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
      }
      // One issued after it resumed is offline again.
      t.clock.set(new Date(feed.resumedAt! + 2000));
      const afterResume = await login(email);
      await expect(strict.verify(afterResume)).resolves.toMatchObject({ tokenType: 'user' });
      const token = await login(email);
      await logout(token);
      await untilRefused(lenient, token, performance.now());
    }, 60_000);

    /** A feed of its own, reaching the broker through a proxy of its own (the suite's feed stays subscribed). */
    const ownFeed = async (setUp: (link: TcpProxy) => void = () => undefined, extra: { heartbeatSeconds?: number } = {}) => {
      const target = new URL(REAL_AMQP_URL);
      const link = new TcpProxy(target.hostname, Number(target.port || 5672));
      await link.start();
      setUp(link);
      const own = createRevocationFeed({ url: link.through(REAL_AMQP_URL), exchange, reconnect: { baseDelayMs: 50, maxDelayMs: 200 }, trustedPublishers: [brokerUser(REAL_AMQP_URL)], ...extra });
      return { link, own };
    };

    it('a broker unreachable when the feed is created: its first subscription is a resumption, so a token revoked meanwhile is not accepted offline with failClosedWhenDisconnected (stop 49)', async () => {
      const email = 'feed-late-start@example.com';
      const { tokens } = await signUp(t, email);
      const revokedBeforeSubscribed = await login(email);
      const { link, own } = await ownFeed((proxy) => proxy.cut());
      try {
        // The default tolerance (60 s): the app's manual clock may be a little ahead of this host's.
        const strict = verifier({ revocations: own, failClosedWhenDisconnected: true });
        await expect(strict.verify(tokens.access_token)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 }); // not subscribed yet: online
        await logout(revokedBeforeSubscribed);
        // Published, and routed to the queues bound now: the suite's feed has it; this one has no queue yet.
        await untilRefused(verifier(), revokedBeforeSubscribed, performance.now());
        link.restore();
        await own.ready();
        expect(own.healthy).toBe(true);
        // Missed by this feed, so not refused offline: checked online, which without introspection is AUTH_UNAVAILABLE
        // (until stop 49 the first subscription was "no outage" and both were accepted offline).
        await expect(strict.verify(revokedBeforeSubscribed)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
        await expect(strict.verify(tokens.access_token)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
        expect(own.resumedAt).toBeGreaterThan(0);
      } finally {
        await own.close();
        await link.close();
      }
    }, 30_000);

    it('a link that silently stops carrying anything: the heartbeat turns the feed unhealthy within seconds, and it reconnects once the link is back (stop 49)', async () => {
      // The default is 5 s (noticed after 10 to 15 s; asserted with a fake amqplib in tests/unit/sdk); 1 s keeps this fast.
      const { link, own } = await ownFeed(undefined, { heartbeatSeconds: 1 });
      try {
        await own.ready();
        const since = performance.now();
        link.stall();
        // Until stop 49 no heartbeat was asked: the broker's 60 s applied, and the feed stayed healthy about 3 min.
        await eventually(() => !own.healthy, 20_000, 'the feed to notice the stalled link');
        console.log(`[revocation feed] stalled link noticed after ${(performance.now() - since).toFixed(0)} ms (heartbeat 1 s)`);
        expect(own.resumedAt).toBeNull();
        link.restore();
        await own.ready();
        expect(own.resumedAt).toBeGreaterThan(0);
      } finally {
        await own.close();
        await link.close();
      }
    }, 30_000);

    it('close() resolves within a few seconds on a stalled link (stop 49: it waited for an answer that never came)', async () => {
      const { link, own } = await ownFeed();
      try {
        await own.ready();
        link.stall();
        const since = performance.now();
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([own.close().then(() => 'closed'), new Promise((resolve) => (timer = setTimeout(() => resolve('still closing'), 5000)))]);
        clearTimeout(timer);
        expect(outcome).toBe('closed');
        expect(performance.now() - since).toBeLessThan(5000);
        expect(own.healthy).toBe(false);
        await expect(own.ready()).rejects.toThrow('revocation feed closed');
      } finally {
        await own.close();
        await link.close();
      }
    }, 30_000);
  },
);
