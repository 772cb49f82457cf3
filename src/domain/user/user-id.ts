import { DomainErrors } from '../shared/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class UserId {
  private constructor(readonly value: string) {}

  static create(raw: string): UserId {
    const value = raw.toLowerCase();
    if (!UUID.test(value)) throw DomainErrors.validation('id', 'must be a UUID');
    return new UserId(value);
  }

  static isValid(raw: string): boolean {
    return UUID.test(raw.toLowerCase());
  }

  equals(other: UserId): boolean {
    return this.value === other.value;
  }
}
