import { describeFailure } from '@infrastructure/jobs/queue-settings';

const smtpError = (message: string) => Object.assign(new Error(message), { code: 'EENVELOPE' });

describe('describeFailure', () => {
  it('keeps the code and the message, bounded', () => {
    expect(describeFailure(smtpError('Mail command failed: 451 4.3.0 Try again'))).toBe('EENVELOPE: Mail command failed: 451 4.3.0 Try again');
    const long = describeFailure(new Error(`${'word '.repeat(99)}last-word-cut-at-500 ${'y'.repeat(600)}`));
    expect(long).toBe(`${'word '.repeat(99)}...`);
    expect(describeFailure('plain')).toBe('plain');
  });

  it.each([
    ['550 5.1.1 <r5@example.com>: Recipient address rejected', '550 5.1.1 <[address]>: Recipient address rejected'],
    ['550 5.1.1 <"john doe"@example.com>: no such user', '550 5.1.1 <[address]>: no such user'],
    ['550 user δοκιμή@παράδειγμα.δοκιμή unknown', '550 user [address] unknown'],
    ['550 5.7.1 sender auth@example.com, recipient x@evil.test; refused', '550 5.7.1 sender [address] recipient [address] refused'],
    ['Invalid recipient "\\"john doe\\"@example.com"', 'Invalid recipient [address]'],
  ])('redacts what reads as an address: %p', (message, redacted) => {
    expect(describeFailure(smtpError(message))).toBe(`EENVELOPE: ${redacted}`);
  });

  it('redacts the given values in every spelling it is handed, before cutting at 500 characters', () => {
    const recipient = '"a b\\\\c"@example.com';
    expect(describeFailure(smtpError(`550 mailbox ${recipient} gone`), [recipient])).toBe('EENVELOPE: 550 mailbox [address] gone');
    expect(describeFailure(smtpError(`Invalid recipient ${JSON.stringify(recipient)}`), [recipient])).toBe('EENVELOPE: Invalid recipient "[address]"');
    // An address cut at 500 characters, before its @, is dropped with the rest of its word.
    expect(describeFailure(new Error(`${'x '.repeat(247)}abcdefghij@example.com`))).toBe(`${'x '.repeat(247)}...`);
  });

  /**
   * A review of stop 50: a content filter refusing the message at DATA quoted the link it blocked, and the live token
   * went to email_outbox.last_error and the log.
   */
  it.each([
    ['554 5.7.1 Message rejected: blocklisted URL https://app.example.com/verify-email?token=DmnGEE9xQ2uqs_vW-3k8aPq7LmZr0tYb1cN5dE6fGhI', '554 5.7.1 Message rejected: blocklisted URL https://app.example.com/verify-email[redacted]'],
    ['554 URL <https://app.example.com/reset-password#token=abc> refused', '554 URL <https://app.example.com/reset-password[redacted]> refused'],
    ['554 5.7.1 spam token DmnGEE9xQ2uqs_vW-3k8aPq7LmZr0tYb1cN5dE6fGhI found', '554 5.7.1 spam token [redacted] found'],
  ])('redacts what may be a link token: %p', (message, redacted) => {
    expect(describeFailure(smtpError(message))).toBe(`EENVELOPE: ${redacted}`);
  });

  it('keeps what a diagnosis needs: status codes, queue ids, host names', () => {
    const reply = '451 4.3.0 queued as 4FZk2x1YbNz9 at mx1.example.net, try again later';
    expect(describeFailure(smtpError(reply))).toBe(`EENVELOPE: ${reply}`);
  });

  it('costs no more for a megabyte-long reply than for a short one', () => {
    const started = Date.now();
    expect(describeFailure(new Error(`550 ${'a'.repeat(1_000_000)}`))).toBe('550 ...');
    expect(describeFailure(new Error(`550 ${'"a'.repeat(500_000)}`))).toBe('550 ...');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
