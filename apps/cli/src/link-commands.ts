import { execFileSync } from 'node:child_process'
import { lstat, mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { nodeMainPath } from '@cas/test-kit'
import { CliError } from './errors.js'
import { MAN_PAGE_MARK } from './man-page.js'

/** A command to put on PATH: its name and the launcher it runs. */
export interface LinkedCommand {
  name: string
  target: string
}

/** `cas` and `cas-node`, as launchers of this checkout. */
export function casCommands(): LinkedCommand[] {
  const nodeMain = nodeMainPath()
  return [
    { name: 'cas', target: fileURLToPath(new URL('../bin/cas.js', import.meta.url)) },
    { name: 'cas-node', target: join(dirname(dirname(nodeMain)), 'bin', 'cas-node.js') },
  ]
}

/** Where npm puts global commands (`pnpm` itself is there after the README's set-up). */
export function npmBinDir(): string {
  // npm's stderr is dropped: run under pnpm, it warns about pnpm's own npm_config_* variables.
  const prefix = execFileSync('npm', ['prefix', '-g'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim()
  return process.platform === 'win32' ? prefix : join(prefix, 'bin')
}

/**
 * Links each command into `binDir` (a symlink to its launcher, as `npm link` does), so that it runs
 * from any folder with that folder's paths, its own exit codes and a clean stdout. A link of an
 * earlier checkout is replaced; anything else of the same name is left alone and reported.
 */
export async function linkCommands(binDir: string, commands: LinkedCommand[]): Promise<string[]> {
  const done: string[] = []
  for (const { name, target } of commands) {
    const path = join(binDir, name)
    const existing = await lstat(path).catch(() => undefined)
    if (existing) {
      const current = existing.isSymbolicLink() ? resolve(binDir, await readlink(path)) : undefined
      if (current === target) {
        done.push(`${name} already links to ${target}`)
        continue
      }
      if (!current?.endsWith(join('bin', `${name}.js`))) {
        throw new CliError(
          'ERR_FILE',
          `${path} exists and is not a link to a cas checkout; remove it, or choose another folder with CAS_BIN_DIR`,
        )
      }
      await rm(path)
    }
    try {
      await symlink(target, path)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new CliError(
        'ERR_FILE',
        `cannot write ${path}${code === 'EACCES' || code === 'EPERM' ? ': permission denied (run it as the user who installed pnpm, or set CAS_BIN_DIR to a folder on your PATH)' : `: ${(err as Error).message}`}`,
      )
    }
    done.push(`linked ${name} → ${target}`)
  }
  return done
}

/** Where man finds pages of commands in `binDir`: npm's layout, `<prefix>/bin` beside `<prefix>/share/man`. */
export function manDirOf(binDir: string): string {
  return join(dirname(binDir), 'share', 'man', 'man1')
}

/**
 * Writes cas(1), as `cas manpage` prints it, into `manDir` so that `man cas` finds it. A page there
 * that this did not write is left alone and reported.
 */
export async function installManPage(manDir: string, cas: LinkedCommand): Promise<string> {
  const path = join(manDir, 'cas.1')
  const existing = await readFile(path, 'utf8').catch(() => undefined)
  if (existing !== undefined && !existing.startsWith(MAN_PAGE_MARK)) {
    return `${path} exists and is not cas's manual page; left alone (read it with: cas manpage | man -l -)`
  }
  const page = execFileSync(process.execPath, [cas.target, 'manpage'], { encoding: 'utf8' })
  try {
    await mkdir(manDir, { recursive: true })
    await writeFile(path, page)
  } catch (err) {
    return `could not write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); read the manual with: cas manpage | man -l -`
  }
  return `manual page ${path} (man cas)`
}

/** `pnpm link-commands`: links `cas` and `cas-node` into CAS_BIN_DIR, else npm's global bin folder. */
export async function runLinkCommands(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const binDir = resolve(env.CAS_BIN_DIR || npmBinDir())
  const commands = casCommands()
  for (const line of await linkCommands(binDir, commands)) process.stderr.write(`${line}\n`)
  const cas = commands.find((c) => c.name === 'cas')
  if (cas && process.platform !== 'win32') {
    process.stderr.write(`${await installManPage(manDirOf(binDir), cas)}\n`)
  }
  const onPath = (env.PATH ?? '').split(delimiter).some((p) => p !== '' && resolve(p) === binDir)
  if (!onPath) process.stderr.write(`note: ${binDir} is not on your PATH; add it to run cas by name\n`)
}
