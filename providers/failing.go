package providers

import "context"

// Failing returns a Provider whose every call fails with err: the stand-in
// for a provider that could not be set up (no key, a key command that
// failed), so the failure shows in the model's pane and counts towards its
// breaker instead of stopping the program.
func Failing(err *Error) Provider { return failing{err} }

type failing struct{ err *Error }

func (f failing) Stream(context.Context, Request) (Stream, error) { return nil, f.err }
