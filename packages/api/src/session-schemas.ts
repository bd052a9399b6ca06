import * as z from 'zod'
import { Millis } from './hex.js'

/**
 * `POST /v1/ui/links` (`cas ui`): a one-time sign-in link to the dashboard. Its code travels in
 * the address's fragment, which a browser never sends to a server or puts in a Referer.
 */
export const UiLinkSchema = z.looseObject({ url: z.string().min(1), expiresAt: Millis })
export type UiLink = z.infer<typeof UiLinkSchema>

/** `POST /v1/ui/session` with `{code}`: the code, used once, traded for the API token. */
export const UiSessionSchema = z.looseObject({ token: z.string().min(1) })
export type UiSession = z.infer<typeof UiSessionSchema>

/** The body of every error answer. */
export const ErrorBodySchema = z.looseObject({
  error: z.looseObject({ code: z.string(), message: z.string() }),
})
export type ErrorBody = z.infer<typeof ErrorBodySchema>
