import type { ComponentChildren } from 'preact'
import { useId, useLayoutEffect, useRef } from 'preact/hooks'

interface Props {
  title: string
  /** Called once the dialog closed: Escape, a button of the caller's, or unmounting. */
  onClose(): void
  children: ComponentChildren
  class?: string
}

/**
 * A native modal `<dialog>` (showModal): the browser keeps focus inside it and closes it on
 * Escape. Focus goes back to what opened it, or to the page's heading when that is gone (a
 * deleted row's button).
 */
export function ModalDialog({ title, onClose, children, class: className }: Props) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  const onCloseRef = useRef(onClose)
  onCloseRef.current = onClose

  useLayoutEffect(() => {
    const dialog = ref.current
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    if (dialog && !dialog.open) dialog.showModal()
    return () => {
      onCloseRef.current = () => {}
      if (dialog?.open) dialog.close()
      const target = opener?.isConnected ? opener : document.querySelector<HTMLElement>('main h1')
      target?.focus()
    }
  }, [])

  return (
    <dialog
      ref={ref}
      class={className ? `dialog ${className}` : 'dialog'}
      aria-labelledby={titleId}
      onClose={() => onCloseRef.current()}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  )
}
