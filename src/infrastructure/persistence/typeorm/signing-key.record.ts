import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `signing_keys` (not `...Record`: that name is the port's value type). The private key is stored sealed. */
@Entity({ name: 'signing_keys' })
export class SigningKeyRow {
  @PrimaryColumn({ type: 'text' })
  kid!: string;

  @Column({ type: 'text' })
  alg!: string;

  @Column({ type: 'jsonb', name: 'public_jwk' })
  publicJwk!: Record<string, string>;

  @Column({ type: 'text', name: 'sealed_private_key' })
  sealedPrivateKey!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'activated_at', nullable: true })
  activatedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'retired_at', nullable: true })
  retiredAt!: Date | null;

  /** Longest access-token lifetime any signer declared for the key; null on rows from before it was recorded. */
  @Column({ type: 'integer', name: 'max_token_ttl_seconds', nullable: true })
  maxTokenTtlSeconds!: number | null;
}
