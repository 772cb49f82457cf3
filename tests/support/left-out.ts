/**
 * `describe` when the suite's real servers were selected; otherwise a suite with one test that says it was left
 * out (jest needs at least one test per file). Outside CI only: in CI the servers are always selected.
 */
export function describeWhen(selected: boolean, servers: string): (name: string, body: () => void) => void {
  if (selected) return (name, body) => describe(name, body);
  return (name) =>
    describe(name, () => {
      it(`is left out here: it needs ${servers} (CI=true runs it)`, () => {
        expect(selected).toBe(false);
      });
    });
}
