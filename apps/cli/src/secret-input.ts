import { UsageError } from './errors.js'

/** Longer than any phrase or passphrase a person types; more on stdin is not what we asked for. */
const MAX_SECRET_BYTES = 64 * 1024

/**
 * Reads a secret (a recovery phrase, a passphrase) without putting it in argv or the shell's
 * history: typed at a prompt with no echo when stdin is a terminal, else read from stdin (what a
 * script pipes in). `multiline`: the whole of stdin (a phrase may be written on several lines);
 * otherwise its first line.
 */
export async function readSecret(
  prompt: string,
  opts: { multiline?: boolean; stdin?: NodeJS.ReadStream; stderr?: NodeJS.WriteStream } = {},
): Promise<string> {
  const stdin = opts.stdin ?? process.stdin
  const stderr = opts.stderr ?? process.stderr
  const text = stdin.isTTY ? await typed(prompt, stdin, stderr) : await piped(stdin)
  const secret = opts.multiline === true ? text.trim() : (text.split(/\r?\n/)[0] ?? '')
  if (secret.length === 0) throw new UsageError(`nothing was given for: ${prompt.replace(/:\s*$/, '')}`)
  return secret
}

async function piped(stdin: NodeJS.ReadStream): Promise<string> {
  const parts: Buffer[] = []
  let size = 0
  for await (const chunk of stdin as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_SECRET_BYTES) throw new UsageError(`stdin holds more than ${MAX_SECRET_BYTES} bytes`)
    parts.push(chunk)
  }
  return Buffer.concat(parts).toString('utf8')
}

/** One line typed at the terminal, not echoed; Ctrl-C aborts. */
function typed(prompt: string, stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream): Promise<string> {
  stderr.write(prompt)
  stdin.setRawMode(true)
  stdin.resume()
  let line = ''
  return new Promise<string>((resolve, reject) => {
    const done = (): void => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      stderr.write('\n')
    }
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done()
          resolve(line)
          return
        }
        if (ch === '\u0003') {
          done()
          reject(new UsageError('cancelled'))
          return
        }
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1)
        else line += ch
      }
    }
    stdin.on('data', onData)
  })
}
