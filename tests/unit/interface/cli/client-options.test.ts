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
    [['--id', 'a', 'extra'], 'unexpected argument: extra'],
    [[], 'rotate-client-secret needs --id'],
    [['--id', '--revoke-tokens'], '--id needs a value, not the option --revoke-tokens'],
    [['--revoke-tokens', '--id', '--id=c1'], '--id needs a value, not the option --id=c1'],
  ])('refuses %j: %s', (args, message) => {
    const attempt = () => parseClientOptions('rotate-client-secret', args);
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(message);
  });

  it('takes --id as a separate or joined value and the flag alone', () => {
    expect(parseClientOptions('rotate-client-secret', ['--id', 'c1'])).toEqual({ id: 'c1' });
    expect(parseClientOptions('rotate-client-secret', ['--revoke-tokens', '--id=c1'])).toEqual({ id: 'c1', 'revoke-tokens': 'true' });
    // The joined form takes a value that starts with `--`; a separate empty value is a value.
    expect(parseClientOptions('rotate-client-secret', ['--id=--odd'])).toEqual({ id: '--odd' });
    expect(parseClientOptions('create-client', ['--name', 'n', '--scopes', ''])).toEqual({ name: 'n', scopes: '' });
  });
});
