import { TcpTransport } from '../src/index.js'
import { identity } from './helpers.js'
import { transportComplianceSuite } from './transport-compliance.js'

// Real sockets on 127.0.0.1, a free port each; the default (authenticated) handshake.
transportComplianceSuite(
  'TcpTransport over plain TCP',
  async (i) => new TcpTransport({ identity: await identity(i) }),
)
transportComplianceSuite(
  'TcpTransport over TLS',
  async (i) => new TcpTransport({ identity: await identity(i), tls: true }),
)
