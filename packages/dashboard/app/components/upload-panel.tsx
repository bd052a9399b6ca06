import type { PutResult } from '@cas/api'
import { useEffect, useId, useRef, useState } from 'preact/hooks'
import { describeError } from '../lib/api-error.js'
import { formatBytes, percent } from '../lib/format.js'
import { uploadFile } from '../lib/upload.js'

interface Upload {
  id: number
  file: File
  sent: number
  state: 'queued' | 'uploading' | 'done' | 'failed'
  result?: PutResult
  error?: string
}

/** How long a finished upload stays listed. */
const DONE_LINGER_MS = 8000

/**
 * Uploads chosen or dropped files one at a time (one stream at a time gets each file done
 * soonest), each with its progress; failures stay listed until dismissed.
 */
export function UploadPanel({ token, onUploaded }: { token: string; onUploaded(): void }) {
  const [uploads, setUploads] = useState<Upload[]>([])
  const [dragging, setDragging] = useState(false)
  const nextId = useRef(1)
  const inputId = useId()
  const onUploadedRef = useRef(onUploaded)
  onUploadedRef.current = onUploaded

  const update = (id: number, change: Partial<Upload>): void =>
    setUploads((list) => list.map((u) => (u.id === id ? { ...u, ...change } : u)))

  const add = (files: FileList | null): void => {
    if (!files || files.length === 0) return
    const added = [...files].map((file): Upload => ({ id: nextId.current++, file, sent: 0, state: 'queued' }))
    setUploads((list) => [...list, ...added])
  }

  // Starts the next queued upload whenever none is running.
  const running = uploads.some((u) => u.state === 'uploading')
  const next = running ? undefined : uploads.find((u) => u.state === 'queued')
  useEffect(() => {
    if (!next) return
    const { id, file } = next
    update(id, { state: 'uploading' })
    const handle = uploadFile(token, file, (sent) => update(id, { sent }))
    handle.result.then(
      (result) => {
        update(id, { state: 'done', sent: file.size, result })
        onUploadedRef.current()
        setTimeout(() => setUploads((list) => list.filter((u) => u.id !== id)), DONE_LINGER_MS)
      },
      (error: unknown) => update(id, { state: 'failed', error: describeError(error) }),
    )
  }, [next, token])

  return (
    <section class="upload" aria-labelledby={`${inputId}-h`}>
      <h2 id={`${inputId}-h`}>Upload</h2>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: only a drop target; the file input inside is the way in for keyboards and screen readers */}
      <div
        class={dragging ? 'drop-zone dragging' : 'drop-zone'}
        data-testid="drop-zone"
        onDragEnter={(e) => {
          e.preventDefault()
          setDragging(true)
        }}
        onDragOver={(e) => {
          e.preventDefault()
          if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'
        }}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false)
        }}
        onDrop={(e) => {
          e.preventDefault()
          setDragging(false)
          add(e.dataTransfer?.files ?? null)
        }}
      >
        <label for={inputId}>Upload files</label>
        <input
          id={inputId}
          type="file"
          multiple
          onChange={(e) => {
            add(e.currentTarget.files)
            // Choosing the same file again still fires a change.
            e.currentTarget.value = ''
          }}
        />
        <p class="muted">or drop files here. They are encrypted and stored on this node and its peers.</p>
      </div>
      {uploads.length > 0 && (
        <ul class="uploads">
          {uploads.map((u) => (
            <UploadRow
              key={u.id}
              upload={u}
              onDismiss={() => setUploads((list) => list.filter((x) => x.id !== u.id))}
            />
          ))}
        </ul>
      )}
    </section>
  )
}

function UploadRow({ upload, onDismiss }: { upload: Upload; onDismiss(): void }) {
  const { file, state } = upload
  const pct = percent(upload.sent, file.size)
  return (
    <li class={`upload-item upload-${state}`} data-upload={file.name} data-state={state}>
      <span class="upload-name">{file.name}</span>
      {(state === 'queued' || state === 'uploading') && (
        <span class="upload-progress">
          <progress max={100} value={pct} aria-label={`Uploading ${file.name}`} />
          <span class="pct">{state === 'queued' ? 'waiting' : `${pct}%`}</span>
        </span>
      )}
      {state === 'done' && upload.result && (
        <span class="upload-done">
          Stored, {formatBytes(upload.result.size)}
          {upload.result.underReplicated &&
            ` — only ${upload.result.replicas.length} of ${upload.result.wanted} replicas so far; repair will add the rest`}
        </span>
      )}
      {state === 'failed' && (
        <>
          <span role="alert" class="error">
            {file.name} was not stored: {upload.error}
          </span>
          <button type="button" class="small" onClick={onDismiss} aria-label={`Dismiss ${file.name}`}>
            Dismiss
          </button>
        </>
      )}
    </li>
  )
}
