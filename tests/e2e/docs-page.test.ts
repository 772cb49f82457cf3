import { chromium, type Browser } from 'playwright-core';
import { DOCS_CSP } from '@interface/http/openapi/docs-page';
import { CHROMIUM_ARGS, CHROMIUM_PATH, selectChromium } from '../support/chromium';
import { describeWhen } from '../support/servers';
import { startTestApp, type TestApp } from '../support/app';

/** A summary the page must show once swagger-ui has rendered the document (docs.routes.ts). */
const RENDERED_SUMMARY = 'The OpenAPI 3.1 document of this API';

const CSP_RECORDER = `window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`;

describe('docs page: headers and files', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('serves the page with its own CSP: self only, no inline script, no eval', async () => {
    const res = await t.http.get('/docs').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toBe(DOCS_CSP);
    expect(DOCS_CSP).toContain("script-src 'self'");
    expect(DOCS_CSP).toContain("connect-src 'self'");
    expect(DOCS_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
    expect(res.text).not.toMatch(/<script>|<script [^>]*>[^<]+<\/script>|https?:\/\//);
  });

  it('serves swagger-ui and the init script from the service, with their types', async () => {
    const bundle = await t.http.get('/docs/assets/swagger-ui-bundle.js').expect(200);
    expect(bundle.headers['content-type']).toMatch(/^application\/javascript/);
    expect(bundle.headers['x-content-type-options']).toBe('nosniff');
    expect(Number(bundle.headers['content-length'])).toBeGreaterThan(100_000);
    const css = await t.http.get('/docs/assets/swagger-ui.css').expect(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    const init = await t.http.get('/docs/assets/docs-init.js').expect(200);
    expect(init.text).toContain("url: '/openapi.json'");
  });

  it.each([
    '/docs/assets/index.html',
    '/docs/assets/package.json',
    '/docs/assets/..%2Fpackage.json',
    '/docs/assets/..%2F..%2F..%2Fpackage.json',
    '/docs/assets/%2E%2E%2Fswagger-ui-dist%2Fpackage.json',
    '/docs/assets/toString',
    '/docs/assets/__proto__',
    '/docs/assets/swagger-ui.css%00.js',
  ])('answers 404 for %s, which is not on the allow-list', async (path) => {
    const res = await t.http.get(path).expect(404);
    expect(res.body.error.code).toBe('ROUTE_NOT_FOUND');
    expect(res.text).not.toContain('"name"');
  });
});

describeWhen(selectChromium(), `Chromium at ${CHROMIUM_PATH}`)('docs page in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let origin: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { HOST: '127.0.0.1' } });
    origin = `http://127.0.0.1:${await t.app.listen()}`;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('renders the operations with every request on the service’s own origin and no console error or CSP violation', async () => {
    const context = await browser.newContext({ serviceWorkers: 'block' });
    const page = await context.newPage();
    const requests: string[] = [];
    const foreign: string[] = [];
    const problems: string[] = [];
    // Recorded, and stopped: nothing may leave localhost even if the page tried.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) await route.continue();
      else {
        foreign.push(url);
        await route.abort();
      }
    });
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // Runs in the page before its own scripts (as a string: the tests compile without the DOM library).
    await page.addInitScript({ content: CSP_RECORDER });

    const response = await page.goto(`${origin}/docs`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    await page.getByText(RENDERED_SUMMARY).first().waitFor({ state: 'visible', timeout: 20_000 });
    // The operations are listed (swagger-ui renders one block per operation) and the document's title shows.
    expect(await page.locator('.opblock').count()).toBeGreaterThan(2);
    await page.getByText('/openapi.json', { exact: true }).first().waitFor({ state: 'visible' });
    await page.waitForLoadState('networkidle');

    const violations = await page.evaluate<string[]>('window.cspViolations');
    await context.close();
    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(requests).toEqual(
      expect.arrayContaining([
        `${origin}/docs`,
        `${origin}/docs/assets/swagger-ui-bundle.js`,
        `${origin}/docs/assets/swagger-ui.css`,
        `${origin}/docs/assets/docs-init.js`,
        `${origin}/openapi.json`,
      ]),
    );
  });
});
