/**
 * One benchmark run at a time per machine. Two runs side by side measure each other: each
 * implementation's figures then depend on what the other run did at that moment, and nothing in
 * their tables says so. The CLI holds a lock file for the whole run.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Where the CLI's lock lives unless told otherwise: one per machine (the temporary directory). */
export function defaultLockPath (): string {
  return join(tmpdir(), 'peerkit-bench.lock')
}

/** Another run holds the lock. */
export class BenchBusyError extends Error {
  readonly code = 'ERR_BENCH_BUSY'
  constructor (readonly pid: number, readonly path: string) {
    super(`another benchmark run (pid ${pid}) is in progress on this machine (lock ${path}); two runs at once measure each other`)
    this.name = 'BenchBusyError'
  }
}

/** Whether a process with this id exists (one owned by another user counts). */
function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function holder (path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** Removes a file that may already be gone. */
function removeQuietly (path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Gone already: nothing to remove.
  }
}

/**
 * Takes the lock at `path` for this process and returns its release (idempotent; it removes the
 * file only while it still names this process). A lock left by a process that no longer exists,
 * or one that names no process, is taken over; one held by a live process, this one included, is
 * not.
 *
 * @throws BenchBusyError when a live process holds it
 */
export function acquireRunLock (path = defaultLockPath()): () => void {
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' })
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = holder(path)
      if (pid != null && alive(pid)) throw new BenchBusyError(pid, path)
      if (attempt > 0) throw err
      // Stale: its process is gone (or it names none). One more try, in case another run races us.
      removeQuietly(path)
    }
  }
  // Once released (or taken over), the file no longer names this process: later calls do nothing.
  return () => {
    if (holder(path) === process.pid) removeQuietly(path)
  }
}
