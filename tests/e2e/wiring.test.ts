import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPLICATION_CLASSES } from '@config/modules';
import { ROUTES } from '@interface/http/routes';
import { startTestApp, type TestApp } from '../support/app';

/** Every `@injectable()` class under src/application, by name: each must be listed in its feature's module. */
function injectableClasses(dir = join(__dirname, '../../src/application')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return injectableClasses(path);
    return [...readFileSync(path, 'utf8').matchAll(/@injectable\(\)\s*export class (\w+)/g)].map((m) => m[1]!);
  });
}

/**
 * DESIGN 6: a missing binding fails `npm test`, not the first request. The real composition root (embedded
 * mode) must resolve what every route entry `uses` and every class of every feature module, with all of its
 * constructor dependencies.
 */
describe('wiring', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  }, 60_000);
  afterAll(async () => t?.stop());

  it('resolves the service of every route', () => {
    const unresolved = ROUTES.filter((route) => route.uses !== undefined && !resolves(() => t.app.container.get(route.uses!)));
    expect(unresolved.map((route) => `${route.method} ${route.path}`)).toEqual([]);
  });

  it('resolves every class of every feature module', () => {
    const unresolved = Object.entries(APPLICATION_CLASSES).filter(([, cls]) => !resolves(() => t.app.container.get<object>(cls) instanceof cls));
    expect(unresolved.map(([name]) => name)).toEqual([]);
  });

  it('lists every injectable class of src/application in a feature module', () => {
    const found = injectableClasses();
    expect(found.length).toBeGreaterThanOrEqual(Object.keys(APPLICATION_CLASSES).length);
    expect(found.filter((name) => !(name in APPLICATION_CLASSES))).toEqual([]);
  });
});

function resolves(get: () => unknown): boolean {
  try {
    return Boolean(get());
  } catch (error) {
    // Shown in the test output, so a failure names the missing identifier.
    console.error(error instanceof Error ? error.message : error);
    return false;
  }
}
