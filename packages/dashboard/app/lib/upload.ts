import { type PutResult, PutResultSchema } from '@cas/api'
import { ApiError, errorFromBody } from './api-error.js'

export interface UploadHandle {
  result: Promise<PutResult>
  abort(): void
}

/**
 * Stores one file (`POST /v1/objects?name=`), streaming it as the request body. XMLHttpRequest
 * rather than fetch: only it reports how much of the body has gone out.
 */
export function uploadFile(
  token: string,
  file: File,
  onProgress: (sent: number, total: number) => void,
): UploadHandle {
  const xhr = new XMLHttpRequest()
  const result = new Promise<PutResult>((resolve, reject) => {
    xhr.open('POST', `/v1/objects?name=${encodeURIComponent(file.name)}`)
    xhr.setRequestHeader('Authorization', `Bearer ${token}`)
    xhr.setRequestHeader('Content-Type', 'application/octet-stream')
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size)
    xhr.onload = () => {
      if (xhr.status !== 201 && xhr.status !== 200) {
        reject(errorFromBody(xhr.status, xhr.responseText))
        return
      }
      try {
        resolve(PutResultSchema.parse(JSON.parse(xhr.responseText)))
      } catch {
        reject(new ApiError('ERR_BAD_RESPONSE', 'The node answered an unexpected shape', xhr.status))
      }
    }
    // The node answers early and closes when it refuses an upload (quota, full disk): some browsers
    // then report a network error instead of the answer.
    xhr.onerror = () => reject(new ApiError('ERR_NETWORK', 'The upload was cut off', 0))
    xhr.onabort = () => reject(new ApiError('ERR_ABORTED', 'Upload cancelled', 0))
    xhr.send(file)
  })
  return { result, abort: () => xhr.abort() }
}
