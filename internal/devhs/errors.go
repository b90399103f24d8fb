package devhs

import "errors"

var (
	// ErrAddrInUse is returned by Start when the homeserver could not bind one of
	// its listeners. Callers that picked the ports themselves (FreePorts)
	// pick new ones and start again, with a fresh directory if the server
	// name depends on the port.
	ErrAddrInUse = errors.New("listener address already in use")

	// ErrServerNameChanged is returned by Start when the state directory
	// holds data of another server name. Start it under the old name, or
	// delete the directory to begin afresh.
	ErrServerNameChanged = errors.New("state directory belongs to another server name")

	// ErrExited is returned by Start when the homeserver exited before it was
	// ready, and by Server.Err and Process.Err for a process that ended
	// with a non-zero status or a signal. The log tail (LogTail) says why.
	ErrExited = errors.New("exited")

	// ErrUserInUse is returned by Server.RegisterUser when the localpart is
	// taken, typically by an earlier run on the same state directory. Log in
	// with the known password instead.
	ErrUserInUse = errors.New("user ID already taken")

	// ErrUnknownKind is returned by Start when Options.Kind is neither
	// Dendrite nor Synapse.
	ErrUnknownKind = errors.New("unknown homeserver kind")

	// ErrMissingOption is returned by Start when a required Options field is
	// empty.
	ErrMissingOption = errors.New("missing required option")
)
