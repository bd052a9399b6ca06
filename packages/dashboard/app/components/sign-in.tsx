import type { TargetedSubmitEvent } from 'preact'
import { useState } from 'preact/hooks'
import { ApiClient } from '../lib/api-client.js'
import { describeError, toApiError } from '../lib/api-error.js'

interface Props {
  /** Why the user is here again (a refused token, a used-up link), shown as an alert. */
  notice: string | undefined
  onSignedIn(token: string): void
}

export const TOKEN_REFUSED = 'The token was refused by the node. Check it and try again.'

/** Asks for the node's API token and checks it with `GET /v1/status` before keeping it. */
export function SignIn({ notice, onSignedIn }: Props) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)

  const submit = async (e: TargetedSubmitEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault()
    // Read from the form itself: what is in the field now, whatever has rendered.
    const value = String(new FormData(e.currentTarget).get('token') ?? '').trim()
    if (value === '') {
      setError('Enter the API token.')
      return
    }
    setBusy(true)
    setError(undefined)
    try {
      await new ApiClient(value).status()
      onSignedIn(value)
    } catch (err) {
      setError(toApiError(err).unauthenticated ? TOKEN_REFUSED : describeError(err))
      setBusy(false)
    }
  }

  const message = error ?? notice
  return (
    <div class="sign-in">
      <h1>Sign in to your cas node</h1>
      <p>
        Run <code>cas ui</code> on this computer to open the dashboard signed in, or paste the node's API
        token (the file <code>api-token</code> in the node's home folder).
      </p>
      <form class="sign-in-form" onSubmit={submit}>
        <label for="api-token">API token</label>
        <input id="api-token" name="token" type="password" autocomplete="off" spellcheck={false} />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
      {message && (
        <p role="alert" class="error">
          {message}
        </p>
      )}
    </div>
  )
}
