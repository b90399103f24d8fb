package ingest

import "errors"

var (
	// ErrTargetExited is returned when a target process ended during a
	// run; its log tail is part of the error.
	ErrTargetExited = errors.New("target exited")

	// ErrStalled is returned when a run made no progress for
	// stallTimeout: nothing was acknowledged or handled. The target's log
	// says why.
	ErrStalled = errors.New("run stalled")
)
