import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

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
