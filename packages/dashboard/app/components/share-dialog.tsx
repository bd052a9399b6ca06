import type { ObjectInfo } from '@cas/api'
import { useEffect, useState } from 'preact/hooks'
import { useApi } from '../hooks/use-api.js'
import { displayName } from '../lib/file-table.js'
import { ErrorNote } from './error-note.js'
import { ModalDialog } from './modal-dialog.js'

/** Makes a capability for one object and shows it, to be copied and sent to someone. */
export function ShareDialog({ object, onClose }: { object: ObjectInfo; onClose(): void }) {
  const api = useApi()
  const [capability, setCapability] = useState<string | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const [copied, setCopied] = useState<string | undefined>(undefined)
  const name = displayName(object)

  useEffect(() => {
    let live = true
    api.share(object.cid).then(
      (r) => live && setCapability(r.capability),
      (e: unknown) => live && setError(e),
    )
    return () => {
      live = false
    }
  }, [api, object.cid])

  const copy = async (): Promise<void> => {
    if (!capability) return
    try {
      await navigator.clipboard.writeText(capability)
      setCopied('Copied to the clipboard.')
    } catch {
      // No clipboard access: select the text so that Ctrl+C copies it.
      const node = document.querySelector('[data-testid="capability"]')
      if (node) window.getSelection()?.selectAllChildren(node)
      setCopied('Selected: press Ctrl+C (⌘C) to copy.')
    }
  }

  return (
    <ModalDialog title={`Share ${name}`} onClose={onClose}>
      <p>
        Whoever has this capability can read this one file through their own cas node (
        <code>cas get &lt;capability&gt;</code>), and nothing else.
      </p>
      {error !== undefined && <ErrorNote error={error} />}
      {capability === undefined && error === undefined && <p role="status">Creating the capability…</p>}
      {capability !== undefined && (
        <code class="capability" data-testid="capability">
          {capability}
        </code>
      )}
      <p role="status" class="muted">
        {copied ?? ''}
      </p>
      <div class="dialog-buttons">
        <button type="button" onClick={onClose}>
          Close
        </button>
        <button type="button" class="primary" onClick={copy} disabled={capability === undefined}>
          Copy
        </button>
      </div>
    </ModalDialog>
  )
}
