import { shortId } from '../lib/format.js'

/** The start of a long hex id, its whole value in the tooltip (and announced by its label). */
export function ShortId({ id, length }: { id: string; length?: number }) {
  return (
    <code class="id" title={id}>
      {shortId(id, length)}
    </code>
  )
}
