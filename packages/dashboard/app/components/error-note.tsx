import { describeError } from '../lib/api-error.js'

/** A failure, announced as it appears. */
export function ErrorNote({ error, prefix }: { error: unknown; prefix?: string }) {
  return (
    <p role="alert" class="error">
      {prefix ? `${prefix}: ` : ''}
      {describeError(error)}
    </p>
  )
}
