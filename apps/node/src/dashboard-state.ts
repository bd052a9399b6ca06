import { statfs } from 'node:fs/promises'
import type { BadPeerEvent, FileServer, PeerInfo, RepairStatus } from '@cas/server'
import { ActivityFeed } from './activity-feed.js'
import type { DashboardState } from './http/routes.js'
import { OneTimeCodes } from './one-time-codes.js'
import { TrafficHistory } from './traffic-history.js'

/** How long a `cas ui` sign-in link works. */
export const SIGN_IN_LINK_TTL = 5 * 60_000
/** How long a download link works (it is taken by the browser at once). */
export const DOWNLOAD_LINK_TTL = 60_000

/**
 * The dashboard's state for one node: its activity feed fed by the server's events (peers coming
 * and going, bad data from holders, repair passes), its traffic history and its one-time codes.
 */
export function dashboardState(server: FileServer, apiUrl: () => string, dir?: string): DashboardState {
  const feed = new ActivityFeed()
  const short = (id: string) => id.slice(0, 8)
  server.on('peer', (p: PeerInfo) =>
    feed.note({ type: 'peer', message: `peer ${short(p.nodeId)} connected`, nodeId: p.nodeId }),
  )
  server.on('peer:close', (p: PeerInfo) =>
    feed.note({ type: 'peer', message: `peer ${short(p.nodeId)} disconnected`, nodeId: p.nodeId }),
  )
  server.on('peer:bad', (e: BadPeerEvent) =>
    feed.note({
      type: 'integrity',
      message: `peer ${short(e.nodeId)} served bad data for ${e.cid.slice(0, 12)}: ${e.message}`,
      cid: e.cid,
      nodeId: e.nodeId,
      code: e.code,
    }),
  )
  let lastRun: number | undefined
  server.on('repair', (s: RepairStatus) => {
    // The status comes as repairs start and after each pass: one event per finished pass.
    if (s.lastRun === undefined || s.lastRun === lastRun) return
    lastRun = s.lastRun
    feed.note({
      type: 'repair',
      message: `repair pass: ${s.healthy} healthy, ${s.underReplicated} under-replicated, ${s.repairing} repairing`,
    })
  })
  return {
    feed,
    traffic: new TrafficHistory(),
    signIns: new OneTimeCodes(SIGN_IN_LINK_TTL),
    downloads: new OneTimeCodes(DOWNLOAD_LINK_TTL),
    dir,
    apiUrl,
  }
}

/** Free and total bytes of the file system holding `path`; nothing when it cannot be read. */
export async function diskOf(path: string): Promise<{ disk?: { free: number; total: number } }> {
  try {
    const s = await statfs(path)
    return { disk: { free: s.bavail * s.bsize, total: s.blocks * s.bsize } }
  } catch {
    return {}
  }
}
