import type { ObjectInfo } from '@cas/api'

/** A 64-hex-digit id made of one repeated digit (or a prefix then zeros). */
export const hex = (start: string): string => start.padEnd(64, '0')

/** An object of the list, with what a test does not care about filled in. */
export function object(partial: Partial<ObjectInfo> & { cid: string }): ObjectInfo {
  return {
    size: 0,
    names: [],
    created: 0,
    local: true,
    wanted: 2,
    holders: [],
    shared: false,
    refusals: [],
    failedAudits: [],
    ...partial,
  }
}
