export { ERROR_CODES, type ErrorCode } from './codes.ts';
export { BridgeError, type BridgeErrorOptions, isTerminal, describeError } from './bridge-error.ts';
