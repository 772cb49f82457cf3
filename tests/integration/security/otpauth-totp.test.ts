import { PNG } from 'pngjs';
import { createHmac } from 'node:crypto';
import { Secret } from 'otpauth';
import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';

/** RFC 6238 appendix B: the SHA-1 seed is the 20 ASCII bytes "12345678901234567890". */
const RFC_SECRET = Secret.fromLatin1('12345678901234567890').base32;
const RFC_SHA1_VECTORS: [seconds: number, code: string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

const at = (seconds: number) => new Date(seconds * 1000);
const step = (seconds: number) => Math.floor(seconds / 30);

/** An independent RFC 4226 computation (node:crypto only), to check the adapter's codes against. */
function reference(secret: Uint8Array, counter: number, digits: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

describe('OtpauthTotp (RFC 6238, SHA-1, 30 s)', () => {
  describe('RFC 6238 appendix B SHA-1 vectors', () => {
    it.each(RFC_SHA1_VECTORS)('T=%p: verify() with 8 digits accepts %p, at step floor(T/30)', (seconds, code) => {
      const totp8 = new OtpauthTotp({ digits: 8 });
      expect(totp8.generate(RFC_SECRET, at(seconds))).toBe(code);
      expect(totp8.verify(RFC_SECRET, code, at(seconds))).toEqual({ ok: true, step: step(seconds) });
    });

    // 6 digits is the same HOTP value modulo 10^6: the vector's last six digits, through the service's settings.
    it.each(RFC_SHA1_VECTORS)('T=%p: the 6-digit service adapter accepts the last six digits of %p', (seconds, code) => {
      const totp = new OtpauthTotp();
      expect(totp.generate(RFC_SECRET, at(seconds))).toBe(code.slice(-6));
      expect(totp.verify(RFC_SECRET, code.slice(-6), at(seconds))).toEqual({ ok: true, step: step(seconds) });
      // The 8-digit code is not a 6-digit code.
      expect(totp.verify(RFC_SECRET, code, at(seconds))).toEqual({ ok: false });
    });
  });

  describe('acceptance window', () => {
    const totp = new OtpauthTotp();
    // A fixed secret and time, so that no two codes used below collide (asserted, not assumed).
    const bytes = Uint8Array.from({ length: 20 }, (_, i) => (i * 37 + 11) & 0xff);
    const secret = { bytes, base32: new Secret({ buffer: bytes.buffer }).base32 };
    const otherBytes = bytes.map((b) => b ^ 0x5a);
    const other = { bytes: otherBytes, base32: new Secret({ buffer: otherBytes.buffer }).base32 };
    const now = 1_780_000_015; // mid-step
    const T = step(now);
    const codeAt = (s: number) => reference(secret.bytes, s, 6);
    const steps = [-10, -3, -2, -1, 0, 1, 2, 3].map((d) => T + d);

    it('(precondition) the codes of the steps used here are pairwise different', () => {
      const codes = [...steps.map(codeAt), ...[T - 1, T, T + 1].map((s) => reference(other.bytes, s, 6))];
      expect(new Set(codes).size).toBe(codes.length);
    });

    it('accepts the codes of T-1, T and T+1, reporting the step each matched', () => {
      for (const s of [T - 1, T, T + 1]) expect(totp.verify(secret.base32, codeAt(s), at(now))).toEqual({ ok: true, step: s });
    });

    it('refuses the codes of T-2 and T+2 (and further)', () => {
      for (const s of [T - 2, T + 2, T - 3, T + 3, T - 10]) {
        expect(totp.verify(secret.base32, codeAt(s), at(now))).toEqual({ ok: false });
      }
    });

    it('uses the step boundaries exactly: at the first second of T+2 the code of T is refused', () => {
      const startOfT = T * 30;
      expect(totp.verify(secret.base32, codeAt(T), at(startOfT + 59.999))).toEqual({ ok: true, step: T }); // still T+1
      expect(totp.verify(secret.base32, codeAt(T), at(startOfT + 60))).toEqual({ ok: false });
      expect(totp.verify(secret.base32, codeAt(T), at(startOfT - 30))).toEqual({ ok: true, step: T }); // T-1: still
      expect(totp.verify(secret.base32, codeAt(T), at(startOfT - 30.001))).toEqual({ ok: false }); // T-2
    });

    it('refuses a wrong code, the wrong length, non-digits and another secret', () => {
      const right = codeAt(T);
      const window = [T - 1, T, T + 1].map(codeAt);
      let wrong = right;
      while (window.includes(wrong)) wrong = String((Number(wrong) + 1) % 1_000_000).padStart(6, '0');
      expect(totp.verify(secret.base32, wrong, at(now))).toEqual({ ok: false });
      for (const bad of ['', right.slice(1), `${right}0`, ` ${right}`, `${right.slice(0, 5)}x`, '１２３４５６', '12345\n']) {
        expect(totp.verify(secret.base32, bad, at(now))).toEqual({ ok: false });
      }
      expect(totp.verify(other.base32, right, at(now))).toEqual({ ok: false });
    });

    it('agrees with an independent RFC 4226 computation for random secrets', () => {
      for (let i = 0; i < 20; i += 1) {
        const s = totp.newSecret();
        const t = 1_700_000_000 + i * 7919;
        expect(totp.generate(s.base32, at(t))).toBe(reference(s.bytes, step(t), 6));
      }
    });
  });

  describe('secrets', () => {
    it('are 160 bits, base32 of the same bytes, different every time', () => {
      const totp = new OtpauthTotp();
      const secrets = Array.from({ length: 50 }, () => totp.newSecret());
      for (const s of secrets) {
        expect(s.bytes).toHaveLength(20);
        expect(s.base32).toMatch(/^[A-Z2-7]{32}$/);
        expect(Buffer.from(Secret.fromBase32(s.base32).bytes).equals(Buffer.from(s.bytes))).toBe(true);
      }
      expect(new Set(secrets.map((s) => s.base32)).size).toBe(50);
    });
  });

  describe('otpauth URI and QR code', () => {
    const totp = new OtpauthTotp();
    const secret = totp.newSecret();

    it('carries issuer, account, secret, SHA1, 6 digits and 30 s', () => {
      const uri = new URL(totp.uri(secret.base32, { issuer: 'Auth Service', account: 'alice@example.com' }));
      expect(uri.protocol).toBe('otpauth:');
      expect(uri.host).toBe('totp');
      expect(decodeURIComponent(uri.pathname)).toBe('/Auth Service:alice@example.com');
      expect(Object.fromEntries(uri.searchParams)).toEqual({
        issuer: 'Auth Service',
        secret: secret.base32,
        algorithm: 'SHA1',
        digits: '6',
        period: '30',
      });
    });

    it('renders the URI as a PNG data URL', async () => {
      const url = await totp.qrDataUrl(totp.uri(secret.base32, { issuer: 'Auth Service', account: 'alice@example.com' }));
      expect(url).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
      const png = Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');
      expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
      // It decodes (whatever PNG filter packed it) to a 256 px square of black and white only.
      const image = PNG.sync.read(png);
      expect([image.width, image.height]).toEqual([256, 256]);
      const colours = new Set<number>();
      for (let i = 0; i < image.data.length; i += 4) colours.add(image.data.readUInt32BE(i));
      expect([...colours].sort()).toEqual([0x000000ff, 0xffffffff]);
    });
  });
});
