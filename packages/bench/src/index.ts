/**
 * @peerkit/bench: peerkit against js-libp2p on loopback TCP, side by side. The CLI is `run.js`
 * (`npm run bench`); this module exposes the harness for tests and scripts.
 */
export { runBenchmarks, runGroups, compare, machineInfo, nodeRuntime, quiesce, retryWorkerFailures, IMPLS } from './bench.js'
export type { Pair, BenchResults, GroupFailure, ResultRecord, MachineInfo, NodeRuntime, Better, ComparedImpl, Log } from './bench.js'
export { parseCpuTicks, readCpuTicks, parseOwnTicks, readOwnTicks, readCpu, stealBetween, otherLoadBetween } from './load.js'
export type { CpuTicks, CpuReading, CpuShares, HostSteal, OtherLoad } from './load.js'
export { configFor, comboId, comboName, GROUPS } from './config.js'
export type { BenchConfig, Combo, Group } from './config.js'
export { markdownTable, writeResults, fmt, HIGH_STEAL, HIGH_OTHER_LOAD } from './report.js'
export { summarize, median } from './stats.js'
export type { Stats } from './stats.js'
export { WorkerProcess, WorkerError, workerPath, pinnedCpu, startAll, stopAll } from './worker-process.js'
export type { Impl, Security, Muxer, Pin, WorkerOptions } from './worker-process.js'
export { PROTOCOLS, CHUNK_SIZE, SEALED_CEILING_KEY, encodeSize, decodeSize } from './protocol.js'
export { acquireRunLock, defaultLockPath, BenchBusyError } from './lock.js'
