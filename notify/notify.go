// Package notify names the ways telling someone can fail. The workflow, which says what must be
// told to whom, the delivery, which retries, and the edges that talk to Slack and to callback
// receivers all speak of failures in these words, without knowing one another.
package notify

import (
	"fmt"
	"time"
)

// RetryAfterError is a delivery the platform asked to try again after Wait. Method names the
// Web API method that was refused, when the pause is the method's rather than one
// conversation's ("" or chat.postMessage: the conversation's).
type RetryAfterError struct {
	Wait   time.Duration
	Method string
	Err    error
}

func (e *RetryAfterError) Error() string { return fmt.Sprintf("retry after %s: %v", e.Wait, e.Err) }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// BlockedError is a delivery refused for a reason only an administrator can fix: the bot is not
// in the channel, the channel is archived or gone, the token was revoked. Retrying soon cannot
// help; a channel check releases it once the channel works.
type BlockedError struct{ Err error }

func (e *BlockedError) Error() string { return e.Err.Error() }
func (e *BlockedError) Unwrap() error { return e.Err }

// PermanentError is a delivery that will fail however often it is tried.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// MaxBackoff is the longest a notice waits between attempts.
const MaxBackoff = 5 * time.Minute
