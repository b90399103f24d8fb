package ingest

import "errors"

var (
	// ErrNoModule is returned when the benchmark does not run inside a
	// checkout of the rathaus module, which it needs to build the targets.
	// Run it from the checkout.
	ErrNoModule = errors.New("not inside the rathaus module")

	// ErrTargetExited is returned when a target process ended during a
	// run; its log tail is part of the error.
	ErrTargetExited = errors.New("target exited")

	// ErrStalled is returned when a run made no progress for
	// stallTimeout: nothing was acknowledged or handled. The target's log
	// says why.
	ErrStalled = errors.New("run stalled")
)
