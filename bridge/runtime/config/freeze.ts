/**
 * Freezes `value` and everything reachable from it. The config is shared by every component for
 * the life of the process; freezing turns an accidental write into an immediate TypeError
 * instead of a change one component sees and another does not.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const key of Reflect.ownKeys(value)) {
    deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return Object.freeze(value);
}
