export { type RegistryId, type ServiceRef, refKey, parseRef, sameRef } from './service-ref.ts';
export {
  type Endpoint,
  type EndpointOrigin,
  type Liveness,
  DEFAULT_WEIGHT,
  MAX_WEIGHT,
  liveness,
  conditionsOf,
  endpointKey,
} from './endpoint.ts';
export { type ServicePort, type ServiceSnapshot, emptySnapshot } from './snapshot.ts';
export { type Ownership, MARKER, instanceId } from './ownership.ts';
export { toDns1035, isDns1035, NameTable, type NameClaim } from './naming.ts';
export { endpointProblem, refProblem, METADATA_LIMITS, MAX_NAME_LENGTH } from './validate.ts';
export {
  type Selector,
  type NameMap,
  type DeleteGuard,
  type RoutePolicy,
  type Route,
  DEFAULT_POLICY,
  mapRef,
  selects,
  globToRegExp,
} from './route.ts';
export { sameValue } from './equal.ts';
export { mergeShape } from './merge.ts';
