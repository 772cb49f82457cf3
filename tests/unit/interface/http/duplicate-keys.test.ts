import { assertNoDuplicateKeys } from '@interface/http/middleware/duplicate-keys';

describe('assertNoDuplicateKeys', () => {
  it.each([
    '{"a":1,"a":2}',
    '{"a":1,"\\u0061":2}',
    '{"x":{"b":1,"c":{"d":[1,{"e":1,"e":2}]}}}',
    '{"a":"}","a":"{"}',
    '{"a\\"b":1,"a\\"b":2}',
  ])('refuses %s', (text) => {
    expect(() => assertNoDuplicateKeys(text)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });

  it.each([
    '{"a":1,"b":{"a":1},"c":[{"a":1},{"a":2}]}',
    '{"a":"a","b":"\\"a\\":"}',
    '{"list":["a","a","a"]}',
    '{}',
  ])('accepts %s', (text) => {
    expect(() => assertNoDuplicateKeys(text)).not.toThrow();
  });
});
