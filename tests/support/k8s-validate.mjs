// Validates Kubernetes objects against the API's OpenAPI schemas as shipped (compiled) by kubernetes-models,
// offline. Plain Node ESM (the package is ESM-only), run by tests/unit/deploy as a child process.
// stdin: a JSON array of objects; stdout: a JSON array, per object, of error strings (empty = valid).
import { readFileSync } from 'node:fs';

const objects = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const object of objects) {
  const { apiVersion, kind } = object ?? {};
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    results.push(['apiVersion and kind are required']);
    continue;
  }
  let models;
  try {
    models = await import(`kubernetes-models/${apiVersion}`);
  } catch {
    results.push([`no schema for apiVersion ${apiVersion}`]);
    continue;
  }
  const Model = models[kind];
  if (typeof Model !== 'function' || Model.apiVersion !== apiVersion || Model.kind !== kind) {
    results.push([`no schema for ${apiVersion} ${kind}`]);
    continue;
  }
  try {
    new Model(object).validate();
    results.push([]);
  } catch (error) {
    const details = Array.isArray(error?.errors)
      ? error.errors.map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params ?? {})}`)
      : [String(error?.message ?? error)];
    results.push(details);
  }
}
process.stdout.write(JSON.stringify(results));
