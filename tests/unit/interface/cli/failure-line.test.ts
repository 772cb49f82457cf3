import { failureLine } from '@interface/cli/cli-io';

/**
 * CONTRACT §8: any other failure prints one line on stderr. A review (2026-12-07): Node's connect to a host name with
 * several addresses (localhost: ::1 and 127.0.0.1) fails with an AggregateError whose message is empty, and pg passes
 * it on, so the line was `cli failed: AggregateError`, naming nothing.
 */
describe('failureLine', () => {
  it('names the inner errors of an AggregateError that has no message of its own', () => {
    const error = new AggregateError(
      [Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' }), new Error('connect ECONNREFUSED 127.0.0.1:5432')],
      '',
    );
    expect(failureLine('cli', error)).toBe('cli failed: AggregateError: connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('keeps an AggregateError with a message, and every other error, as String() gives it, on one line', () => {
    expect(failureLine('migrate', new AggregateError([new Error('x')], 'all attempts failed'))).toBe('migrate failed: AggregateError: all attempts failed');
    expect(failureLine('cli', new Error('relation "users"\ndoes not exist'))).toBe('cli failed: Error: relation "users" does not exist');
    expect(failureLine('cli', 'plain')).toBe('cli failed: plain');
    expect(failureLine('cli', new AggregateError([], ''))).toBe('cli failed: AggregateError');
  });
});
