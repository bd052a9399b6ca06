// Node.js only (node:http): the client the `cas` command and the test kit use.
export { ApiClient, type ApiConnection, type SendOptions } from './api-client.js'
export { ApiError, ClientError, NodeUnreachableError } from './client-errors.js'
export { FileBody } from './file-body.js'
