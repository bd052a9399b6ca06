import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { DAEMON_NODE_OPTIONS } from '../src/index.js'

const NODE_APP = fileURLToPath(new URL('../../../apps/node/', import.meta.url))
const BIN = `${NODE_APP}bin/cas-node.js`

// The daemon is started in three ways; each gives node the same options (the kit's own starts are
// checked in local-cluster.test.ts).
describe("the daemon's options for node", () => {
  it('are on the first line of bin/cas-node.js, which runs through it', async () => {
    const [first] = (await readFile(BIN, 'utf8')).split('\n')
    expect(first).toBe(`#!/usr/bin/env -S node ${DAEMON_NODE_OPTIONS.join(' ')}`)
    // Run as a program (the way `cas-node` is linked), not through node: the line itself is used.
    const { stdout } = await promisify(execFile)(BIN, ['--version'])
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it("are in apps/node's start script", async () => {
    const manifest = JSON.parse(await readFile(`${NODE_APP}package.json`, 'utf8')) as {
      scripts: { start: string }
    }
    expect(manifest.scripts.start).toContain(`&& node ${DAEMON_NODE_OPTIONS.join(' ')} dist/daemon.js`)
  })
})
