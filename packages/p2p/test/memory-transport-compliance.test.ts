import { MemoryNetwork, MemoryTransport } from '../src/index.js'
import { identity } from './helpers.js'
import { transportComplianceSuite } from './transport-compliance.js'

const network = new MemoryNetwork()
transportComplianceSuite(
  'MemoryTransport',
  async (i) => new MemoryTransport({ network, identity: await identity(i) }),
)
