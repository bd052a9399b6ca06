// Exit codes of `cas` (documented in the README) live in @cas/api, with the error codes they answer; taken
// from the table's own entry, so that a command that needs no schema does not build them all at start.
export {
  EXIT_CODE_MEANINGS,
  EXIT_FAILURE,
  EXIT_INTEGRITY,
  EXIT_NO_NODE,
  EXIT_NOT_FOUND,
  EXIT_OK,
  EXIT_UNAUTHENTICATED,
  EXIT_USAGE,
} from '@cas/api/error-codes'
