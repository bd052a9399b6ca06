import { statfs } from 'node:fs/promises'
import { LowDiskError } from './errors.js'

export interface DiskGuardOptions {
  /** The folder whose file system is checked. */
  root: string
  /** Bytes kept free; 0 turns the guard off. */
  minFree: number
  /** Inodes kept free, where the file system counts them. */
  minInodes: number
  /** How long one reading of the disk serves, in ms. Default 250. */
  maxAge?: number
  /** Reads the file system's counts. Default node's `statfs`. */
  statfs?: (root: string) => Promise<DiskCounts>
}

/** What the guard reads of a file system (a subset of node's `StatsFs`). */
export interface DiskCounts {
  bavail: number | bigint
  bsize: number | bigint
  ffree: number | bigint
  files: number | bigint
}

/** A reading serves this long: stores of small replicas arrive by the thousand a second. */
const DEFAULT_MAX_AGE = 250

interface Reading {
  at: number
  freeBytes: number
  freeInodes: number
  countsInodes: boolean
  /** Bytes let in since the reading, counted as used until the next one. */
  admitted: number
}

/**
 * Refuses replicas that would leave the disk below its floors. One `statfs` serves the checks of
 * `maxAge` ms, with the bytes admitted since taken off what it read, so a burst of stores costs
 * one system call rather than one each, and cannot together overshoot the floor by more than
 * what other programs write meanwhile.
 */
export class DiskGuard {
  readonly #o: Required<DiskGuardOptions>
  #reading: Reading | undefined
  #pending: Promise<Reading> | undefined

  constructor(options: DiskGuardOptions) {
    this.#o = { maxAge: DEFAULT_MAX_AGE, statfs, ...options }
  }

  /** Throws LowDiskError when `coming` more bytes (and a replica's inode) would go below a floor. */
  async check(coming: number): Promise<void> {
    const { minFree, minInodes } = this.#o
    if (minFree === 0) return
    const r = await this.#read()
    if (r.freeBytes - r.admitted - coming < minFree) throw new LowDiskError(minFree)
    // Each replica costs inodes (a file and its folders) whatever its size; file systems without a
    // fixed inode table report none and are bounded by bytes alone.
    if (r.countsInodes && r.freeInodes < minInodes) throw new LowDiskError(minFree, minInodes)
    r.admitted += coming
  }

  #read(): Promise<Reading> {
    const r = this.#reading
    if (r && Date.now() - r.at < this.#o.maxAge) return Promise.resolve(r)
    // Checks that arrive while the disk is being read share that reading.
    this.#pending ??= this.#o
      .statfs(this.#o.root)
      .then(({ bavail, bsize, ffree, files }) => {
        this.#reading = {
          at: Date.now(),
          freeBytes: Number(bavail) * Number(bsize),
          freeInodes: Number(ffree),
          countsInodes: Number(files) > 0,
          admitted: 0,
        }
        return this.#reading
      })
      .finally(() => {
        this.#pending = undefined
      })
    return this.#pending
  }
}
