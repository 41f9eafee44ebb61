/**
 * @packageDocumentation
 *
 * Connection upgrade: raw transport connection → multistream-select → encrypter (Noise, TLS,
 * plaintext) → stream muxer (yamux, mplex) → `Connection`.
 */
export { Upgrader, isPeerkitAgent } from './upgrader.js'
export type { UpgraderInit, UpgradeOptions } from './upgrader.js'
export { UpgradedConnection, DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_MAX_OUTBOUND_STREAMS } from './connection.js'
export type { ConnectionInit, ConnectionSettings } from './connection.js'
