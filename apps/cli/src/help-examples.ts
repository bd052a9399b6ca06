/** Examples shown at the end of `cas <command> --help`, by command (`peers add` under its path). */
export const HELP_EXAMPLES: Record<string, string[]> = {
  init: [
    'cas init                      # create ~/.cas: owner key (shows its recovery phrase once), certificate, token',
    'cas init --recover            # on a new machine: type the recovery phrase (or pipe it in)',
    'cas init --recover --key-file owner-backup.key',
  ],
  key: ['cas key export -o owner-backup.key'],
  restore: [
    'cas restore                   # the names and folders come back; then cas ls, cas get NAME',
    'cas restore -o ~/restored     # and every file, under its stored name',
  ],
  'key export': ['cas key export -o /media/usb/owner-backup.key  # asks for a passphrase twice'],
  put: [
    'cas put ./photo.jpg           # prints the cid; the name defaults to photo.jpg',
    'cas put ./big.iso --replication 3   # want 3 replicas for this object',
    'tar c ./docs | cas put - --name docs.tar',
    'cas put -r ~/Documents        # a folder as a snapshot; again later sends only what changed',
  ],
  get: [
    'cas get photo.jpg -o copy.jpg # by name, into a file',
    'cas get <cid> -o ~/Downloads  # into a folder, under the stored name',
    'cas get <cid> | less          # to stdout (to a terminal: saved under the stored name)',
    'cas get -r Documents -o ~/Documents   # every name under Documents/, as a folder',
    'cas get -r 3f9a1c -o /tmp/old # a snapshot (the start of its id), as it was put',
  ],
  snapshots: ['cas snapshots', 'cas snapshots Documents     # the snapshots of one folder'],
  rm: [
    'cas rm <cid>                  # here and on every peer',
    'cas rm --local <cid>          # only the local copy',
  ],
  mv: ['cas mv notes.txt notes-2026.txt   # a catalogue change only: nothing is sent again'],
  ls: [
    'cas ls photos                 # names under photos/ (and the folders in it)',
    'cas ls --sort size --reverse  # largest first',
    'cas ls --under-replicated     # what repair still has to do',
  ],
  stat: [
    'cas stat <cid>                # size, names, each holder and when it last proved its copy',
    'cas stat photo.jpg            # by name; or by the first hex digits of the cid: cas stat 3fa9c1',
  ],
  peers: ['cas peers', 'cas peers add 192.168.1.20:3000'],
  'peers add': ['cas peers add 192.168.1.20:3000'],
  share: [
    'cas share <cid>               # a cas-cap2:… capability; anyone with it runs: cas get <capability>',
  ],
  ui: [
    'cas ui                        # opens the dashboard in your browser',
    'cas ui --no-open             # prints the one-time link only',
  ],
  status: ['cas status', 'cas --json status | jq .repair'],
  verify: ['cas verify                    # exit 4 if a local object is damaged'],
  repair: ['cas repair'],
  stop: ['cas stop', 'CAS_HOME=~/.cas-b cas stop'],
  completion: ['eval "$(cas completion bash)"  # in ~/.bashrc', 'cas completion fish | source'],
  manpage: [
    'cas manpage | man -l -         # read it without installing',
    'man cas                       # after pnpm link-commands',
  ],
  demo: ['cas demo --files 5 --size 1048576'],
}
