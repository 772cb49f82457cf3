import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { connect } from 'amqplib';
import { brokerUser } from '@infrastructure/messaging/rabbitmq/broker-user';
import { eventually } from '../../support/events';
import { describeWhen, REAL_AMQP_URL, REAL_RABBIT_SELECTED, cleanupBroker, uniqueNames } from '../../support/servers';

/** examples/subscriber.ts as another team would run it: it prints auth.user.* events and nothing else. */
describeWhen(REAL_RABBIT_SELECTED, 'the real RabbitMQ')('examples/subscriber.ts', () => {
  it('binds auth.user.* and prints the events it receives from the trusted publisher', async () => {
    const { exchange } = uniqueNames();
    const root = resolve(__dirname, '../../..');
    const child = spawn(process.execPath, ['-r', resolve(root, 'tests/support/swc-register.cjs'), resolve(root, 'examples/subscriber.ts')], {
      env: { ...process.env, AMQP_URL: REAL_AMQP_URL, AMQP_EXCHANGE: exchange, EXIT_AFTER: '1', TRUSTED_PUBLISHER: brokerUser(REAL_AMQP_URL) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await eventually(() => output.includes('listening on'), 15_000, 'the example to listen');
      const model = await connect(REAL_AMQP_URL);
      const channel = await model.createConfirmChannel();
      const event = (type: string) => ({
        specversion: '1.0', id: randomUUID(), source: 'auth-service', type, subject: 'user-1',
        time: new Date().toISOString(), datacontenttype: 'application/json', data: { user_id: 'user-1' },
      });
      const revoked = event('auth.session.revoked');
      const forged = event('auth.user.registered');
      const registered = event('auth.user.registered');
      const userId = brokerUser(REAL_AMQP_URL);
      channel.publish(exchange, revoked.type, Buffer.from(JSON.stringify(revoked)), { userId });
      channel.publish(exchange, forged.type, Buffer.from(JSON.stringify(forged))); // no user id: anyone's
      channel.publish(exchange, registered.type, Buffer.from(JSON.stringify(registered)), { userId });
      await channel.waitForConfirms();
      await model.close();
      await expect(exited).resolves.toBe(0); // EXIT_AFTER=1: it stops after the first event it printed
      expect(output).toContain(`auth.user.registered subject=user-1 id=${registered.id}`);
      expect(output).not.toContain('auth.session.revoked');
      expect(output).not.toContain(forged.id);
    } finally {
      child.kill();
      await cleanupBroker(exchange, []);
    }
  }, 30_000);
});
