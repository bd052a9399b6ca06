import { useEffect, useState } from 'preact/hooks'
import { type Page, parseRoute } from '../lib/route.js'

/** The page the location hash names, following back/forward and link clicks. */
export function useRoute(): Page {
  const [page, setPage] = useState<Page>(() => parseRoute(location.hash))
  useEffect(() => {
    const update = (): void => setPage(parseRoute(location.hash))
    window.addEventListener('hashchange', update)
    return () => window.removeEventListener('hashchange', update)
  }, [])
  return page
}
