// The API token lives in sessionStorage only: it goes when the tab closes, and other tabs and
// later visits sign in again (`cas ui` makes that one click).

const KEY = 'cas.apiToken'

export function loadToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined
  } catch {
    // Storage can be disabled; the user then signs in on each load.
    return undefined
  }
}

export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token)
  } catch {
    // Kept in memory only.
  }
}

export function clearToken(): void {
  try {
    sessionStorage.removeItem(KEY)
  } catch {
    // Nothing stored.
  }
}
