import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '@config/env';

export const ROOT = join(__dirname, '../..');
export const DEPLOY_DIR = join(ROOT, 'deploy');

/** A Kubernetes object as parsed from YAML: the fields the cross-reference checks read, the rest opaque. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> } } & Record<string, unknown>;

export interface ManifestFile {
  file: string;
  objects: K8sObject[];
}

/** Every `*.yaml` under deploy/ but the kustomization, each document parsed (a YAML error fails here). */
export function loadManifests(): ManifestFile[] {
  return readdirSync(DEPLOY_DIR)
    .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
    .sort()
    .map((file) => ({ file, objects: parseYamlDocuments(readFileSync(join(DEPLOY_DIR, file), 'utf8'), file) as K8sObject[] }));
}

export function parseYamlDocuments(text: string, name: string): unknown[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${name}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS();
  });
}

/**
 * Validates each object against the Kubernetes API schemas bundled (compiled) in kubernetes-models, offline.
 * The package is ESM-only, so the validation runs in plain Node (tests/support/k8s-validate.mjs).
 * Returns, per object, its errors (empty = valid).
 */
export function schemaErrors(objects: unknown[]): string[][] {
  const out = execFileSync(process.execPath, [join(__dirname, 'k8s-validate.mjs')], {
    input: JSON.stringify(objects),
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out) as string[][];
}

/** Typed access into a parsed object along a path of keys and indexes; undefined when a step is missing. */
export function at<T = unknown>(value: unknown, ...path: (string | number)[]): T {
  let current: unknown = value;
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined as T;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current as T;
}

/**
 * The schema check above lets unknown fields through (the API's schemas do not forbid them; kubectl's strict
 * field validation does). This adds that strictness: each object becomes an object literal typed by the
 * kubernetes-models interface of its kind (`IDeployment` ...), and TypeScript's excess-property check reports
 * every field the API does not have (a misspelt `readinessProbe.httpGet.paht`), in nested objects too.
 * Returns, per object, its errors (empty = no unknown field and every type right).
 */
export function strictFieldErrors(objects: K8sObject[]): string[][] {
  const file = join(ROOT, 'tests/support/__k8s-strict-check__.mts');
  const imports = new Map<string, Set<string>>();
  for (const o of objects) imports.set(o.apiVersion, (imports.get(o.apiVersion) ?? new Set()).add(`I${o.kind}`));
  const header = [...imports].map(([apiVersion, names]) => `import type { ${[...names].join(', ')} } from 'kubernetes-models/${apiVersion}';`);
  const lines = [...header, ...objects.map((o, i) => `export const o${i}: I${o.kind} = ${JSON.stringify(o)};`)];
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true, noEmit: true, skipLibCheck: true, types: [],
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest));
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? source : readFile(name));
  const program = ts.createProgram([file], options, host);
  const errors: string[][] = objects.map(() => []);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    const line = d.file?.fileName === file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line - header.length : -1;
    if (line < 0 || line >= objects.length) throw new Error(`strict check could not run: ${message}`);
    errors[line]!.push(message);
  }
  return errors;
}

/** The environment variable names the service reads: loadConfig run over an env that records each lookup. */
export function variablesTheServiceReads(env: Record<string, string>): Set<string> {
  const read = new Set<string>();
  const recording = new Proxy(env, { get: (target, key) => (typeof key === 'string' && read.add(key), target[key as string]) });
  try {
    loadConfig(recording);
  } catch {
    // Invalid placeholders do not matter here: every variable is read before the problems are reported.
  }
  return read;
}
