//go:build !unix

package record

// noFollow is unset where the system has no O_NOFOLLOW; [Create] still
// checks what it opened with Lstat, and [CreateNew] creates exclusively,
// which refuses a link.
const noFollow = 0
