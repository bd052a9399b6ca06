import * as z from 'zod'

// zod would otherwise probe for eval (new Function) as its first schema is made, which a strict
// Content-Security-Policy forbids. Imported first by main.tsx: the probe runs as the schemas of
// @cas/api are created, before anything else of the app runs.
z.config({ jitless: true })
