import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * The checks `npm run lint` runs (and so `npm test`) refuse what DESIGN.md forbids: run here on small source trees
 * of their own, so that a rule that stopped matching fails a test rather than passing every tree. (src itself is
 * checked by the lint.)
 */
const ROOT = resolve(__dirname, '../../..');
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');
let dir: string;

function tree(files: Record<string, string>): void {
  dir = mkdtempSync(join(tmpdir(), 'layer-rules-'));
  writeFileSync(join(dir, 'tsconfig.json'), '{"compilerOptions":{"strict":true}}');
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
}

function run(command: string, args: string[]): { status: number | null; out: string } {
  const child = spawnSync(command, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: child.status, out: `${child.stdout}${child.stderr}` };
}

const depcruise = () => run(DEPCRUISE, ['src', '--config', join(ROOT, '.dependency-cruiser.cjs')]);
const exporting = (name: string, from?: string) => (from ? `import { x } from '${from}';\nexport const ${name} = x;\n` : `export const ${name} = 1;\n`);

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the dependency rule (.dependency-cruiser.cjs)', () => {
  it('accepts imports along the feature folders order: admin -> mfa -> password -> session -> ports', () => {
    tree({
      'src/application/ports/x.ts': exporting('x'),
      'src/application/session/x.ts': exporting('x', '../ports/x'),
      'src/application/password/x.ts': exporting('x', '../session/x'),
      'src/application/mfa/x.ts': exporting('x', '../password/x'),
      'src/application/admin/x.ts': exporting('x', '../mfa/x'),
    });
    const { status, out } = depcruise();
    expect(out).toContain('no dependency violations');
    expect(status).toBe(0);
  });

  it('refuses a folder importing one above it, even with no file-level cycle (mfa -> admin went through until stop 62)', () => {
    tree({
      'src/application/admin/x.ts': exporting('x'),
      'src/application/mfa/x.ts': exporting('x', '../admin/x'),
      'src/application/session/x.ts': exporting('x', '../account/x'),
      'src/application/account/x.ts': exporting('x'),
    });
    const { status, out } = depcruise();
    expect(status).not.toBe(0);
    expect(out).toContain('feature-folder-mfa: src/application/mfa/x.ts → src/application/admin/x.ts');
    expect(out).toContain('feature-folder-session: src/application/session/x.ts → src/application/account/x.ts');
  });

  it('refuses a folder that has no place in the order, the application importing an adapter, an adapter importing a use case', () => {
    tree({
      'src/application/ports/x.ts': exporting('x'),
      'src/application/novel/x.ts': exporting('x', '../ports/x'),
      'src/infrastructure/x.ts': exporting('x'),
      'src/application/account/x.ts': exporting('x', '../../infrastructure/x'),
      'src/domain/x.ts': exporting('x', '../application/ports/x'),
      'src/application/admin/x.ts': exporting('x'),
      'src/infrastructure/y.ts': exporting('x', '../application/admin/x'),
    });
    const { status, out } = depcruise();
    expect(status).not.toBe(0);
    expect(out).toContain('feature-folder-known: src/application/novel/x.ts');
    expect(out).toContain('application-imports-domain-only: src/application/account/x.ts → src/infrastructure/x.ts');
    expect(out).toContain('domain-is-pure: src/domain/x.ts → src/application/ports/x.ts');
    expect(out).toContain('infrastructure-implements-ports: src/infrastructure/y.ts → src/application/admin/x.ts');
  });
});

describe('no `any` in the domain and application (scripts/check-no-any.cjs)', () => {
  const check = () => run(process.execPath, [join(ROOT, 'scripts/check-no-any.cjs'), join(dir, 'src/domain'), join(dir, 'src/application')]);

  it('reports each written-out any with its place, and not the word in a comment or a string', () => {
    tree({
      'src/domain/x.ts': 'export const a: any = 1; // any\nexport const s = "any";\n',
      'src/application/y.ts': 'export function f(v: unknown) {\n  return (v as any) as Array<any>;\n}\n',
    });
    const { status, out } = check();
    expect(status).toBe(1);
    expect(out).toMatch(/src\/domain\/x\.ts:1:17\n/);
    expect(out).toMatch(/src\/application\/y\.ts:2:16\n/);
    expect(out).toMatch(/src\/application\/y\.ts:2:30\n/);
    expect(out.match(/\.ts:\d+:\d+/g)).toHaveLength(3);
  });

  it('passes a tree without one', () => {
    tree({ 'src/domain/x.ts': 'export const a: unknown = 1; // any\n', 'src/application/y.ts': 'export type T = Record<string, unknown>;\n' });
    expect(check()).toMatchObject({ status: 0 });
  });
});
