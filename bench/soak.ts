/**
 * `npm run bench:soak`: a mixed load for BENCH_SOAK_SECONDS (default 600) against the service in its own process
 * (embedded, or DATABASE_URL / REDIS_URL / AMQP_URL; BENCH_WORKERS=N), sampling its RSS (VmRSS summed over its
 * process tree) every BENCH_SOAK_SAMPLE_SECONDS (default 5). Prints the peak and final RSS, whether the peak
 * stayed under BENCH_SOAK_RSS_LIMIT_MB (default 250; issue 13), and per load the requests, errors and statuses.
 *
 * The mix, each its own autocannon instance, all at once (connections in brackets):
 *  - readers [BENCH_SOAK_READERS, 12]: one user each, cycling validate x5, me x2, sessions, jwks, refresh (the
 *    new tokens are used from then on), so reads dominate and the tokens stay fresh however long the run;
 *  - lifecycles [2]: one user each, cycling login, me, validate, refresh, validate, logout: a new session and a new
 *    access token every cycle, which is what fills (bounded) caches;
 *  - registrations [2]: a new user per request.
 * The driver keeps no response: only each session's current tokens.
 */
import autocannon from 'autocannon';
import { envNumber, MB, RssSampler, startService } from './harness';
import { json, newSession, PASSWORD, refreshRequest, type Session, SessionQueue } from './scenarios';

const SECONDS = envNumber('BENCH_SOAK_SECONDS', 600);
const SAMPLE_SECONDS = envNumber('BENCH_SOAK_SAMPLE_SECONDS', 5);
const LIMIT_MB = envNumber('BENCH_SOAK_RSS_LIMIT_MB', 250);
const READERS = envNumber('BENCH_SOAK_READERS', 12);
const LIFECYCLES = 2;
const REGISTRATIONS = 2;

type Request = autocannon.Request;
type Tokens = { data?: { tokens?: { access_token: string; refresh_token: string } } };

/** A request carrying the access token of the session the connection holds for this cycle (`ctx.session`). */
function withSession(method: 'GET' | 'POST', path: string, queue: SessionQueue): Request {
  return {
    method,
    path,
    setupRequest: (req: Request, context: object) => {
      const ctx = context as { session?: Session };
      ctx.session ??= queue.take();
      return method === 'POST' ? { ...req, headers: { ...json, authorization: `Bearer ${ctx.session.access}` }, body: '{}' } : { ...req, headers: { authorization: `Bearer ${ctx.session.access}` } };
    },
  };
}

/** A request with the access token the cycle's own login returned (`ctx.access`). */
function withLogin(method: 'GET' | 'POST', path: string): Request {
  return {
    method,
    path,
    setupRequest: (req: Request, context: object) => {
      const access = (context as { access?: string }).access ?? 'none';
      return method === 'POST' ? { ...req, headers: { ...json, authorization: `Bearer ${access}` }, body: '{}' } : { ...req, headers: { authorization: `Bearer ${access}` } };
    },
  };
}

async function loads(base: string): Promise<{ name: string; connections: number; requests: Request[] }[]> {
  // Each reader holds one session per cycle (autocannon clears the context at the end of each cycle) and gives
  // it back, with its new tokens, when the cycle's refresh answers.
  const readers = await SessionQueue.create(base, READERS);
  const people = await Promise.all(Array.from({ length: LIFECYCLES }, async () => (await newSession(base)).email));
  let nextPerson = 0;
  let registered = 0;
  const run = `${process.pid}-${Date.now()}`;
  const validate = withSession('GET', '/api/v1/auth/validate', readers);
  const me = withSession('GET', '/api/v1/users/me', readers);
  return [
    {
      name: 'readers',
      connections: READERS,
      requests: [validate, validate, me, validate, withSession('GET', '/api/v1/users/me/sessions', readers), validate, { method: 'GET', path: '/.well-known/jwks.json' }, me, validate, refreshRequest(readers)],
    },
    {
      name: 'lifecycles',
      connections: LIFECYCLES,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/auth/login',
          setupRequest: (req: Request) => ({ ...req, headers: { ...json }, body: JSON.stringify({ email: people[nextPerson++ % people.length], password: PASSWORD }) }),
          onResponse: (status: number, body: string, context: object) => {
            const tokens = status === 200 ? (JSON.parse(body) as Tokens).data?.tokens : undefined;
            Object.assign(context, { access: tokens?.access_token, refresh: tokens?.refresh_token });
          },
        },
        withLogin('GET', '/api/v1/users/me'),
        withLogin('GET', '/api/v1/auth/validate'),
        {
          method: 'POST',
          path: '/api/v1/auth/refresh',
          setupRequest: (req: Request, context: object) => ({ ...req, headers: { ...json }, body: JSON.stringify({ refresh_token: (context as { refresh?: string }).refresh ?? 'none' }) }),
          onResponse: (status: number, body: string, context: object) => {
            const tokens = status === 200 ? (JSON.parse(body) as Tokens).data?.tokens : undefined;
            if (tokens) Object.assign(context, { access: tokens.access_token, refresh: tokens.refresh_token });
          },
        },
        withLogin('GET', '/api/v1/auth/validate'),
        withLogin('POST', '/api/v1/auth/logout'),
      ],
    },
    {
      name: 'registrations',
      connections: REGISTRATIONS,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/auth/register',
          headers: { ...json },
          setupRequest: (req: Request) => ({ ...req, body: JSON.stringify({ email: `soak-${run}-${++registered}@example.com`, password: PASSWORD }) }),
        },
      ],
    },
  ];
}

function load(base: string, spec: { connections: number; requests: Request[] }): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url: base, connections: spec.connections, duration: SECONDS, requests: spec.requests }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function main(): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const service = await startService();
  say(`auth-service soak: ${SECONDS} s, ${service.backend}; RSS sampled every ${SAMPLE_SECONDS} s, limit ${LIMIT_MB} MB`);
  const mb = (bytes: number) => Math.round(bytes / MB);
  const started = Date.now();
  let lastPrint = 0;
  const samples: number[] = [];
  const rss = new RssSampler(service.pid, SAMPLE_SECONDS * 1000, (bytes) => {
    samples.push(bytes);
    const elapsed = Math.round((Date.now() - started) / 1000);
    if (elapsed - lastPrint >= 60) {
      lastPrint = elapsed;
      say(`  ${elapsed} s: RSS ${mb(bytes)} MB (peak so far ${mb(Math.max(...samples))} MB)`);
    }
  });
  const idle = rss.last;
  try {
    const specs = await loads(service.base);
    const results = await Promise.all(specs.map((spec) => load(service.base, spec)));
    const final = rss.sample();
    const rows = specs.map((spec, i) => {
      const r = results[i]!;
      const statuses = Object.entries(r.statusCodeStats ?? {}).map(([code, { count }]) => `${code}:${count ?? 0}`).join(' ');
      return { load: spec.name, conns: spec.connections, requests: r.requests.total, 'req/s': Math.round(r.requests.average), errors: r.errors + r.timeouts, non2xx: r.non2xx, statuses };
    });
    console.table(rows);
    const total = results.reduce((sum, r) => sum + r.requests.total, 0);
    const failed = results.reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0);
    const peak = rss.overallPeak();
    say(`requests: ${total} in ${SECONDS} s, ${failed} errors or non-2xx`);
    say(`RSS: ${mb(idle)} MB idle after start, peak ${mb(peak)} MB, final ${mb(final)} MB over ${samples.length} samples: ${peak < LIMIT_MB * MB ? 'under' : 'OVER'} ${LIMIT_MB} MB`);
  } finally {
    rss.stop();
    await service.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
