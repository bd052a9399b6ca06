import type { ObjectInfo } from '@cas/api'
import { useState } from 'preact/hooks'
import { useApi } from '../hooks/use-api.js'
import { displayName } from '../lib/file-table.js'
import { formatBytes } from '../lib/format.js'
import { ErrorNote } from './error-note.js'
import { ModalDialog } from './modal-dialog.js'

interface Props {
  object: ObjectInfo
  onDeleted(cid: string): void
  onClose(): void
}

/** Asks before deleting an object here and on every peer; Cancel comes first and has the focus. */
export function DeleteDialog({ object, onDeleted, onClose }: Props) {
  const api = useApi()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const name = displayName(object)

  const confirm = async (): Promise<void> => {
    setBusy(true)
    setError(undefined)
    try {
      await api.remove(object.cid)
      onDeleted(object.cid)
    } catch (e) {
      setError(e)
      setBusy(false)
    }
  }

  return (
    <ModalDialog title={`Delete ${name}?`} onClose={onClose}>
      <p>
        This deletes {name} ({formatBytes(object.size)}) here and on every peer that holds a replica. It
        cannot be undone.
      </p>
      {error !== undefined && <ErrorNote error={error} />}
      <div class="dialog-buttons">
        <button type="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={confirm} disabled={busy}>
          {busy ? 'Deleting…' : 'Delete'}
        </button>
      </div>
    </ModalDialog>
  )
}
