/**
 * The one-time code of a sign-in link (`cas ui` opens `…/#code=XXXX`): it travels in the fragment,
 * which a browser never sends to a server. Undefined when the hash carries none.
 */
export function signInCode(hash: string): string | undefined {
  if (!hash.startsWith('#') || hash.startsWith('#/')) return undefined
  const code = new URLSearchParams(hash.slice(1)).get('code')
  return code === null || code === '' ? undefined : code
}
