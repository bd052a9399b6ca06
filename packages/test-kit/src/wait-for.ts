/** Polls `check` until it returns a value other than undefined, failing after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what = 'the condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    // A short tick and a deadline: never a fixed sleep standing in for an event.
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Polls a boolean `check` until it holds, failing after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  await waitFor(async () => ((await check()) ? true : undefined), timeoutMs, what)
}
