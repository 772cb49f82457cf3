import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export type MetricFamily = parsePrometheusTextFormat.MetricFamily;

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The metric families of a text exposition; throws on any line that is not valid exposition format. */
export function parseExposition(text: string): MetricFamily[] {
  return parsePrometheusTextFormat(text);
}

/**
 * Every sample line with its own name and labels. The parser folds a labelled histogram into one unlabelled
 * entry, so the samples are read with the TYPE lines left out: each `_bucket`/`_sum`/`_count` series is then a
 * family of its own and keeps its labels.
 */
export function samplesOf(text: string): Sample[] {
  const untyped = text
    .split('\n')
    .filter((line) => !line.startsWith('# TYPE '))
    .join('\n');
  return parsePrometheusTextFormat(untyped).flatMap((family) =>
    family.metrics.map((sample) => ({ name: family.name, labels: sample.labels ?? {}, value: Number(sample.value) })),
  );
}

/** The value of the one series `name` whose labels include `labels`; 0 when there is none yet. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const matching = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matching.length > 1) throw new Error(`${matching.length} series ${name} match ${JSON.stringify(labels)}`);
  return matching[0]?.value ?? 0;
}

/** The value of the one series `name` whose labels include `labels`; throws when there is none (a gauge, or a series said to exist from the start). */
export function seriesValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  if (!samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))) {
    throw new Error(`no series ${name} with ${JSON.stringify(labels)}`);
  }
  return valueOf(samples, name, labels);
}
