/**
 * Installs `method` on a prototype under `name`, as a class method would be (writable, configurable, not
 * enumerable). The operations of `Dataset` and `DStream` are installed this way from the files that declare them,
 * so that each file adds its group of operations without the base class importing every operator; the
 * `declare module` block beside each call carries the public type, which a generic `this` cannot check here.
 */
export function defineMethod<C>(
  prototype: C,
  name: string,
  method: (this: C, ...args: any[]) => unknown,
): void {
  Object.defineProperty(prototype, name, { value: method, writable: true, configurable: true });
}
