// Preloaded with `node --import` by the big-file bench: writes the process's peak RSS (KiB) at exit.
import { writeFileSync } from 'node:fs'

process.on('exit', () => {
  const file = process.env.CAS_MAX_RSS_FILE
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS))
})
