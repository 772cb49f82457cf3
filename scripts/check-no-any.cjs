#!/usr/bin/env node
/**
 * "No `any` in domain/application" as a check that fails `npm run lint` (and so `npm test`): strict TypeScript still
 * accepts an `any` that is written out. Every `.ts` file under src/domain and src/application is parsed (no type
 * check: the syntax is enough) and each `any` keyword in a type position is reported as file:line:column.
 */
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const ROOTS = ['src/domain', 'src/application'];

function* files(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (entry.name.endsWith('.ts')) yield full;
  }
}

function anys(file) {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) {
      const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
      found.push(`${file}:${line + 1}:${character + 1}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const root = path.resolve(__dirname, '..');
const roots = process.argv.length > 2 ? process.argv.slice(2) : ROOTS.map((r) => path.join(root, r));
const found = roots.flatMap((r) => [...files(r)].flatMap(anys)).map((f) => path.relative(process.cwd(), f));
if (found.length > 0) {
  console.error(`\`any\` in the domain or application layer (use unknown or a real type):\n${found.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
console.log(`no \`any\` in ${ROOTS.join(', ')}`);
