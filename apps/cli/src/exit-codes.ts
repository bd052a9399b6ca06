// Exit codes of `cas` (documented in the README) live in @cas/api, with the error codes they answer.
export {
  EXIT_CODE_MEANINGS,
  EXIT_FAILURE,
  EXIT_INTEGRITY,
  EXIT_NO_NODE,
  EXIT_NOT_FOUND,
  EXIT_OK,
  EXIT_UNAUTHENTICATED,
  EXIT_USAGE,
} from '@cas/api'
