import { PAGE_TITLES, PAGES, type Page, routeHref } from '../lib/route.js'

export function NavBar({ page }: { page: Page }) {
  return (
    <nav aria-label="Pages">
      <ul class="nav">
        {PAGES.map((p) => (
          <li key={p}>
            <a href={routeHref(p)} aria-current={p === page ? 'page' : undefined}>
              {PAGE_TITLES[p]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  )
}
