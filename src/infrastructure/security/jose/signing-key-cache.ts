import type { CryptoKey } from 'jose';
import type { SecretBox } from '@application/ports/secret-box';
import type { SigningKeyRecord } from '@application/ports/signing-keys';
import { importCheckedPublicKey, importPrivateKey } from './signing-key-material';

/** SigningKeyManager's imported keys by kid: a row is imported (its private half unsealed) once while it is kept. */
export class ImportedKeyCache {
  private readonly publicKeys = new Map<string, CryptoKey>();
  private readonly privateKeys = new Map<string, CryptoKey>();

  constructor(private readonly box: SecretBox) {}

  async publicKeyOf(record: SigningKeyRecord): Promise<CryptoKey> {
    let key = this.publicKeys.get(record.kid);
    if (!key) this.publicKeys.set(record.kid, (key = await importCheckedPublicKey(record, this.box)));
    return key;
  }

  async privateKeyOf(record: SigningKeyRecord): Promise<CryptoKey> {
    let key = this.privateKeys.get(record.kid);
    if (!key) this.privateKeys.set(record.kid, (key = await importPrivateKey(record, this.box)));
    return key;
  }

  /** Keeps the public keys of the published kids only, and the private key of the active kid only. */
  forgetUnpublished(publishedKids: readonly string[], activeKid: string | undefined): void {
    const kids = new Set(publishedKids);
    for (const kid of this.publicKeys.keys()) if (!kids.has(kid)) this.publicKeys.delete(kid);
    for (const kid of this.privateKeys.keys()) if (kid !== activeKid) this.privateKeys.delete(kid);
  }
}
