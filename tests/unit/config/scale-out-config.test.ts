import { loadConfig } from '@config/env';

describe('scale-out settings', () => {
  it('AMQP_QUEUE_TYPE: classic by default (what earlier versions declared), quorum on request, nothing else', () => {
    expect(loadConfig({}).events.queueType).toBe('classic');
    expect(loadConfig({ AMQP_QUEUE_TYPE: 'quorum' }).events.queueType).toBe('quorum');
    expect(() => loadConfig({ AMQP_QUEUE_TYPE: 'stream' })).toThrow(expect.objectContaining({ problems: [expect.stringContaining('AMQP_QUEUE_TYPE')] }));
  });

  it('DB_POOL_SIZE: 10 by default, 1-200', () => {
    expect(loadConfig({}).databasePoolSize).toBe(10);
    expect(loadConfig({ DB_POOL_SIZE: '4' }).databasePoolSize).toBe(4);
    for (const value of ['0', '201', 'many', '2.5']) {
      expect(() => loadConfig({ DB_POOL_SIZE: value })).toThrow(expect.objectContaining({ problems: [expect.stringContaining('DB_POOL_SIZE')] }));
    }
  });
});
