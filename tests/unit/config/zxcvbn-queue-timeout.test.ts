import { ConfigError, loadConfig } from '@config/env';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('ZXCVBN_QUEUE_TIMEOUT', () => {
  it('2 s by default, 1-9 s (under the 10-s shutdown grace), as ARGON2_QUEUE_TIMEOUT', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).zxcvbn.queueTimeoutMs).toBe(2000);
    expect(loadConfig({ NODE_ENV: 'test', ZXCVBN_QUEUE_TIMEOUT: '5s' }).zxcvbn.queueTimeoutMs).toBe(5000);
    for (const bad of ['0', '10', '1m', 'soon']) {
      expect(problems({ NODE_ENV: 'test', ZXCVBN_QUEUE_TIMEOUT: bad })).toEqual([expect.stringContaining('ZXCVBN_QUEUE_TIMEOUT')]);
    }
  });
});
