package demo

import "errors"

var (
	// ErrConfigMismatch is returned by Run when the state directory was set
	// up for other ports and cannot follow them: the federation port, which
	// is part of the server name, or an address someone edited. The message
	// says how to go on: set the ports as before, start fresh with
	// Options.Fresh (the old directory is kept), or move it aside.
	ErrConfigMismatch = errors.New("state directory was set up for other ports")

	// ErrChildExited is returned by Run when rathaus or Dendrite exited
	// without being asked to. The error holds the tail of its log.
	ErrChildExited = errors.New("a child process stopped on its own")

	// ErrBusy is returned by Run when another demo holds the state
	// directory, or a port is taken by another program.
	ErrBusy = errors.New("in use")
)
