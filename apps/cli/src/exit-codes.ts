/** Exit codes of `cas`; documented in the README. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_NOT_FOUND = 3
export const EXIT_INTEGRITY = 4
export const EXIT_NO_NODE = 5
export const EXIT_UNAUTHENTICATED = 6
