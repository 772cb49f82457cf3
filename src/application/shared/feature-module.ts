import { ContainerModule, type Newable } from 'inversify';

/** A feature's injectable classes by name: the one list its container module, its tests and the wiring check read. */
export type ClassTable = Readonly<Record<string, Newable<object>>>;

/** The instances of a class table, by the same names (what a container resolves for it). */
export type Instances<T extends ClassTable> = { [K in keyof T]: InstanceType<T[K]> };

/**
 * One container module per feature folder (DESIGN 6): every class bound to itself, one instance per container.
 * Constructor parameters name their dependencies (`@inject(PORTS.X)` or another class), so this list is all
 * the registration a use case needs.
 */
export function featureModule(classes: ClassTable): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const cls of Object.values(classes)) bind(cls).toSelf().inSingletonScope();
  });
}
