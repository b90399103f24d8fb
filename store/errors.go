package store

import "errors"

var (
	// ErrBadOptions is returned by Open when the options cannot describe a
	// database (unknown type, empty URI). The caller should fix the config.
	ErrBadOptions = errors.New("invalid database options")
	// ErrNotPending is returned by the inbox when an event to be finished is
	// no longer pending (another worker finished it). The caller should
	// treat the event as handled and move on.
	ErrNotPending = errors.New("inbox event is not pending")
	// ErrInvalidValue is returned when a value to be stored is not one the
	// schema allows (an unknown enum value). It is a programming error.
	ErrInvalidValue = errors.New("invalid value")
	// ErrConflict is returned when a row changed under the caller (another
	// caseworker claimed the case first). The caller should reload and tell
	// the person who lost.
	ErrConflict = errors.New("changed concurrently")
	// ErrNotFound is returned by an update of a row that does not exist
	// (a ticket of a case that has none).
	ErrNotFound = errors.New("not found")
	// ErrClosed is returned by a write that comes after Close.
	ErrClosed = errors.New("store is closed")
)
