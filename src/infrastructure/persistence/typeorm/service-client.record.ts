import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `clients` (service clients of the client-credentials grant). */
@Entity({ name: 'clients' })
export class ServiceClientRecord {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', name: 'secret_hash' })
  secretHash!: string;

  @Column({ type: 'text', array: true })
  scopes!: string[];

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ type: 'timestamptz', name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;

  /** Tokens issued in this instant's second or earlier are inactive (rotate-client-secret --revoke-tokens). */
  @Column({ type: 'timestamptz', name: 'tokens_valid_after', nullable: true })
  tokensValidAfter!: Date | null;
}
