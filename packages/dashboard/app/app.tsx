import type { ComponentChildren } from 'preact'
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { LiveIndicator } from './components/live-indicator.js'
import { NavBar } from './components/nav-bar.js'
import { SignIn, TOKEN_REFUSED } from './components/sign-in.js'
import { useActivityStream } from './hooks/use-activity-stream.js'
import { ApiContext } from './hooks/use-api.js'
import { useRoute } from './hooks/use-route.js'
import { ApiClient, redeemSignInCode } from './lib/api-client.js'
import { describeError, toApiError } from './lib/api-error.js'
import { PAGE_TITLES } from './lib/route.js'
import { signInCode } from './lib/sign-in-code.js'
import { clearToken, loadToken, saveToken } from './lib/token-store.js'
import { ActivityPage } from './pages/activity-page.js'
import { FilesPage } from './pages/files-page.js'
import { OverviewPage } from './pages/overview-page.js'
import { PeersPage } from './pages/peers-page.js'

/** Signs in (a token, or the one-time code of a `cas ui` link), then shows the dashboard. */
export function App() {
  const [token, setToken] = useState<string | undefined>(loadToken)
  const [notice, setNotice] = useState<string | undefined>(undefined)
  const [redeeming, setRedeeming] = useState(() => signInCode(location.hash) !== undefined)

  useEffect(() => {
    const redeem = (): void => {
      const code = signInCode(location.hash)
      if (code === undefined) return
      // The code is good once only: it leaves the address bar and the history at once.
      history.replaceState(null, '', location.pathname + location.search)
      setRedeeming(true)
      redeemSignInCode(code)
        .then(
          (t) => {
            saveToken(t)
            setNotice(undefined)
            setToken(t)
          },
          (error: unknown) => {
            const e = toApiError(error)
            setNotice(
              e.status >= 400 && e.status < 500
                ? 'This sign-in link has expired or was used already. Run cas ui again, or sign in with the API token.'
                : `The sign-in link did not work: ${describeError(e)}`,
            )
          },
        )
        .finally(() => setRedeeming(false))
    }
    redeem()
    // A link opened in a tab that already shows the dashboard only changes the hash.
    window.addEventListener('hashchange', redeem)
    return () => window.removeEventListener('hashchange', redeem)
  }, [])

  const signIn = useCallback((t: string) => {
    saveToken(t)
    setNotice(undefined)
    setToken(t)
  }, [])
  const signOut = useCallback(() => {
    clearToken()
    setNotice(undefined)
    setToken(undefined)
  }, [])
  const refused = useCallback(() => {
    clearToken()
    setNotice(TOKEN_REFUSED)
    setToken(undefined)
  }, [])
  const api = useMemo(
    () => (token === undefined ? undefined : new ApiClient(token, refused)),
    [token, refused],
  )

  useEffect(() => {
    if (!api) document.title = 'Sign in · cas'
  }, [api])

  if (!api) {
    return (
      <Frame>
        <main id="main">
          {redeeming ? <p role="status">Signing in…</p> : <SignIn notice={notice} onSignedIn={signIn} />}
        </main>
      </Frame>
    )
  }
  return (
    <ApiContext.Provider value={api}>
      <Dashboard api={api} onSignOut={signOut} onRefused={refused} />
    </ApiContext.Provider>
  )
}

function Frame({ children, bar }: { children: ComponentChildren; bar?: ComponentChildren }) {
  return (
    <>
      <header class="top">
        <span class="brand">cas</span>
        {bar}
      </header>
      {children}
    </>
  )
}

function Dashboard({ api, onSignOut, onRefused }: { api: ApiClient; onSignOut(): void; onRefused(): void }) {
  const page = useRoute()
  const stream = useActivityStream(api, onRefused)
  const first = useRef(true)

  useEffect(() => {
    document.title = `${PAGE_TITLES[page]} · cas`
    // After a page change (not the first load), reading goes on from the new page's heading.
    if (first.current) first.current = false
    else document.querySelector<HTMLElement>('main h1')?.focus()
  }, [page])

  const newestEvent = stream.recent[0]
  return (
    <Frame
      bar={
        <>
          <NavBar page={page} />
          <div class="top-end">
            <LiveIndicator state={stream.state} />
            <button type="button" class="small" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        </>
      }
    >
      <main id="main">
        {page === 'overview' && <OverviewPage />}
        {page === 'files' && <FilesPage newestEvent={newestEvent} />}
        {page === 'peers' && <PeersPage newestEvent={newestEvent} />}
        {page === 'activity' && <ActivityPage stream={stream} />}
      </main>
    </Frame>
  )
}
