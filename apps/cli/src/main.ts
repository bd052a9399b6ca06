import { readFileSync } from 'node:fs'
import { Command, CommanderError, Option } from 'commander'
import { createContext, type GlobalOptions } from './context.js'
import { CliError } from './errors.js'
import { EXIT_CODE_MEANINGS, EXIT_FAILURE, EXIT_USAGE } from './exit-codes.js'
import { HELP_EXAMPLES } from './help-examples.js'
import { Output } from './output.js'

// Command modules load on use: `cas --version` and `cas --help` stay as quick as node itself allows.
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version

const program = new Command('cas')
  .description('cas: a peer-to-peer, content-addressed, end-to-end encrypted file store')
  .version(VERSION, '-v, --version')
  .addOption(
    new Option(
      '--api <url>',
      'HTTP API of the node (default: CAS_API, else <home>/node.json, else http://127.0.0.1:3001)',
    ),
  )
  .addOption(
    new Option(
      '--home <dir>',
      'data directory, for the API token and address (default: CAS_HOME, else ~/.cas)',
    ),
  )
  .option('--json', 'print results as JSON on stdout')
  .option('-q, --quiet', 'no messages or progress bars on stderr')
  .exitOverride()
  .showHelpAfterError('(run `cas --help` for usage)')
  .addHelpText('after', `\nExit codes: ${EXIT_CODE_MEANINGS.map((e) => `${e.code} ${e.short}`).join(', ')}.`)

function ctxOf(cmd: Command) {
  return createContext(cmd.optsWithGlobals<GlobalOptions>())
}

program
  .command('init')
  .description(
    'create the data directory: owner key (shown once as a recovery phrase), node certificate, API token',
  )
  .option('--recover', 'make the owner key again from its recovery phrase (read from stdin or typed)')
  .option('--key-file <file>', 'with --recover: from a key file written by `cas key export`')
  .action(async (opts: { recover?: boolean; keyFile?: string }, cmd: Command) =>
    (await import('./commands/init.js')).init(ctxOf(cmd), opts),
  )

program
  .command('restore')
  .description(
    "bring the owner's catalogue back from the peers (after `init --recover`); -o DIR also fetches every file into DIR",
  )
  .option('-o, --output <dir>', 'write every object into this folder under its stored name')
  .action(async (opts: { output?: string }, cmd: Command) =>
    (await import('./commands/restore.js')).restore(ctxOf(cmd), opts),
  )

program
  .command('key')
  .description('the owner key; `key export -o FILE` writes it sealed with a passphrase')
  .command('export')
  .description('write the owner key to a file sealed with a passphrase (read from stdin or typed)')
  .requiredOption('-o, --output <file>', 'the file to write (never overwritten)')
  .action(async (opts: { output: string }, cmd: Command) =>
    (await import('./commands/key.js')).exportKey(ctxOf(cmd), opts),
  )

program
  .command('put')
  .description(
    'store a file (or stdin with -), or a folder as a snapshot with -r; prints its cid (or snapshot id)',
  )
  .argument('<path>', 'a file, - for stdin, or with -r a folder')
  .option(
    '-r, --recursive',
    'store a folder: its files (only those changed since its last snapshot), then a snapshot',
  )
  .option(
    '--name <name>',
    "a name to find it by (default: the file or folder name; a folder's files go under it)",
  )
  .option('--no-name', 'store without a name')
  .option('--replication <n>', 'replicas wanted: a number or "all" (default: the node\'s setting)')
  .action(
    async (
      path: string,
      opts: { name?: string | false; replication?: string; recursive?: boolean },
      cmd: Command,
    ) =>
      opts.recursive
        ? (await import('./commands/put-folder.js')).putFolder(ctxOf(cmd), path, opts)
        : (await import('./commands/put.js')).put(ctxOf(cmd), path, opts),
  )

program
  .command('get')
  .description('fetch an object (from the network if needed) to stdout or a file; with -r, a folder')
  .argument(
    '<ref>',
    'a cid, a name, the start of a cid (at least 4 hex digits), or a capability; with -r a snapshot id or a path (/ for all)',
  )
  .option('-r, --recursive', 'write a snapshot, or every name under a path, into the folder given with -o')
  .option(
    '-o, --output <path>',
    'write to this file, or into this folder under the stored name (else the cid), instead of stdout',
  )
  .action(async (ref: string, opts: { output?: string; recursive?: boolean }, cmd: Command) =>
    opts.recursive
      ? (await import('./commands/get-folder.js')).getFolder(ctxOf(cmd), ref, opts)
      : (await import('./commands/get.js')).get(ctxOf(cmd), ref, opts),
  )

program
  .command('snapshots')
  .description('list the snapshots of folders stored with `put -r`, oldest first')
  .argument('[root]', 'only the snapshots of this folder name')
  .action(async (root: string | undefined, _opts, cmd: Command) =>
    (await import('./commands/snapshots.js')).snapshots(ctxOf(cmd), root),
  )

program
  .command('rm')
  .description('delete an object here and on every peer')
  .argument('<ref>', 'a cid, a name, or the start of a cid (at least 4 hex digits)')
  .option('--local', 'remove only the local copy; replicas stay on peers')
  .action(async (cid: string, opts: { local?: boolean }, cmd: Command) =>
    (await import('./commands/rm.js')).rm(ctxOf(cmd), cid, opts),
  )

program
  .command('mv')
  .description('rename an object: a name moves; a cid gives all its names way to the new one')
  .argument('<ref>', 'a name, a cid, or the start of a cid')
  .argument('<name>', 'the new name')
  .action(async (ref: string, name: string, _opts, cmd: Command) =>
    (await import('./commands/mv.js')).mv(ctxOf(cmd), ref, name),
  )

program
  .command('ls')
  .description(
    'list objects with their replica health; with a path, those under it (names with / are folders)',
  )
  .argument('[path]', 'a folder (as in a name like photos/2026/a.jpg) or a name')
  .option('--sort <key>', 'order by name, size, date or replicas (least healthy first)')
  .option('--reverse', 'reverse the order')
  .option('--match <text>', 'only objects with a name containing the text, or a cid starting with it')
  .option('--under-replicated', 'only objects with fewer live replicas than wanted')
  .action(
    async (
      path: string | undefined,
      opts: { sort?: string; reverse?: boolean; match?: string; underReplicated?: boolean },
      cmd: Command,
    ) => (await import('./commands/ls.js')).ls(ctxOf(cmd), path === undefined ? opts : { ...opts, path }),
  )

program
  .command('stat')
  .description('one object: size, names, replica holders wanted vs live')
  .argument('<ref>', 'a cid, a name, or the start of a cid (at least 4 hex digits)')
  .action(async (cid: string, _opts, cmd: Command) =>
    (await import('./commands/stat.js')).stat(ctxOf(cmd), cid),
  )

const peers = program
  .command('peers')
  .description('list peers; `peers add <host:port>` connects to one')
  .action(async (_opts, cmd: Command) => (await import('./commands/peers.js')).listPeers(ctxOf(cmd)))
peers
  .command('add')
  .description('connect to a peer')
  .argument('<addr>', 'host:port')
  .action(async (addr: string, _opts, cmd: Command) =>
    (await import('./commands/peers.js')).addPeer(ctxOf(cmd), addr),
  )

program
  .command('share')
  .description('print a capability that lets anyone fetch and decrypt this one object')
  .argument('<ref>', 'a cid, a name, or the start of a cid (at least 4 hex digits)')
  .action(async (cid: string, _opts, cmd: Command) =>
    (await import('./commands/share.js')).share(ctxOf(cmd), cid),
  )

program
  .command('ui')
  .description("open the node's web dashboard, signed in by a one-time link")
  .option('--no-open', 'print the link only')
  .action(async (opts: { open: boolean }, cmd: Command) =>
    (await import('./commands/ui.js')).ui(ctxOf(cmd), { open: opts.open }),
  )

program
  .command('status')
  .description("the node's identity, addresses, peers, objects and repair state")
  .action(async (_opts, cmd: Command) => (await import('./commands/status.js')).status(ctxOf(cmd)))

program
  .command('verify')
  .description('re-check every local object against its cid')
  .action(async (_opts, cmd: Command) => (await import('./commands/verify.js')).verify(ctxOf(cmd)))

program
  .command('repair')
  .description(
    'run a repair pass now: re-check every object and copy it to more peers where it lacks replicas',
  )
  .action(async (_opts, cmd: Command) => (await import('./commands/repair.js')).repair(ctxOf(cmd)))

program
  .command('stop')
  .description(
    'stop the running node gracefully (transfers in flight finish first) and wait until it is gone',
  )
  .action(async (_opts, cmd: Command) => (await import('./commands/stop.js')).stop(ctxOf(cmd)))

program
  .command('completion')
  .description('print a shell completion script: eval "$(cas completion bash)" (or zsh; fish: | source)')
  .argument('<shell>', 'bash, zsh or fish')
  .action(async (shell: string) => {
    process.stdout.write((await import('./completion.js')).completionScript(shell, program))
  })

program
  .command('manpage')
  .description(
    'print the cas(1) manual page in roff: cas manpage | man -l - (pnpm link-commands installs it)',
  )
  .action(async () => {
    process.stdout.write((await import('./man-page.js')).manPage(program, VERSION))
  })

program
  .command('demo')
  .description('start three nodes in a temporary folder and run the store / delete / fetch-back scenario')
  .option('--files <n>', 'how many files', '20')
  .option('--size <bytes>', 'largest file size in bytes', String(4 * 1024 * 1024))
  .option('--keep', 'keep the temporary folder for inspection')
  .action(async (opts: { files: string; size: string; keep?: boolean }, cmd: Command) =>
    (await import('./demo/run-demo.js')).runDemo(ctxOf(cmd), opts),
  )

for (const cmd of program.commands) {
  for (const c of [cmd, ...cmd.commands]) {
    const path = c === cmd ? c.name() : `${cmd.name()} ${c.name()}`
    const examples = HELP_EXAMPLES[path]
    if (examples) c.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`)
  }
}

try {
  await program.parseAsync(process.argv)
} catch (err) {
  process.exitCode = exitCodeOf(err)
}

function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander has printed the message (or the help / version) already
    return err.exitCode === 0 ? 0 : EXIT_USAGE
  }
  const globals = program.opts<GlobalOptions>()
  const out = new Output({ json: globals.json === true, quiet: false, env: process.env })
  if (err instanceof CliError) {
    out.error(err.message, err.code)
    return err.exitCode
  }
  const code = (err as { code?: unknown }).code
  out.error(
    err instanceof Error ? err.message : String(err),
    typeof code === 'string' ? code : 'ERR_INTERNAL',
  )
  return EXIT_FAILURE
}
