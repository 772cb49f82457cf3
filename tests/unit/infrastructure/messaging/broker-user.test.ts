import { brokerUser, TrustedPublishers } from '@infrastructure/messaging/rabbitmq/broker-user';

describe('brokerUser: the login an AMQP URL uses, as amqplib reads it', () => {
  it.each([
    ['amqp://127.0.0.1:5672', 'guest'],
    ['amqp://guest:guest@127.0.0.1:5672', 'guest'],
    ['amqps://auth-service:s3cret@rabbit.internal/vhost', 'auth-service'],
    ['amqp://svc%40auth:p@rabbit', 'svc@auth'],
    ['amqp://:only-a-password@rabbit', ''],
  ])('%s -> %j', (url, user) => {
    expect(brokerUser(url)).toBe(user);
  });
});

describe('TrustedPublishers', () => {
  it('trusts the listed users only; a message without a user id is nobody', () => {
    const trusted = new TrustedPublishers(['auth-service', 'auth-service-old']);
    expect(trusted.trusts('auth-service')).toBe(true);
    expect(trusted.trusts('auth-service-old')).toBe(true);
    expect(trusted.trusts('billing')).toBe(false);
    expect(trusted.trusts(undefined)).toBe(false);
    expect(trusted.trusts('')).toBe(false);
  });

  it('`*` trusts every message, with or without a user id', () => {
    const any = new TrustedPublishers(['*']);
    expect(any.trusts(undefined)).toBe(true);
    expect(any.trusts('billing')).toBe(true);
  });
});
