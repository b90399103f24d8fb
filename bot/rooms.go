package bot

import (
	"sync"

	"maunium.net/go/mautrix/id"
)

// RoomKind is what a room is to rathaus. Events are routed by it.
type RoomKind string

const (
	// RoomOther is any room rathaus does not manage (the bot may still be
	// in it and answer commands).
	RoomOther RoomKind = ""
	// RoomAuthoritySpace is the authority's space.
	RoomAuthoritySpace RoomKind = "authority_space"
	// RoomDepartmentSpace is a department's space; Key is the department id.
	RoomDepartmentSpace RoomKind = "department_space"
	// RoomStaff is a department's staff room; Key is the department id.
	RoomStaff RoomKind = "staff_room"
	// RoomCase is a citizen's case room; Key is the case id.
	RoomCase RoomKind = "case"
)

// Valid reports whether k is a known kind.
func (k RoomKind) Valid() bool {
	switch k {
	case RoomOther, RoomAuthoritySpace, RoomDepartmentSpace, RoomStaff, RoomCase:
		return true
	}
	return false
}

// RoomInfo is what rathaus knows about a room.
type RoomInfo struct {
	Kind RoomKind
	// Key is the department id or case id the room belongs to, "" for the
	// authority space and other rooms.
	Key string
}

// RoomIndex maps the rooms rathaus manages to their kind, in memory. The
// capabilities that own rooms keep it current (departments from the
// managed rooms, cases from their case rooms) and fill it from the
// database before the first event is dispatched, so routing an event
// never costs a database query. It is safe for concurrent use.
type RoomIndex struct {
	mu    sync.RWMutex
	rooms map[id.RoomID]RoomInfo
}

// NewRoomIndex returns an empty index.
func NewRoomIndex() *RoomIndex {
	return &RoomIndex{rooms: map[id.RoomID]RoomInfo{}}
}

// Set records what a room is.
func (x *RoomIndex) Set(room id.RoomID, info RoomInfo) {
	if room == "" {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if info.Kind == RoomOther {
		delete(x.rooms, room)
		return
	}
	x.rooms[room] = info
}

// Forget makes a room an other room again (a purged case room).
func (x *RoomIndex) Forget(room id.RoomID) { x.Set(room, RoomInfo{}) }

// Lookup returns what a room is; RoomOther for rooms rathaus does not
// manage.
func (x *RoomIndex) Lookup(room id.RoomID) RoomInfo {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.rooms[room]
}

// Len is the number of managed rooms in the index.
func (x *RoomIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.rooms)
}
