import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { ApiClient } from '../lib/api-client.js'

export const ApiContext = createContext<ApiClient | undefined>(undefined)

/** The signed-in API client; pages render only inside its provider. */
export function useApi(): ApiClient {
  const api = useContext(ApiContext)
  if (!api) throw new Error('useApi outside ApiContext')
  return api
}
