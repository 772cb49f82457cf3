import { createRevocationFeed } from '../../../src/sdk';

// amqplib is an optional peer dependency: here it is "not installed" (every load of it fails).
jest.mock('amqplib', () => {
  throw new Error("Cannot find module 'amqplib'");
});

describe('createRevocationFeed without amqplib installed', () => {
  it('ready() rejects with a message saying what to install; the feed stays unhealthy and empty', async () => {
    const warnings: string[] = [];
    const feed = createRevocationFeed({ url: 'amqp://guest:guest@127.0.0.1:5672', logger: { info: () => undefined, warn: (m) => warnings.push(m) } });
    await expect(feed.ready()).rejects.toThrow('createRevocationFeed needs the optional peer dependency amqplib: npm install amqplib');
    await expect(feed.ready()).rejects.toThrow('npm install amqplib');
    expect(feed.healthy).toBe(false);
    expect(feed.size).toBe(0);
    expect(warnings).toEqual(['revocation feed: createRevocationFeed needs the optional peer dependency amqplib: npm install amqplib']);
    await feed.close();
  });
});
