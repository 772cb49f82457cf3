/**
 * Lets a child process of a test run TypeScript from src/ the way jest does (SWC, CommonJS, decorator
 * metadata, the path aliases of tsconfig.json): `node -r ./tests/support/swc-register.cjs file.ts`.
 */
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '../..');
const aliases = { '@domain/': 'src/domain/', '@application/': 'src/application/', '@infrastructure/': 'src/infrastructure/',
  '@interface/': 'src/interface/', '@config/': 'src/config/', '@tests/': 'tests/' };

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  for (const [prefix, dir] of Object.entries(aliases)) {
    if (request.startsWith(prefix)) return resolve.call(this, path.join(root, dir, request.slice(prefix.length)), ...rest);
  }
  return resolve.call(this, request, ...rest);
};

/**
 * Transforms are cached on disk by path, size and mtime (a CLI or service child process of a suite starts many
 * times with the same sources; SWC would otherwise redo all of them each time).
 */
const os = require('node:os');
const crypto = require('node:crypto');
const cacheDir = path.join(os.tmpdir(), `auth-service-swc-${crypto.createHash('sha1').update(root).digest('hex').slice(0, 12)}`);
fs.mkdirSync(cacheDir, { recursive: true });

Module._extensions['.ts'] = function (module, filename) {
  const stat = fs.statSync(filename);
  const key = crypto.createHash('sha1').update(`${filename}\0${stat.size}\0${stat.mtimeMs}`).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, 'utf8');
  } catch {
    ({ code } = transformSync(fs.readFileSync(filename, 'utf8'), {
      filename,
      jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' },
      module: { type: 'commonjs' },
    }));
    // Written whole under a unique name, then renamed: a concurrent reader never sees half a file.
    const partial = `${cached}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    fs.writeFileSync(partial, code);
    fs.renameSync(partial, cached);
  }
  module._compile(code, filename);
};
