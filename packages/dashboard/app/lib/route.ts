/** The dashboard's pages, each at `#/<name>`. */
export const PAGES = ['overview', 'files', 'peers', 'activity'] as const
export type Page = (typeof PAGES)[number]

export const PAGE_TITLES: Readonly<Record<Page, string>> = {
  overview: 'Overview',
  files: 'Files',
  peers: 'Peers',
  activity: 'Activity',
}

/** The page a location hash shows: `#/files` → files; anything else the overview. */
export function parseRoute(hash: string): Page {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? ''
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : 'overview'
}

export const routeHref = (page: Page): string => `#/${page}`
