import { parseClientOptions, UsageError } from '../../../../src/interface/cli/client-commands';

/**
 * The client commands' option parser on its own: the general refusals, which tests/e2e/cli-rotate-client.test.ts
 * leaves to it; that suite keeps the flag's own three, through the whole CLI.
 */
describe('parseClientOptions (rotate-client-secret)', () => {
  it.each([
    [['--id'], '--id needs a value'],
    [['--id', 'a', '--id', 'b'], '--id given twice'],
    [['--id', 'a', '--revoke-tokens', '--revoke-tokens'], '--revoke-tokens given twice'],
    [['--id', 'a', 'extra'], 'unexpected argument 3 (5 characters, not shown)'],
    [[], 'rotate-client-secret needs --id'],
    [['--id', '--revoke-tokens'], '--id needs a value, not the option --revoke-tokens'],
    [['--revoke-tokens', '--id', '--id=c1'], '--id needs a value, not the option --id=...'],
  ])('refuses %j: %s', (args, message) => {
    const attempt = () => parseClientOptions('rotate-client-secret', args);
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(message);
  });

  it('takes --id as a separate or joined value and the flag alone', () => {
    const id = '4b0c2e9a-1d2f-4c3b-8a5e-6f7a8b9c0d1e';
    expect(parseClientOptions('rotate-client-secret', ['--id', id])).toEqual({ id });
    expect(parseClientOptions('rotate-client-secret', ['--revoke-tokens', `--id=${id.toUpperCase()}`])).toEqual({ id, 'revoke-tokens': 'true' }); // the id as stored, lower-case
    // A separate empty value is a value.
    expect(parseClientOptions('create-client', ['--name', 'n', '--scopes', ''])).toEqual({ name: 'n', scopes: '' });
  });

  it.each([['delete-client'], ['rotate-client-secret']] as const)('%s: an --id that is not a client id (a UUID) is a bad argument, not a client to look for', (command) => {
    for (const args of [['--id='], ['--id', ''], ['--id', 'c1'], ['--id=--odd'], ['--id', '4b0c2e9a-1d2f-4c3b-8a5e-6f7a8b9c0d1'], ['--id', ' 4b0c2e9a-1d2f-4c3b-8a5e-6f7a8b9c0d1e']]) {
      expect(() => parseClientOptions(command, args)).toThrow(UsageError);
      expect(() => parseClientOptions(command, args)).toThrow('--id must be a client id (a UUID)');
    }
  });
});
